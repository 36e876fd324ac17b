"""benchmarks/compare_magenta.py: its argument handling, arithmetic and the port's generate command
(the measuring itself runs only on demand, against a Magenta checkout)."""

import argparse
import subprocess
import sys

import pytest

import kit
from conftest import TESTS_DIR  # noqa: E402

sys.path.insert(0, str(TESTS_DIR.parent / "benchmarks"))
import compare_magenta  # noqa: E402


def test_pair_ratios_say_how_many_times_faster_the_port_is():
    # Rates: port / Magenta; walls (lower is better): Magenta / port; a missing figure stays None.
    assert compare_magenta.pair_ratios([40.0, 50.0, None], [100.0, 75.0, 80.0]) == [2.5, 1.5, None]
    assert compare_magenta.pair_ratios([9.0, 12.0], [3.0, 0.0], lower_is_better=True) == [3.0, None]


def test_spread_is_min_median_max_of_the_present_figures():
    assert compare_magenta.spread([3.0, None, 1.0, 2.0, 10.0]) == (1.0, 2.5, 10.0)
    assert compare_magenta.spread([None, None]) is None


def test_flop_fraction():
    # 100 examples/s x 0.702 GFLOP = 70.2 GFLOP/s of a 117 GFLOP/s machine.
    assert compare_magenta.flop_fraction(100.0, 0.702, 117.0) == pytest.approx(0.6)
    assert compare_magenta.flop_fraction(100.0, None, 117.0) is None


def test_case_report_lists_each_pair_and_the_spread():
    spec = compare_magenta.CASES["train-2bar"]
    record = {"magenta": [{"value": 40.0, "peak_rss_mb": 1400.0}, None],
              "port": [{"value": 100.0, "peak_rss_mb": 1000.0, "fraction_of_matmul": 0.6},
                       {"value": 90.0, "peak_rss_mb": 1100.0, "fraction_of_matmul": 0.5}]}
    lines = compare_magenta.case_report("train-2bar", spec, record)
    assert "| 1 | 40 | 100 | x2.50 | 1400 | 1000 | 60% |" in lines
    assert "| 2 | - | 90 | - | - | 1100 | 50% |" in lines
    assert lines[-1].startswith("| min / median / max | 40 / 40 / 40 | 90 / 95 / 100 | 2.5 / 2.5 / 2.5 |")


def test_arguments(tmp_path):
    with pytest.raises(SystemExit):
        compare_magenta.parse_args(["--magenta_path", str(tmp_path), "--magenta_python", sys.executable])
    (tmp_path / "magenta" / "models" / "music_vae").mkdir(parents=True)
    args = compare_magenta.parse_args(["--magenta_path", str(tmp_path), "--magenta_python", sys.executable,
                                       "--cases", "train-2bar", "generate-2bar"])
    assert args.cases == ["train-2bar", "generate-2bar"]
    assert compare_magenta.rounds_for("train-hierdec", args.rounds) == 1
    assert compare_magenta.rounds_for("train-2bar", args.rounds) == 3
    assert compare_magenta.rounds_for("train-hierdec", 2) == 2
    with pytest.raises(SystemExit):
        compare_magenta.parse_args(["--magenta_path", str(tmp_path), "--magenta_python", sys.executable,
                                    "--cases", "no-such-case"])
    with pytest.raises(SystemExit):
        compare_magenta.parse_args(["--magenta_path", str(tmp_path), "--magenta_python",
                                    str(tmp_path / "missing-python")])
    # Port-side checkpoint making (an internal child run) needs no Magenta checkout.
    assert compare_magenta.parse_args(["--magenta_path", "", "--magenta_python", "",
                                       "--port_checkpoint", "cat-mel_2bar_small", "x"]).port_checkpoint


def test_port_generate_writes_midi_files_only_as_magentas_does(tmp_path):
    """generate-2bar/-hierdec time both CLIs doing the same work: MIDI files out, no WAVs."""
    checkpoint = kit.tiny_checkpoint(tmp_path / "cat-mel_tiny")
    out = tmp_path / "out"
    out.mkdir()
    command = compare_magenta.port_generate_command(checkpoint, "cat-mel_2bar_small", 3, str(out))
    result = subprocess.run(command, capture_output=True, text=True, env=compare_magenta.port_env(),
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert compare_magenta.written_files(str(out)) == (3, [])
    (out / "extra.wav").write_bytes(b"")
    assert compare_magenta.written_files(str(out)) == (3, ["extra.wav"])


def test_magenta_training_killed_before_its_timed_steps_runs_again_with_onednn_off(monkeypatch, tmp_path):
    calls = []

    def run_child(args, kind, config, batch, hparams, steps, train_dir, time_limit=None, python=None, env=None):
        calls.append(env)
        if env is None:  # TensorFlow's defaults: killed for memory before any step
            return None, [], False
        assert env["TF_ENABLE_ONEDNN_OPTS"] == "0"
        return {"run_seconds": [300.0, 200.0], "peak_rss_mb": 19000.0}, [], False

    monkeypatch.setattr(compare_magenta.magenta_reference, "run_child", run_child)
    args = argparse.Namespace(magenta_python="python", build_limit=1.0, step_limit=1.0)
    spec = compare_magenta.CASES["train-hierdec"]
    figure = compare_magenta.run_magenta(args, "train-hierdec", spec, str(tmp_path))
    assert len(calls) == 2 and calls[0] is None
    assert figure["value"] == spec["batch"] / 200.0 and figure["note"] == compare_magenta.ONEDNN_OFF_NOTE
    record = {"magenta": [figure], "port": [{"value": 0.5, "peak_rss_mb": 7000.0}]}
    lines = compare_magenta.case_report("train-hierdec", spec, record)
    assert lines[-1] == f"Magenta round 1: {compare_magenta.ONEDNN_OFF_NOTE}"
    assert "| 1 | 0.08 | 0.5 | x6.25 | 19000 | 7000 | - |" in lines


def test_magenta_checkpoint_run_falls_back_to_onednn_off_once(monkeypatch, tmp_path):
    envs = []

    def run_child(args, kind, config, batch, hparams, steps, train_dir, time_limit=None, python=None, env=None):
        envs.append(None if env is None else env["TF_ENABLE_ONEDNN_OPTS"])
        return (None if env is None else {"peak_rss_mb": 1.0}), [], False

    monkeypatch.setattr(compare_magenta.magenta_reference, "run_child", run_child)
    monkeypatch.setattr(compare_magenta, "_CHECKPOINTS", {})
    args = argparse.Namespace(magenta_python="python", build_limit=1.0, step_limit=1.0)
    directory = compare_magenta.magenta_checkpoint(args, "hierdec-mel_16bar", str(tmp_path))
    assert envs == [None, "0"] and directory.endswith("magenta-hierdec-mel_16bar-checkpoint")
    assert compare_magenta.magenta_checkpoint(args, "hierdec-mel_16bar", str(tmp_path)) == directory
    assert envs == [None, "0"]  # made once


def test_package_versions_are_read_without_imports():
    import importlib.metadata

    text = compare_magenta.package_versions(sys.executable)
    assert f"numpy {importlib.metadata.version('numpy')}" in text.split(", ")
    assert compare_magenta.package_versions("/nonexistent/python") == "unknown"
