"""get_dataset / count_examples on the packaged folk tunes, checked against the converters."""
import copy
import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
note_seq = pytest.importorskip("note_seq")

from musicvae_tf import configs  # noqa: E402
from musicvae_tf import data  # noqa: E402


def _config(name, overrides=""):
    """A private copy of a config, with its own converter and hparams."""
    config = configs.CONFIG_MAP[name]
    hparams = copy.deepcopy(config.hparams)
    if overrides:
        hparams.parse(overrides)
    return config._replace(hparams=hparams, data_converter=copy.deepcopy(config.data_converter))


def _eval_records():
    path = data.default_examples_path("eval")
    return list(tf.data.TFRecordDataset(path).as_numpy_iterator())


def _converter_examples(converter, records, max_seq_len):
    """What the pipeline should yield in eval mode: each example padded/cut to max_seq_len."""
    converter = copy.deepcopy(converter)
    converter.set_mode("eval")
    examples = []
    for record in records:
        tensors = converter.to_tensors(converter.str_to_item_fn(record))
        for inputs, outputs, controls, length in zip(*tensors):
            fields = []
            for array, depth in ((inputs, converter.input_depth),
                                 (outputs, converter.output_depth),
                                 (controls, converter.control_depth)):
                array = np.asarray(array)
                array = (array.reshape(-1, depth) if depth else np.zeros((0, 0), array.dtype))
                array = array[:max_seq_len]
                padded = np.zeros((max_seq_len, depth), array.dtype)
                padded[:len(array)] = array
                fields.append(padded)
            examples.append(fields + [min(int(length), max_seq_len)])
    return examples


def _all_batches(dataset):
    return [tuple(t.numpy() for t in batch) for batch in dataset]


