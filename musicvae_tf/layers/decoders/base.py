"""The LSTM decoder that every flat MusicVAE decoder builds on (Magenta's `BaseLstmDecoder`).

At each step the stacked LSTM reads [previous output, z, control at this step]; its initial
state is tanh(Dense(z)) split into [c_0, h_0, c_1, h_1, ...]; a Dense `output_projection` turns
the top layer's output into `rnn_output` (logits, or the parameters a subclass needs).

Three ways to run it, all compiled `tf.while_loop`s:
  * teacher forcing (`teacher_force`): the previous outputs are the data, so the input
    projection of all steps is one matmul and only the recurrence loops;
  * scheduled sampling (`reconstruction_loss` with a sampling probability > 0): each example
    feeds back its own sample instead of the data with that probability;
  * free sampling (`sample`): feeds back its samples, with a temperature, an optional end token,
    a maximum length and optional control sequence.

A subclass defines the output distribution by overriding:
  * `sample_outputs(rnn_output, temperature, seed)`: one step's sample [B, output_depth];
  * `flat_reconstruction_loss(flat_targets, flat_rnn_output)`: per-step losses [N] and a dict of
    per-step metric values [N] (averaged over the valid steps);
  * optionally `projection_depth` (size of `rnn_output`, default `output_depth`),
    `is_end(samples, end_token)`, `activate_outputs(rnn_output)` and `extra_tf1_variables(scope)`
    (names of additional weights for checkpoint import).
"""

import collections

import keras
import tensorflow as tf

from musicvae_tf.layers.lstm import StackedLSTM

# The result of running a decoder over a batch (all tensors batch-major).
DecoderOutput = collections.namedtuple(
    "DecoderOutput", ["r_loss", "metrics", "rnn_output", "rnn_input", "final_state"])
# r_loss: [B] per-example reconstruction loss (sum over valid steps).
# metrics: dict name -> (sum over valid steps, number of valid steps), both scalars.
# rnn_output: [B, T, projection_depth]; rnn_input: [B, T, output_depth] (what the RNN was fed);
# final_state: flat state list after max(lengths) steps.

SampleOutput = collections.namedtuple(
    "SampleOutput", ["samples", "rnn_output", "lengths", "final_state"])
# samples: [n, max_length, output_depth], zero after the loop stopped; rnn_output likewise;
# lengths: [n] steps until each example's end token (or the steps run); final_state: flat list.


def fold_seed(seed, *values):
    """Derives a stateless seed from `seed` and integers/tensors `values` (None stays None)."""
    if seed is None:
        return None
    for value in values:
        seed = tf.random.experimental.stateless_fold_in(seed, value)
    return seed


def flatten_time(x):
    """[B, T, d] -> [B * T, d]."""
    return tf.reshape(x, [-1, x.shape[-1]])


