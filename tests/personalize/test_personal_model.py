"""Personal models (MidiMe) on the packaged model: fitting, saving, loading, and the console scripts.

The user's pieces are 6 tunes of O'Neill's collection from the packaged held-out tunes (which the
demo model never trained on), written as MIDI files next to an unreadable one.
"""

import json
import os
import subprocess

import numpy as np
import pytest
import tensorflow as tf

import note_seq
from conftest import console_command
from kit import DEMO_DIR, needs_demo_model
from musicvae_tf import data, personalize
from musicvae_tf.personalize import midime as midime_lib, personal_model

CONFIG = "cat-mel_2bar_small"


def _tunes(collection, count):
    records = tf.data.TFRecordDataset(data.default_examples_path("eval")).as_numpy_iterator()
    tunes = [note_seq.NoteSequence.FromString(r) for r in records]
    return [t for t in tunes if t.collection_name == collection][:count]


@pytest.fixture(scope="module")
def demo_model():
    return DEMO_DIR


@pytest.fixture(scope="module")
def my_midis(tmp_path_factory):
    folder = tmp_path_factory.mktemp("personal") / "my_midis"
    folder.mkdir()
    for i, tune in enumerate(_tunes("oneills1850", 6)):
        note_seq.sequence_proto_to_midi_file(tune, str(folder / f"tune{i}.mid"))
    (folder / "broken.mid").write_bytes(b"MThd not really")
    return folder


def test_midime_fits_codes_and_round_trips_its_config(tmp_path):
    rng = np.random.default_rng(0)
    # Codes on a 2-dimensional plane of a 16-dimensional space: a 4-dimensional MidiMe reconstructs them.
    codes = (rng.standard_normal([64, 2]) @ rng.standard_normal([2, 16])).astype(np.float32)
    model = midime_lib.MidiMe(input_size=16, encoder_layers=[32], decoder_layers=[32])
    history = midime_lib.fit(model, codes, steps=200, seed=0)
    assert history["r_loss"][-1] < 0.25 * history["r_loss"][0]
    reconstruction, mu, sigma, _ = model(tf.constant(codes), noise=tf.zeros([64, 4]))
    assert float(np.mean(np.sum((codes - reconstruction.numpy()) ** 2, 1))) < 0.25 * float(np.mean(np.sum(codes**2, 1)))
    assert np.all(sigma.numpy() > 0)
    rebuilt = midime_lib.MidiMe.from_config(model.get_config())
    model.save_weights(str(tmp_path / "m.weights.h5"))
    rebuilt.load_weights(str(tmp_path / "m.weights.h5"))
    np.testing.assert_array_equal(rebuilt.sample(5, seed=3), model.sample(5, seed=3))
    with pytest.raises(ValueError, match=r"codes must have shape \[n, 16\]"):
        midime_lib.fit(model, codes[:, :8], steps=1)


@needs_demo_model
def test_personal_samples_lie_nearer_the_pieces_than_prior_samples(demo_model, tmp_path):
    fitted = _tunes("oneills1850", 10)
    personal = personalize.personalize(demo_model, fitted, tmp_path / "pm", config_name=CONFIG, steps=300)
    base = personal.base_model
    codes = personalize.encode_pieces(base, fitted)
    assert len(codes) == personal.info["fit"]["examples"] > 50
    assert personal.info["fit"]["final_loss"] < personal.info["fit"]["first_loss"]

    def mean_nearest(samples):
        distances = np.linalg.norm(samples[:, None, :] - codes[None, :, :], axis=-1)
        return float(distances.min(axis=1).mean())

    personal_codes = personal.sample_codes(200, seed=1)
    prior_codes = np.random.default_rng(1).standard_normal(personal_codes.shape).astype(np.float32)
    # MidiMe's samples stay where the pieces' codes are; N(0, I) samples spread over the whole space
    # (measured 1.1 vs 2.1 for the demo model's 64-dimensional codes).
    assert mean_nearest(personal_codes) < 0.75 * mean_nearest(prior_codes)

    loaded = personalize.PersonalModel.load(tmp_path / "pm")
    np.testing.assert_allclose(loaded.sample_codes(8, seed=5), personal.sample_codes(8, seed=5), rtol=1e-6)
    sequences = loaded.sample(4, temperature=0.5, seed=0)
    assert len(sequences) == 4 and all(s.total_time > 0 for s in sequences)
    info = json.loads((tmp_path / "pm" / personal_model.INFO_FILE).read_text())
    assert info["base_model"]["checkpoint"] == "packaged:" + os.path.basename(demo_model)
    assert info["base_model"]["config"] == CONFIG and info["midime"]["latent_size"] == 4


