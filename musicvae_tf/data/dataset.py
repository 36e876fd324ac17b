"""tf.data input pipelines of NoteSequences turned into MusicVAE examples (Magenta's semantics).

`get_dataset(config, is_training=...)` reads serialized NoteSequences (TFRecord files, a TFDS
dataset, or the folk tunes packaged with musicvae_tf), optionally augments them, converts
each one with `config.data_converter` and yields batches of

    (inputs, outputs, controls, lengths)

with shapes [batch, max_seq_len, input_depth], [batch, max_seq_len, output_depth],
[batch, max_seq_len, control_depth] and [batch] + converter.length_shape, in the converter's
dtypes (one-hot converters give bool), zero-padded or truncated to `hparams.max_seq_len`,
lengths clipped to it. Python runs once per NoteSequence (augmentation and conversion in one
`tf.numpy_function` call); flattening, padding, shuffling and batching are TensorFlow ops.
"""
import copy

import numpy as np
import tensorflow as tf
from absl import logging

from musicvae_tf.data import example_records
from musicvae_tf.data.note_sequences import compression_of, read_serialized, resolve_examples_path

AUTOTUNE = tf.data.AUTOTUNE


# -- locating the records -------------------------------------------------------------------
def _record_dataset(files, tf_file_reader, shuffle_files):
    """Serialized records of `files`, in file order unless `shuffle_files`."""
    if tf_file_reader is tf.data.TFRecordDataset:
        compressions = [compression_of(f) for f in files]

        def reader(filename, compression):
            return tf.data.TFRecordDataset(filename, compression_type=compression)

        file_dataset = tf.data.Dataset.from_tensor_slices((files, compressions))
    else:
        def reader(filename):
            return tf_file_reader(filename)

        file_dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle_files:
        file_dataset = file_dataset.shuffle(len(files), reshuffle_each_iteration=True)
        return file_dataset.interleave(reader, cycle_length=AUTOTUNE, num_parallel_calls=AUTOTUNE,
                                       deterministic=False)
    # Evaluation: records in file order, so that batches are reproducible.
    return file_dataset.interleave(reader, cycle_length=1, num_parallel_calls=AUTOTUNE,
                                   deterministic=True)


def _tfds_module(tfds_name):
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise ImportError(
            f"The config reads the TFDS dataset {tfds_name!r} but tensorflow-datasets is not "
            "installed: pip install tensorflow-datasets, or pass examples_path") from None
    return tfds


def _midi_to_serialized_note_sequence(midi_bytes):
    import note_seq

    return note_seq.midi_to_note_sequence(bytes(midi_bytes)).SerializeToString()


def _tfds_records(tfds_name, is_training):
    tfds = _tfds_module(tfds_name)
    dataset = tfds.load(tfds_name, split="train" if is_training else "validation",
                        shuffle_files=is_training, try_gcs=True)

    def to_note_sequence(example):
        serialized = tf.numpy_function(_midi_to_serialized_note_sequence, [example["midi"]],
                                       tf.string, stateful=False, name="midi_to_note_sequence")
        serialized.set_shape(())
        return serialized

    return dataset.map(to_note_sequence, num_parallel_calls=AUTOTUNE,
                       deterministic=not is_training)


def _examples_source(config, examples_path, is_training):
    """(kind, value): ('files', [paths]) or ('tfds', name), following Magenta's precedence."""
    if examples_path is None:
        examples_path = config.train_examples_path if is_training else config.eval_examples_path
    if examples_path:
        return "files", resolve_examples_path(examples_path)
    if getattr(config, "tfds_name", None):
        return "tfds", config.tfds_name
    from musicvae_tf.data import default_examples_path

    path = default_examples_path("train" if is_training else "eval")
    logging.info("No examples path in the config: using the packaged folk tunes %s", path)
    return "files", [path]


