"""music_vae_train: train or evaluate a MusicVAE, with Magenta's flags.

    music_vae_train --config=cat-mel_2bar_small --run_dir=/tmp/cat-mel \\
        --examples_path=notes.tfrecord --hparams=batch_size=64
    music_vae_train --config=cat-mel_2bar_small --run_dir=/tmp/cat-mel --mode=eval \\
        --examples_path=held_out.tfrecord

Training writes checkpoints and TensorBoard summaries to run_dir/train and run_dir/config.json
(the config name and hparams); evaluation follows the checkpoints and writes to
run_dir/eval<suffix> (summaries and metrics.json). Without --examples_path the folk tunes packaged
with musicvae_tf are used. Rerunning a training command resumes from the latest checkpoint; training
hparams (learning_rate, batch_size, the KL and sampling schedules, ...) may change then and are logged,
the architecture (z_size, RNN sizes, ...) may not. --warm_start_from=CHECKPOINT starts a new run (a
--run_dir without checkpoints) from another model (fine-tuning; see musicvae_tf.training.warm_start
for what is taken from which checkpoint).
Errors are reported as one line on stderr with exit code 1 (see musicvae_tf.cli.common).
"""

import os
import sys

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

PROGRAM = "music_vae_train"

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)


_define("string", "master", "", "Ignored (TF1 sessions); kept so Magenta command lines still run.")
_define("string", "examples_path", None,
        "TFRecord file (or glob) of NoteSequences. Overrides the config's; default: packaged folk tunes.")
_define("string", "tfds_name", None, "TensorFlow Datasets name to read instead of --examples_path.")
_define("string", "run_dir", None, "Directory for checkpoints and summaries (train/ and eval/ inside).")
_define("integer", "num_steps", 200000, "Train until the step counter reaches this (0: forever).", lower_bound=0)
_define("integer", "eval_num_batches", None,
        "Batches per evaluation; default: every complete batch of the held-out data.", lower_bound=1)
_define("integer", "checkpoints_to_keep", 100, "Checkpoints to keep in train/ (0: all).", lower_bound=0)
_define("float", "keep_checkpoint_every_n_hours", 1,
        "Besides the last --checkpoints_to_keep, keep one checkpoint every this many hours.", lower_bound=0)
_define("enum", "mode", "train", "Train, or evaluate the checkpoints of run_dir/train.",
        enum_values=["train", "eval"])
_define("string", "config", "", "Name of the config (see musicvae_tf.configs.CONFIG_MAP).")
_define("string", "hparams", "", "Comma-separated name=value hparams merged into the config's.")
_define("bool", "cache_dataset", True, "Keep the converted examples in memory after the first pass.")
_define("integer", "task", 0, "Ignored; multi-worker training reads its task from TF_CONFIG.")
_define("integer", "num_ps_tasks", 0, "Ignored; parameter servers are not supported (use --strategy).")
_define("integer", "num_sync_workers", 0, "Ignored; use --strategy=multi_worker with TF_CONFIG.")
_define("string", "eval_dir_suffix", "", "Suffix of the evaluation directory: run_dir/eval<suffix>.")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.")
_define("enum", "strategy", "auto",
        "Distribution: auto = all GPUs if more than one (multi_worker if TF_CONFIG lists several "
        "workers), else one device.", enum_values=["auto", "mirrored", "multi_worker", "one_device"])
_define("bool", "eval_once", False, "Evaluate the latest checkpoint once and exit.")
_define("integer", "eval_interval_secs", 60, "Minimum seconds between evaluations when following checkpoints.",
        lower_bound=0)
_define("integer", "eval_timeout_secs", None,
        "Stop following checkpoints after this many seconds without a new one (default: wait).", lower_bound=0)
_define("integer", "save_checkpoint_secs", 60, "Seconds between checkpoints while training.", lower_bound=0)
_define("integer", "log_every_n_steps", 100, "Steps between progress lines and training summaries.",
        lower_bound=1)
