"""`python -m musicvae_tf.train`: an alias of musicvae_tf.cli.train (music_vae_train)."""
import sys

from musicvae_tf.cli import train as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.train` is the tool's module itself
    sys.modules[__name__] = _tool
