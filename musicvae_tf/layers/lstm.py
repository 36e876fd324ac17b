"""LSTM layers whose weights and arithmetic match Magenta's `LSTMBlockCell` checkpoints.

One cell holds a single `kernel` of shape [input_size + units, 4 * units] (rows: the input
first, then the previous `h`) and a `bias` of shape [4 * units]. The four column blocks are, in
order, the input gate `i`, the candidate `g`, the forget gate `f` and the output gate `o`:

    i, g, f, o = split([x, h_prev] @ kernel + bias, 4)
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * tanh(g)
    h = tanh(c) * sigmoid(o)

with `forget_bias = 1`. The state of a stack of cells is kept as a flat list
[c_0, h_0, c_1, h_1, ...], the order in which Magenta flattens `MultiRNNCell` states (so that
`z_to_initial_state` splits and final-state concatenations line up with its checkpoints).

Speed: when every step's input is known up front (encoders, teacher forcing), `StackedLSTM.run`
projects the inputs of all steps with one matmul per layer and only the recurrent matmul runs
inside a `tf.while_loop`, wrapped in a `tf.function` so no Python executes per step. Its gradient
is written by hand (`_recurrence_backward`): one matmul per step backwards, and the recurrent
kernel's gradient as one matmul over all steps after the loop.
"""

import keras
import tensorflow as tf

FORGET_BIAS = 1.0


def lstm_gates_to_state(gates, c_prev, forget_bias=FORGET_BIAS):
    """Applies the LSTM nonlinearities to pre-activations `gates` [B, 4u]; returns (c, h)."""
    i, g, f, o = tf.split(gates, 4, axis=-1)
    c = tf.sigmoid(f + forget_bias) * c_prev + tf.sigmoid(i) * tf.tanh(g)
    h = tf.tanh(c) * tf.sigmoid(o)
    return c, h


def _masked_recurrence(projected, recurrent_kernel, c0, h0, lengths, num_steps):
    """Inlined into an enclosing graph; compiled once per signature when called eagerly."""
    if tf.inside_function():
        return _recurrence_graph(projected, recurrent_kernel, c0, h0, lengths, num_steps)
    return _recurrence_compiled(projected, recurrent_kernel, c0, h0, lengths, num_steps)


def _recurrence_graph(projected, recurrent_kernel, c0, h0, lengths, num_steps):
    """Runs one LSTM layer over time-major `projected` inputs [T, B, 4u] (input @ kernel + bias).

    Steps at or beyond an example's length keep its state and output zeros. Only `num_steps`
    steps run; the outputs of later steps are zero. Returns (outputs [T, B, u], c, h).

    The gradient is written by hand (`_recurrence_backward`) rather than left to autodiff of the
    `tf.while_loop`: the backward loop does one [B, 4u] x [4u, u] matmul per step and nothing
    else heavy, and the recurrent kernel's gradient is a single [u, n*B] x [n*B, 4u] matmul after
    the loop instead of n small ones accumulated step by step.
    """
    num_steps = tf.convert_to_tensor(num_steps, tf.int32)

    @tf.custom_gradient
    def run(projected, recurrent_kernel, c0, h0):
        total = tf.shape(projected)[0]
        # Reading steps from a TensorArray keeps each step's slice cheap.
        inputs = tf.TensorArray(projected.dtype, size=total, element_shape=projected.shape[1:])
        inputs = inputs.unstack(projected)

        def array(shape):
            return tf.TensorArray(projected.dtype, size=num_steps, element_shape=shape)

        def body(t, c, h, gate_factors, cell_factors, forget_gates, hiddens):
            gates = inputs.read(t) + tf.matmul(h, recurrent_kernel)
            i, g, f, o = tf.split(gates, 4, axis=-1)
            i, g, f, o = tf.sigmoid(i), tf.tanh(g), tf.sigmoid(f + FORGET_BIAS), tf.sigmoid(o)
            new_c = f * c + i * g
            tanh_c = tf.tanh(new_c)
            new_h = tanh_c * o
            # What the backward pass needs of this step, computed while it is in cache (see
            # `_recurrence_backward` for the formulas).
            step_gate_factors = tf.concat(
                [g * i * (1 - i), i * (1 - g * g), c * f * (1 - f), tanh_c * o * (1 - o)], -1)
            step_cell_factors = o * (1 - tanh_c * tanh_c)
            if lengths is not None:  # finished examples keep their state (and pass gradients on)
                alive = tf.expand_dims(t < lengths, 1)
                new_c = tf.where(alive, new_c, c)
                new_h = tf.where(alive, new_h, h)
                alive = tf.cast(alive, f.dtype)
                step_gate_factors *= alive
                step_cell_factors *= alive
                f = f * alive + (1 - alive)
            return (t + 1, new_c, new_h, gate_factors.write(t, step_gate_factors),
                    cell_factors.write(t, step_cell_factors), forget_gates.write(t, f),
                    hiddens.write(t, new_h))

        _, c, h, gate_factors, cell_factors, forget_gates, hiddens = tf.while_loop(
            lambda t, *_: t < num_steps, body,
            (tf.constant(0), c0, h0, array(projected.shape[1:]), array(c0.shape), array(c0.shape),
             array(h0.shape)))
        hiddens = hiddens.stack()
        mask = _step_mask(lengths, num_steps, hiddens)
        padding = [[0, total - num_steps], [0, 0], [0, 0]]
        outputs = tf.pad(hiddens if mask is None else hiddens * mask, padding)

        def grad(d_outputs, d_c, d_h):
            if d_outputs is None:
                d_outputs = tf.zeros_like(outputs)
            d_projected, d_kernel, d_c0, d_h0 = _recurrence_backward(
                d_outputs[:num_steps], d_c, d_h, gate_factors, cell_factors, forget_gates,
                hiddens, mask, h0, recurrent_kernel)
            return tf.pad(d_projected, padding), d_kernel, d_c0, d_h0

        return (outputs, c, h), grad

    return run(projected, recurrent_kernel, c0, h0)


