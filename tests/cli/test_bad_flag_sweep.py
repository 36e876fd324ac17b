"""Every console script with bad flag values: one line `<tool>: error: <why>` on stderr, exit 1, no traceback.

The cases run through each tool's console entry point (what the installed script calls: quiet start,
flag parsing, the tool, sys.exit), all in one child process so that TensorFlow is imported once;
stderr is captured at the file-descriptor level per case. A few cases also run as the installed
scripts themselves (`test_installed_scripts_agree`). Tools other helpers add join the sweep by a
CASES entry; a tool that is not installed is skipped, saying so.
"""

import importlib
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

from conftest import TESTS_DIR, console_command

# {tool: [(argv, expected part of the error line)]}. Paths: {tmp} is a scratch folder holding
# good.mid, corrupt.mid, empty.mid, notes.txt, a folder `folder/`, `folder_with_a_file/mine.txt` and
# nothing named missing*.
CASES = {
    "music_vae_train": [
        ([], "--run_dir is required"),
        (["--run_dir={tmp}/r"], "--config is required"),
        (["--run_dir={tmp}/r", "--config=nope"], "unknown config 'nope'"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--num_steps=ten"], "--num_steps"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--num_steps=-1"], "--num_steps=-1"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--num_steps=1.5"], "--num_steps"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--save_checkpoint_secs=-5"], "--save_checkpoint_secs"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--log_every_n_steps=0"], "--log_every_n_steps"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--checkpoints_to_keep=-1"], "--checkpoints_to_keep"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--keep_checkpoint_every_n_hours=-2"],
         "--keep_checkpoint_every_n_hours"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--eval_num_batches=0"], "--eval_num_batches"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--mode=predict"], "--mode"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--strategy=tpu"], "--strategy"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--cache_dataset=maybe"], "--cache_dataset"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--log=LOUD"], "--log must be"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--bogus=1"], "Unknown command line flag 'bogus'"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "extra_argument"], "unexpected arguments"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=batch_size"], "malformed hparams"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=batch_size=big"], "batch_size"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=no_such_hparam=1"], "no_such_hparam"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=z_size=-4"], "z_size=-4"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=enc_rnn_size=[]"], "enc_rnn_size=[]"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=dec_rnn_size=[16,-2]"], "dec_rnn_size"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=batch_size=0"], "batch_size=0"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=learning_rate=0"], "learning_rate"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--hparams=max_seq_len=0"], "max_seq_len=0"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--examples_path={tmp}/missing.tfrecord"],
         "no file matches --examples_path"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--examples_path={tmp}/folder"], "is a folder"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--examples_path={tmp}/good.mid",
          "--tfds_name=lmd"], "at most one of --examples_path and --tfds_name"),
        (["--run_dir={tmp}/r", "--config=cat-mel_2bar_small", "--mode=eval", "--eval_once",
          "--eval_num_batches=1"], "no checkpoint in"),
    ],
    "music_vae_generate": [
        (["--config=nope"], "unknown config 'nope'"),
        (["--config=cat-mel_2bar_small", "--mode=remix"], "invalid --mode"),
        (["--config=cat-mel_2bar_small", "--num_outputs=0"], "--num_outputs must be at least 1"),
        (["--config=cat-mel_2bar_small", "--num_outputs=-3"], "--num_outputs must be at least 1"),
        (["--config=cat-mel_2bar_small", "--num_outputs=many"], "--num_outputs"),
        (["--config=cat-mel_2bar_small", "--max_batch_size=0"], "--max_batch_size must be at least 1"),
        (["--config=cat-mel_2bar_small", "--seed=-1"], "--seed must be between 0 and 2**32 - 1"),
        (["--config=cat-mel_2bar_small", "--temperature=0"], "--temperature must be a positive number"),
        (["--config=cat-mel_2bar_small", "--temperature=-1"], "--temperature must be a positive number"),
        (["--config=cat-mel_2bar_small", "--temperature=nan"], "--temperature must be a positive number"),
        (["--config=cat-mel_2bar_small", "--temperature=hot"], "--temperature"),
        (["--config=cat-mel_2bar_small", "--qpm=0"], "--qpm must be a positive number"),
        (["--config=cat-mel_2bar_small", "--qpm=inf"], "--qpm must be a positive number"),
        (["--config=cat-mel_2bar_small", "--loop_bars=0"], "--loop_bars must be at least 1"),
        (["--config=cat-mel_2bar_small", "--attribute_scale=nan"], "--attribute_scale must be a number"),
        (["--config=cat-mel_2bar_small", "--plot=maybe"], "--plot"),
        (["--config=cat-mel_2bar_small", "--log=LOUD"], "--log must be"),
        (["--config=cat-mel_2bar_small", "--bogus"], "Unknown command line flag 'bogus'"),
        (["--config=cat-mel_2bar_small", "positional"], "unexpected arguments"),
        (["--config=cat-mel_2bar_small", "--mode=interpolate"], "--input_midi_1 and --input_midi_2 are required"),
        (["--config=cat-mel_2bar_small", "--mode=interpolate", "--input_midi_1={tmp}/missing.mid",
          "--input_midi_2={tmp}/good.mid", "--output_dir={tmp}/out"], "input MIDI file not found"),
        (["--config=cat-mel_2bar_small", "--mode=interpolate", "--input_midi_1={tmp}/corrupt.mid",
          "--input_midi_2={tmp}/good.mid", "--output_dir={tmp}/out"], "cannot read MIDI file"),
        (["--config=cat-mel_2bar_small", "--mode=interpolate", "--input_midi_1={tmp}/folder",
          "--input_midi_2={tmp}/good.mid", "--output_dir={tmp}/out"], "input MIDI file not found"),
        (["--config=cat-mel_2bar_small", "--checkpoint_file={tmp}/missing.tar"], "checkpoint not found"),
        (["--config=cat-mel_2bar_small", "--checkpoint_file={tmp}/notes.txt", "--output_dir={tmp}/out"],
         "cannot load checkpoint"),
        (["--config=cat-mel_2bar_small", "--checkpoint_file={tmp}/folder", "--output_dir={tmp}/out"],
         "cannot load checkpoint"),
        (["--config=cat-mel_2bar_small", "--run_dir={tmp}/folder"], "run directory has no `train` folder"),
        (["--config=cat-drums_2bar_small"], "no packaged model"),
        (["--config=cat-mel_2bar_small", "--hparams=z_size=abc"], "z_size"),
        (["--config=cat-mel_2bar_small", "--hparams=nonsense"], "hparam"),
        (["--config=cat-mel_2bar_small", "--hparams=z_size=7"], "conflicts with the checkpoint"),
        (["--config=cat-mel_2bar_small", "--attribute=loudness"], "loudness"),
        (["--config=cat-mel_2bar_small", "--attribute=note_density"], "--attribute needs"),
        (["--config=cat-mel_2bar_small", "--attribute=note_density", "--attribute_examples_path={tmp}/missing"],
         "--attribute_examples_path not found"),
        (["--config=cat-mel_2bar_small", "--renderer=tape"], "tape"),
        (["--config=cat-mel_2bar_small", "--soundfont={tmp}/missing.sf2"], "soundfont not found"),
        (["--config=cat-mel_2bar_small", "--output_dir={tmp}/good.mid/out"], "cannot create --output_dir"),
    ],
    "music_vae_evaluate": [
        (["--config=nope"], "unknown config 'nope'"),
        (["--config=cat-mel_2bar_small", "--max_examples=-1"], "--max_examples must be 0 or more"),
        (["--config=cat-mel_2bar_small", "--num_samples=-1"], "--num_samples must be 0 or more"),
        (["--config=cat-mel_2bar_small", "--temperature=0"], "--temperature must be positive"),
        (["--config=cat-mel_2bar_small", "--temperature=nan"], "--temperature must be positive"),
        (["--config=cat-mel_2bar_small", "--batch_size=0"], "--batch_size at least 1"),
        (["--config=cat-mel_2bar_small", "--batch_size=x"], "--batch_size"),
        (["--config=cat-mel_2bar_small", "--features=loudness"], "unknown --features loudness"),
        (["--config=cat-mel_2bar_small", "--features="], "unknown --features"),
        (["--config=cat-mel_2bar_small", "--seed=abc"], "--seed"),
        (["--config=cat-mel_2bar_small", "--posterior_sample=perhaps"], "--posterior_sample"),
        (["--config=cat-mel_2bar_small", "--log=LOUD"], "--log must be"),
        (["--config=cat-mel_2bar_small", "--bogus=2"], "Unknown command line flag 'bogus'"),
        (["--config=cat-mel_2bar_small", "extra"], "unexpected arguments"),
        (["--config=cat-mel_2bar_small", "--checkpoint_file={tmp}/missing"], "checkpoint not found"),
        (["--config=cat-mel_2bar_small", "--checkpoint_file={tmp}/notes.txt"], "cannot load checkpoint"),
        (["--config=cat-mel_2bar_small", "--run_dir={tmp}/folder"], "run directory has no `train` folder"),
        (["--config=cat-drums_2bar_small"], "no packaged model"),
        (["--config=cat-mel_2bar_small", "--hparams=z_size=7"], "conflicts with the checkpoint"),
        (["--config=cat-mel_2bar_small", "--examples_path={tmp}/missing.tfrecord"], "missing.tfrecord"),
        (["--config=cat-mel_2bar_small", "--examples_path={tmp}/good.mid"], "good.mid"),
        (["--config=cat-mel_2bar_small", "--output_json={tmp}/folder"], "--output_json is a folder"),
        (["--config=cat-mel_2bar_small", "--output_json={tmp}/notes.txt"], "exists; it is never overwritten"),
    ],
    "music_vae_convert": [
        ([], "--input_dir is required"),
        (["--input_dir={tmp}/folder"], "--output_file is required"),
        (["--input_dir={tmp}/missing", "--output_file={tmp}/o.tfrecord"], "--input_dir is not a directory"),
        (["--input_dir={tmp}/good.mid", "--output_file={tmp}/o.tfrecord"], "--input_dir is not a directory"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/folder"], "--output_file is a directory"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/good.mid"], "--output_file exists"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/good.mid/o.tfrecord"], "part of its folder path is a file"),
        (["--input_dir={tmp}/folder", "--output_file=/proc/nope/o.tfrecord"], "cannot write --output_file"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--num_workers=0"],
         "--num_workers must be at least 1"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--num_workers=two"], "--num_workers"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--recursive=sometimes"], "--recursive"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--config=nope"], "unknown config 'nope'"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--log=LOUD"], "--log must be"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "--bogus"], "Unknown command line flag"),
        (["--input_dir={tmp}/folder", "--output_file={tmp}/o.tfrecord", "more"], "unexpected arguments"),
    ],
    "music_vae_quickstart": [
        (["--num_samples=0"], "--num_samples"),
        (["--num_samples=x"], "--num_samples"),
        (["--interpolation_steps=1"], "--interpolation_steps"),
        (["--temperature=0"], "--temperature"),
        (["--temperature=nan"], "--temperature"),
        (["--temperature=warm"], "--temperature"),
        (["--seed=s"], "--seed"),
        (["--model_dir={tmp}/missing"], "missing"),
        (["--model_dir={tmp}/folder"], "folder"),
        (["--output_dir={tmp}/good.mid/out"], "cannot create --output_dir"),
        (["--renderer=tape"], "tape"),
        (["--soundfont={tmp}/missing.sf2"], "soundfont not found"),
        (["--bogus"], "Unknown command line flag"),
        (["extra"], "unexpected arguments"),
    ],
    "music_vae_lofi": [
        (["--num_bars=0"], "--num_bars"),
        (["--num_bars=-8"], "--num_bars"),
        (["--num_bars=eight"], "--num_bars"),
        (["--qpm=0"], "--qpm"),
        (["--qpm=nan"], "--qpm"),
        (["--swing=2"], "--swing"),
        (["--humanize=-1"], "--humanize"),
        (["--temperature=0"], "--temperature"),
        (["--temperature=nan"], "--temperature"),
        (["--chord_progression=Xq7 Zz"], "Xq7"),
        (["--progression=nope"], "nope"),
        (["--key=H"], "H"),
        (["--config=nope"], "nope"),
        (["--drums_config=nope", "--drums_checkpoint={tmp}/missing"], "nope"),
        (["--checkpoint_file={tmp}/missing"], "missing"),
        (["--drum_pattern=polka"], "polka"),
        (["--melody_program=200"], "--melody_program"),
        (["--bass_program=-1"], "--bass_program"),
        (["--sample_rate=0"], "--sample_rate"),
        (["--lowpass_hz=-5"], "--lowpass_hz"),
        (["--bit_depth=-3"], "--bit_depth"),
        (["--wow=nan"], "--wow"),
        (["--vinyl=5"], "--vinyl"),
        (["--overlay_db=nan"], "--overlay_db"),
        (["--renderer=tape"], "tape"),
        (["--output_dir={tmp}/good.mid/out"], "cannot create --output_dir"),
        (["--bogus"], "Unknown command line flag"),
        (["extra"], "unexpected arguments"),
    ],
    "music_vae_export": [
        ([], "--output_dir is required"),
        (["--output_dir={tmp}/x"], "--config, --checkpoint_file or --run_dir is required"),
        (["--output_dir={tmp}/x", "--config=nope"], "unknown config 'nope'"),
        (["--output_dir={tmp}/x", "--config=cat-mel_2bar_small", "--format=onnx"], "--format must be one of"),
        (["--output_dir={tmp}/x", "--config=cat-mel_2bar_small", "--quantize=int4"], "--quantize must be"),
        (["--output_dir={tmp}/x", "--config=cat-mel_2bar_small", "--format=saved_model", "--quantize=uint8"],
         "--quantize applies to --format=magenta_js only"),
        (["--output_dir={tmp}/x", "--config=cat-mel_2bar_small", "--format=tflite", "--tflite_batch_size=0"],
         "--tflite_batch_size must be at least 1"),
        (["--output_dir={tmp}/x", "--checkpoint_file={tmp}/missing.ckpt"], "checkpoint not found"),
        (["--output_dir={tmp}/x", "--run_dir={tmp}/missing_run"], "has no `train` folder"),
        (["--output_dir={tmp}/folder_with_a_file", "--config=cat-mel_2bar_small"], "is not empty"),
        (["--output_dir={tmp}/good.mid/x", "--config=cat-mel_2bar_small"], "cannot write the export"),
        (["--bogus"], "Unknown command line flag"),
    ],
    "music_vae_web": [
        ([], "--output_dir is required"),
        (["--output_dir={tmp}/site", "--quantize=int4"], "--quantize must be"),
        (["--output_dir={tmp}/site", "--port=-5", "--serve"], "--port"),
        (["--output_dir={tmp}/site", "--port=70000", "--serve"], "--port"),
        (["--output_dir={tmp}/site", "--checkpoint_file={tmp}/missing.ckpt"], "checkpoint not found"),
        (["--output_dir={tmp}/site", "--port=ten"], "--port"),
        (["--bogus"], "Unknown command line flag"),
    ],
    "music_vae_personalize": [
        ([], "--input_dir is required"),
        (["--input_dir={tmp}/missing_dir", "--output_dir={tmp}/p"], "--input_dir is not a directory"),
        (["--input_dir={tmp}/folder"], "--output_dir is required"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--steps=0"], "--steps and --latent_size"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--latent_size=-1"], "--steps and --latent_size"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--steps=ten"], "--steps"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--beta=nan"], "--beta must be a number of 0 or more"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--beta=-1"], "--beta must be a number of 0 or more"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/good.mid/p"], "part of its folder path is a file"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/folder_with_a_file"], "exists and is not empty"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--config=nope"], "unknown config 'nope'"),
        (["--input_dir={tmp}/folder", "--output_dir={tmp}/p", "--checkpoint_file={tmp}/missing.ckpt"],
         "checkpoint not found"),
        (["--bogus"], "Unknown command line flag"),
    ],
}
# Added to a tool's case unless it sets the flag: nothing a wrongly accepted case writes lands outside {tmp}.
DEFAULTS = {"music_vae_generate": ["--output_dir={tmp}/out"], "music_vae_evaluate": [],
            "music_vae_quickstart": ["--output_dir={tmp}/out"], "music_vae_lofi": ["--output_dir={tmp}/out"]}