# -- conversion -----------------------------------------------------------------------------
def _np_dtype(dtype):
    return np.dtype(tf.as_dtype(dtype).as_numpy_dtype) if isinstance(dtype, tf.DType) \
        else np.dtype(dtype)


def _pad_examples(seqs, dtype, depth):
    """[num_examples, longest, depth] array of `dtype`, zero padded."""
    dtype = _np_dtype(dtype)
    if len(seqs) == 0:
        return np.zeros((0, 0, depth), dtype)
    longest = max(len(s) for s in seqs)
    stacked = np.zeros((len(seqs), longest, depth), dtype)
    for i, seq in enumerate(seqs):
        seq = np.asarray(seq)
        if seq.size:
            stacked[i, :len(seq)] = seq
    return stacked


def make_convert_fn(converter, augmenter=None, with_controls=True):
    """Python function: serialized NoteSequence -> (inputs, outputs, [controls,] lengths) arrays.

    The arrays hold every example the converter yields for that NoteSequence, zero padded to
    the longest; `augmenter.augment` (if given) is applied first.
    """
    length_shape = tuple(converter.length_shape)

    def convert(serialized):
        item = converter.str_to_item_fn(bytes(serialized))
        if augmenter is not None:
            item = augmenter.augment(item)
        tensors = converter.to_tensors(item)
        lengths = np.asarray(tensors.lengths, np.int32)
        if not len(tensors.lengths):
            lengths = np.zeros((0,) + length_shape, np.int32)
        arrays = [_pad_examples(tensors.inputs, converter.input_dtype, converter.input_depth),
                  _pad_examples(tensors.outputs, converter.output_dtype, converter.output_depth)]
        if with_controls:
            arrays.append(_pad_examples(tensors.controls, converter.control_dtype,
                                        converter.control_depth))
        return tuple(arrays) + (lengths,)

    return tf.autograph.experimental.do_not_convert(convert)


def _tf_dtype(dtype):
    return tf.as_dtype(_np_dtype(dtype))


def _convert_op(item_scalar, converter, augmenter, with_controls):
    dtypes = [_tf_dtype(converter.input_dtype), _tf_dtype(converter.output_dtype)]
    if with_controls:
        dtypes.append(_tf_dtype(converter.control_dtype))
    results = tf.numpy_function(
        make_convert_fn(converter, augmenter, with_controls), [item_scalar], dtypes + [tf.int32],
        stateful=True, name="convert_note_sequence")
    results[0].set_shape([None, None, converter.input_depth])
    results[1].set_shape([None, None, converter.output_depth])
    if with_controls:
        results[2].set_shape([None, None, converter.control_depth])
    results[-1].set_shape([None] + list(converter.length_shape))
    return tuple(results)


def convert_to_tensors_op(item_scalar, converter, augmenter=None):
    """TF op: a serialized NoteSequence scalar -> padded example tensors of all its examples.

    Returns inputs [n, t, input_depth], outputs [n, t, output_depth], controls
    [n, t, control_depth] (t: the longest example of this NoteSequence) and lengths
    [n] + length_shape, in the converter's dtypes (lengths int32).
    """
    with_controls = converter.control_depth > 0
    results = _convert_op(item_scalar, converter, augmenter, with_controls)
    if with_controls:
        return results
    inputs, outputs, lengths = results
    shape = tf.shape(inputs)
    controls = tf.zeros([shape[0], shape[1], 0], _tf_dtype(converter.control_dtype))
    return inputs, outputs, controls, lengths


def _pad_or_truncate(sequence, max_seq_len):
    sequence = sequence[:max_seq_len]
    padding = max_seq_len - tf.shape(sequence)[0]
    sequence = tf.pad(sequence, [[0, padding], [0, 0]])
    return tf.ensure_shape(sequence, [max_seq_len, sequence.shape[-1]])


def _pipeline_converter(converter, mode):
    """A private copy of the converter in `mode`, so later mode changes cannot reach the pipeline."""
    try:
        private = copy.deepcopy(converter)
    except Exception:  # a converter holding something uncopyable: share it, as Magenta does
        private = converter
    private.set_mode(mode)
    return private


