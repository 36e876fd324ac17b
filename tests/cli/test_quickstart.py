"""music_vae_quickstart end to end with the packaged models (their quality: tests/pretrained/)."""

import os
import subprocess
import wave

import numpy as np
import pytest

from conftest import console_command
from kit import needs_demo_model
from musicvae_tf.checkpoints.resolver import find_pretrained
from musicvae_tf.cli import quickstart

# The packaged models the quickstart plays beyond the 2-bar one, and the files each adds.
OPTIONAL_PARTS = {"hierdec-mel_16bar": "tune_16bar", "cat-mel_2bar_med_chords": "chord_loop"}


def _wav_peak(path):
    with wave.open(path, "rb") as handle:
        frames = handle.readframes(handle.getnframes())
        assert handle.getnframes() > handle.getframerate()  # longer than a second
    return int(np.max(np.abs(np.frombuffer(frames, dtype="<i2").astype(np.int32))))


def test_new_output_dir_never_reuses_a_folder(tmp_path):
    first = quickstart.new_output_dir(str(tmp_path / "out"))
    second = quickstart.new_output_dir(str(tmp_path / "out"))
    third = quickstart.new_output_dir(str(tmp_path / "out"))
    assert first == str(tmp_path / "out")
    assert second == str(tmp_path / "out_2")
    assert third == str(tmp_path / "out_3")
    assert all(os.path.isdir(p) for p in (first, second, third))


def test_missing_model_is_one_line_error(tmp_path):
    with pytest.raises(quickstart.UsageError, match="demo model not found"):
        quickstart.load_demo_model(str(tmp_path / "nothing"), batch_size=2)


@needs_demo_model
def test_console_script_writes_midi_png_wav_without_overwriting(tmp_path):
    import matplotlib.image
    import note_seq

    from musicvae_tf import render

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([*console_command("music_vae_quickstart"), f"--output_dir={out}", "--num_samples=3", "--seed=7"],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    # The existing folder is left alone; the results go to a new one.
    assert sorted(os.listdir(out)) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    written = tmp_path / "out_2"
    assert str(written) in result.stdout
    for kind in ("MIDI", "PNG", "WAV"):
        assert f"  {kind}" in result.stdout

    names = sorted(os.listdir(written))
    extra = sorted(stem for config, stem in OPTIONAL_PARTS.items() if find_pretrained(config))
    for config, stem in OPTIONAL_PARTS.items():
        assert (stem in result.stdout) == bool(find_pretrained(config))
        assert (f"no packaged {config} model" in result.stdout) == (not find_pretrained(config))
    midis = [n for n in names if n.endswith(".mid")]
    assert midis == sorted(["excerpt_a.mid", "excerpt_b.mid", "interpolation.mid",
                            "sample_01.mid", "sample_02.mid", "sample_03.mid"] + [s + ".mid" for s in extra])
    for name in midis:
        sequence = note_seq.midi_file_to_note_sequence(str(written / name))
        assert len(sequence.notes) > 0, name
        assert all(21 <= note.pitch <= 108 for note in sequence.notes)
    interpolation = note_seq.midi_file_to_note_sequence(str(written / "interpolation.mid"))
    assert interpolation.total_time > 4 * 4.0 * 0.9  # five 2-bar steps at 120 qpm (4 s each)
    assert interpolation.total_time <= 5 * 4.0 + 1e-6
    if "chord_loop" in extra:
        # Each 2-bar decode takes its full 2 bars (4 s at 120 qpm), trailing rests included, so the
        # chords under the melody change on every bar line: 8 bars, one chord each.
        loop = note_seq.midi_file_to_note_sequence(str(written / "chord_loop.mid"))
        chord_track = max({note.instrument for note in loop.notes})
        onsets = sorted({round(note.start_time, 3) for note in loop.notes if note.instrument == chord_track})
        assert onsets == [2.0 * bar for bar in range(8)], onsets
        assert all(n.start_time < 16.0 + 1e-6 for n in loop.notes)

    pngs = [n for n in names if n.endswith(".png")]
    assert pngs == sorted(["interpolation.png", "sample_01.png", "sample_02.png", "sample_03.png"]
                          + [s + ".png" for s in extra])
    for name in pngs:
        image = matplotlib.image.imread(str(written / name))
        assert image.shape[0] >= 100 and image.shape[1] >= 200
        assert float(np.std(image[..., :3])) > 0.01  # something drawn, not a blank canvas
    strip = matplotlib.image.imread(str(written / "interpolation.png"))
    assert strip.shape[1] > 2 * strip.shape[0]

    # WAVs always: FluidSynth when installed, else the built-in synthesizer; the summary names it.
    wavs = [n for n in names if n.endswith(".wav")]
    assert wavs == sorted(["interpolation.wav", "sample_01.wav", "sample_02.wav", "sample_03.wav"]
                          + [s + ".wav" for s in extra])
    for name in wavs:
        assert _wav_peak(str(written / name)) > 300, name
    expected = "fluidsynth" if render.fluidsynth_available() else "built-in synth"
    assert f"renderer: {expected}" in result.stdout


@needs_demo_model
def test_full_disk_is_one_line_and_leaves_only_complete_files(small_disk):
    import re

    import note_seq

    out = small_disk(40) / "out"  # room for a few MIDI files and piano rolls, not for the WAVs
    result = subprocess.run([*console_command("music_vae_quickstart"), f"--output_dir={out}", "--num_samples=3",
                             "--seed=7"], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    match = re.fullmatch(rf"music_vae_quickstart: error: cannot write to --output_dir {re.escape(str(out))}: "
                         r"No space left on device \((\d+) complete files? written\)", last)
    assert match, last
    names = sorted(os.listdir(out))
    assert int(match.group(1)) == len(names) >= 1, names
    for name in names:  # each file there is whole: no truncated MIDI or PNG
        data = (out / name).read_bytes()
        if name.endswith(".mid"):
            assert note_seq.midi_to_note_sequence(data).notes, name
        else:
            assert name.endswith(".png") and data.endswith(b"IEND\xaeB`\x82"), name


def test_decodes_are_joined_by_their_full_length_trailing_rests_included():
    """A 2-bar decode whose last bar ends in a rest still takes 4 s (120 qpm): the next one starts at
    4 s, not where the last note ended."""
    from musicvae_tf import configs
    from musicvae_tf.cli.quickstart import _concatenate_decodes

    converter = configs.CONFIG_MAP["cat-mel_2bar_small"].data_converter
    events = np.zeros([32, converter.output_depth], np.float32)
    events[:, 0] = 1  # hold
    events[0] = np.eye(converter.output_depth)[2 + 60 - 21]  # a note at the start...
    events[8] = np.eye(converter.output_depth)[1]             # ...off after half a bar, then rests
    first, second = converter.from_tensors([events, events])
    assert first.total_time == pytest.approx(1.0)  # the decode itself ends at its last note
    joined = _concatenate_decodes(converter, [first, second], 32)
    starts = sorted(note.start_time for note in joined.notes)
    assert starts == pytest.approx([0.0, 4.0])
