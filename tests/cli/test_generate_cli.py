"""music_vae_generate: the installed console script (subprocess) and its error paths (in process)."""
import glob
import os
import re
import shutil
import subprocess
import wave

import note_seq
import numpy as np
import pytest

from conftest import console_command
from musicvae_tf import render
import kit

CONFIG = "cat-mel_2bar_small"
TINY_HPARAMS = kit.TINY
OUTPUT_NAME = re.compile(
    CONFIG + r"_(sample|interpolate)_\d{4}-\d{2}-\d{2}_\d{6}-(\d{3})-of-(\d{3})(_\d+)?\.mid$")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A tiny random-initialised cat-mel_2bar_small saved in the port's own format."""
    return kit.tiny_checkpoint(tmp_path_factory.mktemp("tiny_model") / "cat-mel_tiny")


@pytest.fixture(scope="module")
def midi_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("midi_inputs")
    # 2 bars of 16th-note steps: 8 eighth notes per bar.
    first = kit.melody_midi(folder / "up.mid", [60, 62, 64, 65, 67, 69, 71, 72] * 2, step=0.25)
    second = kit.melody_midi(folder / "down.mid", [72, 71, 69, 67, 65, 64, 62, 60] * 2, step=0.25)
    # 4 bars: several 2-bar windows can be extracted.
    long = kit.melody_midi(folder / "long.mid", list(range(60, 76)) * 2, step=0.25)
    drums = note_seq.NoteSequence()
    drums.tempos.add(qpm=120)
    for i in range(16):
        drums.notes.add(pitch=36, start_time=i * 0.25, end_time=i * 0.25 + 0.1, velocity=90,
                        is_drum=True, instrument=9)
    drums.total_time = 4.0
    note_seq.sequence_proto_to_midi_file(drums, str(folder / "drums.mid"))
    corrupt = folder / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage, not a MIDI file")
    scale = [60, 62, 64, 65, 67, 69, 71, 72] * 4
    return {"first": first, "second": second, "long": long, "drums": str(folder / "drums.mid"),
            "corrupt": str(corrupt), "missing": str(folder / "missing.mid"),
            "waltz": kit.melody_midi(folder / "waltz.mid", scale, meter=(3, 4)),
            "jig": kit.melody_midi(folder / "jig.mid", scale, meter=(6, 8)),
            "one_bar": kit.melody_midi(folder / "one_bar.mid", [60, 64, 67, 72], step=0.5),
            "no_notes": kit.melody_midi(folder / "no_notes.mid", [])}


def _run_script(args):
    # The user's usual environment: the console script itself keeps TensorFlow quiet.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run(console_command("music_vae_generate") + args, capture_output=True, text=True, env=env, timeout=300)


# absl's Python log lines ("I1123 11:50:07.672568 1404 generate.py:125] ..."), ours.
_OWN_LOG_LINE = re.compile(r"^[IWEF]\d{4} [\d:.]+\s+\d+ \w+\.py:\d+\] ")


def _startup_noise(stderr):
    """Lines of TensorFlow's C++ start-up (CUDA probing, absl preamble) or pydub's ffmpeg warning."""
    return [line for line in stderr.splitlines()
            if re.search(r"cuda|cuInit|absl::InitializeLog|ffmpeg|\.cc:\d+\]", line, re.IGNORECASE)]


