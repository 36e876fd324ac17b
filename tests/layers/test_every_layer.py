"""Every layer of the package through `kit.run_layer_test`: build, values, config, .keras, TF1 names.

The values come from a reference that does not share the layer's code: numpy for the LSTM cells,
the latent and the NADE; Magenta's own numbers (tests/data/magenta_parity, made by Magenta from its
checkpoints) for the encoders and decoders, whose weights are loaded through their TF1 names; for the
multi-output decoders, the same weights in a plain categorical decoder and in the split cores.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR
from kit import numpy_lstm_sequence, numpy_lstm_step, one_hots, run_layer_test, seeded
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder
from musicvae_tf.layers.decoders.multi_out import MultiOutCategoricalLstmDecoder, SplitMultiOutLstmDecoder
from musicvae_tf.layers.latent import GaussianLatent
from musicvae_tf.layers.lstm import LSTMBlockCell, StackedLSTM
from musicvae_tf.layers.nade import Nade
from musicvae_tf.model import shift_right

TOLERANCE = 1e-4  # against Magenta's numbers (its CPU kernels reorder float sums between runs)


def _magenta_case(name, rows=2):
    """(model with the case's Magenta checkpoint loaded, reference rows, checkpoint variable names)."""
    from musicvae_tf import configs
    from musicvae_tf.checkpoints import load_magenta_checkpoint
    from musicvae_tf.model import build_model

    folder = PARITY_DIR / name
    case = json.loads((folder / "case.json").read_text())
    model = build_model(configs.get_config(case["config"], case["hparams"]), config_name=case["config"])
    load_magenta_checkpoint(model, folder / "checkpoint")
    reference = np.load(folder / "reference.npz")
    ref = {key: reference[key][:rows] for key in reference.files}
    for key in ("inputs", "outputs", "controls"):
        ref[key] = ref[key].astype(np.float32)
    names = set(tf.train.load_checkpoint(str(folder / "checkpoint")).get_variable_to_shape_map()) - {"global_step"}
    return model, ref, names


def _under(names, scope, exclude=()):
    # (A hierarchical decoder's core lives under core_decoder/, beside decoder/.)
    return sorted(n for n in names if n.startswith(scope + "/") and not n.startswith(tuple(exclude)))


def _encoder_inputs(model, ref):
    inputs = ref["inputs"]
    if model.control_depth:
        inputs = np.concatenate([inputs, ref["controls"]], axis=-1)
    return tf.constant(inputs), tf.constant(ref["lengths"])


def _teacher_forced(model, ref, sampling_probability=0.0):
    controls = tf.constant(ref["controls"]) if model.control_depth else None
    outputs = tf.constant(ref["outputs"])

    def call(decoder):
        result = decoder.reconstruction_loss(shift_right(outputs), outputs, tf.constant(ref["lengths"]),
                                             tf.constant(ref["mu"]), controls, sampling_probability, False, None)
        return result.rnn_output, result.r_loss

    return call


# --- the LSTM ------------------------------------------------------------------------------------

def test_lstm_block_cell(tmp_path):
    cell = seeded(LSTMBlockCell(5, 3), seed=1, scale=0.5)
    rng = np.random.default_rng(1)
    x, c, h = (rng.normal(size=s).astype(np.float32) for s in ([4, 3], [4, 5], [4, 5]))
    expected = numpy_lstm_step(x, c, h, cell.kernel.numpy(), cell.bias.numpy())
    run_layer_test(cell, lambda layer: layer.step(x, c, h), expected, tmp_path)


def test_stacked_lstm(tmp_path):
    stack = seeded(StackedLSTM(3, [4, 6]), seed=2, scale=0.5)
    rng = np.random.default_rng(3)
    xs = rng.normal(size=[3, 7, 3]).astype(np.float32)
    lengths = np.array([7, 4, 0], np.int32)
    initial = [np.zeros([3, s], np.float32) for s in stack.state_sizes]
    layer_in = xs
    for cell in stack.cells:
        layer_in, _, _ = numpy_lstm_sequence(layer_in, lengths, cell.kernel.numpy(), cell.bias.numpy())
    run_layer_test(stack, lambda layer: layer.run([tf.constant(xs)], initial, lengths=lengths)[0], layer_in,
                   tmp_path, tf1_scope="rnn",
                   tf1_names=[f"rnn/multi_rnn_cell/cell_{i}/lstm_cell/{w}" for i in range(2) for w in ("kernel", "bias")])


# --- encoders and the latent ---------------------------------------------------------------------

@pytest.mark.parametrize("case", ["cat-mel_2bar_med_chords", "hier-mel_16bar"])
def test_encoders_give_magentas_posterior(case, tmp_path):
    """BidirectionalLstmEncoder (with chord controls) and HierarchicalLstmEncoder, through Magenta's latent."""
    model, ref, names = _magenta_case(case)
    inputs, lengths = _encoder_inputs(model, ref)
    run_layer_test(model.encoder, lambda encoder: model.latent(encoder(inputs, lengths)), (ref["mu"], ref["sigma"]),
                   tmp_path, tf1_scope="encoder", tf1_names=_under(names, "encoder", ("encoder/mu", "encoder/sigma")),
                   atol=TOLERANCE)


def test_gaussian_latent(tmp_path):
    model, ref, names = _magenta_case("cat-mel_2bar_small")
    encoding = model.encoder(*_encoder_inputs(model, ref)).numpy()
    latent = model.latent
    mu = encoding @ latent.mu.kernel.numpy() + latent.mu.bias.numpy()
    sigma = np.log1p(np.exp(encoding @ latent.sigma.kernel.numpy() + latent.sigma.bias.numpy()))
    run_layer_test(latent, lambda layer: layer(encoding), (mu, sigma), tmp_path, tf1_scope="encoder",
                   tf1_names=_under(names, "encoder/mu") + _under(names, "encoder/sigma"))
    np.testing.assert_allclose(mu, ref["mu"], atol=TOLERANCE)


# --- decoders ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case, sampling_probability", [
    ("cat-mel_2bar_med_chords", 0.0),   # CategoricalLstmDecoder with chord controls
    ("hierdec-mel_16bar", 0.0),         # HierarchicalLstmDecoder over a categorical core
    ("groovae_2bar_humanize", 0.0),     # GrooveLstmDecoder
    # MultiLabelRnnNadeDecoder: Magenta's reference ran with sampling probability 1 (its eval mode
    # with a schedule), feeding back the NADE's thresholded, deterministic samples.
    ("nade-drums_2bar_reduced", 1.0),
])
def test_decoders_give_magentas_logits_and_loss(case, sampling_probability, tmp_path):
    model, ref, names = _magenta_case(case)
    run_layer_test(model.decoder, _teacher_forced(model, ref, sampling_probability), (ref["tf_logits"], ref["r_loss"]),
                   tmp_path, tf1_scope="decoder", tf1_names=sorted(n for n in names if not n.startswith("encoder/")),
                   atol=TOLERANCE)


