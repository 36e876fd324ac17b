"""`MultiLabelRnnNadeDecoder`: an LSTM whose output parameterizes a NADE over each step's bits.

Used for drum rolls where several drums can hit at once. At each step the output projection
gives `nade_num_hidden + output_depth` values: the NADE's encoder bias (first `nade_num_hidden`)
and decoder bias (the rest). The step's loss is the NADE's negative log-likelihood of the
target bits; sampling draws the bits one by one from the NADE (with `temperature=None` each
bit is `p >= 0.5` instead of a draw).

`rnn_output` (and so the decoder's recorded logits) is this raw projection, the same quantity
Magenta's decoder reports as `rnn_output`.
"""

import keras
import tensorflow as tf

from musicvae_tf.layers.decoders import lstm_decoder_kwargs, register_decoder
from musicvae_tf.layers.decoders.base import BaseLstmDecoder
from musicvae_tf.layers.nade import Nade


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MultiLabelRnnNadeDecoder(BaseLstmDecoder):
    """LSTM decoder with a multi-label (NADE) output per step.

    Args:
      output_depth: number of bits per step.
      nade_num_hidden: hidden units of the NADE (`hparams.nade_num_hidden`).
      Other arguments as `BaseLstmDecoder`.
    """

    def __init__(self, output_depth, nade_num_hidden=128, **kwargs):
        self.nade_num_hidden = int(nade_num_hidden)
        super().__init__(output_depth, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(nade_num_hidden=self.nade_num_hidden)
        return config

    def build_extra_layers(self):
        self.nade = Nade(self.output_depth, self.nade_num_hidden, name="nade")

    @property
    def projection_depth(self):
        return self.nade_num_hidden + self.output_depth

    @tf.autograph.experimental.do_not_convert
    def flat_reconstruction_loss(self, flat_targets, flat_rnn_output):
        b_enc, b_dec = self.nade.split_biases(flat_rnn_output)
        log_prob, cond_probs = self.nade.log_prob(flat_targets, b_enc, b_dec)
        truth = flat_targets > 0.5
        predicted = cond_probs >= 0.5
        true_positives = tf.logical_and(truth, predicted)

        def count(bits):
            return tf.reduce_sum(tf.cast(bits, tf.float32), axis=-1)

        metrics = {
            "accuracy": tf.cast(tf.reduce_all(tf.equal(truth, predicted), axis=-1), tf.float32),
            # Per-step counts; recall = true_positives / actual_positives,
            # precision = true_positives / predicted_positives over the summed counts.
            "true_positives": count(true_positives),
            "actual_positives": count(truth),
            "predicted_positives": count(predicted),
        }
        return -log_prob, metrics

    @tf.autograph.experimental.do_not_convert
    def sample_outputs(self, rnn_output, temperature=None, seed=None):
        # Default None (threshold at 0.5) as in Magenta: scheduled sampling feeds back these
        # deterministic samples; `sample()` always passes its temperature.
        b_enc, b_dec = self.nade.split_biases(rnn_output)
        sample, _ = self.nade.sample(b_enc, b_dec, temperature=temperature, seed=seed)
        return sample

    def is_end(self, samples, end_token):
        raise ValueError("MultiLabelRnnNadeDecoder has no end token; sample with end_token=None")

    def extra_tf1_variables(self, scope):
        return {f"{scope}/nade/w_enc": self.nade.w_enc, f"{scope}/nade/w_dec_t": self.nade.w_dec_t}


def _build_nade(spec, hparams, output_depth, z_size, control_depth, name):
    return MultiLabelRnnNadeDecoder(output_depth, nade_num_hidden=hparams.nade_num_hidden, z_size=z_size,
                                    control_depth=control_depth, name=name, **lstm_decoder_kwargs(hparams))


register_decoder("MultiLabelRnnNadeDecoder", _build_nade)