def test_cli_sample_with_plots_wavs_and_loops(tiny_checkpoint, tmp_path):
    out = tmp_path / "out"
    args = [f"--checkpoint_file={tiny_checkpoint}", "--mode=sample", "--num_outputs=3",
            "--max_batch_size=2", f"--output_dir={out}", "--plot", "--qpm=90", "--loop_bars=2"]
    result = _run_script(args)  # WAVs by default, with FluidSynth or the built-in synthesizer
    assert result.returncode == 0, result.stderr[-2000:]
    # A quiet start: nothing on stderr but our own log lines.
    assert _startup_noise(result.stderr) == [], result.stderr
    assert all(_OWN_LOG_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    midis = sorted(glob.glob(str(out / "*.mid")))
    assert len(midis) == 3
    assert [OUTPUT_NAME.search(os.path.basename(m)).group(2, 3) for m in midis] == [
        ("000", "003"), ("001", "003"), ("002", "003")]
    for midi in midis:
        sequence = note_seq.midi_file_to_note_sequence(midi)
        assert sequence.tempos[0].qpm == pytest.approx(90.0, rel=1e-5)  # MIDI stores whole microseconds
        # Two repeats of a 2-bar loop at 90 qpm (8 quarters = 5.33 s): notes after the first loop.
        loop_seconds = 8 * 60.0 / 90.0
        assert any(note.start_time >= loop_seconds - 1e-6 for note in sequence.notes)
        assert max(note.end_time for note in sequence.notes) <= 2 * loop_seconds + 1e-3
    import matplotlib.image

    pngs = sorted(glob.glob(str(out / "*.png")))
    assert len(pngs) == 3
    for png in pngs:
        image = matplotlib.image.imread(png)
        assert image.shape[0] > 0 and image.shape[1] > 0
    wavs = sorted(glob.glob(str(out / "*.wav")))
    assert [w[:-4] for w in wavs] == [m[:-4] for m in midis]
    for path in wavs:
        with wave.open(path, "rb") as handle:
            samples = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
            # Two 2-bar loops at 90 qpm: 10.7 s of music.
            assert handle.getnframes() >= 10.6 * handle.getframerate()
        assert np.sqrt(np.mean(samples.astype(float) ** 2)) > 30
    renderer = "fluidsynth" if render.fluidsynth_available() else "built-in synth"
    assert f"Wrote 3 WAV files with {renderer}" in result.stderr


def test_cli_interpolate_with_strip(tiny_checkpoint, midi_inputs, tmp_path):
    out = tmp_path / "out"
    result = _run_script([f"--checkpoint_file={tiny_checkpoint}", f"--config={CONFIG}",
                          "--mode=interpolate", "--num_outputs=4", f"--output_dir={out}",
                          f"--input_midi_1={midi_inputs['first']}",
                          f"--input_midi_2={midi_inputs['second']}", "--plot", "--temperature=0.01"])
    assert result.returncode == 0, result.stderr[-2000:]
    midis = sorted(glob.glob(str(out / "*.mid")))
    assert len(midis) == 4 and all("_interpolate_" in m for m in midis)
    strips = glob.glob(str(out / "*strip*.png"))
    assert len(strips) == 1
    import matplotlib.image

    image = matplotlib.image.imread(strips[0])
    assert image.shape[1] > image.shape[0]  # a wide strip of four rolls


def test_cli_hparams_conflicting_with_the_checkpoint_is_one_line(tiny_checkpoint, tmp_path):
    # The tiny checkpoint records z_size=8 and enc_rnn_size=[16].
    result = _run_script([f"--checkpoint_file={tiny_checkpoint}", "--hparams=z_size=16,batch_size=2",
                          f"--output_dir={tmp_path}"])
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == ["music_vae_generate: error: --hparams z_size=16 conflicts with the checkpoint's "
                     "z_size=8 (only training hparams such as batch_size may differ; leave out the "
                     "others to use the checkpoint's)"], result.stderr
    assert not glob.glob(str(tmp_path / "*.mid"))


def test_cli_output_dir_with_a_tilde_is_in_the_home_folder(tiny_checkpoint, tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    (home / "a_file").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    result = _run_script([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=2", "--norender_wav",
                          "--output_dir=~/generated"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(glob.glob(str(home / "generated" / "*.mid"))) == 2
    assert os.listdir(cwd) == []  # no folder named `~` here
    result = _run_script([f"--checkpoint_file={tiny_checkpoint}", "--norender_wav", "--output_dir=~/a_file/x"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"music_vae_generate: error: cannot create --output_dir {home / 'a_file' / 'x'}: Not a directory"]
    assert "Traceback" not in result.stderr and os.listdir(cwd) == []
    assert (home / "a_file").read_text() == "mine"


# --- in process: the same entry point without a new interpreter each time -----------------------

def _run_in_process(argv, capsys):
    """Runs generate.main with `argv`; returns (exit code, stderr)."""
    from musicvae_tf.cli import generate

    code = generate.run_command(["music_vae_generate"] + argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--config=cat-mel_2bar_smal"], "unknown config 'cat-mel_2bar_smal'"),
    (["--config=cat-mel_2bar_small", "--hparams=z_size=abc"], "z_size"),
    (["--config=cat-mel_2bar_small", "--hparams=nonsense"], "hparam"),
    (["--mode=remix"], "invalid --mode"),
    (["--num_outputs=0"], "--num_outputs must be at least 1"),
    (["--config=hierdec-mel_16bar"], "was trained with config 'cat-mel_2bar_small'"),
])
def test_bad_flags_one_line(argv, message, tiny_checkpoint, tmp_path, capsys):
    code, err = _run_in_process(argv + [f"--checkpoint_file={tiny_checkpoint}",
                                        f"--output_dir={tmp_path / 'out'}"], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("music_vae_generate: error:"), err
    assert message in lines[0]


def test_seed_makes_samples_reproducible(tiny_checkpoint, tmp_path, capsys):
    def notes(folder, seed):
        code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=3",
                                     "--temperature=1.0", f"--seed={seed}", "--norender_wav",
                                     f"--output_dir={tmp_path / folder}"], capsys)
        assert code == 0, err
        return [[(n.pitch, n.start_time, n.end_time)
                 for n in note_seq.midi_file_to_note_sequence(path).notes]
                for path in sorted(glob.glob(str(tmp_path / folder / "*.mid")))]

    first, again, other = notes("a", 7), notes("b", 7), notes("c", 8)
    assert len(first) == 3 and any(first)
    assert first == again
    assert first != other


@pytest.mark.parametrize("temperature", ["0", "-1", "nan", "inf"])
def test_temperature_that_cannot_sample_is_refused(temperature, tiny_checkpoint, tmp_path, capsys):
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", f"--temperature={temperature}",
                                 f"--output_dir={tmp_path / 'out'}"], capsys)
    assert code == 1
    shown = {"0": "0", "-1": "-1", "nan": "nan", "inf": "inf"}[temperature]
    assert err.strip().splitlines() == [
        f"music_vae_generate: error: --temperature must be a positive number, not {shown} (0.5 is usual; 0.01 is "
        "nearly greedy, 1.0 samples the model's own distribution)"]
    assert not glob.glob(str(tmp_path / "out" / "*.mid"))


@pytest.mark.parametrize("disk", ["full", "read_only"])
def test_full_or_read_only_disk_reports_what_was_written(disk, tiny_checkpoint, tmp_path, capsys, small_disk):
    # One 4 kB page of tmpfs: the first MIDI file fits, the second does not.
    out = small_disk(4, read_only=disk == "read_only")
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=3", f"--output_dir={out}"],
                                capsys)
    assert code == 1
    errors = [line for line in err.splitlines() if "error:" in line]
    reason, count = ("No space left on device", 1) if disk == "full" else ("Read-only file system", 0)
    assert errors == [f"music_vae_generate: error: cannot write to --output_dir {out}: {reason} "
                      f"({count} of 3 MIDI files written)"], err
    written = sorted(glob.glob(str(out / "*.mid")))
    assert len(written) == count
    for path in written:  # what is there is complete
        assert os.path.getsize(path) > 0 and note_seq.midi_file_to_note_sequence(path).ticks_per_quarter