def _drop_empty_controls(tensors, with_controls):
    inputs, outputs, controls, lengths = tensors
    return (inputs, outputs, controls, lengths) if with_controls else (inputs, outputs, lengths)


def get_dataset(config, tf_file_reader=tf.data.TFRecordDataset, is_training=False,
                cache_dataset=True, examples_path=None):
    """Batches of (inputs, outputs, controls, lengths) for training or evaluation.

    Args:
      config: a musicvae_tf.configs.Config (uses data_converter, note_sequence_augmenter,
        hparams.batch_size, hparams.max_seq_len, train/eval_examples_path, tfds_name). Without
        a max_seq_len hparam (as Magenta allows) each batch is padded to its longest example.
      tf_file_reader: a tf.data.Dataset class (or callable) that reads one file of records.
      is_training: shuffle, augment, repeat forever, and use the converter in 'train' mode
        (random sampling of examples); otherwise 'eval' mode, file order, one pass.
      cache_dataset: cache the converted examples in memory (as Magenta: with augmentation,
        the first pass's augmented examples are then reused).
      examples_path: a TFRecord file, glob, or list of them; overrides the config's path.
        Without any path or TFDS name, the folk tunes packaged with musicvae_tf are used.
        Files of preprocessed examples (`music_vae_preprocess`, see `example_records`) are
        recognised and read without converting again (with the config's augmenter, their
        NoteSequences are augmented and converted).

    Like Magenta, this sets the mode of `config.data_converter`; the pipeline itself runs on a
    copy of the converter.
    """
    hparams = config.hparams
    batch_size = hparams.batch_size
    max_seq_len = getattr(hparams, "max_seq_len", None)
    mode = "train" if is_training else "eval"
    config.data_converter.set_mode(mode)
    converter = _pipeline_converter(config.data_converter, mode)
    augmenter = config.note_sequence_augmenter if is_training else None

    kind, source = _examples_source(config, examples_path, is_training)
    preprocessed = (kind == "files" and tf_file_reader is tf.data.TFRecordDataset
                    and example_records.holds_examples(source))
    if preprocessed:
        example_records.check_depths(source[0], converter)
        dataset = _record_dataset(source, tf_file_reader, shuffle_files=is_training)
        if augmenter is not None:
            # The augmenter works on NoteSequences: re-convert the examples' own NoteSequences.
            logging.info("Reading preprocessed examples from %d file(s) (%s ...); augmenting their "
                         "NoteSequences", len(source), source[0])
            dataset = dataset.map(example_records.note_sequence_fn(), num_parallel_calls=AUTOTUNE,
                                  deterministic=not is_training)
            preprocessed = False
        else:
            logging.info("Reading preprocessed examples from %d file(s): %s", len(source), source[:3])
    elif kind == "files":
        logging.info("Reading NoteSequences from %d file(s): %s", len(source), source[:3])
        dataset = _record_dataset(source, tf_file_reader, shuffle_files=is_training)
    else:
        logging.info("Reading NoteSequences from TFDS: %s", source)
        dataset = _tfds_records(source, is_training)

    fused_augmenter = None
    if augmenter is not None:
        if hasattr(augmenter, "augment"):
            fused_augmenter = augmenter
        else:
            dataset = dataset.map(augmenter.tf_augment, num_parallel_calls=AUTOTUNE,
                                  deterministic=False)

    # Without controls (control_depth 0) the controls are made after unbatching: unbatching
    # a zero-size component crashes TensorFlow 2.21 (segmentation fault).
    with_controls = converter.control_depth > 0
    if preprocessed:
        parse = example_records.parse_fn(converter)
        dataset = dataset.map(lambda record: _drop_empty_controls(parse(record), with_controls),
                              num_parallel_calls=AUTOTUNE, deterministic=not is_training)
    else:
        dataset = dataset.map(
            tf.autograph.experimental.do_not_convert(
                lambda item: _convert_op(item, converter, fused_augmenter, with_controls)),
            num_parallel_calls=AUTOTUNE, deterministic=not is_training)
        dataset = dataset.unbatch()
    control_dtype = _tf_dtype(converter.control_dtype)

    def fit_to_max_seq_len(inputs, outputs, *rest):
        if with_controls:
            controls, lengths = rest
            controls = _pad_or_truncate(controls, max_seq_len)
        else:
            (lengths,) = rest
            controls = tf.zeros([max_seq_len, 0], control_dtype)
        return (_pad_or_truncate(inputs, max_seq_len), _pad_or_truncate(outputs, max_seq_len),
                controls, tf.minimum(lengths, max_seq_len))

    def remove_padding(inputs, outputs, *rest):
        # No max_seq_len: Magenta's way, each example cut to its length (padded again per batch).
        controls, lengths = rest if with_controls else (None, rest[0])
        if lengths.shape.rank == 0:
            inputs, outputs = inputs[:lengths], outputs[:lengths]
            controls = None if controls is None else controls[:lengths]
        if controls is None:
            controls = tf.zeros([tf.shape(inputs)[0], 0], control_dtype)
        return inputs, outputs, controls, lengths

    dataset = dataset.map(remove_padding if max_seq_len is None else fit_to_max_seq_len,
                          num_parallel_calls=AUTOTUNE, deterministic=not is_training)
    if cache_dataset:
        dataset = dataset.cache()
    if is_training:
        dataset = dataset.shuffle(buffer_size=10 * batch_size).repeat()
    if max_seq_len is None:
        dataset = dataset.padded_batch(batch_size, drop_remainder=True)
    else:
        dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.prefetch(AUTOTUNE)


