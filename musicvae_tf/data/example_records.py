"""Preprocessed training examples: a config's converter output stored as tf.train.Example records.

`music_vae_preprocess` writes these (one record per unique example); `music_vae_train
--examples_path` and `data.get_dataset` recognise them by their first record and read them
without running the converter again. Each record is a tf.train.Example with the features

    musicvae_example_version  int64 [1]    FORMAT_VERSION (what marks the format)
    input_depth, output_depth, control_depth   int64 [1]   the converter's depths
    inputs     float [steps * input_depth]    the encoder input, row-major [steps, input_depth]
    outputs    float [steps * output_depth]   the decoder target, [steps, output_depth]
    controls   float [steps * control_depth]  the conditioning, [steps, control_depth] (empty at depth 0)
    lengths    int64 [prod(length_shape)]     the example's length (hierarchical: one per segment)
    note_sequence  bytes [1]   the example decoded back by the converter (what Magenta's
                               preprocess_tfrecord wrote); training re-converts it when the config
                               augments (random transposition), so augmentation still applies
    source_ids     bytes [n]   ids of the NoteSequences the example was extracted from, sorted

The tensors are unpadded and in float32; readers cast them to the converter's dtypes (one-hot
converters: bool). Files are GZIP-compressed TFRecords.
"""

import hashlib

import numpy as np
import tensorflow as tf

from musicvae_tf.data.note_sequences import compression_of

FORMAT_VERSION = 1
VERSION_KEY = "musicvae_example_version"
_DEPTH_KEYS = ("input_depth", "output_depth", "control_depth")


def _floats(array):
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(array, np.float32).ravel()))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=np.asarray(values, np.int64).ravel()))


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def example_key(inputs, outputs, controls, length):
    """Hex digest identifying an example by its tensors (the same tensors give the same key)."""
    digest = hashlib.sha1()
    for array in (inputs, outputs, controls, length):
        array = np.asarray(array, np.float32)
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def encode_example(converter, inputs, outputs, controls, length, note_sequence_bytes, source_ids):
    """Serialized tf.train.Example of one example (see the module docstring)."""
    features = {
        VERSION_KEY: _ints([FORMAT_VERSION]),
        "input_depth": _ints([converter.input_depth]),
        "output_depth": _ints([converter.output_depth]),
        "control_depth": _ints([converter.control_depth]),
        "inputs": _floats(inputs),
        "outputs": _floats(outputs),
        "controls": _floats(controls),
        "lengths": _ints(np.atleast_1d(length)),
        "note_sequence": _bytes([note_sequence_bytes]),
        "source_ids": _bytes(sorted(i.encode("utf-8") if isinstance(i, str) else i for i in source_ids)),
    }
    # Deterministic: map entries sorted by key, so equal examples are equal bytes in any process.
    example = tf.train.Example(features=tf.train.Features(feature=features))
    return example.SerializeToString(deterministic=True)


def decode_example(serialized):
    """{name: numpy value} of one record (tensors reshaped to [steps, depth]); for tests and tools."""
    example = tf.train.Example.FromString(serialized)
    feature = example.features.feature
    depths = {k: int(feature[k].int64_list.value[0]) for k in _DEPTH_KEYS}
    result = dict(depths)
    for name, depth_key in (("inputs", "input_depth"), ("outputs", "output_depth"),
                            ("controls", "control_depth")):
        values = np.asarray(feature[name].float_list.value, np.float32)
        depth = depths[depth_key]
        # Depth 0 (no controls): one empty row per input step, as the converters give them.
        result[name] = values.reshape(-1, depth) if depth else np.zeros([len(result["inputs"]), 0], np.float32)
    result["lengths"] = np.asarray(feature["lengths"].int64_list.value, np.int64)
    result["note_sequence"] = feature["note_sequence"].bytes_list.value[0]
    result["source_ids"] = [v.decode("utf-8") for v in feature["source_ids"].bytes_list.value]
    return result


def is_example_record(serialized):
    """True for a record of this format (a NoteSequence never carries the version feature)."""
    try:
        example = tf.train.Example.FromString(serialized)
    except Exception:  # protobuf's DecodeError: not a tf.train.Example
        return False
    return VERSION_KEY in example.features.feature


