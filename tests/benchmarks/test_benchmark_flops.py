"""benchmarks/model_flops.py: FLOP counts checked by hand and against the built models' kernels."""

import sys

import pytest

from conftest import TESTS_DIR

sys.path.insert(0, str(TESTS_DIR.parent / "benchmarks"))

from model_flops import gflop_per_item, model_flops  # noqa: E402
from musicvae_tf import configs  # noqa: E402
from musicvae_tf.model import build_model  # noqa: E402


def test_cat_mel_2bar_small_by_hand():
    flops = model_flops(configs.get_config("cat-mel_2bar_small"))
    # 90-way one-hot, 32 steps, encoder [512] both ways, z 256, decoder [256, 256].
    encoder = 2 * 32 * (2 * (90 + 512) * 2048)
    latent = 2 * (2 * 1024 * 256)
    decoder = 2 * 256 * 1024 + 32 * (2 * (90 + 256 + 256) * 1024 + 2 * (256 + 256) * 1024 + 2 * 256 * 90)
    assert flops["encoder"] == encoder == 157_810_688
    assert flops["latent"] == latent
    assert flops["conductor"] == 0
    assert flops["decoder"] == decoder
    assert flops["forward"] == encoder + latent + decoder == 233_865_216
    assert flops["training"] == 3 * 233_865_216
    assert gflop_per_item(configs.get_config("cat-mel_2bar_small"), "train") == pytest.approx(0.7016, abs=1e-4)
    assert gflop_per_item(configs.get_config("cat-mel_2bar_small"), "sample") == pytest.approx(decoder / 1e9)
    assert gflop_per_item(configs.get_config("cat-mel_2bar_small"), "convert") is None


def test_hierdec_mel_16bar_by_hand():
    flops = model_flops(configs.get_config("hierdec-mel_16bar"))
    # Encoder [2048, 2048] over 256 steps; the second layer reads both directions (4096).
    encoder = 2 * 256 * (2 * (90 + 2048) * 8192 + 2 * (4096 + 2048) * 8192)
    # One conductor level: 16 steps of a [1024, 1024] stack on a constant 1-d input, state from z 512.
    conductor = 2 * 512 * 4096 + 16 * (2 * (1 + 1024) * 4096 + 2 * 2048 * 4096)
    # 16 segments of 16 steps, conditioned on the 1024-d conductor output.
    segment = 2 * 1024 * 4096 + 16 * (2 * (90 + 1024 + 1024) * 4096 + 2 * 2048 * 4096 + 2 * 1024 * 90)
    assert flops["encoder"] == encoder
    assert flops["conductor"] == conductor
    assert flops["decoder"] == 16 * segment
    assert flops["sampling"] == conductor + 16 * segment
    assert flops["forward"] == encoder + 2 * 2 * 4096 * 512 + conductor + 16 * segment


def _kernel_flops(layer, uses):
    return sum(2 * int(w.shape[0]) * int(w.shape[1]) * uses for w in layer.weights if len(w.shape) == 2)


@pytest.mark.parametrize("name,overrides", [
    ("cat-mel_2bar_small", "z_size=8,enc_rnn_size=[12],dec_rnn_size=[6,4]"),
    ("hierdec-mel_16bar", "z_size=8,enc_rnn_size=[12,10],dec_rnn_size=[6,4]"),
])
def test_counts_match_the_built_model_kernels(name, overrides):
    """Every kernel of a (tiny) built model, times how often the model applies it, equals the count."""
    config = configs.get_config(name, overrides)
    model = build_model(config)
    steps = config.hparams.max_seq_len
    expected = _kernel_flops(model.encoder, steps) + _kernel_flops(model.latent, 1)
    decoder = model.decoder
    if hasattr(decoder, "core_decoder"):
        segments, segment_length = decoder.level_lengths
        core = decoder.core_decoder
        expected += _kernel_flops(decoder.conductors[0], segments) + _kernel_flops(decoder.initial_state_layers[0], 1)
        expected += (_kernel_flops(core.rnn, steps) + _kernel_flops(core.output_projection, steps)
                     + _kernel_flops(core.z_to_initial_state, segments))
    else:
        expected += (_kernel_flops(decoder.rnn, steps) + _kernel_flops(decoder.output_projection, steps)
                     + _kernel_flops(decoder.z_to_initial_state, 1))
    assert model_flops(config)["forward"] == expected