def _step_mask(lengths, num_steps, like):
    """[n, B, 1] float mask of the steps each example ran (None when all did)."""
    if lengths is None:
        return None
    alive = tf.range(num_steps)[:, None] < tf.cast(lengths, tf.int32)[None, :]
    return tf.cast(alive, like.dtype)[:, :, None]


def _recurrence_backward(d_outputs, d_c, d_h, gate_factors, cell_factors, forget_gates, hiddens,
                         mask, h0, recurrent_kernel):
    """Backpropagation through time for `_recurrence_graph` (n = steps run).

    With i, g, f, o the activated gates of a step, c_{t-1} and c_t its cells and
    h_t = tanh(c_t) * o, the gradients with respect to the step's pre-activations are
        dc_t  = dc_{t+1} * f_{t+1} + dh_t * o * (1 - tanh(c_t)^2)
        d_pre = [dc_t * g * i(1-i), dc_t * i * (1-g^2), dc_t * c_{t-1} * f(1-f),
                 dh_t * tanh(c_t) * o(1-o)]
    and dh_{t-1} = d_pre @ kernel^T + (output gradient of step t-1). The forward loop stored, per
    step, `gate_factors` (the four factors multiplying [dc, dc, dc, dh] above), `cell_factors`
    (o * (1 - tanh(c_t)^2)) and `forget_gates`, all as TensorArrays of n steps; at a finished
    step (mask 0) the factors are 0 and the forget gate 1, so dh and dc pass through unchanged.
    Returns (d_projected [n, B, 4u], d_kernel [u, 4u], d_c0, d_h0).
    """
    num_steps = tf.shape(hiddens)[0]
    # (cut to n: with n = 0 there is no step, and no previous state, to account for)
    previous_hiddens = tf.concat([h0[None], hiddens[:-1]], axis=0)[:num_steps]
    if mask is not None:
        d_outputs = d_outputs * mask
    d_outputs = tf.TensorArray(d_outputs.dtype, size=num_steps,
                               element_shape=d_outputs.shape[1:]).unstack(d_outputs)
    passthrough = None
    if mask is not None:
        passthrough = tf.TensorArray(mask.dtype, size=num_steps,
                                     element_shape=mask.shape[1:]).unstack(1 - mask)
    steps = tf.TensorArray(hiddens.dtype, size=num_steps, element_shape=gate_factors.element_shape)
    kernel_transposed = tf.transpose(recurrent_kernel)

    def body(t, dc, dh, steps):
        dh = dh + d_outputs.read(t)
        dc = dc + dh * cell_factors.read(t)
        d_pre = tf.concat([dc, dc, dc, dh], axis=-1) * gate_factors.read(t)
        dh_previous = tf.reshape(tf.matmul(d_pre, kernel_transposed), tf.shape(dh))
        if passthrough is not None:
            dh_previous += dh * passthrough.read(t)
        return t - 1, dc * forget_gates.read(t), dh_previous, steps.write(t, d_pre)

    d_c = tf.zeros_like(h0) if d_c is None else d_c
    d_h = tf.zeros_like(h0) if d_h is None else d_h
    _, d_c0, d_h0, steps = tf.while_loop(
        lambda t, *_: t >= 0, body, (num_steps - 1, d_c, d_h, steps))
    d_projected = steps.stack()
    units = tf.shape(previous_hiddens)[-1]
    d_kernel = tf.matmul(tf.reshape(previous_hiddens, [-1, units]),
                         tf.reshape(d_projected, [-1, 4 * units]), transpose_a=True)
    return d_projected, d_kernel, d_c0, d_h0


