"""Neural autoregressive distribution estimator (NADE) over binary vectors.

A NADE models a vector of `num_dims` bits one bit at a time. With hidden pre-activation
`a_0 = b_enc` and `a_{i+1} = a_i + x_i * V_i`, the probability of bit i given the bits before it is

    p(x_i = 1 | x_<i) = sigmoid(c_i + sigmoid(a_i) . W_i)

where `V` (`w_enc`, [num_dims, 1, num_hidden]) and `W` (`w_dec_t`, [num_dims, num_hidden, 1]) are
this layer's weights and the biases `b_enc` [batch, num_hidden] and `c = b_dec` [batch, num_dims]
come from outside (MusicVAE's RNN-NADE decoder predicts them from the LSTM output at each step).
Weight shapes and names follow Magenta's checkpoints (`decoder/nade/w_enc`, `decoder/nade/w_dec_t`).

Log-probabilities use `log(1e-6 + p)`, the same lower-bounded log Magenta trains with, so losses
match its checkpoints exactly.
"""

import math

import keras
import tensorflow as tf

# Added inside the log so a probability of 0 gives a finite log-likelihood.
LOG_EPSILON = 1e-6


def _bounded_log(x):
    return tf.math.log(LOG_EPSILON + x)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class Nade(keras.layers.Layer):
    """NADE with externally supplied biases.

    Args:
      num_dims: number of binary dimensions per observation.
      num_hidden: number of hidden units.
    """

    def __init__(self, num_dims, num_hidden, **kwargs):
        super().__init__(**kwargs)
        if num_dims < 1 or num_hidden < 1:
            raise ValueError(f"Nade needs num_dims >= 1 and num_hidden >= 1, got {num_dims}, {num_hidden}")
        self.num_dims = int(num_dims)
        self.num_hidden = int(num_hidden)
        initializer = keras.initializers.TruncatedNormal(stddev=1.0 / math.sqrt(self.num_dims))
        self.w_enc = self.add_weight(
            name="w_enc", shape=(self.num_dims, 1, self.num_hidden), initializer=initializer)
        self.w_dec_t = self.add_weight(
            name="w_dec_t", shape=(self.num_dims, self.num_hidden, 1), initializer=initializer)
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(num_dims=self.num_dims, num_hidden=self.num_hidden)
        return config

    def split_biases(self, params):
        """Splits a [batch, num_hidden + num_dims] tensor into (b_enc, b_dec)."""
        return tf.split(params, [self.num_hidden, self.num_dims], axis=-1)

    def call(self, x, b_enc, b_dec):
        return self.log_prob(x, b_enc, b_dec)

    @tf.autograph.experimental.do_not_convert
    def log_prob(self, x, b_enc, b_dec):
        """Log-likelihood of binary vectors.

        Args:
          x: [batch, num_dims] observations in {0, 1}.
          b_enc: [batch, num_hidden] encoder bias.
          b_dec: [batch, num_dims] decoder bias (logit offset per dimension).

        Returns:
          (log_prob [batch], cond_probs [batch, num_dims]): the log-likelihood of each vector and the
          conditional probability of each bit being on given the bits before it.
        """
        x = tf.cast(x, self.compute_dtype)
        w_enc = self.w_enc[:, 0, :]  # [D, H]
        w_dec = self.w_dec_t[:, :, 0]  # [D, H]
        # Hidden pre-activation before bit i: b_enc plus the encodings of the bits before i.
        contributions = x[:, :, None] * w_enc[None]  # [B, D, H]
        hidden = b_enc[:, None, :] + tf.cumsum(contributions, axis=1, exclusive=True)
        cond_logits = b_dec + tf.reduce_sum(tf.sigmoid(hidden) * w_dec[None], axis=-1)
        cond_probs = tf.sigmoid(cond_logits)
        bit_log_probs = x * _bounded_log(cond_probs) + (1.0 - x) * _bounded_log(1.0 - cond_probs)
        return tf.reduce_sum(bit_log_probs, axis=-1), cond_probs

    @tf.autograph.experimental.do_not_convert
    def sample(self, b_enc, b_dec, temperature=None, seed=None):
        """Draws one vector per batch row, bit by bit.

        Args:
          b_enc: [batch, num_hidden] encoder bias.
          b_dec: [batch, num_dims] decoder bias.
          temperature: None to take each bit as `p >= 0.5` (no randomness); otherwise each bit is
            a Bernoulli draw with logits divided by `temperature`.
          seed: optional stateless seed (shape [2] int tensor) for the draws.

        Returns:
          (sample [batch, num_dims] float 0/1, log_prob [batch]).
        """
        hidden = b_enc
        bits = []
        log_prob = tf.zeros_like(b_enc[:, 0])
        # Slice the weights and biases once (per-bit slicing costs far more in eager mode).
        enc_rows = tf.unstack(tf.squeeze(self.w_enc, 1), num=self.num_dims)
        dec_rows = tf.unstack(tf.squeeze(self.w_dec_t, 2), num=self.num_dims)
        dec_biases = tf.unstack(b_dec, num=self.num_dims, axis=1)
        seeds = [None] * self.num_dims
        if temperature is not None and seed is not None:
            seeds = [tf.random.experimental.stateless_fold_in(seed, i) for i in range(self.num_dims)]
        for i in range(self.num_dims):
            logit = dec_biases[i] + tf.linalg.matvec(tf.sigmoid(hidden), dec_rows[i])
            prob = tf.sigmoid(logit)
            if temperature is None:
                bit = tf.cast(prob >= 0.5, prob.dtype)
            else:
                if seeds[i] is None:
                    uniform = tf.random.uniform(tf.shape(logit), dtype=logit.dtype)
                else:
                    uniform = tf.random.stateless_uniform(tf.shape(logit), seed=seeds[i], dtype=logit.dtype)
                bit = tf.cast(uniform < tf.sigmoid(logit / temperature), logit.dtype)
            bits.append(bit)
            log_prob += bit * _bounded_log(prob) + (1.0 - bit) * _bounded_log(1.0 - prob)
            hidden = hidden + tf.expand_dims(bit, 1) * enc_rows[i]
        return tf.stack(bits, axis=-1), log_prob