# absl log lines ("I1201 11:49:18.879452 139842665155456 convert.py:236] ...") may precede the error.
_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] ")
CASE_SECONDS = 60


def _entry_module(tool):
    """The module whose console_entry_point the installed script `tool` runs, or None."""
    from importlib import metadata

    for entry in metadata.entry_points(group="console_scripts"):
        if entry.name == tool and entry.value.startswith("musicvae_tf."):
            return entry.value.split(":")[0]
    return None


def _fixtures(folder):
    from kit import melody_midi  # not at the top: the child process must start without TensorFlow

    melody_midi(os.path.join(folder, "good.mid"), [60 + i % 5 for i in range(16)])
    with open(os.path.join(folder, "corrupt.mid"), "wb") as handle:
        handle.write(b"MThd\x00\x00\x00\x06not really a MIDI file")
    open(os.path.join(folder, "empty.mid"), "wb").close()
    with open(os.path.join(folder, "notes.txt"), "w") as handle:
        handle.write("not music\n")
    os.makedirs(os.path.join(folder, "folder"), exist_ok=True)
    os.makedirs(os.path.join(folder, "folder_with_a_file"), exist_ok=True)
    with open(os.path.join(folder, "folder_with_a_file", "mine.txt"), "w") as handle:
        handle.write("mine\n")


