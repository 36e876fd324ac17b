"""`python -m musicvae_tf.quickstart`: an alias of musicvae_tf.cli.quickstart (music_vae_quickstart)."""
import sys

from musicvae_tf.cli import quickstart as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.quickstart` is the tool's module itself
    sys.modules[__name__] = _tool
