"""Keras layers of the MusicVAE port: LSTM stacks, encoders, the latent layer and decoders."""
