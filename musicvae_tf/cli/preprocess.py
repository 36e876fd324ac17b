"""music_vae_preprocess: NoteSequences -> a config's training examples, on Apache Beam.

    music_vae_preprocess --config=cat-mel_2bar_small --input='notes*.tfrecord' --output_dir=examples/
    music_vae_preprocess ... --runner=DirectRunner -- --direct_num_workers=2 --direct_running_mode=multi_processing
    music_vae_preprocess ... --runner=DataflowRunner -- --project=P --region=R --temp_location=gs://B/tmp
    music_vae_train --config=cat-mel_2bar_small --examples_path='examples/train-*' --run_dir=run/

Runs the config's converter over every NoteSequence (Magenta's preprocess_tfrecord filters first),
merges equal examples, splits them into train and eval by a stable hash of their NoteSequence id,
and writes GZIP TFRecords of tf.train.Example (musicvae_tf.data.example_records) to
--output_dir/{train,eval}-SSSSS-of-NNNNN.tfrecord.gz plus examples.json (config, counts, files).
music_vae_train --examples_path reads them directly. Needs `pip install "musicvae-tf[beam]"`.
Beam pipeline options go after `--` (or in --pipeline_options, comma-separated, as in Magenta).
Errors are one line on stderr with exit status 1.
"""

import os
import sys
import time

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

PROGRAM = "music_vae_preprocess"

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "config", None, "Name of the config whose converter makes the examples.")
_define("string", "input", None, "TFRecord file(s) of NoteSequences: a path, a glob, or comma-separated.")
_define("string", "output_dir", None, "New (or empty) folder for the examples.")
_define("float", "eval_fraction", 0.1, "Share of NoteSequences (by a stable hash of the id) whose examples "
        "go to eval.")
_define("integer", "num_shards", 0, "Output files per split (0: the runner decides).")
_define("integer", "max_examples_per_sequence", 0,
        "Keep the first N examples of each NoteSequence part (0: all; Magenta's script kept the "
        "converter's cap, 5 for the melody configs).")
_define("bool", "enable_filtering", True, "Apply Magenta's filters (the next flags).")
_define("integer", "max_total_time", 1800, "Skip NoteSequences longer than this many seconds.")
_define("integer", "max_num_notes", 10000, "Skip NoteSequences with more notes.")
_define("integer", "min_velocities", 1, "Skip NoteSequences with fewer distinct velocities.")
_define("integer", "min_metric_positions", 1,
        "Skip NoteSequences with fewer distinct note positions within a quarter (16 steps).")
_define("bool", "is_drum", None, "Count only drum (True) or non-drum (False) notes for the two filters "
        "above (default: all notes).")
_define("bool", "drums_only", False, "Skip NoteSequences with non-drum notes.")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.")


def _define_runner_flags():
    # Beam's option names, defined without importing Beam (help stays instant without it).
    from musicvae_tf.pipelines import beam_runner

    beam_runner.define_runner_flags(_define, "DirectRunner")


_define_runner_flags()


def _filters():
    if not FLAGS.enable_filtering:
        return {}
    return {name: FLAGS[name].value for name in ("max_total_time", "max_num_notes", "min_velocities",
                                                  "min_metric_positions", "is_drum", "drums_only")}


def _run(beam_args):
    from musicvae_tf import configs
    from musicvae_tf.pipelines import beam_runner, preprocess

    for name in ("config", "input", "output_dir"):
        if not FLAGS[name].value:
            raise UsageError(f"--{name} is required")
    if FLAGS.config not in configs.CONFIG_MAP:
        raise UsageError(f"unknown config {FLAGS.config!r}; see musicvae_tf.configs.CONFIG_MAP")
    verbose = FLAGS.log.upper() == "DEBUG"
    options = beam_runner.options_from_command_line(FLAGS.runner, FLAGS.pipeline_options, beam_args, verbose)
    patterns = [os.path.expanduser(p.strip()) for p in FLAGS.input.split(",") if p.strip()]
    output_dir = os.path.expanduser(FLAGS.output_dir)
    start = time.time()
    metadata = preprocess.preprocess(
        FLAGS.config, patterns, output_dir, options, eval_fraction=FLAGS.eval_fraction, filters=_filters(),
        num_shards=FLAGS.num_shards, max_examples_per_sequence=FLAGS.max_examples_per_sequence or None,
        verbose=verbose)
    seconds = time.time() - start
    counters = metadata["counters"]
    train, evaluation = metadata["train"]["examples"], metadata["eval"]["examples"]
    filtered = {k[len("filtered_"):]: v for k, v in sorted(counters.items()) if k.startswith("filtered_")}
    summary = (f"Wrote {train} train and {evaluation} eval examples to {output_dir} from "
               f"{counters.get('sequences', '?')} NoteSequences ({counters.get('duplicate_examples', 0)} "
               f"duplicates merged; {counters.get('sequences_without_examples', 0)} NoteSequences gave no "
               f"example; filtered: {filtered or 'none'}) in {seconds:.1f} s, "
               f"{(train + evaluation) / max(seconds, 1e-9):.1f} examples/s")
    logging.info(summary)
    sys.stderr.write(summary + "\n")
    sys.stderr.write(f"Train with: music_vae_train --config={FLAGS.config} "
                     f"--examples_path='{metadata['train']['pattern']}' --run_dir=...\n")
    return 0


def _expected_errors():
    from musicvae_tf.pipelines import beam_runner  # no Beam import: its error classes only

    return (ValueError, FileNotFoundError, beam_runner.BeamUnavailableError, beam_runner.PipelineFailedError)


# The arguments after the flags are Beam's pipeline options.
TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda beam_args: _run(beam_args), expected_errors=_expected_errors,
                   takes_arguments=lambda: True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