def test_no_checkpoint_and_no_demo(tmp_path, capsys, monkeypatch):
    from musicvae_tf.checkpoints import resolver

    monkeypatch.setattr(resolver, "PRETRAINED_DIR", tmp_path / "no_pretrained")
    code, err = _run_in_process([f"--config={CONFIG}", f"--output_dir={tmp_path}"], capsys)
    assert code == 1 and "--checkpoint_file is required" in err


def test_packaged_demo_model_is_used(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    from musicvae_tf.checkpoints import resolver

    demo_dir = tmp_path / "pretrained"
    demo_dir.mkdir()
    shutil.copytree(tiny_checkpoint, demo_dir / CONFIG)
    monkeypatch.setattr(resolver, "PRETRAINED_DIR", demo_dir)
    out = tmp_path / "out"
    code, err = _run_in_process([f"--config={CONFIG}", "--num_outputs=2", f"--output_dir={out}"], capsys)
    assert code == 0, err
    assert len(glob.glob(str(out / "*.mid"))) == 2


@pytest.mark.parametrize("which, message", [
    ("missing", "input MIDI file not found"),
    ("corrupt", "cannot read MIDI file"),
    ("drums", "could be extracted from {path}: it has only drums (MIDI channel 10); the config models melodies"),
    ("waltz", "could be extracted from {path}: it is in 3/4 time; the config needs 4/4 (bars of 4 quarter notes)"),
    ("jig", "could be extracted from {path}: it is in 6/8 time; the config needs 4/4"),
    ("one_bar", "could be extracted from {path}: it is 1 bar long; the config needs 2 bars; try another"),
    ("no_notes", "no valid input for config cat-mel_2bar_small could be extracted from {path}: it has no notes"),
])
def test_unusable_inputs_one_line(which, message, tiny_checkpoint, midi_inputs, tmp_path, capsys):
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--mode=interpolate",
                                 f"--input_midi_1={midi_inputs[which]}",
                                 f"--input_midi_2={midi_inputs['second']}",
                                 f"--output_dir={tmp_path}"], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message.format(path=midi_inputs[which]) in lines[0], err


