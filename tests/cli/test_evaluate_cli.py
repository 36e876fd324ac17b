"""music_vae_evaluate end to end on the packaged cat-mel_2bar_small model, and its one-line errors."""

import json
import os
import subprocess

import pytest

from conftest import console_command
from kit import DEMO_DIR, needs_demo_model
from musicvae_tf import configs
from musicvae_tf.cli import evaluate



def _run(*args, cwd=None):
    return subprocess.run(console_command("music_vae_evaluate") + list(args), capture_output=True, text=True, timeout=300, cwd=cwd)


@needs_demo_model
def test_console_script_on_the_demo_model(tmp_path):
    output = tmp_path / "out" / "eval.json"
    result = _run("--config=cat-mel_2bar_small", "--max_examples=40", "--num_samples=30", "--seed=3",
                  f"--output_json={output}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # quiet start-up, no warnings at the default log level
    assert "teacher-forced" in result.stdout and "inter_onset_interval" in result.stdout
    report = json.loads(output.read_text())
    assert report["config"] == "cat-mel_2bar_small"
    assert report["checkpoint"].endswith(os.path.basename(DEMO_DIR))
    assert report["examples_path"].endswith("folk_eval.tfrecord")
    accuracy = report["reconstruction"]
    assert (accuracy["num_examples"], accuracy["num_steps"]) == (40, 40 * 32)
    # The packaged model scores 0.977 teacher-forced on all of folk_eval (docs/models.md), 0.972 on these 40
    # (2026-12-02, the 110000-step model); sampling is worse.
    assert 0.9 < accuracy["teacher_forced_accuracy"] < 0.99
    assert accuracy["sampled_accuracy"] < accuracy["teacher_forced_accuracy"]
    assert f"{accuracy['teacher_forced_accuracy']:.4f}" in result.stdout
    comparison = report["feature_distributions"]
    assert (comparison["num_reference"], comparison["num_generated"]) == (40, 30)
    assert list(comparison["features"]) == ["pitch_count", "pitch_class_histogram", "note_length_histogram",
                                            "inter_onset_interval"]
    for figures in comparison["features"].values():
        assert 0.0 < figures["overlap_area"] <= 1.0
        assert figures["kl_divergence"] >= 0.0
        assert figures["num_reference"] + figures["dropped_reference"] == 40
    assert report["settings"]["seed"] == 3 and report["settings"]["hparams"]["z_size"] == 128


@needs_demo_model
def test_config_that_does_not_match_the_checkpoint_is_one_line_error():
    """Through the console script; the other bad inputs below run in-process (same code path)."""
    result = _run("--config=hierdec-mel_16bar", f"--checkpoint_file={DEMO_DIR}")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "was trained with config 'cat-mel_2bar_small', not 'hierdec-mel_16bar'" in lines[0]


@pytest.mark.parametrize("args, message", [
    (["--config=cat-mel_2bar_smal"], "unknown config 'cat-mel_2bar_smal'. Did you mean cat-mel_2bar_small"),
    (["--config=cat-drums_2bar_small"], "no packaged model for config 'cat-drums_2bar_small'"),
    (["--config=cat-mel_2bar_small", "--checkpoint_file=/no/such/checkpoint"], "checkpoint not found"),
    (["--config=cat-mel_2bar_small", "--examples_path=/no/such.tfrecord"],
     "No NoteSequence TFRecord file matches: /no/such.tfrecord"),
    (["--config=cat-mel_2bar_small", "--features=pitch_count,tempo"], "unknown --features tempo"),
    (["--config=cat-mel_2bar_small", "--max_examples=-1"], "--max_examples must be 0 or more"),
    (["--config=cat-mel_2bar_small", "--temperature=0"], "--temperature must be positive"),
    (["--config=cat-mel_2bar_small", "--hparams=z_size=64"],
     "--hparams z_size=64 conflicts with the checkpoint's z_size=128"),
])
def test_bad_input_is_one_line_error(args, message, capsys):
    assert evaluate.run_command(["music_vae_evaluate"] + args) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("music_vae_evaluate: error: ")
    assert message in lines[0]
