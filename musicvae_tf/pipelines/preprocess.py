"""NoteSequences -> a config's training examples, deduplicated and split train/eval (Apache Beam).

    counts = preprocess("cat-mel_2bar_small", "notes*.tfrecord", "examples/", options)
    # examples/train-00000-of-00001.tfrecord.gz, examples/eval-....tfrecord.gz, examples/examples.json

What Magenta's `preprocess_tfrecord.py` does, with tensors as output:
1. every NoteSequence is split at tempo and time-signature changes (more than 100 parts: skipped);
2. each part passes Magenta's filters (`DEFAULT_FILTERS`: at most 1800 s and 10,000 notes,
   quantisable at 16 steps per quarter, at least one velocity and one metric position);
3. the config's converter extracts every example (eval mode; `max_examples_per_sequence=N` keeps
   the first N of each part instead, which is what Magenta's script ended up doing, see
   `ExampleExtractor`);
4. examples with equal tensors are merged into one, which lists all the ids it came from;
5. each unique example goes to eval when a stable hash (SHA-1) of its smallest source id falls
   below `eval_fraction`, else to train: a NoteSequence's examples stay together, no example is in
   both splits, and the split does not depend on the runner, the workers or the order of the input;
6. the examples are written as `data.example_records` (GZIP TFRecords), and examples.json records
   the config, the counts and the files.
Counters (Beam metrics, printed at the end) say how many sequences each filter dropped.
"""

import copy
import hashlib
import json
import os

from musicvae_tf import output_folders
from musicvae_tf.data import example_records
from musicvae_tf.pipelines import beam_runner

DEFAULT_FILTERS = {
    "max_total_time": 1800,      # seconds
    "max_num_notes": 10000,
    "min_velocities": 1,         # distinct velocities of non-silent notes
    "min_metric_positions": 1,   # distinct positions within a quarter note at 16 steps per quarter
    "is_drum": None,             # None: any notes count for the last two; True/False: only (non-)drums
    "drums_only": False,         # skip sequences with non-drum notes
}
MAX_TIME_SPLITS = 100
METADATA_FILE = "examples.json"
SPLITS = ("train", "eval")
FILE_SUFFIX = ".tfrecord.gz"


def split_of(source_ids, eval_fraction):
    """'eval' or 'train' for an example extracted from the NoteSequences `source_ids`."""
    digest = hashlib.sha1(min(source_ids).encode("utf-8")).digest()
    return "eval" if int.from_bytes(digest[:8], "big") / 2.0**64 < eval_fraction else "train"


def filter_reason(note_sequence, filters):
    """Why a (time-split) NoteSequence is skipped, as a counter name, or None to keep it."""
    import note_seq

    if note_sequence.total_time > filters["max_total_time"]:
        return "filtered_too_long"
    if len(note_sequence.notes) > filters["max_num_notes"]:
        return "filtered_too_many_notes"
    try:
        quantized = note_seq.quantize_note_sequence(note_sequence, steps_per_quarter=16)
    except (note_seq.BadTimeSignatureError, note_seq.NonIntegerStepsPerBarError, note_seq.NegativeTimeError):
        return "filtered_quantize_failed"
    velocities, positions, drums_only = set(), set(), True
    for note in quantized.notes:
        drums_only &= note.is_drum
        if (filters["is_drum"] is None or note.is_drum == filters["is_drum"]) and note.velocity > 0:
            velocities.add(note.velocity)
            positions.add(note.quantized_start_step % 16)
    if len(velocities) < filters["min_velocities"]:
        return "filtered_min_velocities"
    if len(positions) < filters["min_metric_positions"]:
        return "filtered_min_metric_positions"
    if filters["drums_only"] and not drums_only:
        return "filtered_drums_only"
    return None