@keras.saving.register_keras_serializable(package="musicvae_tf")
class BaseLstmDecoder(keras.layers.Layer):
    """Abstract LSTM decoder (see the module docstring for what subclasses override).

    Args:
      output_depth: depth of one output step (the data's one-hot or multi-hot vector).
      z_size: depth of the conditioning vector (z, or a conductor embedding); 0 for none.
      control_depth: depth of the control sequence; 0 for none.
      rnn_sizes: `hparams.dec_rnn_size`.
      residual, dropout_keep_prob: `hparams.residual_decoder`, `hparams.dropout_keep_prob`.
    """

    def __init__(self, output_depth, z_size=0, control_depth=0, rnn_sizes=(512,), residual=False,
                 dropout_keep_prob=1.0, **kwargs):
        super().__init__(**kwargs)
        self.output_depth = int(output_depth)
        self.z_size = int(z_size)
        self.control_depth = int(control_depth)
        self.rnn_sizes = [int(s) for s in rnn_sizes]
        self.residual = bool(residual)
        self.dropout_keep_prob = float(dropout_keep_prob)
        self.build_extra_layers()
        self.rnn = StackedLSTM(self.output_depth + self.z_size + self.control_depth, self.rnn_sizes,
                               residual=self.residual, dropout_keep_prob=self.dropout_keep_prob,
                               name="rnn")
        self.z_to_initial_state = None
        if self.z_size:
            self.z_to_initial_state = keras.layers.Dense(
                sum(self.rnn.state_sizes), activation="tanh",
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
                name="z_to_initial_state")
            self.z_to_initial_state.build((None, self.z_size))
        self.output_projection = keras.layers.Dense(self.projection_depth, name="output_projection")
        self.output_projection.build((None, self.rnn.output_size))
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(output_depth=self.output_depth, z_size=self.z_size,
                      control_depth=self.control_depth, rnn_sizes=list(self.rnn_sizes),
                      residual=self.residual, dropout_keep_prob=self.dropout_keep_prob)
        return config

    # -- subclass hooks ---------------------------------------------------------------------
    def build_extra_layers(self):
        """Creates any extra sub-layers (called before the LSTM is built)."""

    @property
    def projection_depth(self):
        return self.output_depth

    def sample_outputs(self, rnn_output, temperature=1.0, seed=None):
        raise NotImplementedError

    def flat_reconstruction_loss(self, flat_targets, flat_rnn_output):
        raise NotImplementedError

    def activate_outputs(self, rnn_output):
        """What `rnn_output` means as data (e.g. probabilities); identity by default."""
        return rnn_output

    def is_end(self, samples, end_token):
        """[B] bool: whether each sample is the end token (`end_token` is an int index)."""
        return tf.equal(tf.argmax(samples, axis=-1, output_type=tf.int32), end_token)

    def extra_tf1_variables(self, scope):
        return {}

    # -- state --------------------------------------------------------------------------------
    @property
    def state_sizes(self):
        return self.rnn.state_sizes

    def initial_state(self, z, batch_size=None):
        """Flat initial state from z [B, z_size] (zeros when the decoder is unconditioned)."""
        if self.z_to_initial_state is None:
            if batch_size is None:
                batch_size = tf.shape(z)[0]
            return self.rnn.zero_state(batch_size)
        return list(tf.split(self.z_to_initial_state(z), self.rnn.state_sizes, axis=-1))

    def _conditioning(self, z, batch_size):
        if z is None:
            if self.z_size:
                raise ValueError(f"{self.name} is conditioned on z of size {self.z_size}; got z=None")
            return tf.zeros([batch_size, 0])
        return tf.convert_to_tensor(z, tf.float32)

    def _controls(self, controls, batch_size, total):
        if self.control_depth == 0:
            return tf.zeros([batch_size, total, 0])
        if controls is None:
            raise ValueError(f"{self.name} expects controls of depth {self.control_depth}")
        return tf.convert_to_tensor(controls, tf.float32)

    def _loop_inputs(self, x_input, z, controls, lengths):
        """(x_input, batch, total, z, controls, steps to run or None) for a decoding loop over x_input."""
        x_input = tf.convert_to_tensor(x_input, tf.float32)
        batch, total = tf.shape(x_input)[0], tf.shape(x_input)[1]
        num_steps = None if lengths is None else tf.reduce_max(tf.cast(lengths, tf.int32))
        return (x_input, batch, total, self._conditioning(z, batch), self._controls(controls, batch, total),
                num_steps)

    def decode_step(self, inputs, z, control, state, training=False, seed=None):
        """One step from the previous output `inputs` [B, output_depth]; -> (rnn_output, state)."""
        rnn_in = tf.concat([inputs, z, control], axis=-1)
        out, state = self.rnn.step(rnn_in, state, training=training, seed=seed)
        return self.output_projection(out), state

    # -- inference step loops with the known inputs projected once ------------------------------
    def can_project_once(self):
        """Whether a sampling loop may use `first_layer_parts` / `decode_from_gates` in place of
        `decode_step` (the standard step, no dropout, no input projection)."""
        return (type(self).decode_step is BaseLstmDecoder.decode_step
                and self.rnn.can_split_first_input(False))

    def first_layer_parts(self):
        """The first LSTM layer's kernel cut by input: (rows for the fed-back output, for z, for
        the controls, the recurrent rows, the bias). Slice once, outside a loop."""
        cell = self.rnn.cells[0]
        depth, z_end = self.output_depth, self.output_depth + self.z_size
        return (cell.kernel[:depth], cell.kernel[depth:z_end], cell.kernel[z_end:cell.input_size],
                cell.recurrent_kernel, cell.bias)

    def feedback_gates(self, samples, output_rows):
        """The first layer's gate input from one step's fed-back output, samples @ output_rows."""
        return tf.matmul(samples, output_rows)

    def decode_from_gates(self, input_gates, state, recurrent_rows):
        """`decode_step` given the first layer's whole input part (fed-back output, z and
        control, already projected, plus the bias); -> (rnn_output, state)."""
        out, state = self.rnn.step_from_gates(input_gates, state, recurrent_rows)
        return self.output_projection(out), state

    # -- teacher forcing / scheduled sampling ------------------------------------------------------
    def teacher_force(self, x_input, z=None, controls=None, lengths=None, training=False, seed=None,
                      initial_state=None):
        """Runs the decoder on the given previous outputs; returns (rnn_output, final_state).

        The loop runs max(lengths) steps (all steps without `lengths`), like Magenta's
        `TrainingHelper`, so the final state is that of the longest example.
        """
        x_input, batch, total, z, controls, num_steps = self._loop_inputs(x_input, z, controls, lengths)
        if initial_state is None:
            initial_state = self.initial_state(z, batch)
        outputs, final_state = self.rnn.run([x_input, z, controls], initial_state, num_steps=num_steps,
                                            training=training, seed=seed)
        return self.output_projection(outputs), final_state

    def scheduled_sampling(self, x_input, z, controls, lengths, sampling_probability, training=False,
                           seed=None, use_sample=None):
        """Decodes feeding back, per example and step, a sample with `sampling_probability`.

        `use_sample` [B, T] bool, if given, replaces the coin flips: where it holds at step t,
        the sample of step t (rather than the data) is the input of step t + 1.
        Returns (rnn_output [B, T, P], rnn_input [B, T, output_depth], final_state).
        """
        x_input, batch, total, z, controls, num_steps = self._loop_inputs(x_input, z, controls, lengths)
        num_steps = total if num_steps is None else num_steps
        if use_sample is None:
            use_sample = self.sampling_coins(batch, total, sampling_probability, seed)
        use_sample_tm = tf.transpose(use_sample)
        x_tm = tf.transpose(x_input, [1, 0, 2])
        c_tm = tf.transpose(controls, [1, 0, 2])
        x_next_tm = tf.concat([x_tm[1:], tf.zeros_like(x_tm[:1])], axis=0)
        state = self.initial_state(z, batch)
        split = (type(self).decode_step is BaseLstmDecoder.decode_step
                 and self.rnn.can_split_first_input(training))
        if split:
            # z and the controls are known up front: project them once, not at every step.
            step_kernel, known_kernel = self.rnn.split_first_kernel(self.output_depth)
            known_gates = tf.matmul(z, known_kernel[:self.z_size]) + self.rnn.cells[0].bias
            if self.control_depth:
                # A TensorArray read keeps the gradient per step small (see lstm.py).
                control_gates = tf.TensorArray(tf.float32, size=total).unstack(
                    tf.einsum("tbd,dg->tbg", c_tm, known_kernel[self.z_size:]))

        def body(t, current, state, outputs_ta, inputs_ta):
            step_seed = fold_seed(seed, t)
            if split:
                known = known_gates + control_gates.read(t) if self.control_depth else known_gates
                out, state = self.rnn.step_split(current, known, state, step_kernel)
                rnn_output = self.output_projection(out)
            else:
                rnn_output, state = self.decode_step(current, z, c_tm[t], state, training=training,
                                                     seed=fold_seed(step_seed, 0))
            # No temperature: each decoder's own default, as Magenta's helper calls `_sample(outputs)`.
            sampled = self.sample_outputs(rnn_output, seed=fold_seed(step_seed, 2))
            next_input = tf.where(use_sample_tm[t][:, None], sampled, x_next_tm[t])
            return (t + 1, next_input, state, outputs_ta.write(t, rnn_output),
                    inputs_ta.write(t, current))

        outputs_ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                    element_shape=[None, self.projection_depth])
        inputs_ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True,
                                   element_shape=[None, self.output_depth])
        _, _, state, outputs_ta, inputs_ta = tf.while_loop(
            lambda t, *_: t < num_steps, body, (tf.constant(0), x_tm[0], state, outputs_ta, inputs_ta))
        rnn_output = _pad_time(tf.transpose(outputs_ta.stack(), [1, 0, 2]), total)
        rnn_input = _pad_time(tf.transpose(inputs_ta.stack(), [1, 0, 2]), total)
        return rnn_output, rnn_input, state

    def reconstruction_loss(self, x_input, x_target, lengths, z=None, controls=None,
                            sampling_probability=0.0, training=False, seed=None):
        """Per-example reconstruction loss; returns a `DecoderOutput`.

        `sampling_probability` 0 (a Python number) uses teacher forcing; anything else runs the
        scheduled-sampling loop (as Magenta decides from the static value).
        """
        x_target = tf.convert_to_tensor(x_target, tf.float32)
        lengths = tf.cast(lengths, tf.int32)
        if isinstance(sampling_probability, (int, float)) and sampling_probability == 0:
            rnn_output, final_state = self.teacher_force(x_input, z, controls, lengths, training, seed)
            rnn_input = tf.convert_to_tensor(x_input, tf.float32)
        elif self._can_replay_with_teacher_forcing(training):
            # The fed-back samples carry no gradient, so the decoder's outputs and gradients equal
            # those of teacher forcing on the inputs actually fed: run the sampling loop forward
            # only, then redo the decoding with the fused teacher-forcing path (far cheaper to
            # differentiate than the step loop).
            rnn_input = tf.stop_gradient(self._fed_inputs(
                x_input, z, controls, lengths, sampling_probability, training, seed))
            rnn_output, final_state = self.teacher_force(rnn_input, z, controls, lengths, training, seed)
            steps = tf.range(tf.shape(rnn_output)[1]) < tf.reduce_max(lengths)
            rnn_output = tf.where(steps[None, :, None], rnn_output, tf.zeros_like(rnn_output))
        else:
            rnn_output, rnn_input, final_state = self.scheduled_sampling(
                x_input, z, controls, lengths, sampling_probability, training, seed)
        r_loss, metrics = self.masked_loss(x_target, rnn_output, lengths)
        return DecoderOutput(r_loss, metrics, rnn_output, rnn_input, final_state)

    def sampling_coins(self, batch, total, sampling_probability, seed=None):
        """[B, T] bool: where the sample of step t is fed to step t + 1 (probability each)."""
        shape = tf.stack([batch, total])
        if seed is None:
            coins = tf.random.uniform(shape)
        else:
            coins = tf.random.stateless_uniform(shape, seed=fold_seed(seed, 1))
        return coins < tf.cast(sampling_probability, tf.float32)

    def _fed_inputs(self, x_input, z, controls, lengths, sampling_probability, training, seed):
        """The inputs scheduled sampling feeds the decoder, [B, T, output_depth].

        An example that draws no sample before its last step is fed exactly `x_input`, so only
        the others run the (sequential) sampling loop: early in training, when the sampling
        probability is tiny, that is a few examples instead of the whole batch.
        """
        x_input = tf.convert_to_tensor(x_input, tf.float32)
        batch, total = tf.shape(x_input)[0], tf.shape(x_input)[1]
        use_sample = self.sampling_coins(batch, total, sampling_probability, seed)
        # A sample drawn at step t feeds step t + 1; it matters only if that step is decoded.
        decoded = tf.range(total)[None, :] + 1 < tf.cast(lengths, tf.int32)[:, None]
        use_sample = tf.logical_and(use_sample, decoded)
        rows = tf.where(tf.reduce_any(use_sample, axis=1))  # [k, 1]

        def gather(x):
            return None if x is None else tf.gather_nd(x, rows)

        def sampled_rows():
            _, fed, _ = self.scheduled_sampling(
                gather(x_input), gather(z), gather(controls), gather(lengths), sampling_probability,
                training, seed, use_sample=gather(use_sample))
            return tf.tensor_scatter_nd_update(x_input, rows, fed)

        # (an empty loop would stack empty arrays, which TensorFlow refuses)
        return tf.cond(tf.size(rows) > 0, sampled_rows, lambda: x_input)

    def _can_replay_with_teacher_forcing(self, training):
        """True when scheduled sampling equals teacher forcing on the fed inputs, gradients
        included: the standard step and teacher-forcing code, no dropout (its masks differ
        between the two paths) and samples with no gradient to the logits."""
        cls = type(self)
        if (cls.decode_step is not BaseLstmDecoder.decode_step
                or cls.teacher_force is not BaseLstmDecoder.teacher_force):
            return False
        if training and self.rnn.dropout_keep_prob < 1.0:
            return False
        if not hasattr(self, "_samples_differentiable"):
            probe = tf.zeros([1, self.projection_depth])
            with tf.GradientTape() as tape:
                tape.watch(probe)
                sampled = self.sample_outputs(probe, seed=tf.constant([0, 0]))
            self._samples_differentiable = tape.gradient(sampled, probe) is not None
        return not self._samples_differentiable

    def masked_loss(self, x_target, rnn_output, lengths):
        """Sums per-step losses over each example's valid steps; -> (r_loss [B], metrics)."""
        total = tf.shape(x_target)[1]
        mask = tf.sequence_mask(lengths, total, dtype=tf.float32)
        flat_loss, flat_metrics = self.flat_reconstruction_loss(flatten_time(x_target),
                                                                flatten_time(rnn_output))
        r_loss = tf.reduce_sum(tf.reshape(flat_loss, tf.shape(mask)) * mask, axis=1)
        flat_mask = tf.reshape(mask, [-1])
        count = tf.reduce_sum(flat_mask)
        metrics = {name: (tf.reduce_sum(tf.cast(value, tf.float32) * flat_mask), count)
                   for name, value in flat_metrics.items()}
        return r_loss, metrics

    # -- sampling -------------------------------------------------------------------------------
    def sample(self, n, max_length, z=None, controls=None, temperature=1.0, start_inputs=None,
               end_token=None, seed=None):
        """Samples `n` sequences of at most `max_length` steps; returns a `SampleOutput`.

        Args:
          n: batch size (int or scalar tensor).
          max_length: maximum number of steps (int or scalar tensor).
          z: [n, z_size] conditioning, or None for an unconditioned decoder.
          controls: [T, control_depth] control sequence shared by all samples; decoding stops
            after T steps.
          temperature: divides the logits before sampling.
          start_inputs: [n, output_depth] first input (zeros by default).
          end_token: int index; an example is finished once it samples it, and the loop stops
            when all are finished.
          seed: optional [2] int seed for stateless, reproducible sampling.
        """
        z = self._conditioning(z, n)
        output_length = max_length
        max_length = tf.cast(max_length, tf.int32)
        if start_inputs is None:
            start_inputs = tf.zeros([n, self.output_depth])
        if self.control_depth:
            if controls is None:
                raise ValueError(f"{self.name} expects controls of depth {self.control_depth}")
            controls = tf.convert_to_tensor(controls, tf.float32)
            max_length = tf.minimum(max_length, tf.shape(controls)[0])
            controls_tm = tf.tile(controls[:, None, :], [1, n, 1])
        else:
            controls_tm = tf.zeros([max_length, n, 0])
        state = self.initial_state(z, n)
        result = self._sample_loop(start_inputs, z, controls_tm, state, max_length, temperature,
                                   end_token, seed, _static_int(output_length))
        return result._replace(samples=_pad_time(result.samples, output_length),
                               rnn_output=_pad_time(result.rnn_output, output_length))

    def _sample_loop(self, start_inputs, z, controls_tm, state, max_length, temperature, end_token,
                     seed, steps=None):
        """The free-running loop; `steps`: a static bound on the steps (sizes its buffers, as
        XLA needs), else they grow."""
        n = tf.shape(start_inputs)[0]
        temperature = tf.cast(temperature, tf.float32)
        project_once = self.can_project_once()
        if project_once:
            # z and the controls are known up front: their part of the first layer's gates is
            # projected once, and each fed-back sample adds only its own rows (a gather for
            # one-hot samples) to the recurrent product.
            output_rows, z_rows, control_rows, recurrent_rows, bias = self.first_layer_parts()
            known_gates = tf.matmul(z, z_rows) + bias
            control_gates = (tf.einsum("tbd,dg->tbg", controls_tm, control_rows)
                             if self.control_depth else None)
            fed_back = tf.matmul(start_inputs, output_rows)
            # (controls: each step's known part summed once, outside the loop)
            step_gates = known_gates if control_gates is None else control_gates + known_gates[None]

            def input_gates(raw, step):
                """The first layer's input part at `step`: the fed-back gates plus z's (and the
                step's controls') gates, one add, computed at the end of the previous step and
                carried in. So no step sums a chain of adds: grappler turns such a chain inside
                a loop into an accumulator with a per-step temporary variable, and two concurrent
                calls of the sampling function then fail (AlreadyExistsError)."""
                if control_gates is None:
                    return raw + step_gates
                return raw + step_gates[tf.minimum(step, tf.shape(step_gates)[0] - 1)]
        else:
            fed_back = start_inputs

        def body(t, current, raw, state, finished, lengths, samples_ta, outputs_ta):
            step_seed = fold_seed(seed, t)
            if project_once:
                rnn_output, state = self.decode_from_gates(current, state, recurrent_rows)
            else:
                rnn_output, state = self.decode_step(current, z, controls_tm[t], state)
            sample = self.sample_outputs(rnn_output, temperature, seed=step_seed)
            lengths = tf.where(finished, lengths, t + 1)
            if end_token is not None:
                finished = tf.logical_or(finished, self.is_end(sample, end_token))
            raw = self.feedback_gates(sample, output_rows) if project_once else sample
            current = input_gates(raw, t + 1) if project_once else raw
            return (t + 1, current, raw, state, finished, lengths, samples_ta.write(t, sample),
                    outputs_ta.write(t, rnn_output))

        def cond(t, current, raw, state, finished, *_):
            return tf.logical_and(t < max_length, tf.logical_not(tf.reduce_all(finished)))

        samples_ta = _step_array(steps, start_inputs.shape[0], self.output_depth)
        outputs_ta = _step_array(steps, start_inputs.shape[0], self.projection_depth)
        first = input_gates(fed_back, 0) if project_once else fed_back
        loop_vars = (tf.constant(0), first, fed_back, state, tf.zeros([n], tf.bool),
                     tf.zeros([n], tf.int32), samples_ta, outputs_ta)
        _, _, _, state, _, lengths, samples_ta, outputs_ta = tf.while_loop(cond, body, loop_vars)
        samples = _pad_time(_stack_batch_major(samples_ta, n, self.output_depth), max_length)
        outputs = _pad_time(_stack_batch_major(outputs_ta, n, self.projection_depth), max_length)
        return SampleOutput(samples, outputs, lengths, state)

    # -- checkpoint names ---------------------------------------------------------------------------
    def tf1_variables(self, scope="decoder"):
        """Magenta variable name -> variable, for a decoder built under variable scope `scope`."""
        names = dict(self.rnn.tf1_variables(scope))
        if self.z_to_initial_state is not None:
            names[f"{scope}/z_to_initial_state/kernel"] = self.z_to_initial_state.kernel
            names[f"{scope}/z_to_initial_state/bias"] = self.z_to_initial_state.bias
        names[f"{scope}/output_projection/kernel"] = self.output_projection.kernel
        names[f"{scope}/output_projection/bias"] = self.output_projection.bias
        names.update(self.extra_tf1_variables(scope))
        return names


def _static_int(value):
    """`value` as a Python int when it is one (or a constant tensor), else None."""
    if isinstance(value, int):
        return value
    return tf.get_static_value(value) if isinstance(value, tf.Tensor) else None


def _step_array(steps, batch, depth):
    """A TensorArray of per-step [batch, depth] tensors: `steps` long when it and the (static)
    batch size are known (as XLA and TFLite's converter need), else growing; the batch stays in
    the element shape whenever it is static."""
    if steps is None or batch is None:
        return tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[batch, depth])
    # (unwritten steps stack as zeros, which a fully known element shape allows)
    return tf.TensorArray(tf.float32, size=int(steps), element_shape=[int(batch), depth])


def _stack_batch_major(tensor_array, batch, depth):
    stacked = tensor_array.stack()
    stacked = tf.reshape(stacked, [-1, batch, depth])
    return tf.transpose(stacked, [1, 0, 2])


def _pad_time(x, total):
    """Zero-pads [B, t, d] along time to `total` steps (unchanged when t >= total already)."""
    return tf.pad(x, [[0, 0], [0, tf.maximum(total - tf.shape(x)[1], 0)], [0, 0]])
