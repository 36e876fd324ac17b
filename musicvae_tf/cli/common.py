"""Start-up, flags and error handling shared by the package's command-line tools.

Every console script (music_vae_generate, music_vae_train, music_vae_convert,
music_vae_quickstart, music_vae_evaluate, music_vae_preprocess, music_vae_personalize, ...) keeps its flags in a private `absl.flags.FlagValues`
(several tools may be imported in one process: tests, notebooks) and hands its entry point to
`run_script`:

    FLAGS = flags.FlagValues()
    define = common.flag_definer(FLAGS)
    define("string", "config", None, "The name of the config.")
    ...
    TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError,))
    main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

(`main(argv)` for parsed flags, `run_command(argv)` runs the tool in this process for tests,
`console_entry_point` is what setup.py installs.)

Tools that load a trained model choose it with `checkpoint_from_flags` and `load_trained_model`
(--run_dir, --checkpoint_file, --config, --hparams, or the packaged model).

What the user gets from every tool:

- `-h`, `-?`, `--help`, `--helpshort`, `--helpfull`: the module docstring and the flags on
  stdout, exit status 0, without importing TensorFlow (so help is instant). Piping help into
  `head` is fine.
- A flag error (unknown flag, bad type, positional arguments) or an expected error raised by the
  tool (`UsageError`, plus the classes given as `expected_errors`) is ONE line on stderr,
  `<program>: error: <first line of the message>`, and exit status 1; no traceback.
- A quiet start (`quiet_startup`): TensorFlow's C++ log threshold `TF_CPP_MIN_LOG_LEVEL`
  defaults to 2 (TensorFlow's own INFO and WARNING lines are hidden, its errors shown),
  pydub's "Couldn't find ffmpeg" RuntimeWarning (printed when note_seq is imported; no tool
  uses ffmpeg) is ignored, and TensorFlow is imported through a filter that drops the few lines
  that TensorFlow prints on every start-up on a machine without a usable GPU:
    * "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    * "... cudart_stub.cc:..] Could not find cuda drivers on your machine, GPU will not be used."
    * "... failed call to cuInit: ..." - dropped only when the "Could not find cuda drivers" line
      was seen in the same start-up, or CUDA_VISIBLE_DEVICES hides every GPU; on a machine with
      a CUDA driver it is a real error and stays visible.
    * "... Unable to register cuDNN/cuFFT/cuBLAS factory: ... already been registered" (harmless
      duplicate registrations printed by some CUDA builds).
  Every other line TensorFlow writes to stderr during its import and its device discovery is
  passed through unchanged. CUDA_VISIBLE_DEVICES is never changed.
- `--log=DEBUG`, or TF_CPP_MIN_LOG_LEVEL=0 in the environment, turns all of this filtering off
  (TensorFlow then logs as it would on its own). A TF_CPP_MIN_LOG_LEVEL the user set is kept.
"""

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
import warnings

from absl import flags, logging

from musicvae_tf.cli import lean_imports
from musicvae_tf.tf_startup_noise import filter_startup_lines

HELP_FLAGS = ("-h", "-?", "--help", "--helpshort", "--helpfull")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "FATAL")


class UsageError(ValueError):
    """A problem with the command line or the user's input, reported as one line."""


def flag_definer(flag_values):
    """`define(kind, name, default, help_text, **kwargs)`: absl's DEFINE_<kind> into `flag_values`."""

    def define(kind, name, default, help_text, **kwargs):
        getattr(flags, "DEFINE_" + kind)(name, default, help=help_text, flag_values=flag_values, **kwargs)

    return define


# --- messages -----------------------------------------------------------------------------------