class ExampleExtractor:
    """serialized NoteSequence -> [(example key, serialized example without source ids)].

    `count(name, n)` receives the counters (filter reasons, examples, ...). Plain Python: the
    Beam step and tests call it alike.
    """

    def __init__(self, converter, filters=None, max_examples_per_sequence=None):
        self.converter = copy.deepcopy(converter)
        self.converter.set_mode("eval")
        # Magenta's preprocess_tfrecord meant to lift the cap (it sets `max_outputs_per_notesequence`,
        # an attribute no converter reads, so its converters kept their cap and took the first N).
        self.converter.max_tensors_per_notesequence = max_examples_per_sequence or None
        self.filters = DEFAULT_FILTERS if filters is None else filters

    def __call__(self, serialized, count=lambda name, n=1: None):
        import note_seq
        from note_seq import sequences_lib

        sequence = note_seq.NoteSequence.FromString(serialized)
        count("sequences")
        parts = sequences_lib.split_note_sequence_on_time_changes(sequence)
        if len(parts) > MAX_TIME_SPLITS:
            count("filtered_too_many_time_splits")
            return []
        results = []
        for part in parts:
            reason = filter_reason(part, self.filters) if self.filters else None
            if reason:
                count(reason)
                continue
            results.extend(self._examples(part, count))
        if not results:
            count("sequences_without_examples")
        return results

    def _examples(self, part, count):
        converter = self.converter
        tensors = converter.to_tensors(part)
        count("examples", len(tensors.lengths))
        results = []
        for inputs, outputs, controls, length in zip(*tensors):
            if converter.control_depth:
                decoded = converter.from_tensors([outputs], [controls])[0]
            else:
                decoded = converter.from_tensors([outputs])[0]
            key = example_records.example_key(inputs, outputs, controls, length)
            results.append((key, example_records.encode_example(
                converter, inputs, outputs, controls, length, decoded.SerializeToString(), [])))
        return results


def merge_duplicates(payloads_and_ids):
    """(serialized example, sorted unique source ids) of one key's [(example, source id), ...]."""
    import tensorflow as tf

    ids = sorted({source_id for _, source_id in payloads_and_ids})
    example = tf.train.Example.FromString(payloads_and_ids[0][0])
    example.features.feature["source_ids"].bytes_list.value.extend(i.encode("utf-8") for i in ids)
    return example.SerializeToString(deterministic=True), ids


def source_id_of(serialized):
    """The id of a serialized NoteSequence (what examples list as their source)."""
    import note_seq

    return note_seq.NoteSequence.FromString(serialized).id


# -- the Beam pipeline ----------------------------------------------------------------------
def _beam_transforms():
    beam = beam_runner.import_beam()

    class ExtractExamples(beam.DoFn):
        def __init__(self, converter, filters, max_examples_per_sequence):
            self._converter, self._filters, self._cap = converter, filters, max_examples_per_sequence

        def setup(self):
            self._extract = ExampleExtractor(self._converter, self._filters, self._cap)
            self._counters = {}

        def _count(self, name, n=1):
            if name not in self._counters:
                self._counters[name] = beam_runner.counter(name)
            self._counters[name].inc(n)

        def process(self, serialized):
            source_id = source_id_of(serialized)
            for key, payload in self._extract(serialized, self._count):
                yield key, (payload, source_id)

    class MergeAndSplit(beam.DoFn):
        def __init__(self, eval_fraction):
            self._eval_fraction = eval_fraction

        def process(self, keyed):
            _, values = keyed
            values = list(values)
            example, ids = merge_duplicates(values)
            beam_runner.counter("unique_examples").inc()
            beam_runner.counter("duplicate_examples").inc(len(values) - 1)
            split = split_of(ids, self._eval_fraction)
            beam_runner.counter(f"{split}_examples").inc()
            yield beam.pvalue.TaggedOutput(split, example)

    return beam, ExtractExamples, MergeAndSplit


def build_pipeline(pipeline, files_by_compression, converter, output_dir, eval_fraction=0.1,
                   filters=None, num_shards=0, max_examples_per_sequence=None):
    """Adds the preprocessing steps to `pipeline`: read, extract, deduplicate, split, write."""
    beam, ExtractExamples, MergeAndSplit = _beam_transforms()
    from apache_beam.io.filesystem import CompressionTypes

    reads = []
    for compression, files in sorted(files_by_compression.items()):
        kind = CompressionTypes.GZIP if compression == "GZIP" else CompressionTypes.UNCOMPRESSED
        label = compression.lower() or "plain"
        reads.append(pipeline
                     | f"list_{label}_files" >> beam.Create(files)
                     | f"read_{label}_files" >> beam.io.ReadAllFromTFRecord(compression_type=kind))
    records = reads[0] if len(reads) == 1 else tuple(reads) | "all_records" >> beam.Flatten()
    splits = (records
              | "reshuffle_records" >> beam.Reshuffle()
              | "extract_examples" >> beam.ParDo(
                  ExtractExamples(converter, filters, max_examples_per_sequence))
              | "group_equal_examples" >> beam.GroupByKey()
              | "merge_and_split" >> beam.ParDo(MergeAndSplit(eval_fraction)).with_outputs(*SPLITS))
    for split in SPLITS:
        _ = (splits[split]
             | f"write_{split}" >> beam.io.WriteToTFRecord(
                 os.path.join(output_dir, split), file_name_suffix=FILE_SUFFIX,
                 num_shards=num_shards, compression_type=CompressionTypes.GZIP))