_define("integer", "seed", None, "Seed of the training noise (default: random; kept in the checkpoint).")
_define("string", "warm_start_from", None,
        "Start a new run from this checkpoint: Magenta's (directory, model.ckpt-N, .tar), a music_vae_train "
        "run's train/ or ckpt-N, an exported model, or a packaged model (path or name, e.g. "
        "cat-mel_2bar_small.folk). Weights from it; step and Adam state too when it has them.")

_DEPRECATED = {
    "master": "TF1 masters do not exist in TF2",
    "task": "multi-worker training reads its task from TF_CONFIG",
    "num_ps_tasks": "parameter servers are not supported; use --strategy",
    "num_sync_workers": "use --strategy=multi_worker with TF_CONFIG",
}


def _warn_deprecated():
    for name, reason in _DEPRECATED.items():
        if FLAGS[name].present:
            print(f"{PROGRAM}: --{name} is deprecated and ignored ({reason}).", file=sys.stderr)


def _resolve_config():
    """The config with flags applied, plus the examples path used (None: the packaged folk tunes)."""
    from musicvae_tf import configs

    if not FLAGS.config:
        raise UsageError("--config is required, e.g. --config=cat-mel_2bar_small")
    from musicvae_tf.hparam_checks import check_hparams

    warm_start_path = None
    if FLAGS.warm_start_from:
        if FLAGS.mode != "train":
            raise UsageError("--warm_start_from is for --mode=train")
        # The checkpoint's recorded hparams (port checkpoints record them), then --hparams where
        # they do not conflict: the tools' one way of choosing a checkpoint's config.
        from musicvae_tf import checkpoints

        source = os.path.expanduser(FLAGS.warm_start_from)
        if not checkpoints.checkpoint_exists(source) and checkpoints.find_pretrained(FLAGS.warm_start_from):
            source = checkpoints.find_pretrained(FLAGS.warm_start_from)  # a packaged model by name
        warm_start_path, _, config, _ = common.checkpoint_from_flags(None, source, FLAGS.config, FLAGS.hparams)
    else:
        config = configs.get_config(FLAGS.config, FLAGS.hparams or None)
    check_hparams(config.hparams)
    updates = {}
    examples_path = None
    if FLAGS.examples_path and FLAGS.tfds_name:
        raise UsageError("at most one of --examples_path and --tfds_name can be set")
    if FLAGS.examples_path:
        import tensorflow as tf

        examples_path = os.path.expanduser(FLAGS.examples_path)
        matches = tf.io.gfile.glob(examples_path)
        if not matches:
            raise UsageError(f"no file matches --examples_path={FLAGS.examples_path}")
        if all(tf.io.gfile.isdir(match) for match in matches):
            raise UsageError(f"--examples_path={FLAGS.examples_path} is a folder; give a TFRecord file of "
                             f"NoteSequences or a glob such as {os.path.join(FLAGS.examples_path, '*.tfrecord')}")
        updates[f"{FLAGS.mode}_examples_path"] = examples_path
    if FLAGS.tfds_name:
        updates.update(tfds_name=FLAGS.tfds_name, train_examples_path=None, eval_examples_path=None)
    if updates:
        config = configs.update_config(config, updates)
    return config, examples_path, warm_start_path


def _dataset_fn(config, examples_path, is_training):
    from musicvae_tf import data

    def make():
        return data.get_dataset(config, is_training=is_training, cache_dataset=FLAGS.cache_dataset,
                                examples_path=examples_path)

    return make


def _data_path(config, examples_path, split):
    """The NoteSequence files the data pipeline reads (None for a TFDS dataset)."""
    from musicvae_tf import data

    if config.tfds_name:
        return None
    return examples_path or getattr(config, f"{split}_examples_path") or data.default_examples_path(split)


def _preprocessed_files(examples_path):
    """The files of `examples_path` when they hold preprocessed examples (music_vae_preprocess), else None."""
    from musicvae_tf.data import example_records, note_sequences

    files = note_sequences.resolve_examples_path(examples_path)
    return files if example_records.holds_examples(files) else None


