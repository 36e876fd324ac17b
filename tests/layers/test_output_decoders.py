"""The multi-output, NADE and GrooVAE decoders and the NADE layer at tiny sizes: losses by hand,
sampling, state merging, the registry and gradients."""

import numpy as np
import pytest
import tensorflow as tf

from kit import clone, log_softmax, sigmoid
from musicvae_tf.hparams import HParams
from musicvae_tf.layers.decoders import build_decoder
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder
from musicvae_tf.layers.decoders.groove import GrooveLstmDecoder
from musicvae_tf.layers.decoders.multi_out import MultiOutCategoricalLstmDecoder, SplitMultiOutLstmDecoder
from musicvae_tf.layers.decoders.rnn_nade import MultiLabelRnnNadeDecoder
from musicvae_tf.layers.nade import Nade
from musicvae_tf.model_spec import DecoderSpec

RNG = np.random.default_rng(7)


def _one_hots(depths, n):
    parts = [np.eye(d, dtype=np.float32)[RNG.integers(0, d, n)] for d in depths]
    return np.concatenate(parts, axis=-1)


# --- multi-output categorical -------------------------------------------------------------------
DEPTHS = (2, 3, 4)


@pytest.fixture(scope="module")
def multi_out():
    return MultiOutCategoricalLstmDecoder(sum(DEPTHS), output_depths=DEPTHS, z_size=3, rnn_sizes=[5])


def test_multi_out_loss_is_sum_of_per_output_cross_entropies(multi_out):
    logits = RNG.normal(size=(6, sum(DEPTHS))).astype(np.float32)
    targets = _one_hots(DEPTHS, 6)
    loss, metrics = multi_out.flat_reconstruction_loss(tf.constant(targets), tf.constant(logits))
    expected = np.zeros(6)
    start = 0
    for i, depth in enumerate(DEPTHS):
        part = slice(start, start + depth)
        expected -= (targets[:, part] * log_softmax(logits[:, part])).sum(-1)
        correct = targets[:, part].argmax(-1) == logits[:, part].argmax(-1)
        np.testing.assert_array_equal(metrics[f"accuracy/output_{i}"].numpy(), correct)
        start += depth
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_multi_out_samples_and_probabilities_split_per_output(multi_out):
    logits = RNG.normal(size=(5, sum(DEPTHS))).astype(np.float32)
    greedy = multi_out.sample_outputs(tf.constant(logits), temperature=1e-4, seed=tf.constant([0, 1])).numpy()
    probs = multi_out.activate_outputs(tf.constant(logits)).numpy()
    start = 0
    for depth in DEPTHS:
        part = slice(start, start + depth)
        np.testing.assert_array_equal(greedy[:, part], np.eye(depth)[logits[:, part].argmax(-1)])
        np.testing.assert_allclose(probs[:, part].sum(-1), 1.0, rtol=1e-6)
        start += depth
    drawn = multi_out.sample_outputs(tf.constant(logits), 1.0, seed=tf.constant([1, 2])).numpy()
    again = multi_out.sample_outputs(tf.constant(logits), 1.0, seed=tf.constant([1, 2])).numpy()
    np.testing.assert_array_equal(drawn, again)
    start = 0
    for depth in DEPTHS:
        np.testing.assert_array_equal(drawn[:, start:start + depth].sum(-1), 1.0)
        start += depth


def test_multi_out_rejects_depths_that_do_not_add_up():
    with pytest.raises(ValueError, match="not the sum"):
        MultiOutCategoricalLstmDecoder(10, output_depths=(2, 3), rnn_sizes=[4])


