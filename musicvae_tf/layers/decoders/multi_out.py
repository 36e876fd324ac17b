"""Decoders whose step output is several one-hot vectors side by side (e.g. trio: 90 + 90 + 512).

* `MultiOutCategoricalLstmDecoder`: one LSTM; its logits are cut into one softmax per output.
  Loss: the sum of the per-output softmax cross-entropies; samples: one class per output.
* `SplitMultiOutLstmDecoder`: one complete core decoder per output (each with its own LSTM,
  initial-state layer and projection), all conditioned on the same z. Losses are summed, samples
  and logits concatenated. Magenta names the cores' variables `core_decoder_<i>/decoder/...`.

The split decoder is not a `BaseLstmDecoder` but offers the same surface (`decode_step`,
`initial_state`, `sample_outputs`, `reconstruction_loss`, `sample`, `tf1_variables`, ...), so the
model and `HierarchicalLstmDecoder` drive it like any flat decoder. Its state is Magenta's merged
state: entry k of the flat state list [c_0, h_0, c_1, h_1, ...] is the concatenation of entry k
of every core's state (so the cores must have the same number of LSTM layers).
"""

import keras
import tensorflow as tf

from musicvae_tf.layers.decoders import lstm_decoder_kwargs, register_decoder
from musicvae_tf.layers.decoders.base import DecoderOutput, SampleOutput, fold_seed
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder, sample_one_hot


def _check_depths(output_depths, output_depth, what):
    output_depths = [int(d) for d in output_depths]
    if not output_depths or min(output_depths) < 1:
        raise ValueError(f"{what} needs positive output depths, got {output_depths}")
    if sum(output_depths) != output_depth:
        raise ValueError(f"{what}: output depth {output_depth} is not the sum of output_depths {output_depths}")
    return output_depths


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MultiOutCategoricalLstmDecoder(CategoricalLstmDecoder):
    """LSTM decoder with several categorical outputs per step, one per entry of `output_depths`.

    Metrics: `accuracy/output_<i>` per output, and `accuracy` (their mean).
    """

    def __init__(self, output_depth, output_depths=(), **kwargs):
        self.output_depths = _check_depths(output_depths, int(output_depth), "MultiOutCategoricalLstmDecoder")
        super().__init__(output_depth, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(output_depths=list(self.output_depths))
        return config

    def split_outputs(self, values):
        return tf.split(values, self.output_depths, axis=-1)

    @tf.autograph.experimental.do_not_convert
    def flat_reconstruction_loss(self, flat_targets, flat_rnn_output):
        losses = []
        metrics = {}
        for i, (target, logits) in enumerate(zip(self.split_outputs(flat_targets),
                                                 self.split_outputs(flat_rnn_output))):
            losses.append(tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=logits))
            correct = tf.equal(tf.argmax(target, axis=-1), tf.argmax(logits, axis=-1))
            metrics[f"accuracy/output_{i}"] = tf.cast(correct, tf.float32)
        metrics["accuracy"] = tf.add_n(list(metrics.values())) / len(self.output_depths)
        return tf.add_n(losses), metrics

    @tf.autograph.experimental.do_not_convert
    def sample_outputs(self, rnn_output, temperature=1.0, seed=None):
        samples = [sample_one_hot(logits, temperature, fold_seed(seed, i))
                   for i, logits in enumerate(self.split_outputs(rnn_output))]
        return tf.concat(samples, axis=-1)

    @tf.autograph.experimental.do_not_convert
    def activate_outputs(self, rnn_output):
        return tf.concat([tf.nn.softmax(logits, axis=-1) for logits in self.split_outputs(rnn_output)],
                         axis=-1)

    def is_end(self, samples, end_token):
        raise ValueError("MultiOutCategoricalLstmDecoder has no end token; sample with end_token=None")