def test_several_extractions_are_written_out(tiny_checkpoint, midi_inputs, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--mode=interpolate",
                                 f"--input_midi_1={midi_inputs['first']}",
                                 f"--input_midi_2={midi_inputs['long']}",
                                 f"--output_dir={out}"], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "valid inputs extracted from" in lines[0], err
    assert "--input_midi_2" in lines[0]
    written = sorted(glob.glob(str(out / f"{CONFIG}_input2-extractions_*.mid")))
    count = int(lines[0].split("music_vae_generate: error: ")[1].split()[0])
    assert len(written) == count > 1
    # Each extraction is itself a valid single input now.
    from musicvae_tf import configs

    converter = configs.get_config(CONFIG).data_converter
    converter.set_mode("infer")
    for path in written:
        assert len(converter.to_tensors(note_seq.midi_file_to_note_sequence(path)).inputs) == 1


def test_never_overwrites(tiny_checkpoint, tmp_path, capsys, monkeypatch):
    from musicvae_tf.cli import generate

    monkeypatch.setattr(generate.time, "strftime", lambda fmt: "2026-01-01_000000")
    out = tmp_path / "out"
    args = [f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=2", f"--output_dir={out}", "--plot"]
    for _ in range(2):
        code, err = _run_in_process(args, capsys)
        assert code == 0, err
    names = sorted(os.path.basename(p) for p in glob.glob(str(out / "*")))
    assert names == [
        f"{CONFIG}_sample_2026-01-01_000000-{i:03d}-of-002{copy}.{ext}"
        for i in range(2) for copy in ("", "_2") for ext in ("mid", "png", "wav")]


def test_attribute_vectors_from_examples_then_reused(tiny_checkpoint, midi_inputs, tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from musicvae_tf import attributes, configs, data
    from musicvae_tf.trained_model import TrainedModel

    monkeypatch.setenv("HOME", str(tmp_path))  # the examples are named with `~` below
    examples = str(tmp_path / "examples.tfrecord")
    with tf.io.TFRecordWriter(examples) as writer:
        for count, base in [(2, 50), (4, 60), (8, 70), (16, 55), (32, 65), (8, 75)]:
            step = 8.0 / count / 2  # 2 bars at 120 qpm last 4 s
            sequence = note_seq.NoteSequence()
            sequence.tempos.add(qpm=120)
            sequence.time_signatures.add(numerator=4, denominator=4)
            for i in range(count):
                sequence.notes.add(pitch=base + i % 3, start_time=i * step,
                                   end_time=(i + 1) * step, velocity=80)
            sequence.total_time = 4.0
            writer.write(sequence.SerializeToString())
    vectors_path = tmp_path / "vectors.npz"
    out = tmp_path / "out"
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=2",
                                 "--attribute=note_density", "--attribute_scale=1.5",
                                 "--attribute_examples_path=~/examples.tfrecord",
                                 f"--attribute_vectors={vectors_path}", f"--output_dir={out}"], capsys)
    assert code == 0, err
    assert len(glob.glob(str(out / "*.mid"))) == 2
    stored, config_name = attributes.load_attribute_vectors(str(vectors_path))
    assert config_name == CONFIG
    model = TrainedModel(configs.get_config(CONFIG), batch_size=2, checkpoint_dir_or_path=tiny_checkpoint)
    expected = attributes.compute_attribute_vectors(
        model, list(data.read_note_sequences(examples)), ["note_density"])
    np.testing.assert_allclose(stored["note_density"], expected["note_density"], atol=1e-6)

    # Re-decode an input with the stored vector.
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=2",
                                 "--attribute=note_density", "--attribute_scale=-1",
                                 f"--attribute_vectors={vectors_path}",
                                 f"--input_midi_1={midi_inputs['first']}", f"--output_dir={out}"], capsys)
    assert code == 0, err
    assert len(glob.glob(str(out / "*.mid"))) == 4
    # A vector file without the attribute, and no source at all: one-line errors.
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--attribute=syncopation",
                                 f"--attribute_vectors={vectors_path}", f"--output_dir={out}"], capsys)
    assert code == 1 and "no vector for attribute 'syncopation'" in err
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--attribute=syncopation",
                                 f"--output_dir={out}"], capsys)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "--attribute_examples_path" in err
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--attribute=syncopation",
                                 "--attribute_examples_path=~/missing.tfrecord", f"--output_dir={out}"], capsys)
    assert code == 1 and f"--attribute_examples_path not found: {tmp_path / 'missing.tfrecord'}" in err


