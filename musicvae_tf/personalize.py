"""`python -m musicvae_tf.personalize`: an alias of musicvae_tf.cli.personalize (music_vae_personalize)."""
import sys

from musicvae_tf.cli import personalize as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.personalize` is the tool's module itself
    sys.modules[__name__] = _tool