DEPTHS = (2, 3, 4)


def _categorical_batch(depths, batch=3, length=6, z_size=3, seed=4):
    rng = np.random.default_rng(seed)
    outputs = np.concatenate([one_hots(batch, length, d, seed=seed + i) for i, d in enumerate(depths)], axis=-1)
    return (tf.constant(outputs), tf.constant([6, 4, 1], tf.int32),
            tf.constant(rng.normal(size=[batch, z_size]).astype(np.float32)))


def _reconstruct(outputs, lengths, z):
    return lambda decoder: decoder.reconstruction_loss(shift_right(outputs), outputs, lengths, z, None, 0.0,
                                                       False, None).rnn_output


def test_multi_out_categorical_decoder(tmp_path):
    """Its LSTM and projection are a categorical decoder's: the same weights give the same logits."""
    decoder = seeded(MultiOutCategoricalLstmDecoder(sum(DEPTHS), output_depths=DEPTHS, z_size=3, rnn_sizes=[5]), 5)
    plain = CategoricalLstmDecoder(sum(DEPTHS), z_size=3, rnn_sizes=[5])
    plain.set_weights(decoder.get_weights())
    call = _reconstruct(*_categorical_batch(DEPTHS))
    run_layer_test(decoder, call, call(plain), tmp_path, tf1_scope="decoder",
                   tf1_names=sorted(plain.tf1_variables("decoder")))


def test_split_multi_out_decoder(tmp_path):
    """Each output is its own core decoder: the logits are the cores' logits side by side."""
    cores = [CategoricalLstmDecoder(d, z_size=3, rnn_sizes=[4], name=f"core_{i}") for i, d in enumerate(DEPTHS)]
    decoder = seeded(SplitMultiOutLstmDecoder(cores, list(DEPTHS), name="decoder"), 6)
    outputs, lengths, z = _categorical_batch(DEPTHS)
    parts = tf.split(outputs, DEPTHS, axis=-1)
    expected = np.concatenate([_reconstruct(part, lengths, z)(core) for part, core in zip(parts, decoder.core_decoders)],
                              axis=-1)
    run_layer_test(decoder, _reconstruct(outputs, lengths, z), expected, tmp_path, tf1_scope="decoder",
                   tf1_names=sorted(decoder.tf1_variables("decoder")))
    # Magenta's scopes: core i under core_decoder_<i>/decoder/.
    assert {name.split("/decoder/")[0] for name in decoder.tf1_variables("decoder")} == {
        "core_decoder_0", "core_decoder_1", "core_decoder_2"}


def test_nade(tmp_path):
    nade = seeded(Nade(4, 3), seed=7)
    rng = np.random.default_rng(8)
    x = (rng.random([5, 4]) < 0.5).astype(np.float32)
    b_enc, b_dec = rng.normal(size=[5, 3]).astype(np.float32), rng.normal(size=[5, 4]).astype(np.float32)
    w_enc, w_dec = nade.w_enc.numpy()[:, 0, :], nade.w_dec_t.numpy()[:, :, 0]
    log_prob, cond = np.zeros(5), np.zeros([5, 4])
    for row in range(5):
        hidden = b_enc[row].astype(np.float64)
        for i in range(4):
            p = 1 / (1 + np.exp(-(b_dec[row, i] + (1 / (1 + np.exp(-hidden))) @ w_dec[i])))
            cond[row, i] = p
            log_prob[row] += np.log(1e-6 + (p if x[row, i] else 1 - p))
            hidden = hidden + x[row, i] * w_enc[i]
    run_layer_test(nade, lambda layer: layer.log_prob(x, b_enc, b_dec), (log_prob, cond), tmp_path)


# --- the whole model -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["cat-mel_2bar_med_chords", "hier-mel_16bar"])
def test_music_vae(case, tmp_path):
    model, ref, names = _magenta_case(case)
    inputs, lengths = ref["inputs"], ref["lengths"]
    controls = ref["controls"] if model.control_depth else None

    def call(vae):
        mu, sigma = vae.encode(inputs, lengths, controls)
        return mu, sigma, vae.reconstruct(inputs, ref["outputs"], lengths, controls, z=mu).rnn_output

    run_layer_test(model, call, (ref["mu"], ref["sigma"], ref["tf_logits"]), tmp_path, tf1_scope="",
                   tf1_names=sorted(names), atol=TOLERANCE)
