"""`python -m musicvae_tf.export`: music_vae_export (musicvae_tf.cli.export)."""
from musicvae_tf.cli import export

export.console_entry_point()
