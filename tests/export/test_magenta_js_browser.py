"""Exported models run in magenta.js (@magenta/music) in headless Chromium and give our numbers.

Cases: Magenta's own TF1 checkpoints (tests/data/magenta_parity: cat-mel_2bar_small,
cat-mel_2bar_med_chords with a chord progression, hier-mel_16bar) and every packaged model that
magenta.js can run. For each, magenta.js's `encodeTensors` gives the Python mu within 1e-4, its
`encode` of the same music as NoteSequences (its own data converter, from our config.json) gives
it too, and its greedy `decodeTensors` of the Python mu picks the same class at every step as
the Python model's greedy decode. All cases run in one browser session (CPU backend).
"""

import json
import shutil

import numpy as np
import pytest

import browser_env
from conftest import PARITY_DIR

MU_TOLERANCE = 1e-4
CHORDS = ["C", "G", "Am", "F"]
FIXTURE_CASES = ("cat-mel_2bar_small", "cat-mel_2bar_med_chords", "hier-mel_16bar")

pytestmark = pytest.mark.skipif(browser_env.missing() is not None, reason=str(browser_env.missing()))


def _js_sequence(sequence):
    """A quantized NoteSequence as the plain object magenta.js takes (ints, camelCase)."""
    return {
        "notes": [{"pitch": n.pitch, "velocity": n.velocity or 80, "program": n.program,
                   "instrument": n.instrument, "isDrum": n.is_drum,
                   "quantizedStartStep": n.quantized_start_step,
                   "quantizedEndStep": n.quantized_end_step} for n in sequence.notes],
        "totalQuantizedSteps": sequence.total_quantized_steps,
        "quantizationInfo": {"stepsPerQuarter": sequence.quantization_info.steps_per_quarter},
        "tempos": [{"time": 0, "qpm": 120}],
    }


