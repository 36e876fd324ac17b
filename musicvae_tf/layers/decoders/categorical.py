"""`CategoricalLstmDecoder`: one softmax over `output_depth` classes per step."""

import keras
import tensorflow as tf

from musicvae_tf.layers.decoders.base import BaseLstmDecoder


def sample_one_hot(logits, temperature=1.0, seed=None):
    """A one-hot sample [B, depth] from softmax(logits / temperature)."""
    scaled = logits / temperature
    if seed is None:
        index = tf.random.categorical(scaled, 1, dtype=tf.int32)
    else:
        index = tf.random.stateless_categorical(scaled, 1, seed=seed, dtype=tf.int32)
    return tf.one_hot(index[:, 0], int(logits.shape[-1]), dtype=tf.float32)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class CategoricalLstmDecoder(BaseLstmDecoder):
    """LSTM decoder whose outputs are logits of a categorical distribution.

    Loss: softmax cross-entropy against the one-hot target; metric `accuracy`: whether the
    argmax of the logits is the target's class.
    """

    def sample_outputs(self, rnn_output, temperature=1.0, seed=None):
        return sample_one_hot(rnn_output, temperature, seed)

    def flat_reconstruction_loss(self, flat_targets, flat_rnn_output):
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=flat_targets, logits=flat_rnn_output)
        correct = tf.equal(tf.argmax(flat_targets, axis=-1), tf.argmax(flat_rnn_output, axis=-1))
        return loss, {"accuracy": tf.cast(correct, tf.float32)}

    def feedback_gates(self, samples, output_rows):
        # A one-hot sample picks one row: a gather instead of a [B, depth] x [depth, 4u] product
        # (the same values: the product's other terms are exact zeros). Subclasses whose samples
        # are not one one-hot vector (multi-hot) keep the product.
        if type(self).sample_outputs is not CategoricalLstmDecoder.sample_outputs:
            return super().feedback_gates(samples, output_rows)
        return tf.gather(output_rows, tf.argmax(samples, axis=-1, output_type=tf.int32))

    def activate_outputs(self, rnn_output):
        return tf.nn.softmax(rnn_output, axis=-1)
