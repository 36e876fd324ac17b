"""The one NoteSequence TFRecord reader (musicvae_tf.data.note_sequences): plain and gzip files."""
import gzip

import note_seq
import pytest
import tensorflow as tf

from kit import melody
from musicvae_tf import data


def _melody(num_notes, title):
    sequence = melody([60 + i for i in range(num_notes)], step=0.5)
    sequence.sequence_metadata.title = title
    return sequence


def _write(path, sequences, compression=None):
    options = tf.io.TFRecordOptions(compression_type=compression) if compression else None
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for sequence in sequences:
            writer.write(sequence.SerializeToString())
    return str(path)


def test_reads_plain_and_gzip_files_through_globs_and_lists(tmp_path):
    plain = _write(tmp_path / "a.tfrecord", [_melody(2, "a0"), _melody(3, "a1")])
    zipped = _write(tmp_path / "b.tfrecord", [_melody(4, "b0")], compression="GZIP")
    with open(zipped, "rb") as handle:
        assert handle.read(2) == b"\x1f\x8b"  # really gzip
    titles = [s.sequence_metadata.title for s in data.read_note_sequences(str(tmp_path / "*.tfrecord"))]
    assert titles == ["a0", "a1", "b0"]  # files sorted, records in file order
    sequences = list(data.read_note_sequences([zipped, plain]))
    assert [len(s.notes) for s in sequences] == [4, 2, 3]
    assert sequences[0] == _melody(4, "b0")
    assert [s.sequence_metadata.title for s in data.read_note_sequences(plain, limit=1)] == ["a0"]


def test_bad_input_is_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="No NoteSequence TFRecord file matches: .*none.tfrecord"):
        list(data.read_note_sequences(str(tmp_path / "none.tfrecord")))
    garbage = tmp_path / "garbage.tfrecord"
    garbage.write_bytes(b"this is not a tfrecord at all" * 10)
    with pytest.raises(ValueError, match="cannot read .*garbage.tfrecord as a TFRecord file") as error:
        list(data.read_note_sequences(str(garbage)))
    assert "\n" not in str(error.value)
    # A gzip file that holds something other than TFRecords.
    not_records = tmp_path / "text.tfrecord"
    not_records.write_bytes(gzip.compress(b"plain text, not records" * 10))
    with pytest.raises(ValueError, match="cannot read .*text.tfrecord as a TFRecord file"):
        list(data.read_note_sequences(str(not_records)))
    # TFRecords of something other than NoteSequences.
    other = tmp_path / "other.tfrecord"
    with tf.io.TFRecordWriter(str(other)) as writer:
        writer.write(b"\xff\xff\xff not a proto")
    with pytest.raises(ValueError, match="other.tfrecord does not hold serialized NoteSequences"):
        list(data.read_note_sequences(str(other)))


def test_held_out_examples_read_gzip_files(tmp_path):
    """music_vae_evaluate's held-out examples come through the same reader: gzip works there too."""
    from musicvae_tf import configs, metrics

    config = configs.get_config("cat-mel_2bar_small")
    melody = note_seq.NoteSequence()
    melody.tempos.add(qpm=120)
    melody.time_signatures.add(numerator=4, denominator=4)
    for i in range(8):
        melody.notes.add(pitch=60 + i, start_time=0.5 * i, end_time=0.5 * i + 0.5, velocity=80)
    melody.total_time = 4.0
    plain = _write(tmp_path / "plain.tfrecord", [melody])
    zipped = _write(tmp_path / "zipped.tfrecord", [melody], compression="GZIP")
    from_plain = metrics.load_examples(config, plain)
    from_zipped = metrics.load_examples(config, zipped)
    assert from_plain.outputs.shape[0] >= 1
    for a, b in zip(from_plain, from_zipped):
        assert (a == b).all()
