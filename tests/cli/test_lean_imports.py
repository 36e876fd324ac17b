"""cli.lean_imports: a console script with the lean start-up writes the same files as with the full
one, loads far fewer modules, and every deferred package still imports and works afterwards."""
import json
import pathlib
import subprocess
import sys

import pytest

import kit

# Runs in a fresh interpreter: music_vae_generate's console entry point (default outputs: MIDI +
# WAV), then the tool again with --plot (matplotlib's PNGs), seeded, with the lean start-up or the
# one before it ("full"); then uses the deferred packages.
_RUN = r"""
import json, sys, types
mode, checkpoint, out = sys.argv[1:4]
from musicvae_tf.cli import generate, lean_imports
# One time stamp for both runs: it is in the file names and the PNGs' titles.
generate.time = types.SimpleNamespace(strftime=lambda pattern: "2026-12-01_120000")
installs, install = [], lean_imports.install
def counted_install():  # run_script's; "full" keeps the start-up as it was before lean_imports
    installs.append(mode)
    if mode == "lean":
        install()
lean_imports.install = counted_install
run = generate.run
def seeded_run():  # the same random draws in both processes
    import numpy as np
    import tensorflow as tf
    np.random.seed(0)
    tf.random.set_seed(0)
    return run()
generate.run = seeded_run
flags = [f"--checkpoint_file={checkpoint}", "--mode=sample", "--num_outputs=3", "--max_batch_size=2",
         "--log=WARNING"]
sys.argv = ["music_vae_generate"] + flags + [f"--output_dir={out}/default"]
try:
    generate.TOOL.console_entry_point()
except SystemExit as exit_request:
    assert exit_request.code == 0, exit_request.code
modules = sorted(name for name, module in sys.modules.items() if module is not None)
assert generate.TOOL.run_command(["music_vae_generate"] + flags
                                 + [f"--output_dir={out}/plot", "--plot", "--norender_wav"]) == 0

# The deferred packages, imported after the tools' start-up, as music_vae_lofi and users do.
import note_seq
import numpy as np
from musicvae_tf.lofi import mixing
hiss = mixing.vinyl_noise(2000, 16000, np.random.default_rng(3), 0.5)  # scipy.signal.lfilter
tone = (0.5 * np.sin(np.arange(1600) * 0.1)).astype(np.float32)
wav = note_seq.audio_io.samples_to_wav_data(tone, 16000)  # scipy.io.wavfile
from note_seq.audio_io import wav_data_to_samples  # librosa
back = wav_data_to_samples(wav, 16000)
import pandas, sklearn.linear_model, IPython
fit = sklearn.linear_model.LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
print(json.dumps({
    "modules": modules,
    "installs": installs,
    "hiss": [float(hiss.sum()), float(np.abs(hiss).max())],
    "tone_error": float(np.abs(back - tone).max()),
    "audio_io": note_seq.audio_io.__name__ + ":" + type(sys.modules["note_seq.audio_io"]).__name__,
    "plot_sequence": note_seq.plot_sequence.__module__,
    "bokeh": note_seq.notebook_utils.bokeh.__name__,  # bokeh, through notebook_utils
    "notebook_utils": sys.modules["note_seq.notebook_utils"].__file__.endswith("notebook_utils.py"),
    "frame": int(pandas.DataFrame({"a": [1, 2, 3]})["a"].sum()),
    "slope": float(fit.coef_[0]),
    "ipython": IPython.version_info[0] > 0,
}))
"""
# Packages the full start-up loads and the lean one does not (note_seq.melody_inference needs
# scipy.linalg, which stays; scipy.stats and scipy.io come from Keras' optional imports and audio_io).
NOT_LOADED = ("sklearn", "matplotlib", "pandas", "IPython", "bokeh", "librosa", "pydub", "scipy.stats", "scipy.io")
# Of those, what `import musicvae_tf` already defers to first use (musicvae_tf.deferred_imports):
# note_seq's audio_io and notebook_utils, so the full start-up loads them no more.
NOTE_SEQ_EXTRAS = ("bokeh", "librosa", "pydub", "scipy.io")


def _packages(modules):
    return {package for package in NOT_LOADED for name in modules
            if name == package or name.startswith(package + ".")}


def _run(mode, checkpoint, out):
    result = subprocess.run([sys.executable, "-c", _RUN, mode, str(checkpoint), str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _outputs(folder):
    """{'default/<name>.mid': bytes, ...}: every file written."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(pathlib.Path(folder).rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    checkpoint = kit.tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "cat-mel_tiny")
    results = {}
    for mode in ("full", "lean"):
        out = tmp_path_factory.mktemp(mode)
        results[mode] = dict(_run(mode, checkpoint, out), files=_outputs(out))
    return results


def test_generate_writes_the_same_files_with_the_lean_start_up(runs):
    # The console script arms it, once (in "full" the call does nothing).
    assert runs["lean"]["installs"] == ["lean"] and runs["full"]["installs"] == ["full"]
    full, lean = runs["full"]["files"], runs["lean"]["files"]
    kinds = sorted(name.rpartition(".")[2] for name in full)
    assert kinds.count("mid") == 6 and kinds.count("wav") == 3 and kinds.count("png") == 3, sorted(full)
    assert sorted(lean) == sorted(full)
    for name in full:
        assert lean[name] == full[name], name  # MIDI, WAV and matplotlib's PNG: byte for byte


def test_the_lean_start_up_loads_none_of_the_optional_packages(runs):
    full, lean = set(runs["full"]["modules"]), set(runs["lean"]["modules"])
    assert lean <= full  # nothing loaded that the full start-up does not load
    assert _packages(full) == set(NOT_LOADED) - set(NOTE_SEQ_EXTRAS)
    assert _packages(lean) == set()
    # 4344 -> 3177 modules with TF 2.21, Keras 3.15, note-seq 0.0.5 (4601 before the library deferred
    # note_seq's extras; the count varies by a few dozen with what is installed).
    assert len(full) - len(lean) >= 1000, (len(full), len(lean))


def test_deferred_packages_work_after_the_lean_start_up(runs):
    full, lean = runs["full"], runs["lean"]
    assert lean["hiss"] == full["hiss"] and lean["hiss"][1] > 0
    assert lean["tone_error"] < 1e-3 and full["tone_error"] < 1e-3
    # Used once, note_seq.audio_io is the real module, in sys.modules and on the package.
    assert lean["audio_io"] == full["audio_io"] == "note_seq.audio_io:module"
    for key in ("plot_sequence", "bokeh", "notebook_utils", "frame", "slope", "ipython"):
        assert lean[key] == full[key]
    assert lean["plot_sequence"] == "note_seq.notebook_utils" and lean["notebook_utils"]
    assert lean["frame"] == 6 and lean["slope"] == pytest.approx(2.0)
