"""`HierarchicalLstmDecoder`: conductor LSTMs over segments, a core decoder inside each segment.

z initialises (tanh Dense `initial_state`) the level-0 conductor, which runs `level_lengths[0]`
steps; each of its outputs initialises the next level, and the outputs of the last conductor
level are the per-segment embeddings on which the core decoder is conditioned (its initial state
and its per-step conditioning input). Sequences are the concatenation of equal-length segments;
lengths are [B] (each 0 or the full length) or per segment [B, segments].

Conductor inputs, as in Magenta:
  * levels listed in `disable_autoregression`: a constant zero of depth 1;
  * otherwise: [what the level below returned for the previous step, the level's own initial
    input], where the level below returns its final state (flattened), or with a
    `hierarchical_encoder` the re-encoding of its outputs.

When every level is non-autoregressive the conductors do not depend on the core decoder, so all
segments are decoded as ONE batch of B x segments for teacher forcing, and sampling runs a single
compiled loop over the whole sequence that resets the core state at each segment start (the
first input of a segment is the last sample of the previous one, as in Magenta). The
autoregressive and re-encoder modes follow Magenta's depth-first order, one segment at a time.
"""

import math

import keras
import tensorflow as tf

from musicvae_tf.architecture import training_knob
from musicvae_tf.layers.decoders.base import BaseLstmDecoder, DecoderOutput, SampleOutput, fold_seed
from musicvae_tf.layers.encoders import split_segment_lengths
from musicvae_tf.layers.lstm import StackedLSTM


def _disabled_levels(disable_autoregression, num_levels):
    if disable_autoregression is True:
        return list(range(num_levels))
    if disable_autoregression is False or disable_autoregression is None:
        return []
    return sorted(int(level) for level in disable_autoregression)


def _set_final(sequence, lengths, values):
    """Replaces step length-1 of each sequence with `values` and zeroes the steps after it."""
    total = tf.shape(sequence)[1]
    keep = tf.sequence_mask(tf.maximum(0, lengths - 1), total, dtype=sequence.dtype)[:, :, None]
    final = tf.one_hot(tf.maximum(0, lengths - 1), total, dtype=sequence.dtype)[:, :, None]
    return keep * sequence + final * values[:, None, :]