def test_multi_out_config_roundtrip_and_sequence_sample(multi_out):
    copy = clone(multi_out)
    assert copy.output_depths == list(DEPTHS)
    z = tf.constant(RNG.normal(size=(2, 3)), tf.float32)
    a = multi_out.sample(2, 7, z=z, temperature=1e-4, seed=tf.constant([1, 3]))
    b = copy.sample(2, 7, z=z, temperature=1e-4, seed=tf.constant([1, 3]))
    np.testing.assert_array_equal(a.samples.numpy(), b.samples.numpy())
    assert a.samples.shape == (2, 7, sum(DEPTHS))
    np.testing.assert_array_equal(a.samples.numpy().sum(-1), len(DEPTHS))


# --- split multi-output --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def split():
    hparams = HParams(dec_rnn_size=[4, 3], residual_decoder=False, dropout_keep_prob=1.0)
    spec = DecoderSpec("SplitMultiOutLstmDecoder", core_decoders=(DecoderSpec("CategoricalLstmDecoder"),) * 3,
                       output_depths=DEPTHS)
    return build_decoder(spec, hparams, sum(DEPTHS), 2, 0, name="decoder")


def test_split_state_is_magenta_merged_state(split):
    assert isinstance(split, SplitMultiOutLstmDecoder)
    assert all(isinstance(cd, CategoricalLstmDecoder) for cd in split.core_decoders)
    assert split.state_sizes == [12, 12, 9, 9]
    z = tf.constant(RNG.normal(size=(2, 2)), tf.float32)
    state = split.initial_state(z)
    cores = [cd.initial_state(z) for cd in split.core_decoders]
    for k, entry in enumerate(state):
        np.testing.assert_array_equal(entry.numpy(), np.concatenate([c[k].numpy() for c in cores], -1))
    inputs = tf.constant(_one_hots(DEPTHS, 2))
    output, new_state = split.decode_step(inputs, z, tf.zeros([2, 0]), state)
    start = 0
    for cd, core_state, depth in zip(split.core_decoders, cores, DEPTHS):
        core_out, _ = cd.decode_step(inputs[:, start:start + depth], z, tf.zeros([2, 0]), core_state)
        np.testing.assert_allclose(output.numpy()[:, start:start + depth], core_out.numpy(), atol=1e-6)
        start += depth
    for back, original in zip(split.split_state(new_state)[1], split.core_decoders[1].initial_state(z)):
        assert back.shape == original.shape


def test_split_loss_and_samples_combine_the_cores(split):
    z = tf.constant(RNG.normal(size=(3, 2)), tf.float32)
    targets = tf.constant(np.stack([_one_hots(DEPTHS, 5) for _ in range(3)]))
    x_input = tf.pad(targets[:, :-1], [[0, 0], [1, 0], [0, 0]])
    lengths = tf.constant([5, 3, 5])
    result = split.reconstruction_loss(x_input, targets, lengths, z=z)
    total = np.zeros(3)
    start = 0
    for cd, depth in zip(split.core_decoders, DEPTHS):
        part = cd.reconstruction_loss(x_input[..., start:start + depth], targets[..., start:start + depth],
                                      lengths, z=z)
        total += part.r_loss.numpy()
        start += depth
    np.testing.assert_allclose(result.r_loss.numpy(), total, rtol=1e-6)
    assert result.rnn_output.shape == (3, 5, sum(DEPTHS))
    assert set(result.metrics) == {"accuracy", "accuracy/output_0", "accuracy/output_1", "accuracy/output_2"}
    out = split.sample(3, 6, z=z, temperature=1e-4, seed=tf.constant([4, 2]))
    assert out.samples.shape == (3, 6, sum(DEPTHS))
    np.testing.assert_array_equal(out.samples.numpy().sum(-1), len(DEPTHS))
    copy = clone(split)
    again = copy.sample(3, 6, z=z, temperature=1e-4, seed=tf.constant([4, 2]))
    np.testing.assert_array_equal(again.samples.numpy(), out.samples.numpy())


