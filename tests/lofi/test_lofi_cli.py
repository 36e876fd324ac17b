"""music_vae_lofi through its console script: a whole loop from the fixture models, and bad input."""

import json
import os
import re
import subprocess

import pytest

from conftest import PARITY_DIR, SHARED_PARITY_DIR, console_command
from musicvae_tf import render

_OWN_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \w+\.py:\d+\] ")


def _run(args, timeout=600):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([*console_command("music_vae_lofi"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _model_flags(case_dir, prefix=""):
    case = json.loads((case_dir / "case.json").read_text())
    checkpoint = case_dir.parent / case["checkpoint"]
    name = "checkpoint_file" if not prefix else f"{prefix}checkpoint"
    return [f"--{name}={checkpoint}", f"--{prefix}config={case['config']}", f"--{prefix}hparams={case['hparams']}"]


def _drums_case():
    for base in (PARITY_DIR, SHARED_PARITY_DIR):
        case = base / "cat-drums_2bar_small"
        if (case / "case.json").is_file() and (case / "checkpoint").is_dir():
            return case
    return None


def test_console_script_makes_a_loop_in_a_new_folder(tmp_path):
    out = tmp_path / "loop"
    out.mkdir()
    (out / "mix.wav").write_text("mine")  # a file of the same name must survive
    drums_case = _drums_case()
    args = [*_model_flags(PARITY_DIR / "cat-mel_2bar_med_chords"), f"--output_dir={out}", "--num_bars=2",
            "--qpm=75", "--seed=3", "--chord_progression=Dm7 G7", "--sample_rate=16000", "--renderer=builtin"]
    if drums_case:
        args += _model_flags(drums_case, prefix="drums_")
    result = _run(args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "mix.wav").read_text() == "mine" and os.listdir(out) == ["mix.wav"]
    written = tmp_path / "loop_2"
    # One summary line on stdout; progress as log lines on stderr.
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("music_vae_lofi: 2 bars of Dm7 G7 at 75 qpm, seed 3 -> ")
    assert f"{written / 'mix.wav'}: 6.4 s" in lines[0]
    assert "renderer: built-in synth" in lines[0]
    assert all(_OWN_LOG_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    for step in ("rendering melody (1/4)", "rendering drums (4/4)", "mastering", "writing the files"):
        assert step in result.stderr
    samples, rate = render.read_wav(str(written / "mix.wav"))
    assert rate == 16000 and samples.shape == (2, int(round(2 * 4 * 60 / 75 * 16000)))
    record = json.loads((written / "loop.json").read_text())
    assert record["settings"]["seed"] == 3
    assert record["models"]["melody"].startswith("cat-mel_2bar_med_chords from ")
    if drums_case:
        assert record["models"]["drums"].startswith("cat-drums_2bar_small from ")
        assert record["figures"]["parts"]["drums"]["notes"] > 0
    else:
        assert record["models"]["drums"].startswith("pattern ")


@pytest.mark.parametrize("args, message", [
    (["--chord_progression=Am7 Xq7 C"], "unknown chord symbol 'Xq7'"),
    (["--overlay=/nonexistent/rain.wav"], "overlay not found: /nonexistent/rain.wav"),
    (["--num_bars=-2"], "--num_bars must be at least 1, got -2"),
    (["--progression=ii-V-I", "--chord_progression=C G"], "--progression and --key choose a preset"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    result = _run([f"--output_dir={tmp_path / 'never'}", *args], timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("music_vae_lofi: error: ") and message in lines[0]
    assert not (tmp_path / "never").exists()


def test_the_packaged_chord_model_is_the_default_melody_model(tmp_path):
    from musicvae_tf.cli import lofi

    packaged = tmp_path / "pretrained"
    (packaged / "cat-mel_2bar_small.folk").mkdir(parents=True)
    # Only the unconditioned model packaged: the default falls back to it.
    assert lofi.melody_config("cat-mel_2bar_med_chords", None, packaged) == "cat-mel_2bar_small"
    # A given checkpoint or another config is used as given.
    assert lofi.melody_config("cat-mel_2bar_med_chords", "/my/run", packaged) == "cat-mel_2bar_med_chords"
    assert lofi.melody_config("cat-mel_2bar_big", None, packaged) == "cat-mel_2bar_big"
    # Once the chord model is packaged, it is the default.
    (packaged / "cat-mel_2bar_med_chords.folk").mkdir()
    assert lofi.melody_config("cat-mel_2bar_med_chords", None, packaged) == "cat-mel_2bar_med_chords"


def test_full_disk_is_one_line_and_leaves_nothing_half_written(small_disk):
    out = small_disk(40) / "loop"  # smaller than mix.wav
    result = _run([f"--output_dir={out}", "--seed=3"])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (f"music_vae_lofi: error: cannot write to --output_dir {out}: "
                                                      "No space left on device (0 complete files written)")
    assert os.listdir(out) == []


def _silent_model(config_name, directory):
    """A tiny model of `config_name` whose every step is class 0 (melody: no event; drums: no hit)."""
    import numpy as np

    from kit import TINY
    from musicvae_tf import checkpoints, configs
    from musicvae_tf.model import build_model

    model = build_model(configs.get_config(config_name, TINY), config_name=config_name)
    projection = model.decoder.output_projection
    projection.kernel.assign(np.zeros(projection.kernel.shape, np.float32))
    bias = np.zeros(projection.bias.shape, np.float32)
    bias[0] = 50.0
    projection.bias.assign(bias)
    return checkpoints.save_model(model, str(directory / config_name)), TINY


def test_a_loop_with_no_note_in_any_part_is_one_line(tmp_path):
    """Every bar N.C. (no keys, no bass) and models that play nothing: nothing to mix."""
    melody, melody_hparams = _silent_model("cat-mel_2bar_med_chords", tmp_path)
    drums, drums_hparams = _silent_model("cat-drums_2bar_small", tmp_path)
    out = tmp_path / "loop"
    result = _run([f"--output_dir={out}", "--num_bars=2", "--seed=1", "--sample_rate=16000", "--renderer=builtin",
                   "--chord_progression=N.C. N.C.", "--log=WARNING",
                   f"--checkpoint_file={melody}", "--config=cat-mel_2bar_med_chords", f"--hparams={melody_hparams}",
                   f"--drums_checkpoint={drums}", "--drums_config=cat-drums_2bar_small",
                   f"--drums_hparams={drums_hparams}"], timeout=300)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "music_vae_lofi: error: the loop would be silent: the chords are N.C. N.C. and the melody and drums "
        "played no note (try other chords or --seed); nothing written"], result.stderr
    assert sorted(os.listdir(tmp_path)) == ["cat-drums_2bar_small", "cat-mel_2bar_med_chords"]  # no folder left
