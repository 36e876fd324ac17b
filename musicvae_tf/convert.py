"""`python -m musicvae_tf.convert`: an alias of musicvae_tf.cli.convert (music_vae_convert)."""
import sys

from musicvae_tf.cli import convert as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.convert` is the tool's module itself
    sys.modules[__name__] = _tool
