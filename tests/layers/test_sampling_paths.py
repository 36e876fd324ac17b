"""The fast sampling paths equal the reference ones.

- "project once": z, the controls (and a hierarchical decoder's segment embeddings) projected
  once per sequence, and a one-hot sample fed back as a gathered kernel row, against the per-step
  `decode_step` over [previous output, z, control];
- the XLA-compiled sampling loop (`MusicVAE.sample(jit_compile=True)`) against the graph one.
The temperature is tiny (1e-6), so the samples are the argmax at every step and must match
exactly whatever the random numbers.
"""

import numpy as np
import pytest
import tensorflow as tf

from kit import seeded
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder
from musicvae_tf.layers.decoders.multi_out import MultiOutCategoricalLstmDecoder
from musicvae_tf.model import build_model



def _reference(decoder):
    """The same decoder forced onto the per-step decode_step path."""
    decoder.can_project_once = lambda: False
    return decoder


def test_project_once_sampling_equals_per_step_decoding_with_controls():
    decoder = CategoricalLstmDecoder(7, z_size=3, control_depth=2, rnn_sizes=[6, 5], name="fast")
    seeded(decoder, 1, scale=0.5)
    assert decoder.can_project_once()
    z = tf.constant(np.random.default_rng(2).normal(size=(4, 3)), tf.float32)
    controls = tf.constant(np.eye(2)[[0, 1, 1, 0, 1, 0, 0, 1, 1]], tf.float32)
    start = tf.one_hot([1, 2, 3, 4], 7)
    seed = tf.constant([3, 4])
    fast = decoder.sample(4, 12, z, controls, temperature=1e-6, start_inputs=start, seed=seed)
    reference = _reference(decoder).sample(4, 12, z, controls, temperature=1e-6, start_inputs=start,
                                           seed=seed)
    np.testing.assert_array_equal(fast.lengths.numpy(), [9, 9, 9, 9])  # stopped with the controls
    np.testing.assert_array_equal(fast.samples.numpy(), reference.samples.numpy())
    np.testing.assert_allclose(fast.rnn_output.numpy(), reference.rnn_output.numpy(), atol=1e-4)
    assert fast.samples.numpy()[:, 9:].sum() == 0 and fast.samples.numpy()[:, :9].sum() == 36
    # Several distinct classes were sampled, so the gathered rows were exercised.
    assert len(np.unique(fast.samples.numpy()[:, :9].argmax(-1))) > 1


def test_one_hot_feedback_is_a_gather_and_multi_hot_keeps_the_product():
    rows = tf.constant(np.random.default_rng(3).normal(size=(5, 8)), tf.float32)
    one_hot = tf.one_hot([4, 0, 2], 5)
    decoder = CategoricalLstmDecoder(5, rnn_sizes=[2])
    np.testing.assert_array_equal(decoder.feedback_gates(one_hot, rows).numpy(),
                                  tf.matmul(one_hot, rows).numpy())
    multi = MultiOutCategoricalLstmDecoder(5, output_depths=[2, 3], rnn_sizes=[2])
    multi_hot = tf.constant([[1, 0, 0, 1, 0], [0, 1, 0, 0, 1]], tf.float32)
    np.testing.assert_allclose(multi.feedback_gates(multi_hot, rows).numpy(),
                               tf.matmul(multi_hot, rows).numpy(), atol=1e-6)