class _CaseTimeout(BaseException):
    pass


def run_cases(cases):
    """In this process: [(tool, argv)] -> [(exit status, stderr text)], each through console_entry_point."""
    import signal

    def timeout(signum, frame):
        raise _CaseTimeout()

    signal.signal(signal.SIGALRM, timeout)
    results = []
    for tool, argv in cases:
        module = importlib.import_module(_entry_module(tool))
        sys.argv = [tool] + argv
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as capture:
            os.dup2(capture.fileno(), 2)
            status = 0
            signal.alarm(CASE_SECONDS)
            try:
                module.console_entry_point()
            except SystemExit as exit_request:
                status = exit_request.code if isinstance(exit_request.code, int) else 1
            except _CaseTimeout:
                status = f"still running after {CASE_SECONDS} s"
            except BaseException as error:  # a traceback the console script would print
                import traceback

                traceback.print_exc()
                status = f"raised {type(error).__name__}"
            finally:
                signal.alarm(0)
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
            capture.seek(0)
            results.append((status, capture.read().decode("utf-8", "replace")))
    return results


def _with_defaults(tool, argv):
    given = {arg.split("=")[0] for arg in argv}
    return list(argv) + [arg for arg in DEFAULTS.get(tool, []) if arg.split("=")[0] not in given]