def first_line(error):
    """The first non-empty line of an exception's message (or its class name)."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def report_error(program, error):
    """Prints `<program>: error: <first line>` on stderr; `error` is an exception or a message."""
    message = error if isinstance(error, str) else first_line(error)
    print(f"{program}: error: {message}", file=sys.stderr, flush=True)


def print_help(doc, flag_values):
    """Writes the tool's docstring and flags to stdout; a closed pipe (`| head`) is not an error."""
    try:
        sys.stdout.write((doc or "").rstrip() + "\n\n" + flag_values.get_help() + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# --- quiet start-up -----------------------------------------------------------------------------

def debug_requested(argv, log_flag="log"):
    """True when argv asks for `--<log_flag>=DEBUG` (or `--<log_flag> DEBUG`)."""
    if not log_flag:
        return False
    option = f"--{log_flag}"
    for i, arg in enumerate(argv):
        if arg.lower() == f"{option}=debug":
            return True
        if arg == option and i + 1 < len(argv) and argv[i + 1].lower() == "debug":
            return True
    return False


def _verbose_environment():
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0"


def quiet_startup(verbose=False):
    """Silences TensorFlow's start-up chatter for the rest of this process (see the module doc).

    Call before TensorFlow is imported. With `verbose` (e.g. --log=DEBUG) nothing is changed.
    """
    # note_seq imports pydub, which warns that ffmpeg is missing; no tool decodes audio.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    if verbose or _verbose_environment():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowFinder)
                                                   for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowFinder())


@contextlib.contextmanager
def filtered_stderr():
    """Collects everything written to file descriptor 2 in the block; re-emits the non-noise lines.

    Works below Python (TensorFlow's C++ code writes to the descriptor directly). Everything is
    kept in a temporary file while the block runs and written back when it ends, also on an
    exception.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = "".join(filter_startup_lines(text.splitlines(keepends=True)))
            if kept:
                os.write(2, kept.encode("utf-8"))


def _probe_devices(tensorflow):
    # Device discovery (cuInit) happens on first use; doing it here keeps its lines in the filter.
    # It only lists devices: logical devices and multi-worker collectives can still be configured.
    try:
        tensorflow.config.list_physical_devices()
    except Exception:  # a broken device set-up shows up again, unfiltered, when TF is used
        pass


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Makes the first `import tensorflow` of the process (wherever it happens) run in the filter."""

    def __init__(self):
        self._used = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow" or self._used:
            return None
        # Inert from now on (sys.meta_path is not edited while the import system walks it).
        self._used = True
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _QuietLoader(spec.loader)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        # TensorFlow sees its own loader, as without the filter.
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with filtered_stderr():
            self._loader.exec_module(module)
            _probe_devices(module)


# --- running a tool -----------------------------------------------------------------------------

def set_log_level(level):
    """Sets absl's logging threshold from a --log value; UsageError for an unknown level."""
    name = (level or "").strip().upper()
    if name not in LOG_LEVELS:
        raise UsageError(f"--log must be DEBUG, INFO, WARNING, ERROR or FATAL, not {level!r}")
    logging.set_verbosity({"WARN": "warning"}.get(name, name.lower()))


def run_main(program, function, argv, log_level=None, expected_errors=()):
    """Calls `function()` for a tool whose flags are parsed; returns the exit status.

    `argv` is what flag parsing left (program name first): anything more is an error. With
    `log_level` (the --log value), absl's threshold is set first. UsageError and
    `expected_errors` become one line on stderr and status 1; a non-zero int returned by
    `function` is passed on.
    """
    if len(argv) > 1:
        report_error(program, f"unexpected arguments: {' '.join(argv[1:])}")
        return 1
    try:
        if log_level is not None:
            set_log_level(log_level)
        status = function()
    except (UsageError,) + tuple(expected_errors) as error:
        report_error(program, error)
        return 1
    return status if isinstance(status, int) else 0


def parse_command_line(program, flag_values, argv):
    """Parses argv into `flag_values`; returns the leftover arguments, or None after a one-line error."""
    flag_values.unparse_flags()
    try:
        remaining = flag_values(argv)
    except flags.Error as error:
        report_error(program, error)
        return None
    flags.FLAGS.mark_as_parsed()  # absl's own flags (logging) keep their defaults
    return remaining


def run_in_process(program, flag_values, main, argv):
    """Runs a tool in this process with `argv` (program name first); returns its exit status.

    The flags are parsed for the run and unparsed after it, so runs do not leak into each other.
    """
    remaining = parse_command_line(program, flag_values, argv)
    if remaining is None:
        return 1
    try:
        status = main(remaining)
    except SystemExit as exit_request:
        return exit_request.code if isinstance(exit_request.code, int) else 1
    finally:
        flag_values.unparse_flags()
    return status if isinstance(status, int) else 0