# -- counting -------------------------------------------------------------------------------
def _serialized_records(files, file_reader):
    for filename in files:
        logging.info("Counting examples in %s", filename)
        if file_reader is tf.data.TFRecordDataset:
            records = read_serialized(filename)
        else:
            records = file_reader(filename)
        if isinstance(records, tf.data.Dataset):
            records = records.as_numpy_iterator()
        yield from records


def count_examples(examples_path, data_converter, file_reader=tf.data.TFRecordDataset,
                   tfds_name=None):
    """Number of examples `data_converter` (in its current mode) yields for the records.

    `examples_path` is a file, glob or list (None: the TFDS validation split of `tfds_name`,
    or else the packaged folk eval tunes). Magenta's argument order
    `count_examples(examples_path, tfds_name, data_converter)` is accepted too.
    """
    if not hasattr(data_converter, "to_tensors") and hasattr(file_reader, "to_tensors"):
        data_converter, file_reader, tfds_name = file_reader, tf.data.TFRecordDataset, \
            data_converter
    if examples_path and example_records.holds_examples(resolve_examples_path(examples_path)):
        total = example_records.count_records(resolve_examples_path(examples_path))
        logging.info("Total examples (preprocessed): %d", total)
        return total
    if examples_path:
        items = (data_converter.str_to_item_fn(r)
                 for r in _serialized_records(resolve_examples_path(examples_path), file_reader))
    elif tfds_name:
        import note_seq

        tfds = _tfds_module(tfds_name)
        dataset = tfds.as_numpy(tfds.load(tfds_name, split="validation", try_gcs=True))
        items = (note_seq.midi_to_note_sequence(ex["midi"]) for ex in dataset)
    else:
        from musicvae_tf.data import default_examples_path

        items = (data_converter.str_to_item_fn(r)
                 for r in _serialized_records([default_examples_path("eval")], file_reader))
    total = 0
    for item in items:
        total += len(data_converter.to_tensors(item).lengths)
    logging.info("Total examples: %d", total)
    return total


__all__ = ["get_dataset", "count_examples", "convert_to_tensors_op", "make_convert_fn",
           "resolve_examples_path"]