def _check_against_converter(config, records, whole_file=True):
    """Batches of the folk eval file equal the converter's examples of `records` (its first
    records; with whole_file, all of them and all batches)."""
    max_seq_len = config.hparams.max_seq_len
    batch_size = config.hparams.batch_size
    expected = _converter_examples(config.data_converter, records, max_seq_len)
    dataset = data.get_dataset(config, is_training=False)
    if not whole_file:
        dataset = dataset.take(len(expected) // batch_size)
    batches = _all_batches(dataset)
    assert len(batches) == len(expected) // batch_size > 0
    for b, (inputs, outputs, controls, lengths) in enumerate(batches):
        for i in range(batch_size):
            want = expected[b * batch_size + i]
            np.testing.assert_array_equal(inputs[i], want[0])
            np.testing.assert_array_equal(outputs[i], want[1])
            np.testing.assert_array_equal(controls[i], want[2])
            assert lengths[i] == want[3]
    return expected, batches


def test_default_examples_path():
    for split in ("train", "eval"):
        path = data.default_examples_path(split)
        assert os.path.isfile(path) and path.endswith(f"folk_{split}.tfrecord")
    assert data.default_examples_path("validation") == data.default_examples_path("eval")
    with pytest.raises(ValueError, match="split"):
        data.default_examples_path("dev")
    total = sum(os.path.getsize(data.default_examples_path(s)) for s in ("train", "eval"))
    assert total < 4_200_000


def test_eval_batches_equal_converter_output():
    config = _config("cat-mel_2bar_small", "batch_size=16")
    spec = data.get_dataset(config).element_spec
    assert [tuple(s.shape) for s in spec] == [(16, 32, 90), (16, 32, 90), (16, 32, 0), (16,)]
    assert [s.dtype for s in spec] == [tf.bool, tf.bool, tf.bool, tf.int32]
    expected, batches = _check_against_converter(config, _eval_records())
    # Every melody slice is two full bars; each step holds exactly one event.
    assert all(e[3] == 32 for e in expected)
    assert (batches[0][1].sum(axis=-1) == 1).all()
    # The converter in eval mode keeps at most max_tensors_per_notesequence per tune.
    assert config.data_converter.max_tensors_per_notesequence == 5


def test_count_examples_equals_examples_produced():
    config = _config("cat-mel_2bar_small", "batch_size=1")
    produced = sum(1 for _ in data.get_dataset(config))
    converter = copy.deepcopy(config.data_converter)
    converter.set_mode("eval")
    assert data.count_examples(data.default_examples_path("eval"), converter) == produced
    assert produced == len(_converter_examples(converter, _eval_records(), 32))
    # Magenta's argument order: (examples_path, tfds_name, data_converter).
    assert data.count_examples(data.default_examples_path("eval"), None, converter) == produced


def test_padding_to_longer_max_seq_len():
    config = _config("cat-mel_2bar_small", "batch_size=8,max_seq_len=40")
    expected, batches = _check_against_converter(config, _eval_records()[:12], whole_file=False)
    inputs, outputs, _, lengths = batches[0]
    assert inputs.shape == (8, 40, 90)
    assert not inputs[:, 32:].any() and not outputs[:, 32:].any()
    assert (lengths == 32).all()


def test_truncation_to_shorter_max_seq_len():
    config = _config("cat-mel_2bar_small", "batch_size=8,max_seq_len=20")
    _, batches = _check_against_converter(config, _eval_records()[:12], whole_file=False)
    assert batches[0][0].shape == (8, 20, 90)
    assert (batches[0][3] == 20).all()


def test_sixteen_bar_melodies():
    config = _config("hierdec-mel_16bar", "batch_size=8")
    records = _eval_records()[:10]
    expected, batches = _check_against_converter(config, records, whole_file=False)
    assert batches[0][0].shape == (8, 256, 90)
    assert all(e[3] == 256 for e in expected)


def test_controls_are_converted_and_batched(tmp_path):
    # Chord-conditioned melodies: folk tunes with chord symbols added every bar.
    config = _config("cat-mel_2bar_med_chords", "batch_size=4")
    path = tmp_path / "chords.tfrecord"
    records = []
    for record in _eval_records()[:8]:
        sequence = note_seq.NoteSequence.FromString(record)
        seconds_per_bar = 4 * 60.0 / (sequence.tempos[0].qpm if sequence.tempos else 120.0)
        for bar in range(int(sequence.total_time / seconds_per_bar) + 1):
            sequence.text_annotations.add(time=bar * seconds_per_bar, text=["C", "G7", "Am", "F"][bar % 4],
                                          annotation_type=note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL)
        records.append(sequence.SerializeToString())
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    config = config._replace(eval_examples_path=str(path))
    assert config.data_converter.control_depth == 49
    # Magenta's chord converter dedupes slices through a hash-ordered set: compare sorted.
    converter = copy.deepcopy(config.data_converter)
    converter.max_tensors_per_notesequence = None
    config = config._replace(data_converter=converter)
    expected = _converter_examples(converter, records, 32)
    batches = _all_batches(data.get_dataset(config))
    got = [(b[0][i], b[1][i], b[2][i]) for b in batches for i in range(4)]
    assert len(got) == len(expected) // 4 * 4 > 0
    assert all(c.any(axis=-1).all() for _, _, c in got)  # one chord (or no-chord) per step

    def key(example):
        return tuple(np.concatenate([np.argmax(example[j], -1) for j in range(3)]))
    expected_keys = sorted(key(e) for e in expected)
    for example in got:
        assert key(example) in expected_keys


def test_training_batches():
    config = _config("cat-mel_2bar_small", "batch_size=8")
    dataset = data.get_dataset(config, is_training=True)
    assert config.data_converter.is_training  # set on the config's converter, as in Magenta
    for inputs, outputs, controls, lengths in dataset.take(3):  # repeats forever
        assert inputs.shape == (8, 32, 90) and controls.shape == (8, 32, 0)
        np.testing.assert_array_equal(inputs.numpy(), outputs.numpy())
        assert (tf.reduce_sum(tf.cast(outputs, tf.int32), -1).numpy() == 1).all()
        assert (lengths.numpy() == 32).all()


def test_folk_data_is_the_fallback():
    config = _config("cat-mel_2bar_small", "batch_size=4")
    assert config.eval_examples_path is None and config.tfds_name is None
    implicit = _all_batches(data.get_dataset(config).take(2))
    explicit = _all_batches(
        data.get_dataset(config, examples_path=data.default_examples_path("eval")).take(2))
    for a, b in zip(implicit, explicit):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_drums_yield_nothing_from_folk_tunes():
    config = _config("cat-drums_2bar_small", "batch_size=2")
    assert _all_batches(data.get_dataset(config)) == []


def test_missing_file_error(tmp_path):
    missing = str(tmp_path / "nope-*.tfrecord")
    config = _config("cat-mel_2bar_small")
    with pytest.raises(FileNotFoundError, match="nope-"):
        data.get_dataset(config, examples_path=missing)
    with pytest.raises(FileNotFoundError, match="nope-"):
        data.count_examples(missing, config.data_converter)


def test_file_list_and_glob(tmp_path):
    records = _eval_records()
    for name, part in (("a", records[:6]), ("b", records[6:12])):
        with tf.io.TFRecordWriter(str(tmp_path / f"{name}.tfrecord")) as writer:
            for record in part:
                writer.write(record)
    config = _config("cat-mel_2bar_small", "batch_size=1")
    by_glob = _all_batches(data.get_dataset(config, examples_path=str(tmp_path / "*.tfrecord")))
    by_list = _all_batches(data.get_dataset(
        config, examples_path=[tmp_path / "a.tfrecord", tmp_path / "b.tfrecord"]))
    expected = _converter_examples(config.data_converter, records[:12], 32)
    assert len(by_glob) == len(by_list) == len(expected)
    for got_glob, got_list, want in zip(by_glob, by_list, expected):
        np.testing.assert_array_equal(got_glob[0][0], want[0])
        np.testing.assert_array_equal(got_list[1][0], want[1])


def test_tfds_config_without_tensorflow_datasets():
    try:
        import tensorflow_datasets  # noqa: F401
        pytest.skip("tensorflow-datasets is installed")
    except ImportError:
        pass
    config = _config("groovae_2bar_humanize")
    with pytest.raises(ImportError, match="tensorflow-datasets"):
        data.get_dataset(config)


def test_hparams_without_max_seq_len_pad_each_batch_to_its_longest(tmp_path):
    """As Magenta's get_dataset: with no max_seq_len hparam every example keeps its own length and
    a batch is zero-padded to its longest example."""
    import note_seq
    import tensorflow as tf

    from musicvae_tf.converters import OneHotMelodyConverter
    from musicvae_tf.hparams import HParams

    path = str(tmp_path / "melodies.tfrecord")
    sequences = []
    with tf.io.TFRecordWriter(path) as writer:
        for num_notes in (5, 9, 7, 3):  # quarter notes at 60 qpm: one step each
            sequence = note_seq.NoteSequence()
            sequence.tempos.add(qpm=60)
            for i in range(num_notes):
                sequence.notes.add(pitch=60 + i, start_time=i, end_time=i + 1, velocity=80)
            sequence.total_time = num_notes
            sequences.append(sequence)
            writer.write(sequence.SerializeToString())
    converter = OneHotMelodyConverter(steps_per_quarter=1, max_tensors_per_notesequence=1)
    config = configs.Config(hparams=HParams(batch_size=2), data_converter=converter,
                            train_examples_path=path, eval_examples_path=path)
    batches = list(data.get_dataset(config, is_training=False).as_numpy_iterator())
    converter.set_mode("eval")
    expected = [converter.to_tensors(s) for s in sequences]
    assert len(batches) == 2
    for batch, pair in zip(batches, (expected[:2], expected[2:])):
        inputs, outputs, controls, lengths = batch
        longest = max(t.lengths[0] for t in pair)
        assert inputs.shape == (2, longest, converter.input_depth)
        assert controls.shape == (2, longest, 0)
        np.testing.assert_array_equal(lengths, [t.lengths[0] for t in pair])
        for row, tensors in enumerate(pair):
            length = tensors.lengths[0]
            np.testing.assert_array_equal(outputs[row, :length], tensors.outputs[0])
            assert not outputs[row, length:].any()  # padding
