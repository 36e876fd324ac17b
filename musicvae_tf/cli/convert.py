"""music_vae_convert: turn a folder of MIDI, MusicXML and ABC files into a NoteSequence TFRecord.

    music_vae_convert --input_dir=~/midi --output_file=/tmp/notes.tfrecord --recursive
    music_vae_convert ... --runner=DirectRunner -- --direct_num_workers=2 --direct_running_mode=multi_processing
    music_vae_convert ... --runner=DataflowRunner --num_shards=64 -- --project=P --region=R --temp_location=gs://B/t

The same job as Magenta's convert_dir_to_note_sequences: every NoteSequence gets the input
folder's name as collection_name, its path relative to that folder as filename, and the id
'/id/<midi|musicxml|abc>/<collection>/<sha1 of filename>' (ABC tunes: of '<filename>_<X number>').
Files that cannot be read are skipped and listed at the end; the run goes on. The output is
written to a temporary file next to --output_file and renamed when complete. With --runner the
same per-file conversion runs as an Apache Beam pipeline (pip install "musicvae-tf[beam]"; Beam
options after `--` or in --pipeline_options): the same NoteSequences and skipped files, the
records in no particular order (musicvae_tf.pipelines.convert). Errors are
reported as one line on stderr with exit code 1 (see musicvae_tf.cli.common).
"""
import collections
import os
import sys
import tempfile
import time

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError
from musicvae_tf.data import music_files
from musicvae_tf.data.music_files import convert_file

PROGRAM = "music_vae_convert"

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "input_dir", None, "Folder with MIDI, MusicXML and ABC files.")
_define("string", "output_file", None, "TFRecord file of NoteSequences to write.")
_define("bool", "recursive", False, "Also convert the files in subfolders.")
_define("integer", "num_workers", 1, "Processes converting files in parallel.")
_define("bool", "overwrite", False, "Replace --output_file if it exists.")
_define("string", "config", None,
        "Also check every NoteSequence against this config (e.g. cat-mel_2bar_small): the summary "
        "counts those that give no training example, by reason.")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.")
_define("integer", "num_shards", 1, "With --runner: output files (1: exactly --output_file; N: "
        "--output_file-SSSSS-of-NNNNN).")


def _define_runner_flags():
    from musicvae_tf.pipelines import beam_runner  # flag definitions only; Beam is imported on use

    beam_runner.define_runner_flags(_define, None)


_define_runner_flags()


class _ProgressBar:
    """Counts on one line of stderr, redrawn at most a few times a second."""

    def __init__(self, total):
        self.total, self.start, self._drawn = total, time.time(), 0.0

    def end_line(self):
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def draw(self, files, sequences, skipped, final=False):
        now = time.time()
        if not final and now - self._drawn < 0.25:
            return
        self._drawn = now
        width = 24
        filled = width * files // max(self.total, 1)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {files}/{self.total} files, "
                         f"{sequences} NoteSequences, {skipped} skipped")
        if final:
            sys.stderr.write(f" ({now - self.start:.1f} s)\n")
        sys.stderr.flush()


def _results(tasks, num_workers):
    if num_workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield convert_file(task)
        return
    import multiprocessing

    # 'spawn': workers start clean (no copy of a TensorFlow runtime from the parent).
    with multiprocessing.get_context("spawn").Pool(num_workers) as pool:
        yield from pool.imap(convert_file, tasks, chunksize=4)


def _temporary_output(output_file):
    """Creates the (empty) temporary file the output is written to; UsageError when it cannot be made."""
    output_dir = os.path.dirname(os.path.abspath(output_file))
    try:
        os.makedirs(output_dir, exist_ok=True)
        handle, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(output_file)}.", suffix=".tmp",
                                            dir=output_dir)
        os.close(handle)
    except (FileExistsError, NotADirectoryError):
        raise UsageError(f"cannot write --output_file {output_file}: part of its folder path is a file") from None
    except OSError as error:
        raise UsageError(f"cannot write --output_file {output_file}: {error.strerror or error}") from None
    return tmp_path


def convert_directory(root_dir, output_file, recursive=False, num_workers=1, overwrite=False,
                      progress=True, config_name=None, fits=None):
    """Converts the files under `root_dir` into NoteSequences written to `output_file`.

    Returns (number of files converted, number of NoteSequences written, list of error lines).
    With `config_name`, each NoteSequence's entry of `convert_file`'s fits is appended to the list
    `fits`. Raises UsageError for a missing folder or an existing output without `overwrite`.
    """
    if not os.path.isdir(root_dir):
        raise UsageError(f"--input_dir is not a directory: {root_dir}")
    if os.path.isdir(output_file):
        raise UsageError(f"--output_file is a directory: {output_file}")
    if os.path.exists(output_file) and not overwrite:
        raise UsageError(f"--output_file exists: {output_file} (pass --overwrite to replace it)")
    import tensorflow as tf  # the TFRecord writer; imported late to keep --help fast

    tmp_path = _temporary_output(output_file)
    try:
        return _convert_into(tmp_path, root_dir, output_file, recursive, num_workers, progress, config_name, fits)
    except (OSError, tf.errors.OpError) as error:  # a full or failing disk: nothing is left half-written
        detail = getattr(error, "strerror", None) or common.first_line(getattr(error, "message", None) or error)
        detail = detail.replace(f"{tmp_path}; ", "")  # TensorFlow names the temporary file
        raise UsageError(f"cannot write --output_file {output_file}: {detail}; nothing written") from None
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def _convert_into(tmp_path, root_dir, output_file, recursive, num_workers, progress, config_name, fits):
    import tensorflow as tf

    files, ignored = music_files.list_input_files(root_dir, recursive)
    for entry in ignored:
        if entry.endswith(os.sep):
            logging.info("Not descending into %s (pass --recursive)", entry)
        else:
            logging.info("No converter for %s", entry)
    logging.info("Converting %d files from %s", len(files), root_dir)
    bar = _ProgressBar(len(files)) if progress else None
    converted, written, errors = 0, 0, []
    try:
        with tf.io.TFRecordWriter(tmp_path) as writer:
            tasks = [(root_dir, relative, kind, config_name) for relative, kind in files]
            for done, (records, file_errors, file_fits) in enumerate(_results(tasks, num_workers), 1):
                if fits is not None:
                    fits.extend(file_fits)
                for record in records:
                    writer.write(record)
                written += len(records)
                converted += bool(records)
                for line in file_errors:
                    # Listed again at the end; at debug level here to keep the bar on one line.
                    logging.debug("Skipped %s", line)
                errors.extend(file_errors)
                if bar:
                    bar.draw(done, written, len(errors))
    except BaseException:
        if bar:
            bar.end_line()  # the error line goes below the bar
        raise
    if bar:
        bar.draw(len(files), written, len(errors), final=True)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    os.replace(tmp_path, output_file)
    return converted, written, errors