@pytest.mark.parametrize("config, hparams, n, length", [
    ("cat-mel_2bar_small", "z_size=6,enc_rnn_size=[8],dec_rnn_size=[7,7]", 3, 32),
    ("hierdec-mel_16bar", "z_size=6,enc_rnn_size=[8],dec_rnn_size=[7,7]", 2, 256),
])
def test_xla_and_project_once_sampling_equal_the_reference_graph(config, hparams, n, length):
    model = build_model(config, hparams)
    decoder = model.decoder
    core = getattr(decoder, "core_decoder", decoder)
    seeded(decoder, 5, scale=0.5)
    z = tf.constant(np.random.default_rng(6).normal(size=(n, 6)), tf.float32)
    seed = tf.constant([7, 8])
    xla = model.sample(n=n, length=length, z=z, temperature=1e-6, seed=seed, jit_compile=True)
    graph = model.sample(n=n, length=length, z=z, temperature=1e-6, seed=seed, jit_compile=False)
    unseeded = model.sample(n=n, length=length, z=z, temperature=1e-6)  # default: XLA, own seed
    _reference(core)
    reference = build_model(config, hparams)
    reference.set_weights(model.get_weights())
    _reference(getattr(reference.decoder, "core_decoder", reference.decoder))
    slow = reference.sample(n=n, length=length, z=z, temperature=1e-6, seed=seed, jit_compile=False)
    for result in (xla, graph, unseeded):
        assert result.samples.shape == (n, length, 90)
        np.testing.assert_array_equal(result.samples.numpy(), slow.samples.numpy())
        np.testing.assert_allclose(result.rnn_output.numpy(), slow.rnn_output.numpy(), atol=1e-4)
        np.testing.assert_array_equal(result.lengths.numpy(), slow.lengths.numpy())
    assert len(np.unique(slow.samples.numpy().argmax(-1))) > 3


def test_xla_sampling_stops_at_the_end_token_like_the_graph():
    model = build_model("cat-mel_2bar_small", "z_size=4,enc_rnn_size=[8],dec_rnn_size=[6]")
    seeded(model.decoder, 9, scale=0.5)
    bias = np.zeros(90, np.float32)
    bias[5] = 80.0  # every sample is class 5 at once
    model.decoder.output_projection.bias.assign(bias)
    z = tf.zeros([2, 4])
    xla = model.sample(n=2, length=32, z=z, end_token=5, jit_compile=True)
    graph = model.sample(n=2, length=32, z=z, end_token=5, seed=tf.constant([1, 1]))
    for result in (xla, graph):
        np.testing.assert_array_equal(result.lengths.numpy(), [1, 1])
        assert result.samples.shape == (2, 32, 90)
        assert result.samples.numpy()[:, 1:].sum() == 0 and result.samples.numpy()[:, 0, 5].sum() == 2


def _add_chains(graph_def):
    """(function, node) of each Add/AddV2 fed by another Add/AddV2 of the same function body."""
    chains = []
    for function in graph_def.library.function:
        adds = {node.name for node in function.node_def if node.op in ("Add", "AddV2")}
        for node in function.node_def:
            if node.name in adds and any(name.split(":")[0] in adds for name in node.input):
                chains.append((function.signature.name, node.name))
    return chains


@pytest.mark.parametrize("config, hparams", [
    ("cat-mel_2bar_small", "z_size=6,enc_rnn_size=[8],dec_rnn_size=[7,7]"),
    ("cat-mel_2bar_med_chords", "z_size=6,enc_rnn_size=[8],dec_rnn_size=[7,7]"),
    ("hierdec-mel_16bar", "z_size=6,enc_rnn_size=[8],dec_rnn_size=[7,7]"),
])
def test_sampling_loops_sum_no_chain_of_adds(config, hparams):
    """A chain of adds inside a sampling loop becomes grappler's accumulator with a per-step
    temporary variable, and two concurrent calls (TrainedModel's parallel batches) then failed
    with AlreadyExistsError at full size (hierdec-mel_16bar). Each loop step's sums are single
    adds; the first layer's known input part is carried in from the previous step."""
    from musicvae_tf import configs

    cfg = configs.get_config(config, hparams)
    model = build_model(cfg, decoder_only=True)
    z = tf.zeros([2, 6])
    controls = (tf.zeros([cfg.hparams.max_seq_len, model.control_depth])
                if model.control_depth else None)
    traced = tf.function(lambda z, seed: model.decoder.sample(
        2, cfg.hparams.max_seq_len, z, controls, 0.5, seed=seed).samples)
    graph = traced.get_concrete_function(z, tf.constant([1, 2])).graph.as_graph_def()
    bodies = [f.signature.name for f in graph.library.function if "body" in f.signature.name]
    assert bodies  # the loop was traced as a while body
    assert _add_chains(graph) == []