@needs_demo_model
def test_loading_with_other_base_weights_is_refused(demo_model, tmp_path):
    personal = personalize.personalize(demo_model, _tunes("airdsAirs", 2), tmp_path / "pm", config_name=CONFIG,
                                       steps=2)
    info_path = tmp_path / "pm" / personal_model.INFO_FILE
    original = info_path.read_text()
    info = json.loads(original)
    info["base_model"]["weights_fingerprint"][0] += 1.0
    info_path.write_text(json.dumps(info))
    with pytest.raises(personalize.PersonalModelError, match="holds other weights than the model"):
        personalize.PersonalModel.load(tmp_path / "pm")
    with pytest.raises(personalize.PersonalModelError, match="exists and is not empty"):
        personal.save(tmp_path / "pm")
    # An edited record, a record that is not an object, a damaged weights file: one-line errors.
    info = json.loads(original)
    del info["midime"]
    info_path.write_text(json.dumps(info))
    with pytest.raises(personalize.PersonalModelError, match="lacks or garbles 'midime'"):
        personalize.PersonalModel.load(tmp_path / "pm")
    info_path.write_text("[1, 2]")
    with pytest.raises(personalize.PersonalModelError, match="not a personal model this version reads"):
        personalize.PersonalModel.load(tmp_path / "pm")
    personal.save(tmp_path / "pm2")
    (tmp_path / "pm2" / personal_model.WEIGHTS_FILE).write_bytes(b"not HDF5")
    with pytest.raises(personalize.PersonalModelError, match="cannot read"):
        personalize.PersonalModel.load(tmp_path / "pm2")


def _run(tool, *args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(console_command(tool) + list(args), capture_output=True, text=True, env=env, timeout=600)


@needs_demo_model
def test_console_script_personalize_then_generate(demo_model, my_midis, tmp_path):
    model_dir, out = tmp_path / "my_model", tmp_path / "out"
    made = _run("music_vae_personalize", f"--config={CONFIG}", f"--input_dir={my_midis}",
                f"--output_dir={model_dir}", "--steps=50")
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr
    assert "of 6 pieces encoded by cat-mel_2bar_small" in made.stderr and "1 skipped:" in made.stderr
    assert "  broken.mid: " in made.stderr
    info = json.loads((model_dir / personal_model.INFO_FILE).read_text())
    assert info["fit"]["skipped"] and info["fit"]["steps"] == 50

    # music_vae_generate in this process (its console script is tested in tests/cli/): one
    # TensorFlow start-up less.
    from musicvae_tf.cli import generate

    assert generate.run_command([generate.PROGRAM, f"--personal_model={model_dir}", "--num_outputs=3",
                                 f"--output_dir={out}"]) == 0
    files = sorted(out.glob("*.mid"))
    assert len(files) == 3
    assert all(note_seq.midi_file_to_note_sequence(str(f)).notes for f in files)


def test_bad_input_is_one_line(my_midis, tmp_path, capsys):
    from musicvae_tf.cli import generate, personalize as personalize_cli

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep me")
    cases = [
        (personalize_cli, [f"--config={CONFIG}", f"--input_dir={my_midis}", f"--output_dir={tmp_path / 'taken'}"],
         f"--output_dir {tmp_path / 'taken'} exists and is not empty; choose a new folder (nothing is overwritten)"),
        (personalize_cli, [f"--config={CONFIG}", f"--input_dir={tmp_path / 'none'}", f"--output_dir={tmp_path / 'o'}"],
         f"--input_dir is not a directory: {tmp_path / 'none'}"),
        (generate, [f"--personal_model={my_midis}", f"--output_dir={tmp_path / 'out'}"],
         f"{my_midis} holds no personal model (personal_model.json missing)"),
        (generate, [f"--personal_model={my_midis}", f"--config={CONFIG}", f"--output_dir={tmp_path / 'out'}"],
         "--personal_model records its base model; leave out --run_dir, --config and --hparams"),
    ]
    for tool, args, message in cases:
        assert tool.run_command([tool.PROGRAM, *args]) == 1
        err = capsys.readouterr().err
        assert err.strip().splitlines()[-1] == f"{tool.PROGRAM}: error: {message}", err
    assert (tmp_path / "taken" / "mine.txt").read_text() == "keep me"
    assert not (tmp_path / "o").exists()


@needs_demo_model
def test_full_disk_is_one_line_and_leaves_nothing(my_midis, small_disk):
    """Keras' HDF5 writer on a full disk printed error stacks and crashed the process at exit."""
    disk = small_disk(8)
    made = _run("music_vae_personalize", f"--config={CONFIG}", f"--input_dir={my_midis}",
                f"--output_dir={disk / 'my_model'}", "--steps=2")
    assert made.returncode == 1, made.stderr[-2000:]
    assert made.stderr.strip().splitlines()[-1] == (
        f"music_vae_personalize: error: cannot write the personal model to --output_dir {disk / 'my_model'}: "
        "No space left on device; nothing written")
    assert "Traceback" not in made.stderr and "HDF5" not in made.stderr
    assert os.listdir(disk) == []
