"""render.whole_file: a file is written whole or not at all, and a failed write never touches what was there."""

import os
import stat

import note_seq
import pytest

from musicvae_tf import render


def test_a_failed_write_leaves_the_existing_file_and_no_temporary(tmp_path):
    target = tmp_path / "mine.mid"
    target.write_bytes(b"the user's own file")
    with pytest.raises(RuntimeError):
        with render.whole_file(str(target)) as temporary:
            with open(temporary, "wb") as handle:
                handle.write(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"the user's own file"
    assert sorted(os.listdir(tmp_path)) == ["mine.mid"]


def test_a_complete_write_lands_with_ordinary_permissions(tmp_path):
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=120)
    sequence.notes.add(pitch=60, start_time=0.0, end_time=0.5, velocity=80)
    sequence.total_time = 0.5
    path = render.write_midi_file(sequence, str(tmp_path / "a.mid"))
    assert sorted(os.listdir(tmp_path)) == ["a.mid"]
    assert [n.pitch for n in note_seq.midi_file_to_note_sequence(path).notes] == [60]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask
    wav = render.write_wav(str(tmp_path / "a.wav"), [0.0, 0.5, -0.5, 0.0], 16000)
    samples, rate = render.read_wav(wav)
    assert rate == 16000 and samples.shape == (1, 4) and abs(samples[0, 1] - 0.5) < 1e-4
    assert sorted(os.listdir(tmp_path)) == ["a.mid", "a.wav"]


def test_without_replace_a_name_taken_while_writing_is_left_alone(tmp_path):
    target = tmp_path / "report.json"
    with render.whole_file(str(target), replace=False) as temporary:
        with open(temporary, "w") as handle:
            handle.write("first")
    assert target.read_text() == "first"
    with pytest.raises(FileExistsError):
        with render.whole_file(str(target), replace=False) as temporary:
            with open(temporary, "w") as handle:
                handle.write("second")
    assert target.read_text() == "first"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]
