"""SavedModel and TFLite exports give the Keras model's numbers.

The SavedModel is loaded in a fresh Python process that imports TensorFlow only (the test checks
that musicvae_tf never gets imported there); its encode / decode / sample signatures must give
the Keras model's mu and sigma and, for the same seed, the same samples. The TFLite decoder runs
in tf.lite.Interpreter: greedy decodes equal the Keras model's (and Magenta's reference), and
sampled outputs are one-hot rows.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR, console_command

# Computed by the same TensorFlow ops in both processes: differences are float noise.
TOLERANCE = 1e-5
CASES = ("cat-mel_2bar_small", "cat-mel_2bar_med_chords")

FRESH_PROCESS = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    directory, data_path, out_path = sys.argv[1:4]
    data = np.load(data_path)
    loaded = tf.saved_model.load(directory)
    sig = loaded.signatures
    controls = {"controls": tf.constant(data["controls"])} if "controls" in data else {}
    batch_controls = {"controls": tf.constant(data["batch_controls"])} if "controls" in data else {}
    encoded = sig["encode"](inputs=tf.constant(data["inputs"]), lengths=tf.constant(data["lengths"]),
                            **batch_controls)
    decoded = sig["decode"](z=encoded["mu"], temperature=tf.constant(0.5), seed=tf.constant([7, 11]),
                            **controls)
    greedy = sig["decode"](z=encoded["mu"], temperature=tf.constant(1e-4), seed=tf.constant([0, 0]),
                           **controls)
    sampled = sig["sample"](num_samples=tf.constant(3), temperature=tf.constant(0.5),
                            seed=tf.constant([5, 6]), **controls)
    np.savez(out_path, mu=encoded["mu"], sigma=encoded["sigma"], decoded=decoded["samples"],
             greedy=greedy["samples"], sample_z=sampled["z"], sampled=sampled["samples"])
    print(json.dumps({"musicvae_tf_imported": any(m.startswith("musicvae_tf") for m in sys.modules),
                      "signatures": sorted(sig.keys())}))
""")


def _load(case):
    from musicvae_tf.cli.export import load_model

    meta = json.loads((PARITY_DIR / case / "case.json").read_text())
    _, config, model = load_model(str(PARITY_DIR / case / "checkpoint"), meta["config"], meta["hparams"])
    return config, model, np.load(PARITY_DIR / case / "reference.npz")


@pytest.mark.parametrize("case", CASES)
def test_saved_model_in_a_fresh_process(case, tmp_path):
    from musicvae_tf.export import saved_model

    config, model, ref = _load(case)
    directory = tmp_path / "saved_model"
    saved_model.export_saved_model(model, str(directory))
    inputs, lengths = ref["inputs"].astype(np.float32), ref["lengths"].astype(np.int32)
    data = {"inputs": inputs, "lengths": lengths}
    controls = None
    if model.control_depth:
        data["batch_controls"] = ref["controls"].astype(np.float32)
        controls = data["controls"] = ref["controls"][0].astype(np.float32)
    np.savez(tmp_path / "data.npz", **data)
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(directory), str(tmp_path / "data.npz"),
                             str(tmp_path / "out.npz")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info == {"musicvae_tf_imported": False, "signatures": ["decode", "encode", "sample"]}
    got = np.load(tmp_path / "out.npz")

    mu, sigma = model.encode(inputs, lengths, data.get("batch_controls"))
    assert np.abs(got["mu"] - mu.numpy()).max() <= TOLERANCE
    assert np.abs(got["sigma"] - sigma.numpy()).max() <= TOLERANCE
    assert np.abs(got["mu"] - ref["mu"]).max() <= 1e-4  # and Magenta's own numbers
    T = inputs.shape[1]
    keras_decoded = model.sample(len(inputs), T, z=got["mu"], temperature=0.5, c_input=controls, seed=[7, 11])
    np.testing.assert_array_equal(got["decoded"], keras_decoded.samples.numpy())
    np.testing.assert_array_equal(got["greedy"], ref["greedy_samples_from_mu"].astype(np.float32))
    z_seed, decode_seed = tf.random.experimental.stateless_split(tf.constant([5, 6]), 2)
    z = tf.random.stateless_normal([3, model.z_size], seed=z_seed)
    np.testing.assert_array_equal(got["sample_z"], z.numpy())
    keras_sampled = model.sample(3, T, z=z, temperature=0.5, c_input=controls, seed=decode_seed)
    np.testing.assert_array_equal(got["sampled"], keras_sampled.samples.numpy())