class Tool:
    """A console script: its name, help, flags, `run()` and the errors it reports in one line.

    `run` takes no arguments (pass `lambda: run()` so that tests can replace the module's run);
    `expected_errors` is a tuple of exception classes, or a function returning one (to import
    TensorFlow for its error classes only when the tool runs); `log_flag` names the flag holding
    absl's logging threshold (None: the tool has none, `verbosity` is set instead).
    `takes_arguments`: None, or a function returning True when the arguments left after the flags
    belong to the tool (Beam pipeline options after `--`): `run(arguments)` then gets them as a
    list; otherwise leftover arguments are a one-line error. `fast_exit`: the installed script ends
    without the interpreter's teardown (`exit_without_teardown`), for one-shot tools that start no
    workers.
    """

    def __init__(self, program, doc, flag_values, run, expected_errors=(), log_flag="log", verbosity=None,
                 takes_arguments=None, fast_exit=False):
        self.program, self.doc, self.flag_values, self.run = program, doc, flag_values, run
        self.expected_errors, self.log_flag, self.verbosity = expected_errors, log_flag, verbosity
        self.takes_arguments, self.fast_exit = takes_arguments, fast_exit

    def main(self, argv):
        """Runs with the flags parsed; returns the exit status (1 after a one-line error on stderr)."""
        if self.verbosity is not None:
            logging.set_verbosity(self.verbosity)
        errors = self.expected_errors if isinstance(self.expected_errors, tuple) else self.expected_errors()
        log_level = self.flag_values[self.log_flag].value if self.log_flag else None
        run = self.run
        if self.takes_arguments is not None and self.takes_arguments():
            arguments, argv = list(argv[1:]), argv[:1]
            run = lambda: self.run(arguments)  # noqa: E731
        return run_main(self.program, run, argv, log_level=log_level, expected_errors=errors)

    def run_command(self, argv):
        """Runs the tool in this process with argv (program name first); returns the exit status."""
        return run_in_process(self.program, self.flag_values, self.main, argv)

    def console_entry_point(self):
        run_script(self.program, self.doc, self.flag_values, self.main, log_flag=self.log_flag,
                   fast_exit=self.fast_exit)


def exit_without_teardown(status):
    """Ends the process after the exit handlers, logging and stdio are flushed, but without the
    interpreter's teardown of every module and TensorFlow object: 1.4-1.9 s of a ~7 s
    music_vae_generate run (2026-12-01, the 2-core dev machine). Every file a tool writes is closed
    by then (render.whole_file). Falls back to sys.exit when a non-daemon thread still runs."""
    import atexit
    import logging as python_logging
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(status)
    atexit._run_exitfuncs()  # what sys.exit would run: temporary-folder cleanups and the like
    python_logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def launched_as_script(program):
    """Whether this process is the tool `program` itself: the installed console script (its __main__
    is pip's wrapper) or `python -m musicvae_tf.<tool>`, not a process that embeds the tool."""
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if spec_name.startswith("musicvae_tf."):
        return True
    return os.path.basename(getattr(main, "__file__", None) or "") == program


def run_script(program, doc, flag_values, main, argv=None, log_flag="log", fast_exit=False):
    """A console script's entry point: quiet start, help, flags, then `main(remaining_argv)`.

    `main` returns the exit status (None means 0) or raises SystemExit. Never returns.
    `log_flag` names the tool's logging-threshold flag (None if it has none); `--<log_flag>=DEBUG`
    keeps TensorFlow's start-up output.
    """
    argv = list(sys.argv if argv is None else argv)
    lean_imports.install()
    quiet_startup(verbose=debug_requested(argv, log_flag))
    if any(arg in HELP_FLAGS for arg in argv[1:]):
        print_help(doc, flag_values)
        sys.exit(0)
    remaining = parse_command_line(program, flag_values, argv)
    if remaining is None:
        sys.exit(1)
    logging.use_absl_handler()
    status = main(remaining)
    status = status if isinstance(status, int) else 0
    # Only a successful run of the installed script itself: a failed one, or a harness calling the
    # entry point in its own process, gets the usual SystemExit.
    if fast_exit and status == 0 and launched_as_script(program):
        exit_without_teardown(status)
    sys.exit(status)


# --- where results go ---------------------------------------------------------------------------

def renderer_from_flags(renderer, soundfont):
    """The WAV renderer that --renderer and --soundfont choose (render.choose_renderer); UsageError
    (one line) when it is not available. Tools name it (`describe()`) where they write the WAVs."""
    from musicvae_tf import render

    try:
        return render.choose_renderer(renderer, soundfont)
    except render.RenderError as error:
        raise UsageError(str(error)) from None