def chord_controls(config, num_steps):
    """[num_steps, depth] one-hot chords laid out as magenta.js's encodeProgression does."""
    encoding = config.data_converter._chord_encoding
    rows = np.zeros([num_steps, encoding.num_classes], np.float32)
    for step in range(num_steps):
        rows[step, encoding.encode_event(CHORDS[step * len(CHORDS) // num_steps])] = 1.0
    return rows


def _case(name, config, model, inputs, lengths, export_dir):
    import note_seq

    from musicvae_tf.export import magenta_js

    magenta_js.export(model, config, export_dir)
    num_steps = inputs.shape[1]
    controls = chord_controls(config, num_steps) if config.data_converter.control_depth else None
    batch_controls = None if controls is None else np.tile(controls[None], [len(inputs), 1, 1])
    mu, _ = model.encode_compiled(inputs, lengths, batch_controls)
    mu = mu.numpy()
    greedy = model.sample(len(inputs), num_steps, z=mu, temperature=1e-4, c_input=controls)
    decoded = config.data_converter.from_tensors(inputs, batch_controls) if controls is not None \
        else config.data_converter.from_tensors(inputs)
    sequences = [_js_sequence(note_seq.quantize_note_sequence(ns, 4)) for ns in decoded]
    return {"name": name, "path": f"models/{name}", "inputs": inputs.tolist(), "sequences": sequences,
            "z": mu.tolist(), "chords": CHORDS if controls is not None else None}, \
        {"mu": mu, "greedy": np.argmax(greedy.samples.numpy(), -1)}


def _fixture_model(name):
    from musicvae_tf.cli.export import load_model

    case = json.loads((PARITY_DIR / name / "case.json").read_text())
    _, config, model = load_model(str(PARITY_DIR / name / "checkpoint"), case["config"],
                                       case["hparams"])
    ref = np.load(PARITY_DIR / name / "reference.npz")
    return config, model, ref["inputs"].astype(np.float32), ref["lengths"]


def _own_samples(model, config, n=2):
    steps = int(config.hparams.max_seq_len)
    controls = chord_controls(config, steps) if config.data_converter.control_depth else None
    z = np.random.RandomState(0).randn(n, model.z_size).astype(np.float32)
    return model.sample(n, steps, z=z, temperature=0.5, c_input=controls, seed=[1, 2]).samples.numpy()


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory):
    from musicvae_tf.export import magenta_js
    from musicvae_tf.cli.export import load_model
    from musicvae_tf.export.web_site import packaged_checkpoints

    site = tmp_path_factory.mktemp("magenta_js_parity")
    shutil.copyfile(browser_env.magenta_bundle(), site / "magentamusic.js")
    shutil.copyfile(browser_env.BROWSER_DIR / "parity.js", site / "parity.js")
    (site / "index.html").write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" '
                                     'href="data:,"></head><body><script src="magentamusic.js"></script>'
                                     '<script src="parity.js"></script></body></html>')
    cases, expected = [], {}
    for name in FIXTURE_CASES:
        config, model, inputs, lengths = _fixture_model(name)
        case, want = _case(name, config, model, inputs, lengths, site / "models" / name)
        cases.append(case)
        expected[name] = want
    reference_inputs = np.load(PARITY_DIR / "cat-mel_2bar_small" / "reference.npz")
    for config_name, path in packaged_checkpoints().items():
        name, config, model = load_model(path)
        if magenta_js._reason_and_spec(config)[0] is not None:
            continue
        key = f"packaged-{name}"
        if config.hparams.max_seq_len == 32 and config.data_converter.input_depth == 90:
            inputs, lengths = reference_inputs["inputs"].astype(np.float32), reference_inputs["lengths"]
        else:  # the model's own samples, a full max_seq_len each
            inputs = _own_samples(model, config)
            lengths = np.full([len(inputs)], inputs.shape[1], np.int32)
        case, want = _case(key, config, model, inputs, lengths, site / "models" / key)
        cases.append(case)
        expected[key] = want
    with browser_env.serve(site) as url:
        report = browser_env.run_page(url + "index.html", [
            {"wait": "body[data-loaded]"},
            {"eval": f"window.runParity({json.dumps(cases)})"}])
    assert "error" not in report, report
    assert not report["page_errors"], report["page_errors"]
    return report, expected


def _results(browser_run, name):
    report, expected = browser_run
    if name not in expected:
        pytest.skip(f"{name}: no such model packaged on this checkout")
    return report["results"][0][name], expected[name]


@pytest.mark.parametrize("name", FIXTURE_CASES + ("packaged-cat-mel_2bar_small",))
def test_mu_matches_python(browser_run, name):
    got, want = _results(browser_run, name)
    assert got["z_dims"] == want["mu"].shape[1]
    assert np.abs(np.array(got["mu"]) - want["mu"]).max() <= MU_TOLERANCE
    # magenta.js's own converter, reading the same music as NoteSequences.
    assert np.abs(np.array(got["mu_sequences"]) - want["mu"]).max() <= MU_TOLERANCE


@pytest.mark.parametrize("name", FIXTURE_CASES + ("packaged-cat-mel_2bar_small",))
def test_greedy_decode_matches_python(browser_run, name):
    got, want = _results(browser_run, name)
    np.testing.assert_array_equal(np.array(got["greedy"]), want["greedy"])


def test_every_packaged_model_magenta_js_runs(browser_run):
    """Whatever is packaged on this checkout and magenta.js can run gives our numbers there."""
    report, expected = browser_run
    checked = [key for key in expected if key.startswith("packaged-")]
    assert checked, "no packaged model that magenta.js can run"
    for key in checked:
        got, want = report["results"][0][key], expected[key]
        assert np.abs(np.array(got["mu"]) - want["mu"]).max() <= MU_TOLERANCE, key
        assert np.abs(np.array(got["mu_sequences"]) - want["mu"]).max() <= MU_TOLERANCE, key
        np.testing.assert_array_equal(np.array(got["greedy"]), want["greedy"], err_msg=key)