def first_record(filename):
    """The first record of a (plain or GZIP) TFRecord file, or None when it has none."""
    records = tf.data.TFRecordDataset(filename, compression_type=compression_of(filename))
    try:
        for record in records.take(1).as_numpy_iterator():
            return record
    except tf.errors.OpError as error:
        detail = error.message.split("}}")[-1].split("[Op:")[0].strip()
        raise ValueError(f"cannot read {filename} as a TFRecord file: {detail}") from None
    return None


def holds_examples(files):
    """True when the first non-empty file of `files` holds preprocessed examples.

    Raises ValueError (one line) when files mix this format with NoteSequences.
    """
    kinds = {}
    for filename in files:
        record = first_record(filename)
        if record is not None:
            kinds[filename] = is_example_record(record)
    if len(set(kinds.values())) > 1:
        examples = [f for f, is_example in kinds.items() if is_example]
        others = [f for f, is_example in kinds.items() if not is_example]
        raise ValueError(f"--examples_path mixes preprocessed examples ({examples[0]}) with "
                         f"NoteSequences ({others[0]}); pass one kind")
    return any(kinds.values())


def check_depths(filename, converter):
    """Raises ValueError (one line) when the records were made by a converter of other depths."""
    record = first_record(filename)
    if record is None:
        return
    feature = tf.train.Example.FromString(record).features.feature
    stored = tuple(int(feature[k].int64_list.value[0]) for k in _DEPTH_KEYS)
    wanted = (converter.input_depth, converter.output_depth, converter.control_depth)
    if stored != wanted:
        raise ValueError(
            f"{filename} holds examples of (input, output, control) depths {stored} but this config's "
            f"{type(converter).__name__} makes {wanted}: preprocess them with this config")


def _np_dtype(dtype):
    return np.dtype(tf.as_dtype(dtype).as_numpy_dtype) if isinstance(dtype, tf.DType) else np.dtype(dtype)


def parse_fn(converter):
    """tf function: serialized record -> (inputs, outputs, controls, lengths) in the converter's dtypes."""
    spec = {name: tf.io.VarLenFeature(tf.float32) for name in ("inputs", "outputs", "controls")}
    spec["lengths"] = tf.io.VarLenFeature(tf.int64)
    length_shape = list(converter.length_shape)

    def reshape(values, depth, dtype, steps=None):
        values = tf.sparse.to_dense(values)
        if depth:
            tensor = tf.reshape(values, [-1, depth])
        else:
            tensor = tf.zeros([steps, 0], tf.float32)
        return tf.cast(tensor, tf.as_dtype(_np_dtype(dtype)))

    def parse(serialized):
        parsed = tf.io.parse_single_example(serialized, spec)
        inputs = reshape(parsed["inputs"], converter.input_depth, converter.input_dtype)
        outputs = reshape(parsed["outputs"], converter.output_depth, converter.output_dtype)
        controls = reshape(parsed["controls"], converter.control_depth, converter.control_dtype,
                           steps=tf.shape(inputs)[0])
        lengths = tf.cast(tf.sparse.to_dense(parsed["lengths"]), tf.int32)
        lengths = tf.reshape(lengths, length_shape)
        return inputs, outputs, controls, lengths

    return parse


def note_sequence_fn():
    """tf function: serialized record -> its serialized example NoteSequence (for augmentation)."""
    spec = {"note_sequence": tf.io.FixedLenFeature([], tf.string)}

    def extract(serialized):
        return tf.io.parse_single_example(serialized, spec)["note_sequence"]

    return extract


def count_records(files):
    """Number of records in `files` (one per example)."""
    total = 0
    for filename in files:
        records = tf.data.TFRecordDataset(filename, compression_type=compression_of(filename))
        total += int(records.reduce(np.int64(0), lambda count, _: count + 1).numpy())
    return total


__all__ = ["FORMAT_VERSION", "check_depths", "count_records", "decode_example", "encode_example",
           "example_key", "holds_examples", "is_example_record", "note_sequence_fn", "parse_fn"]
