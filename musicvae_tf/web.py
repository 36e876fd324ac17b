"""`python -m musicvae_tf.web`: an alias of musicvae_tf.cli.web (music_vae_web)."""
import sys

from musicvae_tf.cli import web as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.web` is the tool's module itself
    sys.modules[__name__] = _tool