def test_magenta_checkpoint_with_wrong_sizes_is_one_line(tmp_path, capsys):
    from conftest import PARITY_DIR, SHARED_PARITY_DIR

    folders = [base / CONFIG / "checkpoint" for base in (PARITY_DIR, SHARED_PARITY_DIR)]
    folders = [f for f in folders if f.is_dir()]
    if not folders:
        pytest.skip("cat-mel_2bar_small parity checkpoint not available")
    # The fixture was trained with z_size=32, enc_rnn_size=[64], dec_rnn_size=[48,48]; the
    # config's defaults are much larger.
    code, err = _run_in_process([f"--checkpoint_file={folders[0]}", f"--config={CONFIG}",
                                 f"--output_dir={tmp_path}"], capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "cannot load checkpoint" in lines[0] and "shape" in lines[0], err
    # With the right --hparams it works.
    code, err = _run_in_process([f"--checkpoint_file={folders[0]}", f"--config={CONFIG}",
                                 "--hparams=z_size=32,enc_rnn_size=[64],dec_rnn_size=[48,48]",
                                 "--num_outputs=2", f"--output_dir={tmp_path}"], capsys)
    assert code == 0, err
    assert len(glob.glob(str(tmp_path / "*.mid"))) == 2


def test_hparams_that_match_or_only_steer_training_are_accepted(tiny_checkpoint, tmp_path, capsys,
                                                                monkeypatch):
    from musicvae_tf.cli import common

    used = {}
    load_trained_model = common.load_trained_model

    def spy(config, *args, **kwargs):
        used["hparams"] = config.hparams.values()
        return load_trained_model(config, *args, **kwargs)

    monkeypatch.setattr(common, "load_trained_model", spy)
    out = tmp_path / "out"
    # z_size and enc_rnn_size repeat the checkpoint's; batch_size, dropout and max_beta only matter
    # in training; max_seq_len=48 asks this flat model for 3-bar outputs.
    code, err = _run_in_process([f"--checkpoint_file={tiny_checkpoint}", "--num_outputs=2",
                                 "--hparams=z_size=8,enc_rnn_size=[16],batch_size=3,"
                                 "dropout_keep_prob=0.5,max_beta=0.3,max_seq_len=48",
                                 "--temperature=0.01", f"--output_dir={out}"], capsys)
    assert code == 0, err
    hparams = used["hparams"]
    assert (hparams["z_size"], hparams["enc_rnn_size"], hparams["dec_rnn_size"]) == (8, [16], [16, 16])
    assert (hparams["max_seq_len"], hparams["dropout_keep_prob"], hparams["max_beta"]) == (48, 0.5, 0.3)
    midis = sorted(glob.glob(str(out / "*.mid")))
    assert len(midis) == 2
    # 48 sixteenth-note steps at 120 qpm are 6 s: nothing may end later.
    for midi in midis:
        assert max((n.end_time for n in note_seq.midi_file_to_note_sequence(midi).notes), default=0) <= 6.0 + 1e-6


def test_trained_model_refuses_config_hparams_that_contradict_the_checkpoint(tiny_checkpoint):
    from musicvae_tf import configs
    from musicvae_tf.checkpoints import HParamsConflictError
    from musicvae_tf.trained_model import TrainedModel

    # Sizes that differ from both the config's defaults and the checkpoint's: a conflict.
    with pytest.raises(HParamsConflictError) as error:
        TrainedModel(configs.get_config(CONFIG, "z_size=16,dec_rnn_size=[16,16]"), batch_size=2,
                     checkpoint_dir_or_path=tiny_checkpoint)
    assert str(error.value).startswith(
        "the config's hparams z_size=16 conflicts with the checkpoint's z_size=8")
    # Default sizes: the checkpoint's are used; training-only hparams may differ.
    model = TrainedModel(configs.get_config(CONFIG, "dropout_keep_prob=0.7,learning_rate=0.5"), batch_size=2,
                         checkpoint_dir_or_path=tiny_checkpoint)
    assert model.config.hparams.z_size == 8 and model.config.hparams.dropout_keep_prob == 0.7


# Small sizes for the models built here; the structure is the full config's.
_SMALL = {"cat-mel_2bar_small": "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16,16]",
          "hierdec-mel_16bar": "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16,16]"}


@pytest.mark.parametrize("config_name, hparams, conflict", [
    ("cat-mel_2bar_small", "max_seq_len=64", None),                    # flat: only the default length
    ("hierdec-mel_16bar", "max_seq_len=128", "max_seq_len=128"),       # conductor splits 16 x 16
    ("hierdec-mel_16bar", "batch_size=1,sampling_rate=0.5", None),
    ("cat-mel_2bar_small", "residual_decoder=true,z_size=8", "residual_decoder=True"),
    ("cat-mel_2bar_small", "dec_rnn_size=[16,16]", None),              # equal to the stored value
    ("cat-mel_2bar_small", "dropout_keep_prob=0.5,learning_rate=0.1", None),
])
def test_which_hparams_may_differ_from_the_checkpoint(config_name, hparams, conflict):
    """The architecture a checkpoint records decides; older records (all hparams in one dict) agree."""
    from musicvae_tf import architecture, configs
    from musicvae_tf.checkpoints import HParamsConflictError, merge_stored_hparams
    from musicvae_tf.hparams import parse_hparams_string
    from musicvae_tf.model import build_model

    small = configs.get_config(config_name, _SMALL[config_name])
    record = architecture.describe(build_model(small))
    recorded = architecture.stored_model(record, config_name)
    older = {"hparams": {**record["architecture"]["hparams"], **record["training_hparams"]}}
    overrides = set(parse_hparams_string(hparams))
    for stored in (recorded, architecture.stored_model(older, config_name)):
        config = configs.get_config(config_name, _SMALL[config_name])
        config.hparams.parse(hparams)
        if conflict:
            with pytest.raises(HParamsConflictError, match=f"--hparams {re.escape(conflict)} conflicts"):
                merge_stored_hparams(config, stored, overrides)
        else:
            merge_stored_hparams(config, stored, overrides)
            expected = configs.get_config(config_name, _SMALL[config_name]).hparams.parse(hparams).values()
            assert config.hparams.values() == expected
