"""`GrooveLstmDecoder`: GrooVAE's decoder of drum hits with velocities and micro-timing offsets.

Each step is `3 * num_instruments` values laid out as [hits | velocities | offsets]. The decoder's
`rnn_output` holds one pre-activation per value:
  * hits: Bernoulli logits (loss: log loss of sigmoid(logit) with TF1's epsilon of 1e-7);
  * velocities: sigmoid(output) in (0, 1) (loss: squared error);
  * offsets: tanh(output) in (-1, 1) (loss: squared error).
The per-step loss is the sum of all three over the instruments, as in Magenta's GrooVAE.
Sampling draws the hits (logits divided by the temperature) and takes the activated velocities
and offsets as they are.
"""

import keras
import tensorflow as tf

from musicvae_tf.layers.decoders import lstm_decoder_kwargs, register_decoder
from musicvae_tf.layers.decoders.base import BaseLstmDecoder

# Epsilon of TF1's `tf.losses.log_loss`, which Magenta's GrooVAE loss uses.
LOG_LOSS_EPSILON = 1e-7


def bernoulli_sample(logits, seed=None):
    """A 0/1 float sample with P(1) = sigmoid(logits)."""
    if seed is None:
        uniform = tf.random.uniform(tf.shape(logits), dtype=logits.dtype)
    else:
        uniform = tf.random.stateless_uniform(tf.shape(logits), seed=seed, dtype=logits.dtype)
    return tf.cast(uniform < tf.sigmoid(logits), logits.dtype)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class GrooveLstmDecoder(BaseLstmDecoder):
    """LSTM decoder with [hits, velocities, offsets] outputs (see the module docstring)."""

    def build_extra_layers(self):
        if self.output_depth % 3:
            raise ValueError(f"GrooveLstmDecoder needs an output depth divisible by 3, got {self.output_depth}")

    def split_outputs(self, values):
        """[..., 3k] -> (hits, velocities, offsets), each [..., k]."""
        return tf.split(values, 3, axis=-1)

    def activate_split(self, rnn_output):
        """(hit probabilities, velocities in (0, 1), offsets in (-1, 1))."""
        hits, velocities, offsets = self.split_outputs(rnn_output)
        return tf.sigmoid(hits), tf.sigmoid(velocities), tf.tanh(offsets)

    @tf.autograph.experimental.do_not_convert
    def activate_outputs(self, rnn_output):
        return tf.concat(self.activate_split(rnn_output), axis=-1)

    @tf.autograph.experimental.do_not_convert
    def flat_reconstruction_loss(self, flat_targets, flat_rnn_output):
        target_hits, target_velocities, target_offsets = self.split_outputs(flat_targets)
        hit_probs, velocities, offsets = self.activate_split(flat_rnn_output)
        hit_losses = (-target_hits * tf.math.log(hit_probs + LOG_LOSS_EPSILON)
                      - (1.0 - target_hits) * tf.math.log(1.0 - hit_probs + LOG_LOSS_EPSILON))
        hits_loss = tf.reduce_sum(hit_losses, axis=-1)
        velocities_loss = tf.reduce_sum(tf.math.squared_difference(velocities, target_velocities), axis=-1)
        offsets_loss = tf.reduce_sum(tf.math.squared_difference(offsets, target_offsets), axis=-1)
        loss = hits_loss + velocities_loss + offsets_loss
        return loss, {"hits_loss": hits_loss, "velocities_loss": velocities_loss,
                      "offsets_loss": offsets_loss}

    @tf.autograph.experimental.do_not_convert
    def sample_outputs(self, rnn_output, temperature=1.0, seed=None):
        hit_logits, velocities, offsets = self.split_outputs(rnn_output)
        hits = bernoulli_sample(hit_logits / temperature, seed)
        return tf.concat([hits, tf.sigmoid(velocities), tf.tanh(offsets)], axis=-1)

    def is_end(self, samples, end_token):
        raise ValueError("GrooveLstmDecoder has no end token; sample with end_token=None")


def _build_groove(spec, hparams, output_depth, z_size, control_depth, name):
    return GrooveLstmDecoder(output_depth, z_size=z_size, control_depth=control_depth, name=name,
                             **lstm_decoder_kwargs(hparams))


register_decoder("GrooveLstmDecoder", _build_groove)
