"""scripts/melody_greedy_errors.py on the packaged 2-bar model: its figures are shares, greedy below
teacher forcing, and a model with chords is refused in one line."""

import os
import re
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts",
                      "melody_greedy_errors.py")


def _run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, env=env, timeout=600)


def test_splits_the_greedy_accuracy_of_the_packaged_2bar_model():
    out = _run("--model=cat-mel_2bar_small", "--max_examples=24")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = {line.split(":")[0].strip(): line for line in out.stdout.splitlines()}
    assert "cat-mel_2bar_small" in lines and "24 held-out windows" in lines["cat-mel_2bar_small"]
    figures = {}
    for label in ("teacher-forced", "greedy"):
        values = [float(v) for v in re.findall(r"(\d\.\d{3})", lines[label])]
        assert len(values) == 4 and all(0 <= v <= 1 for v in values), lines[label]
        figures[label] = values
    # Free decoding cannot beat teacher forcing on the same windows by much; on pitch it is well below.
    assert figures["greedy"][0] <= figures["teacher-forced"][0] + 0.02
    assert figures["greedy"][2] < figures["teacher-forced"][2]
    by_step = [float(v) for v in lines["greedy by step in the bar"].split(":")[1].split()]
    assert len(by_step) == 16 and all(0 <= v <= 1 for v in by_step)
    assert len(lines["greedy by bar"].split(":")[1].split()) == 2


def test_a_chord_model_is_refused_in_one_line():
    out = _run("--model=cat-mel_2bar_med_chords", "--max_examples=4")
    assert out.returncode != 0
    assert "conditioned on chords" in out.stderr and "Traceback" not in out.stderr
