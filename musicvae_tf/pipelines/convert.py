"""The MIDI/MusicXML/ABC -> NoteSequence step of music_vae_convert as an Apache Beam pipeline.

    converted, written, errors = convert_directory_beam("midi/", "notes.tfrecord", options)

Each file is converted by the same function as the single-process path (`convert_file`), so
the NoteSequences are the same (ids, collection names, filenames) and so are the skipped files.
The driver lists the files (sorted, as the single-process path) and gives each its index; the
workers convert them in any order; the error lines come back with their file's index and are
printed in file order. The output is one file, `output_file` (num_shards=1, the default), or
`output_file-SSSSS-of-NNNNN` shards; the records are in no particular order (sort by id to
compare). Beam writes to a temporary folder beside the output and renames when done.
"""

import json
import os

from musicvae_tf.data import music_files
from musicvae_tf.pipelines import beam_runner

ERRORS_SUFFIX = ".skipped-tmp"


class ConvertPathError(ValueError):
    """A bad input folder, output file or shard count (one line, naming the flag)."""


def output_exists(output_file):
    """The existing file(s) a run writing `output_file` would replace (single file or shards)."""
    import tensorflow as tf

    found = [output_file] if tf.io.gfile.exists(output_file) else []
    return found + sorted(tf.io.gfile.glob(output_file + "-?????-of-?????"))


def _beam_transforms():
    beam = beam_runner.import_beam()

    class ConvertFiles(beam.DoFn):
        def process(self, task):
            index, root_dir, relative, kind = task
            records, errors, _ = music_files.convert_file((root_dir, relative, kind))
            beam_runner.counter("files").inc()
            beam_runner.counter("files_converted").inc(int(bool(records)))
            beam_runner.counter("note_sequences").inc(len(records))
            beam_runner.counter("skipped").inc(len(errors))
            for record in records:
                yield record
            for position, line in enumerate(errors):
                yield beam.pvalue.TaggedOutput("errors", json.dumps([index, position, line]))

    return beam, ConvertFiles


def build_pipeline(pipeline, tasks, output_file, num_shards=1):
    """Adds the conversion steps to `pipeline`: the listed files -> NoteSequence TFRecord + errors."""
    beam, ConvertFiles = _beam_transforms()
    results = (pipeline
               | "list_files" >> beam.Create(tasks)
               | "spread_files" >> beam.Reshuffle()
               | "convert_files" >> beam.ParDo(ConvertFiles()).with_outputs("errors", main="sequences"))
    shard_template = "" if num_shards == 1 else None  # one shard: exactly `output_file`
    _ = results.sequences | "write_sequences" >> beam.io.WriteToTFRecord(
        output_file, num_shards=num_shards, shard_name_template=shard_template)
    _ = results.errors | "write_errors" >> beam.io.WriteToText(output_file + ERRORS_SUFFIX)


def _collect_errors(output_file):
    import tensorflow as tf

    entries = []
    for path in sorted(tf.io.gfile.glob(output_file + ERRORS_SUFFIX + "*")):
        with tf.io.gfile.GFile(path) as handle:
            entries.extend(json.loads(line) for line in handle if line.strip())
        tf.io.gfile.remove(path)
    return [line for _, _, line in sorted(entries)]


def convert_directory_beam(root_dir, output_file, options, recursive=False, overwrite=False,
                           num_shards=1, verbose=False):
    """Like music_vae_convert's single-process `convert_directory`, on a Beam runner. Returns (files converted, NoteSequences
    written, error lines in file order); raises ConvertPathError for bad paths."""
    import tensorflow as tf
    from absl import logging

    if not os.path.isdir(root_dir):
        raise ConvertPathError(f"--input_dir is not a directory: {root_dir}")
    if tf.io.gfile.isdir(output_file):
        raise ConvertPathError(f"--output_file is a directory: {output_file}")
    existing = output_exists(output_file)
    if existing and not overwrite:
        raise ConvertPathError(f"--output_file exists: {existing[0]} (pass --overwrite to replace it)")
    if num_shards < 1:
        raise ConvertPathError("--num_shards must be at least 1")
    files, ignored = music_files.list_input_files(root_dir, recursive)
    for entry in ignored:
        logging.info("Not descending into %s (pass --recursive)" if entry.endswith(os.sep)
                     else "No converter for %s", entry)
    logging.info("Converting %d files from %s with %s", len(files), root_dir,
                 options.get_all_options().get("runner") or "DirectRunner")
    # Workers may run elsewhere (Dataflow): they get the absolute path of the input folder.
    root = os.path.abspath(root_dir)
    tasks = [(index, root, relative, kind) for index, (relative, kind) in enumerate(files)]
    tf.io.gfile.makedirs(os.path.dirname(os.path.abspath(output_file)) or ".")
    for stale in _stale_error_files(output_file):
        tf.io.gfile.remove(stale)
    replaced = existing if overwrite else []
    counters = beam_runner.run_pipeline(
        lambda pipeline: build_pipeline(pipeline, tasks, output_file, num_shards), options, verbose=verbose)
    errors = _collect_errors(output_file)
    written_now = set(output_exists(output_file))
    if "note_sequences" not in counters:  # a runner without metrics: count what was written
        counters = _count_written(sorted(written_now))
    for path in replaced:  # shards of an earlier run that this run did not write again
        if path not in written_now:
            tf.io.gfile.remove(path)
    return counters.get("files_converted", 0), counters.get("note_sequences", 0), errors


def _count_written(files):
    import note_seq

    from musicvae_tf.data.note_sequences import read_serialized

    names = set()
    total = 0
    for record in read_serialized(files) if files else ():
        names.add(note_seq.NoteSequence.FromString(record).filename)
        total += 1
    return {"note_sequences": total, "files_converted": len(names)}


def _stale_error_files(output_file):
    import tensorflow as tf

    return tf.io.gfile.glob(output_file + ERRORS_SUFFIX + "*")
