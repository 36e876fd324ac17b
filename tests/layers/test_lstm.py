"""LSTM math: the Keras cells against a hand-written numpy LSTMBlockCell, and against Magenta.

The numpy reference encodes Magenta's LSTMBlockCell conventions: kernel rows [x, h], gate
columns (i, g, f, o), forget bias 1 added to f, state (c, h).
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR
from kit import numpy_lstm_sequence, numpy_lstm_step, seeded, sigmoid
from musicvae_tf.layers.encoders import BidirectionalLstmEncoder
from musicvae_tf.layers.lstm import LSTMBlockCell, StackedLSTM


def test_gate_order_forget_bias():
    """Only the third column block (f) gets the +1 bias: with zero weights c = 0.5*c_prev*... ."""
    cell = LSTMBlockCell(1, 1)
    cell.kernel.assign(np.zeros([2, 4], np.float32))
    cell.bias.assign(np.array([0.0, 2.0, 0.0, 0.0], np.float32))  # g = tanh(2)
    c, h = cell.step(np.zeros([1, 1], np.float32), np.ones([1, 1], np.float32), np.zeros([1, 1], np.float32))
    expected_c = sigmoid(1.0) * 1.0 + 0.5 * np.tanh(2.0)
    np.testing.assert_allclose(c.numpy()[0, 0], expected_c, rtol=1e-6)
    np.testing.assert_allclose(h.numpy()[0, 0], np.tanh(expected_c) * 0.5, rtol=1e-6)


def test_stacked_run_matches_numpy_with_lengths_and_constant_parts():
    stack = StackedLSTM(3 + 2, [4, 6])
    seeded(stack, 2, scale=0.5)
    rng = np.random.default_rng(3)
    xs = rng.normal(size=[3, 7, 3]).astype(np.float32)
    z = rng.normal(size=[3, 2]).astype(np.float32)
    lengths = np.array([7, 4, 0], np.int32)
    init = [rng.normal(size=[3, s]).astype(np.float32) for s in stack.state_sizes]
    out, state = stack.run([tf.constant(xs), tf.constant(z)], init, lengths=lengths)
    layer_in = np.concatenate([xs, np.repeat(z[:, None], 7, axis=1)], axis=-1)
    for i, cell in enumerate(stack.cells):
        layer_in, c, h = numpy_lstm_sequence(layer_in, lengths, cell.kernel.numpy(), cell.bias.numpy(),
                                             init[2 * i], init[2 * i + 1])
        np.testing.assert_allclose(state[2 * i].numpy(), c, atol=1e-5)
        np.testing.assert_allclose(state[2 * i + 1].numpy(), h, atol=1e-5)
    np.testing.assert_allclose(out.numpy(), layer_in, atol=1e-5)


def test_stacked_run_equals_stepwise_with_residual():
    stack = StackedLSTM(3, [4, 4, 5], residual=True)
    seeded(stack, 4, scale=0.5)
    xs = np.random.default_rng(5).normal(size=[2, 6, 3]).astype(np.float32)
    init = stack.zero_state(2)
    out, final = stack.run([tf.constant(xs)], init)
    state = init
    for t in range(6):
        step_out, state = stack.step(xs[:, t], state)
        np.testing.assert_allclose(out.numpy()[:, t], step_out.numpy(), atol=1e-5)
    for a, b in zip(final, state):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
    # Layers 0 and 2 change size, so they project their input; layer 1 does not.
    assert [p is not None for p in stack.input_projections] == [True, False, True]
    assert "multi_rnn_cell/cell_0/kernel" in " ".join(stack.tf1_variables("decoder"))


def test_num_steps_stops_early_and_keeps_state():
    stack = StackedLSTM(2, [3])
    seeded(stack, 6, scale=0.5)
    xs = tf.constant(np.random.default_rng(7).normal(size=[2, 5, 2]).astype(np.float32))
    out_all, _ = stack.run([xs], stack.zero_state(2))
    out, state = stack.run([xs], stack.zero_state(2), num_steps=tf.constant(2))
    np.testing.assert_allclose(out.numpy()[:, :2], out_all.numpy()[:, :2], atol=1e-6)
    assert np.all(out.numpy()[:, 2:] == 0)
    np.testing.assert_allclose(state[1].numpy(), out_all.numpy()[:, 1], atol=1e-6)


def test_dropout_only_in_training():
    stack = StackedLSTM(4, [3], dropout_keep_prob=0.5)
    seeded(stack, 8, scale=0.5)
    xs = tf.ones([2, 5, 4])
    a, _ = stack.run([xs], stack.zero_state(2))
    b, _ = stack.run([xs], stack.zero_state(2))
    c, _ = stack.run([xs], stack.zero_state(2), training=True, seed=tf.constant([1, 2]))
    d, _ = stack.run([xs], stack.zero_state(2), training=True, seed=tf.constant([1, 2]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    assert np.abs(a.numpy() - c.numpy()).max() > 1e-3


def test_checkpoint_encoder_matches_numpy_and_magenta():
    """Magenta's cat-mel_2bar_small encoder weights: numpy, the Keras encoder and Magenta's mu agree."""
    case = PARITY_DIR / "cat-mel_2bar_small"
    if not (case / "reference.npz").exists():
        pytest.skip("fixture missing")
    info = json.loads((case / "case.json").read_text())
    reader = tf.train.load_checkpoint(str(PARITY_DIR / info["checkpoint"]))
    ref = np.load(case / "reference.npz")
    inputs, lengths = ref["inputs"].astype(np.float32), ref["lengths"]

    def weights(direction):
        scope = f"encoder/cell_0/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/lstm_cell"
        return reader.get_tensor(scope + "/kernel"), reader.get_tensor(scope + "/bias")

    _, _, h_fw = numpy_lstm_sequence(inputs, lengths, *weights("fw"))
    reversed_inputs = np.stack([np.concatenate([x[:n][::-1], x[n:]]) for x, n in zip(inputs, lengths)])
    _, _, h_bw = numpy_lstm_sequence(reversed_inputs, lengths, *weights("bw"))
    encoding = np.concatenate([h_fw, h_bw], axis=-1)
    mu_np = encoding @ reader.get_tensor("encoder/mu/kernel") + reader.get_tensor("encoder/mu/bias")
    np.testing.assert_allclose(mu_np, ref["mu"], atol=1e-4)

    encoder = BidirectionalLstmEncoder(inputs.shape[-1], [64])
    for name, variable in encoder.tf1_variables("encoder").items():
        variable.assign(reader.get_tensor(name))
    np.testing.assert_allclose(encoder(inputs, lengths).numpy(), encoding, atol=1e-5)


@pytest.mark.parametrize("masked", [False, True])
def test_hand_written_gradient_matches_autodiff_of_steps(masked):
    """StackedLSTM.run's hand-written backward pass equals autodiff through `step`, for the
    weights, the initial state and a per-example constant input; with lengths (finished
    examples pass their state through) and with num_steps < T."""
    rng = np.random.default_rng(3)
    batch, total, depth = 4, 7, 3
    stack = StackedLSTM(depth + 2, [5, 6], name="grad_stack")
    x = tf.constant(rng.normal(size=(batch, total, depth)), tf.float32)
    z = tf.Variable(rng.normal(size=(batch, 2)), dtype=tf.float32)
    state = [tf.Variable(rng.normal(size=(batch, s)) * 0.5, dtype=tf.float32) for s in stack.state_sizes]
    lengths = tf.constant([7, 3, 0, 5] if masked else [total] * batch, tf.int32)
    num_steps = 6
    weights = list(stack.trainable_variables) + [z] + state
    out_weight = tf.constant(rng.normal(size=(batch, total, 6)), tf.float32)

    def loss_of(outputs, final):
        return (tf.reduce_sum(outputs * out_weight) + tf.reduce_sum(final[0] * 0.3)
                + tf.reduce_sum(final[3] * final[3]))

    with tf.GradientTape() as tape:
        outputs, final = stack.run([x, z], state, lengths=lengths if masked else None,
                                   num_steps=num_steps)
        loss = loss_of(outputs, final)
    fast = tape.gradient(loss, weights)

    with tf.GradientTape() as tape:
        current = list(state)
        steps = []
        for t in range(total):
            if t >= num_steps:
                steps.append(tf.zeros([batch, 6]))
                continue
            out, new = stack.step(tf.concat([x[:, t], z], -1), current)
            alive = (t < lengths)[:, None]
            current = [tf.where(alive, n, c) for n, c in zip(new, current)]
            steps.append(tf.where(alive, out, tf.zeros_like(out)))
        reference_loss = loss_of(tf.stack(steps, 1), current)
    reference = tape.gradient(reference_loss, weights)

    np.testing.assert_allclose(loss.numpy(), reference_loss.numpy(), rtol=1e-5)
    for fast_grad, reference_grad in zip(fast, reference):
        np.testing.assert_allclose(fast_grad.numpy(), reference_grad.numpy(), atol=1e-5, rtol=1e-4)
        assert np.abs(reference_grad.numpy()).max() > 0