@pytest.mark.parametrize("case", ["cat-mel_2bar_med_chords"])
def test_tflite_decoder_numbers(case):
    from musicvae_tf.export import saved_model

    config, model, ref = _load(case)
    batch = len(ref["mu"])
    interpreter = tf.lite.Interpreter(model_content=saved_model.convert_decoder_to_tflite(model, batch))
    runner = interpreter.get_signature_runner()
    controls = ref["controls"][0].astype(np.float32) if model.control_depth else None

    def decode(temperature):
        extra = {} if controls is None else {"controls": controls}
        return runner(z=ref["mu"], temperature=np.float32(temperature), **extra)["samples"]

    greedy = decode(1e-4)
    keras_greedy = model.sample(batch, ref["inputs"].shape[1], z=ref["mu"], temperature=1e-4, c_input=controls)
    np.testing.assert_array_equal(greedy, keras_greedy.samples.numpy())
    np.testing.assert_array_equal(greedy, ref["greedy_samples_from_mu"].astype(np.float32))
    sampled = decode(2.0)
    assert set(np.unique(sampled)) == {0.0, 1.0} and (sampled.sum(-1) == 1).all()
    assert (sampled != greedy).any()  # a high temperature leaves the greedy path


def test_export_cli_formats_and_refusals(tmp_path):
    from musicvae_tf.export import tfjs_weights

    case = "cat-mel_2bar_med_chords"
    meta = json.loads((PARITY_DIR / case / "case.json").read_text())
    base = console_command("music_vae_export") + [f"--config={case}", f"--hparams={meta['hparams']}",
                                                  f"--checkpoint_file={PARITY_DIR / case / 'checkpoint'}"]
    out = tmp_path / "js"
    result = subprocess.run(base + ["--format=magenta_js", f"--output_dir={out}", "--quantize=float16"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "float16 weights" in result.stdout
    spec = json.loads((out / "config.json").read_text())
    assert spec["chordEncoder"] == "TriadChordEncoder"
    weights = tfjs_weights.read_weights(str(out))
    reader = tf.train.load_checkpoint(str(PARITY_DIR / case / "checkpoint" / "model.ckpt-30"))
    stored = {n for n in reader.get_variable_to_shape_map() if n != "global_step"}
    assert set(weights) == stored  # every model weight under Magenta's name, nothing else
    for name in stored:
        want = reader.get_tensor(name)
        np.testing.assert_array_equal(weights[name], want.astype(np.float16).astype(np.float32))


def test_export_refusals_are_one_line(tmp_path, capsys):
    from musicvae_tf.cli import export

    case = "cat-mel_2bar_med_chords"
    meta = json.loads((PARITY_DIR / case / "case.json").read_text())
    base = ["music_vae_export", f"--config={case}", f"--hparams={meta['hparams']}",
            f"--checkpoint_file={PARITY_DIR / case / 'checkpoint'}"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    hierdec = PARITY_DIR / "hierdec-mel_16bar"
    hierdec_hparams = json.loads((hierdec / "case.json").read_text())["hparams"]
    runs = [
        (base + ["--format=saved_model", f"--output_dir={tmp_path / 'mine'}"], "is not empty"),
        (base + ["--format=onnx", f"--output_dir={tmp_path / 'x'}"], "--format must be one of"),
        (base + ["--format=saved_model", "--quantize=uint8", f"--output_dir={tmp_path / 'x'}"],
         "--quantize applies to --format=magenta_js only"),
        (["music_vae_export", "--config=hierdec-mel_16bar", f"--hparams={hierdec_hparams}",
          f"--checkpoint_file={hierdec / 'checkpoint'}", f"--output_dir={tmp_path / 'h'}"],
         "single-layer bidirectional encoders only"),
        (["music_vae_export", "--config=groovae_4bar", f"--output_dir={tmp_path / 'g'}"],
         "no packaged model for config 'groovae_4bar'"),
    ]
    for argv, message in runs:
        assert export.run_command(argv) == 1
        # In this process note_seq's first import may warn too; the tool's own output is one line.
        lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("music_vae_export")]
        assert len(lines) == 1 and lines[0].startswith("music_vae_export: error: ") and message in lines[0], lines
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
    assert not (tmp_path / "h").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize("export_format", ["magenta_js", "saved_model"])
def test_export_to_a_full_disk_is_one_line_and_leaves_nothing(export_format, small_disk, capsys):
    from musicvae_tf.cli import export

    out = small_disk(40) / "export"  # far smaller than the packaged model's weights
    argv = ["music_vae_export", "--config=cat-mel_2bar_small", f"--format={export_format}", f"--output_dir={out}"]
    assert export.run_command(argv) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("music_vae_export")]
    assert lines == [f"music_vae_export: error: cannot write the export to --output_dir {out}: No space left on "
                     "device; nothing written"]
    assert not out.exists()