def _convert_with_beam(input_dir, output_file, beam_args):
    from musicvae_tf.pipelines import beam_runner, convert as beam_convert

    if FLAGS.num_workers != 1:
        raise UsageError("--num_workers is for the single-process path; with --runner=DirectRunner "
                         "pass -- --direct_num_workers=N --direct_running_mode=multi_processing")
    verbose = FLAGS.log.upper() == "DEBUG"
    options = beam_runner.options_from_command_line(FLAGS.runner, FLAGS.pipeline_options, beam_args, verbose)
    return beam_convert.convert_directory_beam(input_dir, output_file, options, recursive=FLAGS.recursive,
                                               overwrite=FLAGS.overwrite, num_shards=FLAGS.num_shards,
                                               verbose=verbose)


def _convert(beam_args=()):
    if not FLAGS.input_dir:
        raise UsageError("--input_dir is required")
    if not FLAGS.output_file:
        raise UsageError("--output_file is required")
    if FLAGS.num_workers < 1:
        raise UsageError("--num_workers must be at least 1")
    if FLAGS.config:
        try:
            music_files.config_converter(FLAGS.config)
        except ValueError as error:
            raise UsageError(common.first_line(error)) from None
    input_dir = os.path.expanduser(FLAGS.input_dir)
    output_file = os.path.expanduser(FLAGS.output_file)
    if (FLAGS.pipeline_options or FLAGS["num_shards"].present) and not FLAGS.runner:
        raise UsageError("--pipeline_options and --num_shards need --runner (e.g. --runner=DirectRunner)")
    if FLAGS.runner and FLAGS.config:
        raise UsageError("--config (checking the NoteSequences against a config) runs without --runner; "
                         "music_vae_preprocess reports what a config extracts on Beam")
    fits = []
    start = time.time()
    try:
        if FLAGS.runner:
            converted, written, errors = _convert_with_beam(input_dir, output_file, beam_args)
        else:
            converted, written, errors = convert_directory(
                input_dir, output_file, recursive=FLAGS.recursive,
                num_workers=FLAGS.num_workers, overwrite=FLAGS.overwrite, config_name=FLAGS.config, fits=fits)
    except KeyboardInterrupt:
        common.report_error(PROGRAM, "interrupted; nothing written")
        return 130
    if FLAGS.runner:
        seconds = time.time() - start
        logging.info("%s: %.1f s, %.1f files/s", FLAGS.runner, seconds, (converted + len(errors)) / max(seconds, 1e-9))
    summary = (f"Wrote {written} NoteSequences from {converted} files to {output_file}; "
               f"{len(errors)} skipped")
    logging.info(summary)
    sys.stderr.write(summary + (":\n" if errors else "\n"))
    for line in errors:
        sys.stderr.write(f"  {line}\n")
    if FLAGS.config:
        for line in fit_summary(FLAGS.config, fits):
            sys.stderr.write(line + "\n")
    return 0


def fit_summary(config_name, fits):
    """Lines saying how many NoteSequences give examples for the config and why the others do not."""
    from musicvae_tf.converters.diagnosis import LABELS

    misfits = [fit for fit in fits if fit is not None]
    head = f"For config {config_name}: {len(fits) - len(misfits)} of {len(fits)} NoteSequences give training examples"
    if not misfits:
        return [head]
    by_code = collections.defaultdict(list)
    for name, reason in misfits:
        by_code[reason.code].append((name, reason))
    lines = [f"{head}; {len(misfits)} give none:"]
    for code, entries in sorted(by_code.items(), key=lambda item: -len(item[1])):
        name, reason = entries[0]
        more = f" (and {len(entries) - 1} more)" if len(entries) > 1 else ""
        lines.append(f"  {len(entries)} {LABELS.get(code, code)}: e.g. {name}: {reason.text}{more}")
    return lines


def _expected_errors():
    # No Beam import: their error classes only.
    from musicvae_tf.pipelines import beam_runner
    from musicvae_tf.pipelines.convert import ConvertPathError

    return (beam_runner.BeamUnavailableError, beam_runner.PipelineOptionsError, beam_runner.PipelineFailedError,
            ConvertPathError)


# With --runner, the arguments after the flags are Beam's pipeline options; without, an error as ever.
TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda *beam_args: _convert(*beam_args),
                   expected_errors=_expected_errors, takes_arguments=lambda: bool(FLAGS.runner))
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