def _data_problem(error, config, examples_path, limit=2000):
    """The one-line message for a training data problem behind `error`, or None when it is another."""
    from musicvae_tf.data.note_sequences import read_note_sequences
    from musicvae_tf.training import loop

    if isinstance(error, loop.NoTrainingDataError):
        return None if error.steps_done else f"no training batch: {_why_no_batch(config, examples_path)}"
    if not examples_path:
        return None
    try:  # a file that is not a NoteSequence TFRecord fails inside tf.data with an unwieldy message
        if _preprocessed_files(examples_path):
            return None
        for _ in read_note_sequences(examples_path, limit=limit):
            pass
    except ValueError as read_error:
        return common.first_line(read_error)
    return None


def _why_no_batch(config, examples_path, limit=2000):
    """Why the NoteSequences of `examples_path` give no batch of batch_size examples (one clause)."""
    from musicvae_tf.converters.diagnosis import count_reasons, why_no_examples
    from musicvae_tf.data.note_sequences import read_note_sequences

    batch_size = config.hparams.batch_size
    if not examples_path:
        return f"the data gives fewer than batch_size={batch_size} examples"
    preprocessed = _preprocessed_files(examples_path)
    if preprocessed:
        from musicvae_tf.data.example_records import count_records

        return (f"{examples_path} holds {count_records(preprocessed)} preprocessed examples, fewer than "
                f"batch_size={batch_size}")
    converter = config.data_converter
    sequences, examples, reasons = 0, 0, []
    for sequence in read_note_sequences(examples_path, limit=limit):
        sequences += 1
        count = len(converter.to_tensors(sequence).outputs)
        examples += count
        if not count:
            reasons.append(why_no_examples(converter, sequence))
    if not sequences:
        return f"{examples_path} holds no NoteSequence"
    some = "first " if sequences == limit else ""
    if not examples:
        return (f"none of the {some}{sequences} NoteSequences in {examples_path} gives an example for config "
                f"{FLAGS.config} ({count_reasons(reasons)})")
    return (f"the {some}{sequences} NoteSequences in {examples_path} give {examples} examples, fewer than "
            f"batch_size={batch_size}" + (f"; {len(reasons)} give none ({count_reasons(reasons)})" if reasons else ""))


def run_training(config, examples_path, run_dir, strategy, warm_start_path=None):
    import tensorflow as tf

    from musicvae_tf.training import loop, run_config, summaries, warm_start
    from musicvae_tf.training import strategy as strategy_lib

    train_dir = os.path.join(run_dir, "train")
    chief = strategy_lib.is_chief(strategy)
    existing = tf.train.latest_checkpoint(train_dir) if tf.io.gfile.isdir(train_dir) else None
    if warm_start_path and existing:
        raise UsageError(f"{run_dir} already has checkpoints ({os.path.basename(existing)}): drop "
                         "--warm_start_from to resume that run, or choose a new --run_dir")
    if chief:
        # Refuse before building anything when the run directory holds another model.
        run_config.check_run_config(run_dir, FLAGS.config, config.hparams, allow_training_changes=True)
    fresh = chief and not tf.io.gfile.exists(run_dir)
    trainer = None
    try:
        trainer = loop.Trainer(config, strategy=strategy, train_dir=train_dir,
                               checkpoints_to_keep=FLAGS.checkpoints_to_keep,
                               keep_checkpoint_every_n_hours=FLAGS.keep_checkpoint_every_n_hours,
                               noise_seed=FLAGS.seed)
        if trainer.is_chief:
            try:
                tf.io.gfile.makedirs(train_dir)
                run_config.save_run_config(run_dir, FLAGS.config, trainer.model, examples_path)
            except (tf.errors.OpError, OSError) as error:  # a read-only or full disk
                raise UsageError(f"cannot write to --run_dir {run_dir}: {loop.write_failure_text(error)}") from None
        if warm_start_path:
            try:
                warm_start.warm_start(trainer, warm_start_path)
            except BaseException:
                if fresh:  # made by this start: leave nothing that would refuse the corrected retry
                    tf.io.gfile.rmtree(run_dir)
                raise
        else:
            trainer.restore_or_initialize()
        writer = None
        if trainer.is_chief:
            writer = tf.summary.create_file_writer(train_dir)
            summaries.write_trial_summary(writer, FLAGS.config, config.hparams,
                                          examples_path or config.tfds_name or "packaged folk tunes",
                                          step=int(trainer.step.numpy()))
        try:
            # Making the dataset reads the files' first records (preprocessed examples or NoteSequences).
            dataset = _dataset_fn(config, examples_path, is_training=True)()
            trainer.train(dataset, num_steps=FLAGS.num_steps or None,
                          save_checkpoint_secs=FLAGS.save_checkpoint_secs,
                          log_every_n_steps=FLAGS.log_every_n_steps, summary_writer=writer)
        except (ValueError, tf.errors.OpError) as error:  # loop.NoTrainingDataError is a ValueError
            problem = _data_problem(error, config, _data_path(config, examples_path, "train"))
            if problem is None:
                raise
            if fresh and not trainer.latest_checkpoint():  # made by this start, and still holds no checkpoint
                writer.close()
                tf.io.gfile.rmtree(run_dir)
            raise UsageError(problem) from None
        total, squares = trainer.weights_fingerprint()
        logging.info("Finished at step %d; weights fingerprint: sum=%.17g sumsq=%.17g",
                     int(trainer.step.numpy()), total, squares)
    finally:
        if trainer is not None:
            trainer.close()


