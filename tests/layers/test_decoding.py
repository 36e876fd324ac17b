"""Decoding at tiny sizes: hierarchical decoding modes, sampling options, scheduled sampling, the
decoder registry and segment lengths. (Serialization and TF1 names of every layer: test_every_layer.)"""

import numpy as np
import pytest
import tensorflow as tf

from kit import HIER, one_hots, seeded, tiny_config, tiny_hparams
from musicvae_tf.layers.decoders import CategoricalLstmDecoder, build_decoder, register_decoder
from musicvae_tf.layers.decoders.hierarchical import HierarchicalLstmDecoder
from musicvae_tf.layers.encoders import HierarchicalLstmEncoder
from musicvae_tf.model import build_model
from musicvae_tf.model_spec import DecoderSpec


def _hier_decoder(disable_autoregression, reencoder=False):
    core = CategoricalLstmDecoder(5, z_size=6, rnn_sizes=[6, 6])
    encoder = HierarchicalLstmEncoder(5, [4, 2], [3]) if reencoder else None
    decoder = HierarchicalLstmDecoder(core, [2, 4], 3, [6, 6], disable_autoregression=disable_autoregression,
                                      hierarchical_encoder=encoder)
    seeded(decoder, 11)
    if encoder is not None:
        seeded(encoder, 12)
    return decoder


def test_hierarchical_batched_equals_depth_first():
    """All segments in one batch == Magenta's one-segment-at-a-time order."""
    decoder = _hier_decoder(True)
    assert decoder.batched
    x = one_hots(3, 8, 5, 1)
    x_input = np.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]])
    z = np.random.default_rng(2).normal(size=[3, 3]).astype(np.float32)
    lengths = np.array([[4, 4], [4, 2], [3, 0]], np.int32)
    batched = decoder.reconstruction_loss(x_input, x, lengths, z)
    sequential = decoder._sequential_reconstruction(
        tf.constant(x_input), tf.constant(x), tf.constant(lengths), tf.constant(z),
        tf.zeros([3, 8, 0]), 0.0, False, None)
    np.testing.assert_allclose(batched.rnn_output.numpy(), sequential.rnn_output.numpy(), atol=1e-5)
    np.testing.assert_allclose(batched.r_loss.numpy(), sequential.r_loss.numpy(), atol=1e-4)
    # The loss ignores steps past each segment's length.
    masked = x_input.copy()
    assert batched.r_loss.numpy()[2] == pytest.approx(
        decoder.reconstruction_loss(masked, x * np.pad(np.ones([3, 3, 1]), [[0, 0], [0, 5], [0, 0]]),
                                    lengths, z).r_loss.numpy()[2], abs=1e-4)

    z_t = tf.constant(z)
    fast = decoder._batched_sample(3, z_t, None, 1e-4, None, None, None)
    slow = decoder._sequential_sample(3, z_t, None, 1e-4, None, None, None)
    np.testing.assert_array_equal(fast.samples.numpy(), slow.samples.numpy())
    np.testing.assert_allclose(fast.rnn_output.numpy(), slow.rnn_output.numpy(), atol=1e-5)
    np.testing.assert_array_equal(fast.lengths.numpy(), slow.lengths.numpy())


@pytest.mark.parametrize("reencoder", [False, True], ids=["autoregressive", "reencoder"])
def test_hierarchical_autoregressive_modes_run(reencoder):
    decoder = _hier_decoder(False, reencoder)
    assert not decoder.batched
    x = one_hots(2, 8, 5, 3)
    x_input = np.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]])
    z = tf.constant(np.ones([2, 3], np.float32))
    result = decoder.reconstruction_loss(x_input, x, np.array([8, 8]), z)
    assert result.rnn_output.shape == (2, 8, 5) and np.all(result.r_loss.numpy() > 0)
    sampled = decoder.sample(2, 8, z, temperature=1e-4)
    assert sampled.samples.shape == (2, 8, 5)
    np.testing.assert_array_equal(sampled.samples.numpy().sum(-1), np.ones([2, 8]))
    # The conductor input includes the lower level's output: its kernel is wider than 1 + units.
    assert decoder.conductors[0].cells[0].input_size > 1


def test_sampling_end_token_and_controls():
    decoder = CategoricalLstmDecoder(4, z_size=2, control_depth=1, rnn_sizes=[5])
    seeded(decoder, 5)
    # Bias the output toward class 3 so every sample ends at once.
    decoder.output_projection.bias.assign([0.0, 0.0, 0.0, 50.0])
    z = tf.ones([2, 2])
    controls = tf.ones([6, 1])
    out = decoder.sample(2, 10, z, controls, temperature=1.0, end_token=3)
    assert out.samples.shape == (2, 10, 4)
    np.testing.assert_array_equal(out.lengths.numpy(), [1, 1])
    assert out.samples.numpy()[:, 1:].sum() == 0
    # Without the end token, decoding stops when the controls run out (6 steps).
    out = decoder.sample(2, 10, z, controls, temperature=1.0)
    np.testing.assert_array_equal(out.lengths.numpy(), [6, 6])
    assert out.samples.numpy()[:, :6].sum() == 12 and out.samples.numpy()[:, 6:].sum() == 0


def test_stateless_sampling_is_reproducible():
    decoder = CategoricalLstmDecoder(6, z_size=2, rnn_sizes=[5])
    seeded(decoder, 6)
    z = tf.ones([3, 2])
    seed = tf.constant([4, 2])
    a = decoder.sample(3, 7, z, seed=seed).samples.numpy()
    b = decoder.sample(3, 7, z, seed=seed).samples.numpy()
    np.testing.assert_array_equal(a, b)


