"""`python -m musicvae_tf.personalize`: runs music_vae_personalize (musicvae_tf.cli.personalize).

musicvae_tf.personalize is the library package, so this is its __main__ rather than an alias module.
"""
from musicvae_tf.cli.personalize import console_entry_point

console_entry_point()
