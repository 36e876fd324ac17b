"""Reading NoteSequence TFRecord files: the one reader, plain or gzip-compressed.

    for sequence in read_note_sequences("notes.tfrecord", limit=100):   # a file, glob or list
        ...

Files are found by `resolve_examples_path` (sorted, globs expanded) and read in that order;
gzip-compressed files are recognised by their first bytes. The tf.data pipeline
(`data.dataset.get_dataset`) reads the same files with the same compression detection.
"""

import os

import tensorflow as tf

_GZIP_MAGIC = b"\x1f\x8b"


def _as_path_list(examples_path):
    if isinstance(examples_path, (str, bytes, os.PathLike)):
        return [os.fsdecode(examples_path)]
    return [os.fsdecode(p) for p in examples_path]


def resolve_examples_path(examples_path):
    """Sorted list of files matched by a path, a glob, or a list of those.

    Raises FileNotFoundError naming the first entry that matches no file.
    """
    files = []
    for pattern in _as_path_list(examples_path):
        matched = sorted(tf.io.gfile.glob(pattern))
        matched = [f for f in matched if not tf.io.gfile.isdir(f)]
        if not matched:
            raise FileNotFoundError(f"No NoteSequence TFRecord file matches: {pattern}")
        files.extend(matched)
    return files


def compression_of(filename):
    """'GZIP' for gzip-compressed TFRecord files, '' otherwise (read from the first bytes)."""
    try:
        with tf.io.gfile.GFile(filename, "rb") as f:
            return "GZIP" if f.read(2) == _GZIP_MAGIC else ""
    except tf.errors.OpError:
        return ""


def read_serialized(examples_path):
    """Yields the records (bytes) of the files `examples_path` matches, in order.

    Raises FileNotFoundError when nothing matches, ValueError (one line) for a file that is not
    a TFRecord file.
    """
    for _, record in _records(examples_path):
        yield record


def _records(examples_path):
    for filename in resolve_examples_path(examples_path):
        records = tf.data.TFRecordDataset(filename, compression_type=compression_of(filename))
        iterator = records.as_numpy_iterator()
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except tf.errors.OpError as error:
                detail = error.message.split("}}")[-1].split("[Op:")[0].strip()
                raise ValueError(f"cannot read {filename} as a TFRecord file: {detail}") from None
            yield filename, record


def read_note_sequences(examples_path, limit=None):
    """Yields the NoteSequence protos stored in the files `examples_path` matches (a file, glob
    or list), at most `limit` of them (None or 0: all).

    Raises FileNotFoundError when nothing matches, ValueError (one line) for a file that is not a
    TFRecord file or does not hold serialized NoteSequences.
    """
    import note_seq

    count = 0
    for filename, record in _records(examples_path):
        try:
            sequence = note_seq.NoteSequence.FromString(record)
        except Exception as error:  # protobuf's DecodeError: not a NoteSequence file
            raise ValueError(f"{filename} does not hold serialized NoteSequences "
                             f"({type(error).__name__})") from None
        yield sequence
        count += 1
        if limit and count >= limit:
            return


__all__ = ["compression_of", "read_note_sequences", "read_serialized", "resolve_examples_path"]