@keras.saving.register_keras_serializable(package="musicvae_tf")
class SplitMultiOutLstmDecoder(keras.layers.Layer):
    """One core decoder per output; see the module docstring.

    Args:
      core_decoders: decoder layers (e.g. `CategoricalLstmDecoder`s), one per output, all with the
        same z_size, control_depth and number of LSTM layers.
      output_depths: depth of each core's output, in the order they are concatenated.
    """

    def __init__(self, core_decoders, output_depths, **kwargs):
        super().__init__(**kwargs)
        core_decoders = [keras.saving.deserialize_keras_object(cd) if isinstance(cd, dict) else cd
                         for cd in core_decoders]
        if len(core_decoders) != len(output_depths):
            raise ValueError(f"SplitMultiOutLstmDecoder needs one core decoder per output depth, got "
                             f"{len(core_decoders)} decoders and {len(output_depths)} depths")
        self.output_depths = _check_depths(output_depths, sum(int(d) for d in output_depths),
                                           "SplitMultiOutLstmDecoder")
        for cd, depth in zip(core_decoders, self.output_depths):
            if cd.output_depth != depth:
                raise ValueError(f"core decoder {cd.name} has output depth {cd.output_depth}, expected {depth}")
        first = core_decoders[0]
        for cd in core_decoders[1:]:
            if (cd.z_size, cd.control_depth, len(cd.state_sizes)) != (
                    first.z_size, first.control_depth, len(first.state_sizes)):
                raise ValueError("SplitMultiOutLstmDecoder's core decoders need the same z_size, "
                                 "control_depth and number of LSTM layers")
        self.core_decoders = core_decoders
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(core_decoders=[keras.saving.serialize_keras_object(cd) for cd in self.core_decoders],
                      output_depths=list(self.output_depths))
        return config

    # -- sizes ----------------------------------------------------------------------------------
    @property
    def output_depth(self):
        return sum(self.output_depths)

    @property
    def z_size(self):
        return self.core_decoders[0].z_size

    @property
    def control_depth(self):
        return self.core_decoders[0].control_depth

    @property
    def projection_depths(self):
        return [cd.projection_depth for cd in self.core_decoders]

    @property
    def projection_depth(self):
        return sum(self.projection_depths)

    @property
    def state_sizes(self):
        return [sum(sizes) for sizes in zip(*(cd.state_sizes for cd in self.core_decoders))]

    # -- merged state ---------------------------------------------------------------------------
    @tf.autograph.experimental.do_not_convert
    def merge_states(self, states):
        """Per-core flat state lists -> the merged flat state list."""
        return [tf.concat(parts, axis=-1) for parts in zip(*states)]

    @tf.autograph.experimental.do_not_convert
    def split_state(self, state):
        """The merged flat state list -> one flat state list per core."""
        per_entry = [tf.split(entry, [cd.state_sizes[k] for cd in self.core_decoders], axis=-1)
                     for k, entry in enumerate(state)]
        return [[parts[i] for parts in per_entry] for i in range(len(self.core_decoders))]

    def split_outputs(self, values):
        return tf.split(values, self.output_depths, axis=-1)

    def split_projections(self, rnn_output):
        return tf.split(rnn_output, self.projection_depths, axis=-1)

    @tf.autograph.experimental.do_not_convert
    def initial_state(self, z, batch_size=None):
        return self.merge_states([cd.initial_state(z, batch_size) for cd in self.core_decoders])

    # -- one step -------------------------------------------------------------------------------
    @tf.autograph.experimental.do_not_convert
    def decode_step(self, inputs, z, control, state, training=False, seed=None):
        outputs, states = [], []
        for i, (cd, inputs_i, state_i) in enumerate(zip(self.core_decoders, self.split_outputs(inputs),
                                                        self.split_state(state))):
            output_i, state_i = cd.decode_step(inputs_i, z, control, state_i, training=training,
                                               seed=fold_seed(seed, i))
            outputs.append(output_i)
            states.append(state_i)
        return tf.concat(outputs, axis=-1), self.merge_states(states)

    @tf.autograph.experimental.do_not_convert
    def sample_outputs(self, rnn_output, temperature=1.0, seed=None):
        return tf.concat([cd.sample_outputs(output_i, temperature, seed=fold_seed(seed, i))
                          for i, (cd, output_i) in enumerate(zip(self.core_decoders,
                                                                 self.split_projections(rnn_output)))],
                         axis=-1)

    @tf.autograph.experimental.do_not_convert
    def activate_outputs(self, rnn_output):
        return tf.concat([cd.activate_outputs(output_i)
                          for cd, output_i in zip(self.core_decoders, self.split_projections(rnn_output))],
                         axis=-1)

    def is_end(self, samples, end_token):
        raise ValueError("SplitMultiOutLstmDecoder does not support end tokens; sample with end_token=None")

    # -- whole sequences ------------------------------------------------------------------------
    def teacher_force(self, x_input, z=None, controls=None, lengths=None, training=False, seed=None,
                      initial_state=None):
        """Each core on its slice of `x_input`; returns (rnn_output concatenated, merged final state)."""
        initial_states = ([None] * len(self.core_decoders) if initial_state is None
                          else self.split_state(initial_state))
        outputs, states = [], []
        for i, (cd, x_i, state_i) in enumerate(zip(self.core_decoders, self.split_outputs(x_input),
                                                   initial_states)):
            output_i, final_i = cd.teacher_force(x_i, z, controls, lengths, training, fold_seed(seed, i),
                                                 initial_state=state_i)
            outputs.append(output_i)
            states.append(final_i)
        return tf.concat(outputs, axis=-1), self.merge_states(states)

    def masked_loss(self, x_target, rnn_output, lengths):
        """Sum of the cores' losses over valid steps; -> (r_loss [B], metrics)."""
        results = [cd.masked_loss(target_i, output_i, lengths)
                   for cd, target_i, output_i in zip(self.core_decoders, self.split_outputs(x_target),
                                                     self.split_projections(rnn_output))]
        r_loss = tf.add_n([r for r, _ in results])
        return r_loss, self._merge_metrics([m for _, m in results])

    def _merge_metrics(self, metric_maps):
        """Per-core metrics as `<name>/output_<i>`, plus `<name>` averaged over the cores."""
        merged = {}
        for name in metric_maps[0]:
            for i, metrics in enumerate(metric_maps):
                merged[f"{name}/output_{i}"] = metrics[name]
            total = tf.add_n([metrics[name][0] for metrics in metric_maps]) / len(metric_maps)
            merged[name] = (total, metric_maps[0][name][1])
        return merged

    def reconstruction_loss(self, x_input, x_target, lengths, z=None, controls=None,
                            sampling_probability=0.0, training=False, seed=None):
        """Each core's `reconstruction_loss` on its slice; losses summed; returns a `DecoderOutput`."""
        results = [cd.reconstruction_loss(x_i, target_i, lengths, z=z, controls=controls,
                                          sampling_probability=sampling_probability, training=training,
                                          seed=fold_seed(seed, i))
                   for i, (cd, x_i, target_i) in enumerate(zip(self.core_decoders, self.split_outputs(x_input),
                                                               self.split_outputs(x_target)))]
        return DecoderOutput(
            r_loss=tf.add_n([r.r_loss for r in results]),
            metrics=self._merge_metrics([r.metrics for r in results]),
            rnn_output=tf.concat([r.rnn_output for r in results], axis=-1),
            rnn_input=tf.concat([r.rnn_input for r in results], axis=-1),
            final_state=self.merge_states([r.final_state for r in results]))

    def sample(self, n, max_length, z=None, controls=None, temperature=1.0, start_inputs=None,
               end_token=None, seed=None):
        """Samples each core on its own (as Magenta) and concatenates; returns a `SampleOutput`."""
        if max_length is None:
            raise ValueError("SplitMultiOutLstmDecoder.sample needs max_length")
        if end_token is not None:
            raise ValueError("SplitMultiOutLstmDecoder does not support end tokens")
        split_starts = ([None] * len(self.core_decoders) if start_inputs is None
                        else self.split_outputs(start_inputs))
        results = [cd.sample(n, max_length, z=z, controls=controls, temperature=temperature,
                             start_inputs=start_i, seed=fold_seed(seed, i))
                   for i, (cd, start_i) in enumerate(zip(self.core_decoders, split_starts))]
        return SampleOutput(
            samples=tf.concat([r.samples for r in results], axis=-1),
            rnn_output=tf.concat([r.rnn_output for r in results], axis=-1),
            lengths=results[0].lengths,
            final_state=self.merge_states([r.final_state for r in results]))

    # -- checkpoint names -----------------------------------------------------------------------
    def tf1_variables(self, scope="decoder"):
        """Magenta names: core i lives under `<prefix>core_decoder_<i>/decoder/...`, where `<prefix>`
        is what precedes the last "decoder" in `scope` (e.g. "core_decoder/" in a hierarchy)."""
        prefix = scope.rsplit("decoder", 1)[0]
        names = {}
        for i, cd in enumerate(self.core_decoders):
            names.update(cd.tf1_variables(f"{prefix}core_decoder_{i}/decoder"))
        return names


def _build_multi_out(spec, hparams, output_depth, z_size, control_depth, name):
    return MultiOutCategoricalLstmDecoder(output_depth, output_depths=list(spec.output_depths), z_size=z_size,
                                          control_depth=control_depth, name=name,
                                          **lstm_decoder_kwargs(hparams))


def _build_split(spec, hparams, output_depth, z_size, control_depth, name):
    from musicvae_tf.layers.decoders import build_decoder

    _check_depths(spec.output_depths, output_depth, "SplitMultiOutLstmDecoder")
    cores = [build_decoder(core_spec, hparams, depth, z_size, control_depth, name=f"core_decoder_{i}")
             for i, (core_spec, depth) in enumerate(zip(spec.core_decoders, spec.output_depths))]
    return SplitMultiOutLstmDecoder(cores, list(spec.output_depths), name=name)


register_decoder("MultiOutCategoricalLstmDecoder", _build_multi_out)
register_decoder("SplitMultiOutLstmDecoder", _build_split)