_recurrence_compiled = tf.function(_recurrence_graph, reduce_retracing=True, autograph=False)


@keras.saving.register_keras_serializable(package="musicvae_tf")
class LSTMBlockCell(keras.layers.Layer):
    """One LSTM cell with Magenta's `LSTMBlockCell` weight layout (see the module docstring)."""

    def __init__(self, units, input_size, forget_bias=FORGET_BIAS, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.input_size = int(input_size)
        self.forget_bias = float(forget_bias)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.input_size + self.units, 4 * self.units),
            initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(4 * self.units,), initializer="zeros")
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, input_size=self.input_size, forget_bias=self.forget_bias)
        return config

    @property
    def input_kernel(self):
        return self.kernel[:self.input_size]

    @property
    def recurrent_kernel(self):
        return self.kernel[self.input_size:]

    def step(self, inputs, c, h):
        """One step: returns (c, h) for inputs [B, input_size] and the previous (c, h)."""
        gates = tf.matmul(tf.concat([inputs, h], axis=-1), self.kernel) + self.bias
        return lstm_gates_to_state(gates, c, self.forget_bias)

    def call(self, inputs, states):
        c, h = self.step(inputs, states[0], states[1])
        return h, [c, h]


@keras.saving.register_keras_serializable(package="musicvae_tf")
class StackedLSTM(keras.layers.Layer):
    """A stack of `LSTMBlockCell`s, Magenta's `lstm_utils.rnn_cell`.

    Args:
      input_size: depth of the inputs of the first layer.
      units: list of layer sizes.
      residual: add each layer's input to its output; layers whose input size differs from their
        size (and always the first) project their input first with a Dense layer.
      dropout_keep_prob: keep probability of dropout on each layer's input (training only).
    """

    def __init__(self, input_size, units, residual=False, dropout_keep_prob=1.0, **kwargs):
        super().__init__(**kwargs)
        self.input_size = int(input_size)
        self.units = [int(u) for u in units]
        if not self.units:
            raise ValueError("StackedLSTM needs at least one layer size")
        self.residual = bool(residual)
        self.dropout_keep_prob = float(dropout_keep_prob)
        self.cells = []
        self.input_projections = []
        size = self.input_size
        for i, units_i in enumerate(self.units):
            projection = None
            if self.residual and (i == 0 or units_i != self.units[i - 1]):
                projection = keras.layers.Dense(units_i, name=f"input_projection_{i}")
                projection.build((None, size))
                size = units_i
            self.input_projections.append(projection)
            self.cells.append(LSTMBlockCell(units_i, size, name=f"cell_{i}"))
            # Also as attributes: tf.train.Checkpoint does not see layers inside Keras lists.
            setattr(self, f"lstm_{i}", self.cells[-1])
            if projection is not None:
                setattr(self, f"projection_{i}", projection)
            size = units_i
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, units=list(self.units), residual=self.residual,
                      dropout_keep_prob=self.dropout_keep_prob)
        return config

    @property
    def state_sizes(self):
        """Flat state sizes [c_0, h_0, c_1, h_1, ...]."""
        return [size for units in self.units for size in (units, units)]

    @property
    def output_size(self):
        return self.units[-1]

    def zero_state(self, batch_size):
        return [tf.zeros([batch_size, size]) for size in self.state_sizes]

    def _dropout(self, x, training, seed=None):
        if not training or self.dropout_keep_prob >= 1.0:
            return x
        rate = 1.0 - self.dropout_keep_prob
        if seed is not None:
            return tf.nn.experimental.stateless_dropout(x, rate, seed=seed)
        return tf.nn.dropout(x, rate)

    def step(self, inputs, state, training=False, seed=None):
        """Runs all layers for one step; returns (output [B, units[-1]], new flat state)."""
        return self._step_layers(inputs, state, 0, [], training, seed)

    def can_split_first_input(self, training=False):
        """Whether `split_first_kernel`/`step_split` apply (no dropout, no input projection)."""
        use_dropout = training and self.dropout_keep_prob < 1.0
        return not use_dropout and self.input_projections[0] is None

    def split_first_kernel(self, varying_depth):
        """Splits the first layer's input for a step loop whose leading `varying_depth` inputs
        change per step while the rest (e.g. `z`, controls) are known up front.

        Returns (step_kernel [varying_depth + units, 4u] for [varying input, h],
        known_kernel [input_size - varying_depth, 4u]) — project the known inputs with
        `known_kernel` (plus the bias) once, outside the loop, and pass them to `step_split`.
        """
        cell = self.cells[0]
        step_kernel = tf.concat([cell.kernel[:varying_depth], cell.recurrent_kernel], axis=0)
        return step_kernel, cell.kernel[varying_depth:cell.input_size]

    def step_split(self, varying_inputs, known_gates, state, step_kernel):
        """`step` with the first layer's known inputs already projected: `known_gates` [B, 4u] is
        their projection plus the bias. Only valid when `can_split_first_input()` holds."""
        cell = self.cells[0]
        gates = tf.matmul(tf.concat([varying_inputs, state[1]], axis=-1), step_kernel) + known_gates
        c, h = lstm_gates_to_state(gates, state[0], cell.forget_bias)
        return self._step_layers(h, state, 1, [c, h], False, None)

    def step_from_gates(self, input_gates, state, recurrent_kernel):
        """`step` with the first layer's input part already projected: `input_gates` [B, 4u] is
        (inputs @ input kernel + bias), e.g. a gathered kernel row plus a projection of z made
        once per sequence; `recurrent_kernel` is the first cell's (sliced once, outside a loop).
        Only valid when `can_split_first_input()` holds."""
        cell = self.cells[0]
        gates = input_gates + tf.matmul(state[1], recurrent_kernel)
        c, h = lstm_gates_to_state(gates, state[0], cell.forget_bias)
        return self._step_layers(h, state, 1, [c, h], False, None)

    def _step_layers(self, inputs, state, first, new_state, training, seed):
        """Runs layers `first`.. for one step on `inputs`, appending to `new_state`."""
        x = inputs
        for i, (cell, projection) in enumerate(zip(self.cells, self.input_projections)):
            if i < first:
                continue
            layer_seed = None if seed is None else tf.random.experimental.stateless_fold_in(seed, i)
            x = self._dropout(x, training, layer_seed)
            if projection is not None:
                x = projection(x)
            c, h = cell.step(x, state[2 * i], state[2 * i + 1])
            new_state += [c, h]
            x = h + x if self.residual else h
        return x, new_state

    def run(self, parts, initial_state, lengths=None, num_steps=None, training=False, seed=None):
        """Runs the stack over whole sequences whose inputs are known up front.

        Args:
          parts: list of input tensors, concatenated in order to form the first layer's input;
            each is either a sequence [B, T, d] or a per-example constant [B, d] (the same for
            every step, e.g. `z`), which is projected once instead of once per step.
          initial_state: flat state list.
          lengths: optional [B] int32; past its length an example keeps its state and outputs 0.
          num_steps: optional scalar; only the first `num_steps` steps run (later outputs are 0).
          training: enables dropout.
          seed: optional [2] int seed for stateless dropout.
        Returns:
          (outputs [B, T, units[-1]], final flat state).
        """
        sequences = [p for p in parts if p.shape.rank == 3]
        if not sequences:
            raise ValueError("StackedLSTM.run needs at least one [batch, time, depth] input")
        batch = tf.shape(sequences[0])[0]
        total = tf.shape(sequences[0])[1]
        mask_lengths = None if lengths is None else tf.cast(lengths, tf.int32)
        lengths = tf.fill([batch], total) if lengths is None else mask_lengths
        if num_steps is None:
            num_steps = total
        use_dropout = training and self.dropout_keep_prob < 1.0
        if use_dropout or self.input_projections[0] is not None:
            # Per-step inputs are needed (independent dropout masks, or a projection first).
            parts = [p if p.shape.rank == 3 else tf.tile(p[:, None], [1, total, 1]) for p in parts]
        final_state = []
        layer_input = None
        for i, (cell, projection) in enumerate(zip(self.cells, self.input_projections)):
            layer_seed = None if seed is None else tf.random.experimental.stateless_fold_in(seed, i)
            if i == 0:
                if use_dropout or projection is not None:
                    layer_input = self._dropout(tf.concat(parts, axis=-1), training, layer_seed)
                    if projection is not None:
                        layer_input = projection(layer_input)
                    projected = tf.einsum("btd,dg->tbg", layer_input, cell.input_kernel)
                else:
                    projected = self._project_parts(parts, cell)
            else:
                layer_input = self._dropout(layer_input, training, layer_seed)
                if projection is not None:
                    layer_input = projection(layer_input)
                projected = tf.einsum("btd,dg->tbg", layer_input, cell.input_kernel)
            # (time-major straight from the product: the recurrence reads one step at a time, and
            # transposing the [B, T, 4u] projection instead costs more than the product's own
            # layout change of its narrower input)
            projected = projected + cell.bias
            outputs, c, h = _masked_recurrence(
                projected, cell.recurrent_kernel, initial_state[2 * i], initial_state[2 * i + 1],
                mask_lengths, num_steps)
            outputs = tf.transpose(outputs, [1, 0, 2])
            if self.residual:
                mask = tf.sequence_mask(tf.minimum(lengths, num_steps), total, dtype=outputs.dtype)
                outputs = outputs + layer_input * mask[:, :, None]
            final_state += [c, h]
            layer_input = outputs
        return layer_input, final_state

    def _project_parts(self, parts, cell):
        """Time-major [T, B, 4u] projection of the concatenated parts, constant parts projected once."""
        kernel = cell.input_kernel
        offset = 0
        projected = None
        constant = None
        for part in parts:
            depth = int(part.shape[-1])
            rows = kernel[offset:offset + depth]
            offset += depth
            if depth == 0:
                continue
            if part.shape.rank == 3:
                term = tf.einsum("btd,dg->tbg", part, rows)
                projected = term if projected is None else projected + term
            else:
                term = tf.matmul(part, rows)
                constant = term if constant is None else constant + term
        if offset != cell.input_size:
            raise ValueError(f"LSTM input depth {offset} does not match the layer's {cell.input_size}")
        if projected is None:
            projected = tf.zeros([1, tf.shape(constant)[0], 4 * cell.units])
        if constant is not None:
            projected = projected + constant[None, :, :]
        return projected

    def tf1_variables(self, scope, multi_rnn_cell=True):
        """Magenta's variable names: `<scope>/multi_rnn_cell/cell_<i>/lstm_cell/kernel` etc."""
        prefix = f"{scope}/multi_rnn_cell" if multi_rnn_cell else scope
        names = {}
        for i, (cell, projection) in enumerate(zip(self.cells, self.input_projections)):
            names[f"{prefix}/cell_{i}/lstm_cell/kernel"] = cell.kernel
            names[f"{prefix}/cell_{i}/lstm_cell/bias"] = cell.bias
            if projection is not None:
                names[f"{prefix}/cell_{i}/kernel"] = projection.kernel
                names[f"{prefix}/cell_{i}/bias"] = projection.bias
        return names