def test_scheduled_sampling_extremes():
    decoder = CategoricalLstmDecoder(5, z_size=2, rnn_sizes=[4])
    seeded(decoder, 9)
    x = one_hots(2, 6, 5, 4)
    x_input = np.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]])
    z = tf.ones([2, 2])
    lengths = np.array([6, 6])
    forced = decoder.reconstruction_loss(x_input, x, lengths, z)
    never = decoder.reconstruction_loss(x_input, x, lengths, z, sampling_probability=tf.constant(0.0))
    np.testing.assert_allclose(forced.rnn_output.numpy(), never.rnn_output.numpy(), atol=1e-5)
    always = decoder.reconstruction_loss(x_input, x, lengths, z, sampling_probability=tf.constant(1.0),
                                         seed=tf.constant([1, 1]))
    fed = always.rnn_input.numpy()
    np.testing.assert_array_equal(fed[:, 0], x_input[:, 0])
    np.testing.assert_array_equal(fed[:, 1:].sum(-1), np.ones([2, 5]))
    replay, _ = decoder.teacher_force(fed, z)
    np.testing.assert_allclose(replay.numpy(), always.rnn_output.numpy(), atol=1e-5)



def test_scheduled_sampling_runs_the_loop_only_for_rows_that_sample():
    decoder = CategoricalLstmDecoder(5, z_size=2, rnn_sizes=[4])
    seeded(decoder, 9)
    x = one_hots(8, 6, 5, 4)
    x_input = np.pad(x[:, :-1], [[0, 0], [1, 0], [0, 0]]).astype(np.float32)
    z = tf.random.stateless_normal([8, 2], seed=[3, 3])
    lengths = tf.constant([6, 6, 5, 6, 2, 6, 6, 4])
    seed = tf.constant([5, 7])
    # Probability 1: every row samples, so the subset is the whole batch in order (past its
    # length, where nothing is scored, an example is fed the data).
    subset = decoder._fed_inputs(x_input, z, None, lengths, 1.0, False, seed).numpy()
    _, whole, _ = decoder.scheduled_sampling(x_input, z, None, lengths, 1.0, seed=seed)
    for row, length in enumerate(lengths.numpy()):
        np.testing.assert_array_equal(subset[row, :length], whole.numpy()[row, :length])
        np.testing.assert_array_equal(subset[row, length:], x_input[row, length:])
    # Probability 0.15: rows drawing no sample are fed the data; the others differ from it only
    # right after the steps whose coin came up.
    fed = decoder._fed_inputs(x_input, z, None, lengths, 0.15, False, seed).numpy()
    use_sample = decoder.sampling_coins(8, 6, 0.15, seed).numpy()
    use_sample &= (np.arange(6)[None] + 1) < lengths.numpy()[:, None]
    assert 0 < use_sample.any(axis=1).sum() < 8
    for row in range(8):
        for t in range(1, 6):
            if not use_sample[row, t - 1]:
                np.testing.assert_array_equal(fed[row, t], x_input[row, t])
            else:
                assert fed[row, t].sum() == 1.0
    changed = (fed != x_input).any(axis=(1, 2))
    assert not changed[~use_sample.any(axis=1)].any()
    assert changed.any()


def test_decoder_registry_dispatch():
    calls = []

    def builder(spec, hparams, output_depth, z_size, control_depth, name):
        calls.append((spec.kind, output_depth, z_size, control_depth, name))
        return CategoricalLstmDecoder(output_depth, z_size, control_depth, rnn_sizes=[3], name=name)

    from musicvae_tf.layers import decoders

    previous = decoders._DECODER_BUILDERS.get("GrooveLstmDecoder")
    register_decoder("GrooveLstmDecoder", builder)
    try:
        decoder = build_decoder(DecoderSpec("GrooveLstmDecoder"), tiny_hparams(), 7, 4, 0)
        assert calls == [("GrooveLstmDecoder", 7, 4, 0, "decoder")]
        assert decoder.output_depth == 7
    finally:
        if previous is None:
            decoders._DECODER_BUILDERS.pop("GrooveLstmDecoder", None)
        else:
            register_decoder("GrooveLstmDecoder", previous)


def test_build_model_checks_level_lengths():
    with pytest.raises(ValueError, match="max_seq_len"):
        build_model(tiny_config(HIER, max_seq_len=16))


def test_split_segment_lengths_as_magentas_maybe_split_sequence_lengths():
    from musicvae_tf.layers.encoders import split_segment_lengths

    # [batch] lengths: each 0 or the whole sequence, split evenly over the segments.
    np.testing.assert_array_equal(split_segment_lengths(tf.constant([8, 0, 8]), 4, 8).numpy(),
                                  [[2, 2, 2, 2], [0, 0, 0, 0], [2, 2, 2, 2]])
    # Per-segment lengths [batch, segments] pass through unchanged.
    segments = tf.constant([[2, 1, 0, 0]])
    np.testing.assert_array_equal(split_segment_lengths(segments, 4, 8).numpy(), segments.numpy())
    # Any other [batch] length is refused (Magenta's tf.Assert), in eager mode and in a graph.
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be 0 or 8"):
        split_segment_lengths(tf.constant([8, 5]), 4, 8)
    traced = tf.function(lambda lengths: split_segment_lengths(lengths, 4, 8))
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be 0 or 8"):
        traced(tf.constant([3]))
    with pytest.raises(ValueError, match="not divisible"):
        split_segment_lengths(tf.constant([6]), 4, 6)
