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
import functools
import hashlib
import os
import sys
import tempfile
import time
import warnings

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

PROGRAM = "music_vae_convert"
MIDI_EXTENSIONS = (".mid", ".midi")
MUSICXML_EXTENSIONS = (".xml", ".mxl", ".musicxml")
ABC_EXTENSIONS = (".abc",)

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


def generate_note_sequence_id(filename, collection_name, source_type):
    """Magenta's NoteSequence id: '/id/<source type>/<collection>/<sha1 of the filename>'."""
    digest = hashlib.sha1(filename.encode("utf-8")).hexdigest()
    return f"/id/{source_type.lower()}/{collection_name}/{digest}"


def source_type_of(path):
    """'midi', 'musicxml', 'abc', or None for files no converter reads."""
    lower = path.lower()
    if lower.endswith(MIDI_EXTENSIONS):
        return "midi"
    if lower.endswith(MUSICXML_EXTENSIONS):
        return "musicxml"
    if lower.endswith(ABC_EXTENSIONS):
        return "abc"
    return None


def list_input_files(root_dir, recursive):
    """(relative path, source type) of the convertible files, sorted; plus ignored entries."""
    found, ignored = [], []
    for current, dirs, files in os.walk(root_dir):
        dirs.sort()
        relative_dir = os.path.relpath(current, root_dir)
        relative_dir = "" if relative_dir == "." else relative_dir
        if not recursive:
            ignored.extend(os.path.join(relative_dir, d) + os.sep for d in dirs)
            dirs[:] = []
        for name in sorted(files):
            relative = os.path.join(relative_dir, name)
            kind = source_type_of(name)
            if kind is None:
                ignored.append(relative)
            else:
                found.append((relative, kind))
    return found, ignored


def printable_name(name):
    """`name` (a path from the file system) as valid UTF-8: bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def _interrupted(error):
    """True when `error` was raised while handling a KeyboardInterrupt (note_seq's MIDI reader turns
    every exception, Ctrl-C included, into MIDIConversionError)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _error_text(error):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _import_note_seq():
    # note_seq pulls in pydub, which warns about a missing ffmpeg that conversion never uses.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    import note_seq
    from note_seq import abc_parser, musicxml_reader

    return note_seq, abc_parser, musicxml_reader


@functools.lru_cache(maxsize=None)
def _converter(config_name):
    from musicvae_tf import configs

    return configs.get_config(config_name).data_converter


def _fits(sequences, relative, config_name):
    """Per sequence, None when it gives examples for the config, else (name, diagnosis.Reason)."""
    if not config_name:
        return []
    from musicvae_tf.converters.diagnosis import why_no_examples

    converter = _converter(config_name)
    fits = []
    for number, sequence in sequences:
        name = f"{relative} (tune {number})" if number else relative
        fits.append(None if converter.to_tensors(sequence).outputs else
                    (name, why_no_examples(converter, sequence)))
    return fits


def convert_file(task):
    """Worker: (root_dir, relative path, kind[, config name]) -> (serialized NoteSequences, errors, fits).

    `errors` lists one message per part that could not be read (the whole file, or single
    tunes of an ABC file); `fits` (with a config name) holds one entry per NoteSequence: None when
    it gives training examples for the config, else (name, diagnosis.Reason).
    """
    root_dir, file_name, kind = task[:3]
    config_name = task[3] if len(task) > 3 else None
    note_seq, abc_parser, musicxml_reader = _import_note_seq()

    full_path = os.path.join(root_dir, file_name)
    # Names are recorded and shown as UTF-8 (a NoteSequence's strings must be); the file is read by its own name.
    relative = printable_name(file_name)
    collection = printable_name(os.path.basename(os.path.normpath(os.path.abspath(root_dir))))
    try:
        if os.path.getsize(full_path) == 0:
            return [], [f"{relative}: empty file"], []
        if kind == "midi":
            with open(full_path, "rb") as f:
                sequences = [("", note_seq.midi_to_note_sequence(f.read()))]
        elif kind == "musicxml":
            sequences = [("", musicxml_reader.musicxml_file_to_sequence_proto(full_path))]
        else:
            with open(full_path, "rb") as f:
                tunes, tune_errors = abc_parser.parse_abc_tunebook(f.read().decode("latin-1"))
            if not tunes and not tune_errors:
                return [], [f"{relative}: no ABC tunes found"], []
            sequences = [(str(number), tune) for number, tune in sorted(tunes.items())]
            errors = [f"{relative}: tune skipped: {_error_text(e)}" for e in tune_errors]
            return _finish(sequences, relative, collection, kind), errors, _fits(sequences, relative, config_name)
    except Exception as error:  # every reader error means "skip this file", but Ctrl-C stops the run
        if _interrupted(error):
            raise KeyboardInterrupt from None
        return [], [f"{relative}: {_error_text(error)}"], []
    return _finish(sequences, relative, collection, kind), [], _fits(sequences, relative, config_name)


def _finish(sequences, relative, collection, kind):
    serialized = []
    for number, sequence in sequences:
        sequence.collection_name = collection
        sequence.filename = relative
        id_source = f"{relative}_{number}" if kind == "abc" else relative
        sequence.id = generate_note_sequence_id(id_source, collection, kind)
        serialized.append(sequence.SerializeToString())
    return serialized


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

    files, ignored = list_input_files(root_dir, recursive)
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
            _converter(FLAGS.config)
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
    from musicvae_tf.pipelines import beam_runner  # no Beam import: its error classes only

    return (beam_runner.BeamUnavailableError, beam_runner.PipelineOptionsError, beam_runner.PipelineFailedError)


# With --runner, the arguments after the flags are Beam's pipeline options; without, an error as ever.
TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda *beam_args: _convert(*beam_args),
                   expected_errors=_expected_errors, takes_arguments=lambda: bool(FLAGS.runner))
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