def _get_final(sequence, lengths):
    return tf.gather(sequence, tf.maximum(0, lengths - 1), axis=1, batch_dims=1)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class HierarchicalLstmDecoder(keras.layers.Layer):
    """Hierarchical decoder.

    Args:
      core_decoder: the per-segment decoder layer; its `z_size` must equal `rnn_sizes[-1]`.
      level_lengths: outputs per level; the last is the core segment length; the product is the
        total sequence length.
      z_size: depth of z.
      rnn_sizes, residual, dropout_keep_prob: conductor LSTM settings (`dec_rnn_size`, ...).
      disable_autoregression: True, False or a list of levels whose conductor input is zero.
      hierarchical_encoder: optional `HierarchicalLstmEncoder` used to re-encode outputs.
    """

    # MusicVAE.sample's default is the graph path for this decoder, not XLA: its step products have
    # large kernels and few rows (hierdec-mel_16bar at n=8 streams ~50 MB of weights per step), which
    # XLA's CPU dot multiplies at 3.5-4.7 GB/s and the graph path's at 4.9-6.9 GB/s; a whole n=8
    # sample took 2.3-2.5 s with XLA against 1.4-1.5 s without (2026-12-01, 2-core dev machine, quiet).
    xla_sampling = False

    def __init__(self, core_decoder, level_lengths, z_size, rnn_sizes, residual=False,
                 dropout_keep_prob=1.0, disable_autoregression=False, hierarchical_encoder=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(core_decoder, dict):
            core_decoder = keras.saving.deserialize_keras_object(core_decoder)
        if isinstance(hierarchical_encoder, dict):
            hierarchical_encoder = keras.saving.deserialize_keras_object(hierarchical_encoder)
        self.core_decoder = core_decoder
        self.level_lengths = [int(n) for n in level_lengths]
        self.z_size = int(z_size)
        self.rnn_sizes = [int(s) for s in rnn_sizes]
        self.residual = bool(residual)
        self.dropout_keep_prob = float(dropout_keep_prob)
        self.num_levels = len(self.level_lengths) - 1
        if self.num_levels < 1:
            raise ValueError("HierarchicalLstmDecoder needs at least two level lengths")
        self.disable_autoregression = _disabled_levels(disable_autoregression, self.num_levels)
        self.hierarchical_encoder = hierarchical_encoder
        if hierarchical_encoder is not None and (
                list(hierarchical_encoder.level_lengths[::-1]) != self.level_lengths):
            raise ValueError(f"hierarchical encoder level lengths {hierarchical_encoder.level_lengths} "
                             f"are not the reverse of {self.level_lengths}")
        if core_decoder.z_size != self.rnn_sizes[-1]:
            raise ValueError(f"core decoder z_size {core_decoder.z_size} must equal the conductor "
                             f"output size {self.rnn_sizes[-1]}")
        self.total_length = int(math.prod(self.level_lengths))
        self.output_depth = core_decoder.output_depth
        self.control_depth = core_decoder.control_depth
        self.projection_depth = core_decoder.projection_depth
        self.conductors = []
        self.initial_state_layers = []
        for level in range(self.num_levels):
            initial_input_size = self.z_size if level == 0 else self.rnn_sizes[-1]
            if level in self.disable_autoregression:
                input_size = 1
            else:
                input_size = self._lower_output_size(level) + initial_input_size
            conductor = StackedLSTM(input_size, self.rnn_sizes, residual=self.residual,
                                    dropout_keep_prob=self.dropout_keep_prob, name=f"conductor_{level}")
            dense = keras.layers.Dense(
                sum(conductor.state_sizes), activation="tanh",
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
                name=f"initial_state_{level}")
            dense.build((None, initial_input_size))
            self.conductors.append(conductor)
            self.initial_state_layers.append(dense)
            # Attributes too: tf.train.Checkpoint does not see layers inside Keras lists.
            setattr(self, f"conductor_{level}", conductor)
            setattr(self, f"initial_state_{level}", dense)
        self.built = True

    def _lower_output_size(self, level):
        if self.hierarchical_encoder is not None:
            return self.hierarchical_encoder.level(0).output_depth
        if level == self.num_levels - 1:
            return sum(self.core_decoder.state_sizes)
        return 2 * sum(self.rnn_sizes)

    def get_config(self):
        config = super().get_config()
        config.update(
            core_decoder=keras.saving.serialize_keras_object(self.core_decoder),
            level_lengths=list(self.level_lengths), z_size=self.z_size,
            rnn_sizes=list(self.rnn_sizes), residual=self.residual,
            dropout_keep_prob=self.dropout_keep_prob,
            disable_autoregression=list(self.disable_autoregression),
            hierarchical_encoder=(None if self.hierarchical_encoder is None else
                                  keras.saving.serialize_keras_object(self.hierarchical_encoder)))
        return config

    @property
    def num_segments(self):
        return int(math.prod(self.level_lengths[:-1]))

    @property
    def batched(self):
        """Whether no level is autoregressive, so all segments decode as one batch."""
        return len(self.disable_autoregression) == self.num_levels and self.hierarchical_encoder is None

    @property
    def state_sizes(self):
        return self.core_decoder.state_sizes

    def _conductor_state(self, level, initial_input):
        conductor = self.conductors[level]
        return list(tf.split(self.initial_state_layers[level](initial_input), conductor.state_sizes, -1))

    def segment_embeddings(self, z, training=False, seed=None):
        """Non-autoregressive conductors: embeddings [B * segments, rnn_sizes[-1]] in (b, seg) order."""
        embedding = z
        for level in range(self.num_levels):
            parents = tf.shape(embedding)[0]
            steps = self.level_lengths[level]
            outputs, _ = self.conductors[level].run(
                [tf.zeros([parents, steps, 1])], self._conductor_state(level, embedding),
                training=training, seed=fold_seed(seed, level))
            embedding = tf.reshape(outputs, [parents * steps, self.rnn_sizes[-1]])
        return embedding

    def _to_segments(self, x, batch):
        """[B, total, d] -> [B * segments, segment_length, d]."""
        return tf.reshape(x, [batch * self.num_segments, self.level_lengths[-1], x.shape[-1]])

    def _from_segments(self, x, batch):
        return tf.reshape(x, [batch, self.total_length, x.shape[-1]])

    # -- reconstruction -------------------------------------------------------------------------
    def reconstruction_loss(self, x_input, x_target, lengths, z=None, controls=None,
                            sampling_probability=0.0, training=False, seed=None):
        """Per-example loss summed over segments; returns a `DecoderOutput` (merged over time)."""
        x_input = tf.convert_to_tensor(x_input, tf.float32)
        x_target = tf.convert_to_tensor(x_target, tf.float32)
        if x_input.shape[1] is not None and x_input.shape[1] != self.total_length:
            raise ValueError(f"HierarchicalLstmDecoder expects {self.total_length} steps, got {x_input.shape[1]}")
        if self.hierarchical_encoder is not None and controls is not None and self.control_depth:
            raise ValueError("re-encoder mode does not support control sequences")
        batch = tf.shape(x_input)[0]
        if z is None:
            z = tf.zeros([batch, 0])
        segment_lengths = split_segment_lengths(lengths, self.num_segments, self.total_length)
        if controls is None:
            controls = tf.zeros([batch, self.total_length, self.control_depth])
        if self.batched:
            result = self.core_decoder.reconstruction_loss(
                self._to_segments(x_input, batch), self._to_segments(x_target, batch),
                tf.reshape(segment_lengths, [-1]), self.segment_embeddings(z, training, seed),
                self._to_segments(controls, batch), sampling_probability, training,
                fold_seed(seed, self.num_levels))
            r_loss = tf.reduce_sum(tf.reshape(result.r_loss, [batch, self.num_segments]), axis=1)
            return DecoderOutput(r_loss, result.metrics, self._from_segments(result.rnn_output, batch),
                                 self._from_segments(result.rnn_input, batch), result.final_state)
        return self._sequential_reconstruction(x_input, x_target, segment_lengths, z, controls,
                                               sampling_probability, training, seed)

    def _sequential_reconstruction(self, x_input, x_target, segment_lengths, z, controls,
                                   sampling_probability, training, seed):
        batch = tf.shape(x_input)[0]
        seg_len = self.level_lengths[-1]
        results = []

        def base_fn(embedding, index):
            window = slice(index * seg_len, (index + 1) * seg_len)
            target = x_target[:, window]
            length = segment_lengths[:, index]
            result = self.core_decoder.reconstruction_loss(
                x_input[:, window], target, length, embedding, controls[:, window],
                sampling_probability, training, fold_seed(seed, self.num_levels, index))
            results.append(result)
            if self.hierarchical_encoder is not None:
                samples = tf.pad(result.rnn_input[:, 1:], [[0, 0], [0, 1], [0, 0]])
                samples = _set_final(samples, length, _get_final(target, length))
                return self.hierarchical_encoder.level(0)(samples, length, training=training)
            return tf.concat(result.final_state, axis=-1)

        self._depth_first(z, batch, base_fn, training, seed)
        r_loss = tf.add_n([r.r_loss for r in results])
        metrics = {name: (tf.add_n([r.metrics[name][0] for r in results]),
                          tf.add_n([r.metrics[name][1] for r in results]))
                   for name in results[0].metrics}
        return DecoderOutput(r_loss, metrics, tf.concat([r.rnn_output for r in results], axis=1),
                             tf.concat([r.rnn_input for r in results], axis=1), results[-1].final_state)

    def _depth_first(self, z, batch, base_fn, training=False, seed=None):
        """Magenta's recursive decode: conductors step one at a time, the core decoder per segment."""
        counter = [0]

        def recurse(initial_input, level):
            if level == self.num_levels:
                index = counter[0]
                counter[0] += 1
                return base_fn(initial_input, index)
            conductor = self.conductors[level]
            state = self._conductor_state(level, initial_input)
            autoregressive = level not in self.disable_autoregression
            if autoregressive:
                next_input = tf.zeros([batch, self._lower_output_size(level)])
            lower = []
            for step in range(self.level_lengths[level]):
                if autoregressive:
                    step_input = tf.concat([next_input, initial_input], axis=-1)
                else:
                    step_input = tf.zeros([batch, 1])
                output, state = conductor.step(step_input, state, training=training,
                                               seed=fold_seed(seed, level, step))
                next_input = recurse(output, level + 1)
                lower.append(next_input)
            if self.hierarchical_encoder is not None:
                encoder = self.hierarchical_encoder.level(self.num_levels - level)
                return encoder(tf.stack(lower, axis=1), tf.fill([batch], self.level_lengths[level]),
                               training=training)
            return tf.concat(state, axis=-1)

        return recurse(z, 0)

    # -- sampling ---------------------------------------------------------------------------------
    def sample(self, n, max_length=None, z=None, controls=None, temperature=1.0, start_inputs=None,
               end_token=None, seed=None):
        """Samples [n, total_length] sequences; returns a `SampleOutput` (lengths per segment)."""
        if max_length is not None and isinstance(max_length, int) and max_length != self.total_length:
            raise ValueError(f"max_length must equal the hierarchical total length {self.total_length}")
        if self.hierarchical_encoder is not None and controls is not None and self.control_depth:
            raise ValueError("re-encoder mode does not support control sequences")
        if z is None:
            z = tf.zeros([n, 0])
        z = tf.convert_to_tensor(z, tf.float32)
        if self.control_depth:
            if controls is None:
                raise ValueError(f"{self.name} expects controls of depth {self.control_depth}")
            controls = tf.convert_to_tensor(controls, tf.float32)
        if self.batched:
            return self._batched_sample(n, z, controls, temperature, start_inputs, end_token, seed)
        return self._sequential_sample(n, z, controls, temperature, start_inputs, end_token, seed)

    def _batched_sample(self, n, z, controls, temperature, start_inputs, end_token, seed):
        core = self.core_decoder
        segments, seg_len = self.num_segments, self.level_lengths[-1]
        embeddings = self.segment_embeddings(z)
        states = [tf.transpose(tf.reshape(s, [n, segments, s.shape[-1]]), [1, 0, 2])
                  for s in core.initial_state(embeddings)]
        embeddings_sm = tf.transpose(tf.reshape(embeddings, [n, segments, -1]), [1, 0, 2])
        if controls is None:
            controls_tm = tf.zeros([self.total_length, n, 0])
        else:
            controls_tm = tf.tile(controls[:, None, :], [1, n, 1])
        if start_inputs is None:
            start_inputs = tf.zeros([n, core.output_depth])
        temperature = tf.cast(temperature, tf.float32)
        # (a split multi-output core decodes through its parts' own steps)
        project_once = isinstance(core, BaseLstmDecoder) and core.can_project_once()
        if project_once:
            # Each segment's embedding (and the controls) projected once, not at every step; the
            # fed-back sample is carried as its part of the first layer's gates.
            output_rows, z_rows, control_rows, recurrent_rows, bias = core.first_layer_parts()
            embedding_gates = tf.einsum("snd,dg->sng", embeddings_sm, z_rows) + bias
            control_gates = (tf.einsum("tbd,dg->tbg", controls_tm, control_rows)
                             if core.control_depth else None)
            start_inputs = tf.matmul(start_inputs, output_rows)
            if control_gates is not None:  # per step: its bar's embedding plus its controls
                step_gates = control_gates + tf.repeat(embedding_gates, seg_len, axis=0)
            else:
                step_gates = embedding_gates

            def input_gates(raw, step):
                """The first layer's input part at `step`: the fed-back gates plus the step's
                embedding (and controls) gates, one add, carried into the step as a loop
                variable: no chain of adds inside the loop (see BaseLstmDecoder._sample_loop)."""
                step = tf.minimum(step, self.total_length - 1)
                return raw + step_gates[step if control_gates is not None else step // seg_len]

        def body(t, current, raw, state, finished, segment_length, lengths, samples_ta, outputs_ta):
            segment, k = t // seg_len, t % seg_len
            starting = tf.equal(k, 0)
            state = [tf.where(starting, s0[segment], s) for s0, s in zip(states, state)]
            finished = tf.logical_and(finished, tf.logical_not(starting))
            segment_length = tf.where(starting, tf.zeros_like(segment_length), segment_length)
            active = tf.logical_not(tf.reduce_all(finished))
            if project_once:
                rnn_output, new_state = core.decode_from_gates(current, state, recurrent_rows)
            else:
                rnn_output, new_state = core.decode_step(current, embeddings_sm[segment], controls_tm[t],
                                                         state)
            sample = core.sample_outputs(rnn_output, temperature, seed=fold_seed(seed, t))
            segment_length = tf.where(finished, segment_length, k + 1)
            lengths = tf.where(tf.equal(tf.range(segments), segment)[None, :], segment_length[:, None],
                               lengths)
            if end_token is not None:
                finished = tf.logical_or(finished, core.is_end(sample, end_token))
            sample = tf.where(active, sample, tf.zeros_like(sample))
            rnn_output = tf.where(active, rnn_output, tf.zeros_like(rnn_output))
            fed_back = core.feedback_gates(sample, output_rows) if project_once else sample
            raw = tf.where(active, fed_back, raw)
            current = input_gates(raw, t + 1) if project_once else raw
            state = [tf.where(active, s1, s) for s1, s in zip(new_state, state)]
            return (t + 1, current, raw, state, finished, segment_length, lengths,
                    samples_ta.write(t, sample), outputs_ta.write(t, rnn_output))

        init_state = [s[0] for s in states]
        batch = start_inputs.shape[0]  # static when known (TFLite needs static element shapes)
        samples_ta = tf.TensorArray(tf.float32, size=self.total_length,
                                    element_shape=[batch, core.output_depth])
        outputs_ta = tf.TensorArray(tf.float32, size=self.total_length,
                                    element_shape=[batch, core.projection_depth])
        first = input_gates(start_inputs, 0) if project_once else start_inputs
        loop_vars = (tf.constant(0), first, start_inputs, init_state, tf.zeros([n], tf.bool),
                     tf.zeros([n], tf.int32), tf.zeros([n, segments], tf.int32), samples_ta, outputs_ta)
        _, _, _, state, _, _, lengths, samples_ta, outputs_ta = tf.while_loop(
            lambda t, *_: t < self.total_length, body, loop_vars)
        samples = tf.transpose(samples_ta.stack(), [1, 0, 2])
        outputs = tf.transpose(outputs_ta.stack(), [1, 0, 2])
        return SampleOutput(samples, outputs, lengths, state)

    def _sequential_sample(self, n, z, controls, temperature, start_inputs, end_token, seed):
        seg_len = self.level_lengths[-1]
        results = []

        def base_fn(embedding, index):
            segment_controls = None if controls is None else controls[index * seg_len:(index + 1) * seg_len]
            previous = results[-1].samples[:, -1] if results else start_inputs
            result = self.core_decoder.sample(n, seg_len, embedding, segment_controls, temperature,
                                              start_inputs=previous, end_token=end_token,
                                              seed=fold_seed(seed, index))
            results.append(result)
            if self.hierarchical_encoder is not None:
                return self.hierarchical_encoder.level(0)(result.samples, result.lengths)
            return tf.concat(result.final_state, axis=-1)

        self._depth_first(z, n, base_fn)
        return SampleOutput(tf.concat([r.samples for r in results], axis=1),
                            tf.concat([r.rnn_output for r in results], axis=1),
                            tf.stack([r.lengths for r in results], axis=1), results[-1].final_state)

    # -- checkpoint names ---------------------------------------------------------------------------
    def tf1_variables(self, scope="decoder"):
        names = {}
        for level, (conductor, dense) in enumerate(zip(self.conductors, self.initial_state_layers)):
            level_scope = f"{scope}/hierarchical_level_{level}"
            names.update(conductor.tf1_variables(level_scope, multi_rnn_cell=False))
            names[f"{level_scope}/initial_state/kernel"] = dense.kernel
            names[f"{level_scope}/initial_state/bias"] = dense.bias
        prefix = scope.rsplit("decoder", 1)[0]
        names.update(self.core_decoder.tf1_variables(f"{prefix}core_decoder/decoder"))
        return names


def build_hierarchical_decoder(spec, hparams, output_depth, z_size, control_depth, name):
    """Registry builder for `DecoderSpec("HierarchicalLstmDecoder", ...)`."""
    from musicvae_tf.layers.decoders import build_decoder
    from musicvae_tf.layers.encoders import HierarchicalLstmEncoder

    total = int(math.prod(spec.level_lengths))
    if total != hparams.max_seq_len:
        raise ValueError(f"the product of the level lengths {spec.level_lengths} ({total}) must equal "
                         f"max_seq_len ({hparams.max_seq_len})")
    conductor_size = int(hparams.dec_rnn_size[-1])
    core = build_decoder(spec.core_decoder, hparams, output_depth, conductor_size, control_depth,
                         name="core_decoder")
    encoder = None
    if spec.hierarchical_encoder is not None:
        encoder = HierarchicalLstmEncoder(output_depth, spec.hierarchical_encoder.level_lengths,
                                          hparams.enc_rnn_size, bool(hparams.residual_encoder),
                                          float(training_knob(hparams, "dropout_keep_prob")), name="reencoder")
    return HierarchicalLstmDecoder(core, spec.level_lengths, z_size, hparams.dec_rnn_size,
                                   residual=bool(hparams.residual_decoder),
                                   dropout_keep_prob=float(training_knob(hparams, "dropout_keep_prob")),
                                   disable_autoregression=spec.disable_autoregression,
                                   hierarchical_encoder=encoder, name=name)