def run_evaluation(config, examples_path, run_dir):
    from musicvae_tf import data
    from musicvae_tf.training import eval_loop, run_config

    train_dir = os.path.join(run_dir, "train")
    eval_dir = os.path.join(run_dir, "eval" + FLAGS.eval_dir_suffix)
    run_config.check_run_config(run_dir, FLAGS.config, config.hparams, ignore=("batch_size",))
    num_batches = FLAGS.eval_num_batches
    if not num_batches:
        config.data_converter.set_mode("eval")
        count = data.count_examples(examples_path or config.eval_examples_path, config.data_converter,
                                    tfds_name=config.tfds_name)
        num_batches = count // config.hparams.batch_size
        if not num_batches:
            raise UsageError(f"no evaluation batch: {_why_no_batch(config, _data_path(config, examples_path, 'eval'))}")
    evaluator = eval_loop.Evaluator(config, train_dir, eval_dir, config_name=FLAGS.config,
                                     examples_path=examples_path or config.tfds_name or "packaged folk tunes")
    evaluator.run(_dataset_fn(config, examples_path, is_training=False), num_batches,
                  eval_once=FLAGS.eval_once, interval_secs=FLAGS.eval_interval_secs,
                  timeout_secs=FLAGS.eval_timeout_secs, last_step=FLAGS.num_steps or None)


def run():
    """Runs the command the flags describe; raises UsageError/ValueError for bad input."""
    _warn_deprecated()
    if not FLAGS.run_dir:
        raise UsageError("--run_dir is required")
    run_dir = os.path.expanduser(FLAGS.run_dir)
    config, examples_path, warm_start_path = _resolve_config()
    if FLAGS.mode == "train":
        # A multi-worker strategy must exist before TensorFlow runs any op (reading the
        # config and globbing files above run none).
        from musicvae_tf.training import strategy as strategy_lib

        strategy = strategy_lib.make_strategy(FLAGS.strategy)
        run_training(config, examples_path, run_dir, strategy, warm_start_path)
    else:
        run_evaluation(config, examples_path, run_dir)


def _expected_errors():
    import tensorflow as tf

    from musicvae_tf.training import eval_loop, loop

    return (ValueError, loop.NonFiniteLossError, loop.CheckpointSaveError, eval_loop.NoCheckpointError,
            tf.errors.OpError)


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=_expected_errors)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point


if __name__ == "__main__":
    console_entry_point()