def _installed(tool):
    try:
        return _entry_module(tool) is not None
    except Exception:
        return False


ALL = [(tool, i) for tool in CASES for i in range(len(CASES[tool]))]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """{(tool, case index): (status, stderr)} for every case of an installed tool, from one child process."""
    folder = str(tmp_path_factory.mktemp("sweep"))
    _fixtures(folder)
    chosen = [(tool, i) for tool, i in ALL if _installed(tool)]
    cases = [(tool, [arg.format(tmp=folder) for arg in _with_defaults(tool, CASES[tool][i][0])])
             for tool, i in chosen]
    # The child runs this file as a script, from tests/cli/: it finds conftest through PYTHONPATH.
    python_path = os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, MUSICVAE_SWEEP_CWD=folder, PYTHONPATH=python_path)
    result = subprocess.run([sys.executable, __file__, json.dumps(cases)], capture_output=True, text=True,
                            cwd=folder, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = json.loads(result.stdout.strip().splitlines()[-1])
    return {key: (status, err) for key, (status, err) in zip(chosen, outcomes)}, folder


def _check_one_line(tool, status, stderr, expected):
    assert "Traceback" not in stderr, stderr
    assert status == 1, (status, stderr)
    lines = [line for line in stderr.splitlines() if line.strip() and not _LOG_LINE.match(line)
             and "is deprecated and ignored" not in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{tool}: error: "), stderr
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("tool,index", ALL, ids=[f"{tool[10:]}-{i}-{' '.join(CASES[tool][i][0])[:60]}"
                                                 for tool, i in ALL])
def test_bad_flag_is_one_line_and_exit_1(tool, index, sweep):
    if not _installed(tool):
        pytest.skip(f"{tool} is not installed in this environment")
    outcomes, _ = sweep
    status, stderr = outcomes[(tool, index)]
    _check_one_line(tool, status, stderr, CASES[tool][index][1])


@pytest.mark.parametrize("tool", sorted(CASES))
def test_installed_scripts_agree(tool, tmp_path):
    """The installed script itself, for a flag error found before TensorFlow is imported."""
    if not _installed(tool):
        pytest.skip(f"{tool} is not installed in this environment")
    result = subprocess.run(console_command(tool) + ["--no_such_flag=1"], capture_output=True, text=True,
                            cwd=tmp_path, timeout=300)
    _check_one_line(tool, result.returncode, result.stderr, "Unknown command line flag 'no_such_flag'")


if __name__ == "__main__":
    os.chdir(os.environ.get("MUSICVAE_SWEEP_CWD", os.getcwd()))
    outcomes = run_cases([(tool, argv) for tool, argv in json.loads(sys.argv[1])])
    sys.stdout.write("\n" + json.dumps(outcomes) + "\n")