def test_split_tf1_names_follow_magenta_scopes(split):
    names = split.tf1_variables("core_decoder/decoder")
    assert "core_decoder/core_decoder_2/decoder/multi_rnn_cell/cell_1/lstm_cell/kernel" in names
    assert "core_decoder/core_decoder_0/decoder/z_to_initial_state/bias" in names
    assert names["core_decoder/core_decoder_1/decoder/output_projection/kernel"].shape == (3, 3)
    assert len(names) == 3 * (2 * 2 + 2 + 2)
    assert "core_decoder_0/decoder/output_projection/bias" in split.tf1_variables("decoder")


# --- NADE ------------------------------------------------------------------------------------------
def test_nade_two_unit_log_prob_matches_closed_form():
    nade = Nade(2, 1)
    # V (w_enc) and W (w_dec_t) for the two bits.
    v = np.array([1.5, -0.7], np.float32)
    w = np.array([0.8, -1.2], np.float32)
    nade.w_enc.assign(v.reshape(2, 1, 1))
    nade.w_dec_t.assign(w.reshape(2, 1, 1))
    b, c1, c2 = 0.3, -0.4, 0.9
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    log_prob, cond = nade.log_prob(tf.constant(x), tf.fill([4, 1], b), tf.constant([[c1, c2]] * 4))
    p1 = sigmoid(c1 + w[0] * sigmoid(b))
    p2_given = {0: sigmoid(c2 + w[1] * sigmoid(b)), 1: sigmoid(c2 + w[1] * sigmoid(b + v[0]))}
    for row, (x1, x2) in enumerate(x.astype(int)):
        q1 = p1 if x1 else 1 - p1
        q2 = p2_given[x1] if x2 else 1 - p2_given[x1]
        expected = np.log(1e-6 + q1) + np.log(1e-6 + q2)
        assert log_prob.numpy()[row] == pytest.approx(expected, abs=1e-6)
        np.testing.assert_allclose(cond.numpy()[row], [p1, p2_given[x1]], atol=1e-6)
    # A distribution: the four outcomes' probabilities add up to one (up to the log's 1e-6).
    assert np.exp(log_prob.numpy()).sum() == pytest.approx(1.0, abs=1e-5)
    # Thresholded sampling takes the most likely bit at each position.
    sample, sample_log_prob = nade.sample(tf.fill([1, 1], b), tf.constant([[c1, c2]]))
    x1 = int(p1 >= 0.5)
    np.testing.assert_array_equal(sample.numpy(), [[x1, int(p2_given[x1] >= 0.5)]])
    row = 2 * x1 + int(p2_given[x1] >= 0.5)
    assert sample_log_prob.numpy()[0] == pytest.approx(log_prob.numpy()[row], abs=1e-6)


