"""The music_vae_convert console script, run as a user would (subprocess) on a small folder."""
import hashlib
import os
import subprocess

import numpy as np
import pytest

from conftest import console_command

note_seq = pytest.importorskip("note_seq")
tf = pytest.importorskip("tensorflow")

ABC_TEXT = """X:1
T:First
M:4/4
L:1/8
K:G
GABc dedB|dedB dedB|

X:2
T:Second
M:4/4
L:1/8
K:D
DEFG ABcd|
"""
TOP_PITCHES = [60, 62, 64, 65, 67]
SUB_PITCHES = [72, 71, 69]


def _run(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(console_command("music_vae_convert") + list(args), capture_output=True, text=True, env=env,
                          timeout=600)


def _write_midi(path, pitches):
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=120)
    for i, pitch in enumerate(pitches):
        sequence.notes.add(pitch=pitch, velocity=80, start_time=0.5 * i, end_time=0.5 * i + 0.4)
    sequence.total_time = 0.5 * len(pitches)
    note_seq.sequence_proto_to_midi_file(sequence, str(path))


def _read(path):
    return [note_seq.NoteSequence.FromString(r)
            for r in tf.data.TFRecordDataset(str(path)).as_numpy_iterator()]


def _sha1_id(kind, collection, name):
    return f"/id/{kind}/{collection}/{hashlib.sha1(name.encode()).hexdigest()}"


@pytest.fixture(scope="module")
def music_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "tunes"
    (root / "sub").mkdir(parents=True)
    _write_midi(root / "top.mid", TOP_PITCHES)
    _write_midi(root / "sub" / "deep.midi", SUB_PITCHES)
    (root / "corrupt.mid").write_bytes(np.random.default_rng(0).bytes(512))
    (root / "empty.mid").write_bytes(b"")
    (root / "two_tunes.abc").write_text(ABC_TEXT)
    (root / "notes.txt").write_text("not music")
    return root


@pytest.fixture(scope="module")
def first_run(music_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("out") / "nested" / "notes.tfrecord"
    result = _run(f"--input_dir={music_dir}", f"--output_file={output}")
    return output, result


def test_flat_run_counts_and_skips(first_run):
    output, result = first_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Wrote 3 NoteSequences from 2 files" in result.stderr
    assert "2 skipped" in result.stderr
    lines = result.stderr.splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("Wrote "))
    skipped = [line.strip() for line in lines[summary + 1:]]
    assert skipped[0].startswith("corrupt.mid: ")
    assert skipped[1] == "empty.mid: empty file"
    assert len(skipped) == 2
    # No temporary file left next to the output.
    assert sorted(p.name for p in output.parent.iterdir()) == ["notes.tfrecord"]


def test_flat_run_records(first_run):
    output, _ = first_run
    sequences = _read(output)
    assert [s.filename for s in sequences] == ["top.mid", "two_tunes.abc", "two_tunes.abc"]
    assert {s.collection_name for s in sequences} == {"tunes"}
    assert sequences[0].id == _sha1_id("midi", "tunes", "top.mid")
    assert sequences[1].id == _sha1_id("abc", "tunes", "two_tunes.abc_1")
    assert sequences[2].id == _sha1_id("abc", "tunes", "two_tunes.abc_2")
    assert [n.pitch for n in sequences[0].notes] == TOP_PITCHES
    assert sequences[1].sequence_metadata.title == "First"
    # G A B c d e d B | d e d B d e d B in G major.
    assert [n.pitch for n in sequences[1].notes][:8] == [67, 69, 71, 72, 74, 76, 74, 71]
    assert len(sequences[2].notes) == 8


def test_refuses_to_overwrite(first_run, music_dir):
    output, _ = first_run
    before = output.read_bytes()
    result = _run(f"--input_dir={music_dir}", f"--output_file={output}")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "--overwrite" in result.stderr and "Traceback" not in result.stderr
    assert output.read_bytes() == before


def test_recursive_overwrite_with_workers(first_run, music_dir):
    output, _ = first_run
    result = _run(f"--input_dir={music_dir}", f"--output_file={output}", "--recursive",
                  "--overwrite", "--num_workers=2", "--log=WARN")
    assert result.returncode == 0, result.stderr
    assert "Wrote 4 NoteSequences from 3 files" in result.stderr
    sequences = _read(output)
    assert [s.filename for s in sequences] == [
        "top.mid", "two_tunes.abc", "two_tunes.abc", os.path.join("sub", "deep.midi")]
    deep = sequences[3]
    assert deep.id == _sha1_id("midi", "tunes", os.path.join("sub", "deep.midi"))
    assert [n.pitch for n in deep.notes] == SUB_PITCHES
    np.testing.assert_allclose([n.start_time for n in deep.notes], [0.0, 0.5, 1.0], atol=1e-3)


def test_missing_input_dir_is_one_line(tmp_path):
    result = _run(f"--input_dir={tmp_path / 'nowhere'}", f"--output_file={tmp_path / 'x'}")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"music_vae_convert: error: --input_dir is not a directory: {tmp_path / 'nowhere'}")
    assert not (tmp_path / "x").exists()


def test_required_flags(tmp_path):
    result = _run(f"--output_file={tmp_path / 'x'}")
    assert result.returncode == 1
    assert result.stderr.strip() == "music_vae_convert: error: --input_dir is required"