def output_files(output_dir, split):
    import tensorflow as tf

    return sorted(tf.io.gfile.glob(os.path.join(output_dir, f"{split}-*-of-*{FILE_SUFFIX}")))


def preprocess(config_name, input_pattern, output_dir, options, config=None, eval_fraction=0.1,
               filters=None, num_shards=0, max_examples_per_sequence=None, verbose=False):
    """Runs the pipeline; returns examples.json's content (counts and files per split).

    `config` (default: configs.get_config(config_name)) supplies the converter. Raises
    FileNotFoundError when `input_pattern` matches nothing, ValueError for an output_dir that
    already holds files or cannot be written.
    """
    import tensorflow as tf

    from musicvae_tf import configs
    from musicvae_tf.data import note_sequences

    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"--eval_fraction must be between 0 and 1, not {eval_fraction}")
    config = config or configs.get_config(config_name)
    files = note_sequences.resolve_examples_path(input_pattern)
    if example_records.holds_examples(files):
        raise ValueError(f"{files[0]} already holds preprocessed examples; pass NoteSequences")
    output_folders.check_new_or_empty(output_dir)
    _make_writable(output_dir)
    by_compression = {}
    for filename in files:
        by_compression.setdefault(note_sequences.compression_of(filename), []).append(filename)
    counters = beam_runner.run_pipeline(
        lambda pipeline: build_pipeline(pipeline, by_compression, config.data_converter, output_dir,
                                        eval_fraction, filters, num_shards, max_examples_per_sequence),
        options, verbose=verbose)
    metadata = {
        "format": "musicvae_tf.data.example_records",
        "format_version": example_records.FORMAT_VERSION,
        "config": config_name,
        "converter": type(config.data_converter).__name__,
        "depths": {"input": config.data_converter.input_depth, "output": config.data_converter.output_depth,
                   "control": config.data_converter.control_depth},
        "input_files": files,
        "eval_fraction": eval_fraction,
        "max_examples_per_sequence": max_examples_per_sequence or None,
        "filters": DEFAULT_FILTERS if filters is None else filters,
        "counters": counters,
    }
    for split in SPLITS:
        split_files = output_files(output_dir, split)
        metadata[split] = {"files": [os.path.basename(f) for f in split_files],
                           "examples": example_records.count_records(split_files),
                           "pattern": os.path.join(output_dir, f"{split}-*{FILE_SUFFIX}")}
    try:
        with tf.io.gfile.GFile(os.path.join(output_dir, METADATA_FILE), "w") as handle:
            json.dump(metadata, handle, indent=1, sort_keys=True)
    except (OSError, tf.errors.OpError) as error:
        raise _write_error(output_dir, error) from None
    return metadata


def _write_error(output_dir, error):
    from musicvae_tf.training.loop import write_failure_text

    return ValueError(f"cannot write to --output_dir {output_dir}: {write_failure_text(error)}")


def _make_writable(output_dir):
    """Creates `output_dir` and writes a file there, so that a read-only or unusable folder is one line
    (ValueError) before the pipeline runs (Beam would log its own traceback first)."""
    import tensorflow as tf

    probe = os.path.join(output_dir, f".write-test-{os.getpid()}")
    try:
        tf.io.gfile.makedirs(output_dir)
        with tf.io.gfile.GFile(probe, "w") as handle:
            handle.write("")
        tf.io.gfile.remove(probe)
    except (OSError, tf.errors.OpError) as error:
        raise _write_error(output_dir, error) from None
