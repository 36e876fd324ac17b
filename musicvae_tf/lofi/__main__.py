"""`python -m musicvae_tf.lofi`: music_vae_lofi (musicvae_tf.cli.lofi)."""
from musicvae_tf.cli import lofi

lofi.console_entry_point()
