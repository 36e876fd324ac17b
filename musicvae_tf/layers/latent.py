"""The posterior q(z|x): a diagonal Gaussian predicted from the encoding.

mu = encoding @ W_mu + b_mu, sigma = softplus(encoding @ W_sigma + b_sigma), and a sample is
z = mu + sigma * eps with eps ~ N(0, I) (the reparameterisation trick). Both kernels start from
N(0, 0.001^2) like Magenta's (`encoder/mu`, `encoder/sigma`).
"""

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="musicvae_tf")
class GaussianLatent(keras.layers.Layer):
    """Maps an encoding to (mu, sigma) of a diagonal Gaussian over z."""

    def __init__(self, input_size, z_size, **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.z_size = int(z_size)
        init = keras.initializers.RandomNormal(stddev=0.001)
        self.mu = keras.layers.Dense(self.z_size, kernel_initializer=init, name="mu")
        self.sigma = keras.layers.Dense(self.z_size, activation="softplus", kernel_initializer=init,
                                        name="sigma")
        self.mu.build((None, self.input_size))
        self.sigma.build((None, self.input_size))
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, z_size=self.z_size)
        return config

    def call(self, encoding):
        """Returns (mu, sigma), each [B, z_size]."""
        return self.mu(encoding), self.sigma(encoding)

    @staticmethod
    def sample(mu, sigma, noise=None, seed=None):
        """z = mu + sigma * eps; eps is `noise` if given, else standard normal (stateless if `seed`)."""
        if noise is None:
            if seed is not None:
                noise = tf.random.stateless_normal(tf.shape(mu), seed=seed)
            else:
                noise = tf.random.normal(tf.shape(mu))
        return mu + sigma * noise

    @staticmethod
    def kl_divergence(mu, sigma):
        """KL(N(mu, sigma^2) || N(0, I)) summed over z, in nats: [B]."""
        return tf.reduce_sum(0.5 * (tf.square(mu) + tf.square(sigma) - 1.0) - tf.math.log(sigma), axis=-1)

    def tf1_variables(self, scope="encoder"):
        return {f"{scope}/mu/kernel": self.mu.kernel, f"{scope}/mu/bias": self.mu.bias,
                f"{scope}/sigma/kernel": self.sigma.kernel, f"{scope}/sigma/bias": self.sigma.bias}


LN2 = math.log(2.0)
