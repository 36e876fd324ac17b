"""`python -m musicvae_tf.generate`: an alias of musicvae_tf.cli.generate (music_vae_generate)."""
import sys

from musicvae_tf.cli import generate as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.generate` is the tool's module itself
    sys.modules[__name__] = _tool
