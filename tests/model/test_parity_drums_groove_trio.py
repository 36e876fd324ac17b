"""Parity of the NADE, GrooVAE and trio models with Magenta's original on its own checkpoints.

nade-drums_2bar_reduced and groovae_2bar_humanize run from tests/data (4 examples each), and so do
flat-trio_16bar and hierdec-trio_16bar (1 example each, from checkpoints made by Magenta at small
sizes so that they fit tests/data: tests/data/README.md). The shared fixtures' larger trio
checkpoints, when present, are checked to load and decode.

About the recorded `tf_logits`/`r_loss`: Magenta computed them with is_training=False. For a
config with a sampling schedule (nade-drums: inverse_sigmoid) Magenta then forces the sampling
probability to 1, so the decoder is fed its own samples (NADE: thresholded, deterministic) rather
than the data. `model.sampling_probability(hparams, step, training=False)` gives the same 1.0
here; GrooVAE has no schedule and is truly teacher-forced. For the NADE, `tf_logits` (depth
25 = nade_num_hidden 16 + 9 drums) is the decoder's raw output projection: the NADE's encoder
and decoder biases per step, compared as they are.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR, SHARED_PARITY_DIR

TOLERANCE = 1e-4


def _build(case_dir):
    from musicvae_tf import configs
    from musicvae_tf.model import build_model

    case = json.loads((case_dir / "case.json").read_text())
    config = configs.CONFIG_MAP[case["config"]]
    return build_model(config, hparams=case["hparams"], config_name=case["config"]), case


def _load_checking_every_variable(model, prefix):
    """Loads a Magenta checkpoint and checks every checkpoint variable found its Keras twin."""
    from musicvae_tf.checkpoints import load_magenta_checkpoint

    shapes = tf.train.load_checkpoint(str(prefix)).get_variable_to_shape_map()
    names = model.tf1_variables()
    assert set(shapes) - {"global_step"} == set(names)
    for name, variable in names.items():
        assert tuple(shapes[name]) == tuple(variable.shape), name
    assert load_magenta_checkpoint(model, str(prefix)) == 30
    reader = tf.train.load_checkpoint(str(prefix))
    for name, variable in names.items():
        np.testing.assert_array_equal(variable.numpy(), reader.get_tensor(name))


@pytest.fixture(scope="module", params=["nade-drums_2bar_reduced", "groovae_2bar_humanize",
                                        "flat-trio_16bar", "hierdec-trio_16bar"])
def parity_case(request):
    case_dir = PARITY_DIR / request.param
    model, case = _build(case_dir)
    _load_checking_every_variable(model, case_dir / "checkpoint" / "model.ckpt-30")
    reference = dict(np.load(case_dir / "reference.npz"))
    return request.param, model, reference


def test_encoder_posterior_matches_magenta(parity_case):
    _, model, ref = parity_case
    mu, sigma = model.encode(ref["inputs"], ref["lengths"])
    assert np.abs(mu.numpy() - ref["mu"]).max() <= TOLERANCE
    assert np.abs(sigma.numpy() - ref["sigma"]).max() <= TOLERANCE


def test_reconstruction_logits_and_loss_match_magenta(parity_case):
    from musicvae_tf.model import sampling_probability

    name, model, ref = parity_case
    probability = sampling_probability(model.hparams, 0, training=False)
    assert probability == (1.0 if name.startswith("nade") else 0.0)
    result = model.reconstruct(ref["inputs"], ref["outputs"], ref["lengths"], z=ref["mu"],
                               sampling_probability=probability)
    assert result.rnn_output.shape == ref["tf_logits"].shape
    assert np.abs(result.rnn_output.numpy() - ref["tf_logits"]).max() <= TOLERANCE
    # The trio's r_loss sums 3 x 256 log-probabilities to ~3800, where float32 values are 2.4e-4
    # apart: 1e-4 absolute cannot be met by any other summation order there, 2e-7 relative (a few
    # spacings) can.
    r_loss_tolerance = np.maximum(TOLERANCE, 2e-7 * np.abs(ref["r_loss"]))
    assert (np.abs(result.r_loss.numpy() - ref["r_loss"]) <= r_loss_tolerance).all()


def test_greedy_samples_from_mu_match_magenta(parity_case):
    name, model, ref = parity_case
    steps = ref["outputs"].shape[1]
    out = model.sample(z=ref["mu"], length=steps, temperature=1e-4)
    samples = out.samples.numpy()
    expected = ref["greedy_samples_from_mu"].astype(np.float32)
    if "greedy_logits_from_mu" in ref:  # (left out of the trio files for size)
        assert np.abs(out.rnn_output.numpy() - ref["greedy_logits_from_mu"]).max() <= TOLERANCE
    if "trio" in name:
        _assert_trio_greedy_samples_match(samples, out.rnn_output.numpy(), expected)
    elif name.startswith("nade"):
        np.testing.assert_array_equal(samples, expected)
    else:
        hits = samples.shape[-1] // 3
        np.testing.assert_array_equal(samples[..., :hits], expected[..., :hits])
        assert np.abs(samples[..., hits:] - expected[..., hits:]).max() <= TOLERANCE


# --- trio checkpoints (shared fixtures only) --------------------------------------------------------
TRIO_DEPTHS = (90, 90, 512)


def _assert_trio_greedy_samples_match(samples, logits, expected, temperature=1e-4):
    """Magenta's "greedy" samples are draws at temperature 1e-4, i.e. argmax only where the top two
    logits differ by well over 1e-4: after 30 training steps the melody part of hierdec-trio has top
    logits within 2e-3 of each other from its fourth step on (as close as 1.4e-5), and there
    Magenta's draw is a coin toss. The three parts decode independently (each feeds back only its
    own samples), so each part is compared exactly up to its first step whose top-two margin is
    under 20 * temperature (runner-up probability above e^-20), and at least one part must be
    compared over every step."""
    start, whole_parts = 0, 0
    for depth in TRIO_DEPTHS:
        part = slice(start, start + depth)
        ordered = np.sort(logits[..., part], axis=-1)
        tied = (ordered[..., -1] - ordered[..., -2]) < 20 * temperature  # [batch, steps]
        for row in range(samples.shape[0]):
            safe = int(np.argmax(tied[row])) if tied[row].any() else samples.shape[1]
            np.testing.assert_array_equal(samples[row, :safe, part], expected[row, :safe, part])
            whole_parts += safe == samples.shape[1]
        start += depth
    assert whole_parts >= samples.shape[0], "no trio part was compared over all its steps"


def _trio_case(name):
    prefix = SHARED_PARITY_DIR / name / "checkpoint" / "model.ckpt-30"
    if not (SHARED_PARITY_DIR / name / "checkpoint" / "checkpoint").exists():
        pytest.skip(f"shared fixture {name} not present")
    return prefix


def _trio_batch():
    data = np.load(PARITY_DIR / "hierdec-trio_16bar" / "converter.npz")
    take = slice(0, 2)
    return (data["inputs"][take].astype(np.float32), data["outputs"][take].astype(np.float32),
            data["lengths"][take].astype(np.int32))


def _assert_one_hot_per_instrument(samples):
    start = 0
    for depth in TRIO_DEPTHS:
        part = samples[..., start:start + depth]
        np.testing.assert_array_equal(part.sum(-1), 1.0)
        assert set(np.unique(part)) <= {0.0, 1.0}
        start += depth


@pytest.mark.slow
@pytest.mark.parametrize("name", ["flat-trio_16bar", "hierdec-trio_16bar"])
def test_trio_checkpoint_loads_and_decodes(name):
    prefix = _trio_case(name)
    model, _ = _build(SHARED_PARITY_DIR / name)
    _load_checking_every_variable(model, prefix)
    inputs, outputs, lengths = _trio_batch()
    assert inputs.shape[1] == 256 and outputs.shape[-1] == sum(TRIO_DEPTHS)
    result = model.reconstruct(inputs, outputs, lengths)
    assert result.rnn_output.shape == (2, 256, sum(TRIO_DEPTHS))
    assert np.isfinite(result.rnn_output.numpy()).all()
    r_loss = result.r_loss.numpy()
    # Three softmaxes per step, each near uniform after 30 training steps: the loss per step is
    # positive and at most about ln(90) + ln(90) + ln(512) plus the little training has done.
    assert np.isfinite(r_loss).all() and (r_loss > 0).all()
    assert (r_loss / lengths < 2 * (2 * np.log(90) + np.log(512))).all()
    out = model.sample(n=2, length=256, temperature=0.5, seed=tf.constant([3, 4]))
    samples = out.samples.numpy()
    assert samples.shape == (2, 256, sum(TRIO_DEPTHS))
    _assert_one_hot_per_instrument(samples)
    assert np.isfinite(out.rnn_output.numpy()).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nade-drums_2bar_reduced", "groovae_2bar_humanize"])
def test_all_sixteen_shared_reference_examples(name):
    """The same checks on all 16 recorded examples, when the shared fixtures are present."""
    from musicvae_tf.model import sampling_probability

    case_dir = SHARED_PARITY_DIR / name
    if not (case_dir / "reference.npz").exists():
        pytest.skip(f"shared fixture {name} not present")
    model, _ = _build(PARITY_DIR / name)
    _load_checking_every_variable(model, case_dir / "checkpoint" / "model.ckpt-30")
    ref = dict(np.load(case_dir / "reference.npz"))
    mu, sigma = model.encode(ref["inputs"], ref["lengths"])
    assert np.abs(mu.numpy() - ref["mu"]).max() <= TOLERANCE
    assert np.abs(sigma.numpy() - ref["sigma"]).max() <= TOLERANCE
    result = model.reconstruct(ref["inputs"], ref["outputs"], ref["lengths"], z=ref["mu"],
                               sampling_probability=sampling_probability(model.hparams, 0, training=False))
    assert np.abs(result.rnn_output.numpy() - ref["tf_logits"]).max() <= TOLERANCE
    assert np.abs(result.r_loss.numpy() - ref["r_loss"]).max() <= TOLERANCE
    out = model.sample(z=ref["mu"], length=ref["outputs"].shape[1], temperature=1e-4)
    samples, expected = out.samples.numpy(), ref["greedy_samples_from_mu"]
    bits = samples.shape[-1] if name.startswith("nade") else samples.shape[-1] // 3
    np.testing.assert_array_equal(samples[..., :bits], expected[..., :bits])
    assert np.abs(samples - expected).max() <= TOLERANCE
