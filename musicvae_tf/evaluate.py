"""`python -m musicvae_tf.evaluate`: an alias of musicvae_tf.cli.evaluate (music_vae_evaluate)."""
import sys

from musicvae_tf.cli import evaluate as _tool

if __name__ == "__main__":
    _tool.console_entry_point()
else:  # `import musicvae_tf.evaluate` is the tool's module itself
    sys.modules[__name__] = _tool