def test_nade_sampling_with_temperature_is_seeded_and_binary():
    nade = Nade(6, 4)
    b_enc = tf.constant(RNG.normal(size=(50, 4)), tf.float32)
    b_dec = tf.constant(RNG.normal(size=(50, 6)), tf.float32)
    a, log_a = nade.sample(b_enc, b_dec, temperature=1.0, seed=tf.constant([5, 6]))
    b, _ = nade.sample(b_enc, b_dec, temperature=1.0, seed=tf.constant([5, 6]))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert set(np.unique(a.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(log_a.numpy(), nade.log_prob(a, b_enc, b_dec)[0].numpy(), atol=1e-5)
    greedy, _ = nade.sample(b_enc, b_dec)
    cold, _ = nade.sample(b_enc, b_dec, temperature=1e-6, seed=tf.constant([1, 1]))
    np.testing.assert_array_equal(greedy.numpy(), cold.numpy())


def test_nade_decoder_loss_sampling_and_config():
    decoder = MultiLabelRnnNadeDecoder(5, nade_num_hidden=3, z_size=2, rnn_sizes=[4])
    assert decoder.projection_depth == 8
    assert decoder.output_projection.kernel.shape == (4, 8)
    rnn_output = tf.constant(RNG.normal(size=(7, 8)), tf.float32)
    targets = tf.constant(RNG.integers(0, 2, (7, 5)), tf.float32)
    loss, metrics = decoder.flat_reconstruction_loss(targets, rnn_output)
    log_prob, _ = decoder.nade.log_prob(targets, rnn_output[:, :3], rnn_output[:, 3:])
    np.testing.assert_allclose(loss.numpy(), -log_prob.numpy(), rtol=1e-6)
    assert set(metrics) == {"accuracy", "true_positives", "actual_positives", "predicted_positives"}
    np.testing.assert_array_equal(metrics["actual_positives"].numpy(), targets.numpy().sum(-1))
    names = decoder.tf1_variables("decoder")
    assert names["decoder/nade/w_enc"].shape == (5, 1, 3)
    assert names["decoder/nade/w_dec_t"].shape == (5, 3, 1)
    copy = clone(decoder)
    assert copy.nade_num_hidden == 3
    z = tf.constant(RNG.normal(size=(2, 2)), tf.float32)
    a = decoder.sample(2, 6, z=z, temperature=0.5, seed=tf.constant([1, 2]))
    b = copy.sample(2, 6, z=z, temperature=0.5, seed=tf.constant([1, 2]))
    np.testing.assert_array_equal(a.samples.numpy(), b.samples.numpy())
    assert a.rnn_output.shape == (2, 6, 8)
    assert set(np.unique(a.samples.numpy())) <= {0.0, 1.0}


# --- GrooVAE -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def groove():
    return GrooveLstmDecoder(12, z_size=2, rnn_sizes=[4])


def test_groove_loss_mixes_log_loss_and_squared_errors(groove):
    rnn_output = RNG.normal(size=(5, 12)).astype(np.float32) * 2
    targets = np.concatenate([RNG.integers(0, 2, (5, 4)), RNG.random((5, 4)), RNG.random((5, 4)) - 0.5],
                             axis=-1).astype(np.float32)
    loss, metrics = groove.flat_reconstruction_loss(tf.constant(targets), tf.constant(rnn_output))
    p = sigmoid(rnn_output[:, :4])
    hits = -(targets[:, :4] * np.log(p + 1e-7) + (1 - targets[:, :4]) * np.log(1 - p + 1e-7)).sum(-1)
    velocities = ((sigmoid(rnn_output[:, 4:8]) - targets[:, 4:8]) ** 2).sum(-1)
    offsets = ((np.tanh(rnn_output[:, 8:]) - targets[:, 8:]) ** 2).sum(-1)
    np.testing.assert_allclose(metrics["hits_loss"].numpy(), hits, rtol=1e-5)
    np.testing.assert_allclose(metrics["velocities_loss"].numpy(), velocities, rtol=1e-5)
    np.testing.assert_allclose(metrics["offsets_loss"].numpy(), offsets, rtol=1e-5)
    np.testing.assert_allclose(loss.numpy(), hits + velocities + offsets, rtol=1e-5)


def test_groove_activations_in_range(groove):
    rnn_output = tf.constant(RNG.normal(size=(200, 12)) * 4, tf.float32)
    sample = groove.sample_outputs(rnn_output, 1.0, seed=tf.constant([3, 3])).numpy()
    assert set(np.unique(sample[:, :4])) == {0.0, 1.0}
    # Closed ranges: in float32 sigmoid and tanh saturate to their bounds for large inputs.
    assert (sample[:, 4:8] >= 0).all() and (sample[:, 4:8] <= 1).all()
    assert (sample[:, 8:] >= -1).all() and (sample[:, 8:] <= 1).all()
    assert (sample[:, 8:] < 0).any() and (sample[:, 8:] > 0).any()
    activated = groove.activate_outputs(rnn_output).numpy()
    np.testing.assert_allclose(activated[:, 4:], sample[:, 4:], atol=1e-7)
    assert (activated[:, :4] >= 0).all() and (activated[:, :4] <= 1).all()
    greedy = groove.sample_outputs(rnn_output, 1e-4, seed=tf.constant([0, 1])).numpy()
    np.testing.assert_array_equal(greedy[:, :4], (rnn_output.numpy()[:, :4] > 0).astype(np.float32))


def test_groove_config_roundtrip_and_sequence_sample(groove):
    copy = clone(groove)
    z = tf.constant(RNG.normal(size=(2, 2)), tf.float32)
    a = groove.sample(2, 5, z=z, temperature=1.0, seed=tf.constant([9, 9]))
    b = copy.sample(2, 5, z=z, temperature=1.0, seed=tf.constant([9, 9]))
    np.testing.assert_array_equal(a.samples.numpy(), b.samples.numpy())
    with pytest.raises(ValueError, match="divisible by 3"):
        GrooveLstmDecoder(10, rnn_sizes=[4])


def test_groove_with_hit_controls_stops_with_the_controls():
    decoder = GrooveLstmDecoder(6, z_size=2, control_depth=2, rnn_sizes=[3])
    controls = tf.constant([[1, 0], [0, 1], [1, 1]], tf.float32)
    out = decoder.sample(2, 8, z=tf.zeros([2, 2]), controls=controls, temperature=1.0, seed=tf.constant([1, 1]))
    assert out.samples.shape == (2, 8, 6)
    np.testing.assert_array_equal(out.lengths.numpy(), [3, 3])
    assert not out.samples.numpy()[:, 3:].any()


def test_registry_builds_every_extra_decoder():
    hparams = HParams(dec_rnn_size=[4], residual_decoder=False, dropout_keep_prob=1.0, nade_num_hidden=3)
    nade = build_decoder(DecoderSpec("MultiLabelRnnNadeDecoder"), hparams, 9, 2, 0, name="decoder")
    groove = build_decoder(DecoderSpec("GrooveLstmDecoder"), hparams, 27, 2, 9, name="decoder")
    flat = build_decoder(DecoderSpec("MultiOutCategoricalLstmDecoder", output_depths=(4, 5)), hparams, 9, 2, 0)
    assert isinstance(nade, MultiLabelRnnNadeDecoder) and nade.projection_depth == 12
    assert isinstance(groove, GrooveLstmDecoder) and groove.control_depth == 9
    assert isinstance(flat, MultiOutCategoricalLstmDecoder) and flat.output_depths == [4, 5]


@pytest.mark.parametrize("kind", ["nade", "groove", "split"])
def test_every_weight_gets_a_gradient(kind):
    hparams = HParams(dec_rnn_size=[4], residual_decoder=False, dropout_keep_prob=1.0, nade_num_hidden=3)
    if kind == "nade":
        depth, spec = 5, DecoderSpec("MultiLabelRnnNadeDecoder")
        targets = RNG.integers(0, 2, (2, 4, depth))
    elif kind == "groove":
        depth, spec = 6, DecoderSpec("GrooveLstmDecoder")
        targets = np.concatenate([RNG.integers(0, 2, (2, 4, 2)), RNG.random((2, 4, 4))], axis=-1)
    else:
        depth = sum(DEPTHS)
        spec = DecoderSpec("SplitMultiOutLstmDecoder", core_decoders=(DecoderSpec("CategoricalLstmDecoder"),) * 3,
                           output_depths=DEPTHS)
        targets = np.stack([_one_hots(DEPTHS, 4) for _ in range(2)])
    decoder = build_decoder(spec, hparams, depth, 2, 0, name="decoder")
    targets = tf.constant(targets, tf.float32)
    x_input = tf.pad(targets[:, :-1], [[0, 0], [1, 0], [0, 0]])
    z = tf.constant(RNG.normal(size=(2, 2)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(decoder.reconstruction_loss(x_input, targets, [4, 3], z=z).r_loss)
    grads = tape.gradient(loss, decoder.trainable_weights)
    assert len(grads) == len(decoder.tf1_variables("decoder"))
    for weight, grad in zip(decoder.trainable_weights, grads):
        assert grad is not None and np.abs(grad.numpy()).sum() > 0, weight.path
