"""music_vae_convert when things go wrong: names that are not UTF-8, outputs that cannot be written
(a file in the folder path, /proc, a read-only or a full disk), and Ctrl-C (exit 130, nothing written)."""

import hashlib
import os
import signal
import subprocess
import time

import note_seq
import pytest
import tensorflow as tf

from conftest import console_command
from kit import melody_midi
from musicvae_tf.cli import convert


def _write_midi(path, notes=16):
    return melody_midi(path, [60 + i % 12 for i in range(notes)])


def _run(capsys, *args):
    code = convert.run_command(["music_vae_convert", "--log=WARNING", *args])
    return code, [line for line in capsys.readouterr().err.splitlines() if line and not line.startswith("[")]


def _error_lines(lines):
    return [line for line in lines if line.startswith("music_vae_convert: error: ")]


def test_file_name_that_is_not_utf8_is_converted(tmp_path, capsys):
    folder = tmp_path / "tunes"
    folder.mkdir()
    raw_name = os.path.join(os.fsencode(folder), b"caf\xe9.mid")
    try:
        _write_midi(raw_name)
    except OSError as error:
        pytest.skip(f"this file system refuses a non-UTF-8 name: {error}")
    _write_midi(folder / "ok.mid")
    output = tmp_path / "notes.tfrecord"
    code, lines = _run(capsys, f"--input_dir={folder}", f"--output_file={output}")
    assert code == 0, lines
    assert "Wrote 2 NoteSequences from 2 files" in "\n".join(lines)
    records = [note_seq.NoteSequence.FromString(r) for r in tf.data.TFRecordDataset(str(output)).as_numpy_iterator()]
    by_name = {record.filename: record for record in records}
    assert sorted(by_name) == ["caf\\xe9.mid", "ok.mid"]  # the byte that is not UTF-8 shown as \xe9
    assert by_name["caf\\xe9.mid"].id == "/id/midi/tunes/" + hashlib.sha1(b"caf\\xe9.mid").hexdigest()
    assert len(by_name["caf\\xe9.mid"].notes) == 16


def _unwritable(kind, tmp_path, small_disk):
    if kind == "folder_path_is_a_file":
        (tmp_path / "a_file").write_text("mine")
        return tmp_path / "a_file" / "notes.tfrecord", "part of its folder path is a file"
    if kind == "folder_cannot_be_made":
        return "/proc/musicvae_no_such_folder/notes.tfrecord", "No such file or directory"
    return small_disk(64, read_only=True) / "notes.tfrecord", "Read-only file system"


@pytest.mark.parametrize("kind", ["folder_path_is_a_file", "folder_cannot_be_made", "read_only_disk"])
def test_unwritable_output_is_one_line(kind, tmp_path, capsys, small_disk):
    folder = tmp_path / "tunes"
    folder.mkdir()
    _write_midi(folder / "ok.mid")
    output, reason = _unwritable(kind, tmp_path, small_disk)
    code, lines = _run(capsys, f"--input_dir={folder}", f"--output_file={output}")
    assert code == 1
    assert lines == [f"music_vae_convert: error: cannot write --output_file {output}: {reason}"]
    assert not os.path.exists(output)


def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys, small_disk):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(3):
        _write_midi(folder / f"long{i}.mid", notes=1500)  # ~36 kB of NoteSequence each
    disk = small_disk(64)
    output = disk / "notes.tfrecord"
    code, lines = _run(capsys, f"--input_dir={folder}", f"--output_file={output}")
    assert code == 1
    assert _error_lines(lines) == [f"music_vae_convert: error: cannot write --output_file {output}: "
                                   "No space left on device; nothing written"], lines
    assert os.listdir(disk) == []


def test_ctrl_c_inside_note_seqs_reader_stops_the_run(tmp_path, capsys, monkeypatch):
    """note_seq's MIDI reader turns every exception into MIDIConversionError, Ctrl-C included."""
    import pretty_midi

    folder = tmp_path / "tunes"
    folder.mkdir()
    for name in ("a.mid", "b.mid", "c.mid"):
        _write_midi(folder / name)
    parsed = []

    class InterruptedAtTheSecondFile(pretty_midi.PrettyMIDI):
        def __init__(self, *args, **kwargs):
            parsed.append(1)
            if len(parsed) == 2:
                raise KeyboardInterrupt
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pretty_midi, "PrettyMIDI", InterruptedAtTheSecondFile)
    output = tmp_path / "out" / "notes.tfrecord"
    code, lines = _run(capsys, f"--input_dir={folder}", f"--output_file={output}")
    assert code == 130
    assert lines == ["music_vae_convert: error: interrupted; nothing written"]
    assert len(parsed) == 2  # the run stopped at the interrupted file
    assert os.listdir(output.parent) == []  # no output, no temporary file


def test_sigint_stops_a_one_worker_run(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for i in range(40):
        _write_midi(folder / f"t{i:02d}.mid", notes=1500)
    output = tmp_path / "out" / "notes.tfrecord"
    # SIGINT at its default in the child, as in a terminal: a test run started in the background
    # (`... &` in a script) inherits it ignored, and the tool rightly keeps ignoring it then.
    process = subprocess.Popen(console_command("music_vae_convert") + [
        f"--input_dir={folder}", f"--output_file={output}", "--num_workers=1", "--log=WARNING"],
        stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = ""
    while "1/40 files" not in seen:  # converting has started
        character = process.stderr.read(1)
        assert character, seen
        seen += character
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 130, rest
    assert "music_vae_convert: error: interrupted; nothing written" in rest.splitlines()
    assert "40/40 files" not in rest and "Traceback" not in rest
    assert os.listdir(output.parent) == []
