"""MidiMe (Dinculescu, Engel and Roberts, 2019): a small VAE fitted to a trained MusicVAE's codes.

    midime = MidiMe(input_size=256)                  # MusicVAE's z_size
    history = fit(midime, codes, steps=300, seed=0)  # codes: [n, 256] means of the user's examples
    z = midime.sample(16, seed=1)                    # [16, 256], to decode with the MusicVAE

The architecture and loss are those of magenta.js's MidiMe: an encoder of ReLU dense layers
[1024, 256, 64] to a mean and a softplus scale of a 4-dimensional latent, a decoder of ReLU dense
layers [64, 256, 1024] to a linear 256-dimensional output, and the loss
    sum over dimensions of (code - reconstruction)^2 / 2     (a unit-variance Gaussian likelihood)
  + beta * KL(q(w | code) || N(0, I)),                        both averaged over the codes,
minimised by Adam (learning rate 1e-3) on all codes at once, one step per "epoch". Sampling draws
w ~ N(0, I) and returns the decoder's output (its mean, no added noise). One difference: magenta.js
draws the latent twice per step (once for the KL terms, once for the reconstruction); here one
draw serves both, as in a textbook VAE.
"""

import keras
import numpy as np
import tensorflow as tf

DEFAULT_ENCODER_LAYERS = (1024, 256, 64)
DEFAULT_DECODER_LAYERS = (64, 256, 1024)
DEFAULT_LATENT_SIZE = 4


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MidiMe(keras.Model):
    """The small latent VAE; `call(codes)` returns (reconstruction, mu, sigma, w)."""

    def __init__(self, input_size=256, latent_size=DEFAULT_LATENT_SIZE, encoder_layers=DEFAULT_ENCODER_LAYERS,
                 decoder_layers=DEFAULT_DECODER_LAYERS, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.latent_size = int(latent_size)
        self.encoder_layers = [int(u) for u in encoder_layers]
        self.decoder_layers = [int(u) for u in decoder_layers]
        self.beta = float(beta)
        self.encoder_stack = [keras.layers.Dense(u, activation="relu", name=f"encoder_{i}")
                              for i, u in enumerate(self.encoder_layers)]
        self.mu_layer = keras.layers.Dense(self.latent_size, name="mu")
        self.sigma_layer = keras.layers.Dense(self.latent_size, activation="softplus", name="sigma")
        self.decoder_stack = [keras.layers.Dense(u, activation="relu", name=f"decoder_{i}")
                              for i, u in enumerate(self.decoder_layers)]
        self.output_layer = keras.layers.Dense(self.input_size, name="reconstruction")
        self.build((None, self.input_size))

    def build(self, input_shape):
        width = input_shape[-1]
        for layer in self.encoder_stack:
            layer.build((None, width))
            width = layer.units
        self.mu_layer.build((None, width))
        self.sigma_layer.build((None, width))
        width = self.latent_size
        for layer in self.decoder_stack:
            layer.build((None, width))
            width = layer.units
        self.output_layer.build((None, width))
        super().build(input_shape)

    def encode(self, codes):
        hidden = codes
        for layer in self.encoder_stack:
            hidden = layer(hidden)
        return self.mu_layer(hidden), self.sigma_layer(hidden)

    def decode(self, w):
        hidden = w
        for layer in self.decoder_stack:
            hidden = layer(hidden)
        return self.output_layer(hidden)

    def call(self, codes, noise=None):
        mu, sigma = self.encode(codes)
        if noise is None:
            noise = tf.random.normal(tf.shape(mu))
        w = mu + sigma * noise
        return self.decode(w), mu, sigma, w

    def losses_for(self, codes, noise):
        """(total, reconstruction, KL) for `codes` [n, input_size] with latent noise [n, latent_size]."""
        reconstruction, mu, sigma, _ = self(codes, noise=noise)
        r_loss = tf.reduce_mean(tf.reduce_sum(tf.square(codes - reconstruction) / 2.0, axis=-1))
        variance = tf.square(sigma)
        kl = tf.reduce_mean(-0.5 * tf.reduce_sum(1.0 + tf.math.log(variance + 1e-12) - tf.square(mu) - variance,
                                                 axis=-1))
        return r_loss + self.beta * kl, r_loss, kl

    def sample(self, n, seed=None):
        """[n, input_size] codes decoded from w ~ N(0, I) (reproducible with `seed`)."""
        w = np.random.default_rng(seed).standard_normal([n, self.latent_size]).astype(np.float32)
        return np.asarray(self.decode(tf.constant(w)))

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, latent_size=self.latent_size,
                      encoder_layers=self.encoder_layers, decoder_layers=self.decoder_layers, beta=self.beta)
        return config


def fit(midime, codes, steps=300, learning_rate=1e-3, seed=0, log_every=None, log_fn=None):
    """Full-batch Adam on `codes` for `steps` steps; returns {"loss": [...], "r_loss": [...], "kl": [...]}."""
    codes = tf.constant(np.asarray(codes, np.float32))
    if codes.shape.rank != 2 or codes.shape[1] != midime.input_size:
        raise ValueError(f"codes must have shape [n, {midime.input_size}], got {tuple(codes.shape)}")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    variables = midime.trainable_variables
    optimizer.build(variables)
    noise_seed = tf.constant([int(seed) % (2**31 - 1), 0], tf.int32)

    @tf.function
    def train_step(step):
        noise = tf.random.stateless_normal([tf.shape(codes)[0], midime.latent_size],
                                           seed=tf.stack([noise_seed[0], step]))
        with tf.GradientTape() as tape:
            total, r_loss, kl = midime.losses_for(codes, noise)
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
        return total, r_loss, kl

    history = {"loss": [], "r_loss": [], "kl": []}
    for step in range(steps):
        total, r_loss, kl = (float(v) for v in train_step(tf.constant(step, tf.int32)))
        for name, value in (("loss", total), ("r_loss", r_loss), ("kl", kl)):
            history[name].append(value)
        if log_fn is not None and log_every and ((step + 1) % log_every == 0 or step + 1 == steps):
            log_fn(step + 1, total, r_loss, kl)
    return history
