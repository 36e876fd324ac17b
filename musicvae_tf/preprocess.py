"""`python -m musicvae_tf.preprocess`: an alias of musicvae_tf.cli.preprocess (music_vae_preprocess)."""
import sys

from musicvae_tf.cli import preprocess as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.preprocess` is the tool's module itself
    sys.modules[__name__] = _tool