def new_output_dir(requested=None, default_prefix="musicvae", now=None):
    """A folder that did not exist, now created: `requested` (or ./<default_prefix>_<date>), else
    `<it>_2`, `_3`, ...; so nothing a user made is ever overwritten."""
    import datetime

    now = now or datetime.datetime.now()
    base = os.path.abspath(os.path.expanduser(requested or f"{default_prefix}_{now:%Y%m%d-%H%M%S}"))
    candidate, k = base, 2
    while True:
        try:
            os.makedirs(candidate)
            return candidate
        except FileExistsError:
            candidate = f"{base}_{k}"
            k += 1
        except NotADirectoryError:
            raise UsageError(f"cannot create --output_dir {candidate}: part of its folder path is a file") from None
        except OSError as error:
            raise UsageError(f"cannot create --output_dir {candidate}: {error.strerror or error}") from None



def output_write_error(output_dir, error):
    """The UsageError for a write into `output_dir` that failed (a full or read-only disk): why, and
    how many complete files are there (each writer removes the file it could not finish)."""
    count = len(os.listdir(output_dir)) if os.path.isdir(output_dir) else 0
    return UsageError(f"cannot write to --output_dir {output_dir}: {error.strerror or error} "
                      f"({count} complete file{'' if count == 1 else 's'} written)")

# --- the model a tool runs ----------------------------------------------------------------------

def checkpoint_from_flags(run_dir, checkpoint_file, config_name, hparams_string):
    """The checkpoint and config that --run_dir, --checkpoint_file, --config and --hparams choose.

    --run_dir (its train/ folder) takes priority over --checkpoint_file; with neither, the
    packaged model of --config is used when there is one. The config is --config or the
    name the checkpoint records, with the checkpoint's recorded hparams and then --hparams where
    they do not conflict (`checkpoints.resolve`). Returns a `checkpoints.ResolvedCheckpoint`
    (path, config_name, config, hparams_overrides); raises UsageError (one line).
    """
    from musicvae_tf import checkpoints, configs

    if config_name:
        try:
            configs.get_config(config_name)  # an unknown name is that, not "no checkpoint for it"
        except ValueError as error:
            raise UsageError(first_line(error)) from None
    if run_dir:
        path = os.path.join(os.path.expanduser(run_dir), "train")
        if not os.path.isdir(path):
            raise UsageError(f"run directory has no `train` folder: {run_dir}")
    elif checkpoint_file:
        path = os.path.expanduser(checkpoint_file)
        if not checkpoints.checkpoint_exists(path):
            raise UsageError(f"checkpoint not found: {checkpoint_file}")
    else:
        if not config_name:
            raise UsageError("--config (with a packaged model: cat-mel_2bar_small, hierdec-mel_16bar, "
                             "cat-mel_2bar_med_chords) or --checkpoint_file / --run_dir is required")
        path = checkpoints.find_pretrained(config_name)
        if not path:
            raise UsageError("--checkpoint_file is required (or --run_dir); no packaged model "
                             f"for config {config_name!r}")
        logging.info("No --checkpoint_file given; using the packaged model %s", path)
    try:
        return checkpoints.resolve(path, config_name, hparams_string)
    except ValueError as error:
        raise UsageError(first_line(error)) from None


def load_trained_model(config, config_name, checkpoint_path, batch_size, hparams_overrides=(), **sample_kwargs):
    """The TrainedModel of `checkpoint_path`; a checkpoint that does not load is one UsageError line.

    `sample_kwargs` go to every sampling call (e.g. seed=[s, k] for reproducible sampling)."""
    from musicvae_tf.checkpoints.tar_bundle import UnsafeBundleError
    from musicvae_tf.trained_model import TrainedModel

    try:
        return TrainedModel(config, batch_size=batch_size, checkpoint_dir_or_path=checkpoint_path,
                            hparams_overrides=hparams_overrides, **sample_kwargs)
    except UnsafeBundleError as error:  # a hostile bundle, not an hparams mismatch
        raise UsageError(first_line(error)) from None
    except Exception as error:  # shape/name mismatches, unreadable files: one line for the user
        raise UsageError(f"cannot load checkpoint {checkpoint_path} for config {config_name} "
                         f"(--hparams may not match the checkpoint): {first_line(error)}") from None
