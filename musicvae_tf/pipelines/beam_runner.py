"""Beam pipeline options from the command line, and running a pipeline with counters and quiet logs.

    options = make_options("DirectRunner", ["--direct_num_workers=2",
                                            "--direct_running_mode=multi_processing"])
    counters = run_pipeline(lambda pipeline: build(pipeline, ...), options)

`--runner` picks the runner; every other Beam option is passed through unchanged (Magenta's
comma-separated `--pipeline_options=--a=1,--b=2`, or anything after `--` on the command line), so
Dataflow, Flink or Spark need no code change, only their options. An option no Beam options class
knows is refused in one line (Beam itself would drop it with a warning).
"""

import difflib
import logging as python_logging
import os
import re
import sys
import threading

from musicvae_tf.tf_startup_noise import filter_startup_lines

BEAM_MISSING = 'Apache Beam is not installed: pip install "musicvae-tf[beam]"'
COUNTER_NAMESPACE = "musicvae_tf"
# TensorFlow's "no CUDA driver" line, as the start-up filter knows it (context for the workers' lines).
_NO_DRIVER_LINE = ("I0000 00:00:0.0 1 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
                   "GPU will not be used.")

# Lines Beam's local workers print on every start that say nothing about the job.
_WORKER_NOISE = [re.compile(pattern) for pattern in (
    r"^WARNING:root:apitools not found, and bigquery client libraries are not available",
    r"^INFO:__main__:",
    r"^WARNING:__main__:No semi_persistent_directory found",
    # Two internal options the DirectRunner hands its workers, whose option parser does not know them.
    r"^WARNING:[\w.]*:?Discarding unparseable args: \[(, )?(('--pipeline_type_check'|"
    r"'--direct_runner_use_stacked_bundle')(, )?)+\]$",
    # note_seq's pydub import in each worker (no tool decodes audio), the warning and its source line.
    r"RuntimeWarning: Couldn't find ffmpeg or avconv",
    r"^\s+warn\(\"Couldn't find ffmpeg or avconv",
)]


class BeamUnavailableError(ImportError):
    """Apache Beam is not installed (one-line message saying how to install it)."""


class PipelineOptionsError(ValueError):
    """A pass-through pipeline option that no Beam options class knows."""


class PipelineFailedError(RuntimeError):
    """The Beam job failed (one line: the runner's first message; --log=DEBUG shows the rest)."""


def import_beam(verbose=False):
    quiet = not verbose and "apache_beam" not in sys.modules
    root = python_logging.getLogger()
    saved_level = root.level
    if quiet:
        # Beam's import logs (some on the root logger) that optional Google Cloud clients are
        # missing; no job here needs them.
        python_logging.getLogger("apache_beam").setLevel(python_logging.ERROR)
        root.setLevel(python_logging.ERROR)
    try:
        import apache_beam
    except ImportError:
        raise BeamUnavailableError(BEAM_MISSING) from None
    finally:
        root.setLevel(saved_level)
    return apache_beam


def pipeline_args(runner, pipeline_options=(), extra_args=(), verbose=False):
    """The Beam argument list: --runner, Magenta-style --pipeline_options entries, then `extra_args`."""
    args = [f"--runner={runner}"] + [a for a in pipeline_options if a] + list(extra_args)
    if not verbose and not any(a.startswith("--default_sdk_harness_log_level") for a in args):
        args.append("--default_sdk_harness_log_level=WARNING")
    return args


def _unknown_options(args):
    """Options in `args` that no registered Beam options class parses (best effort: [] if unsure)."""
    from apache_beam.options import pipeline_options as options_module

    try:
        parser = options_module._BeamArgumentParser(allow_abbrev=False)
        seen = {}
        for cls in options_module.PipelineOptions.__subclasses__():
            seen.setdefault(str(cls), cls)
        for cls in seen.values():
            cls._add_argparse_args(parser)
        _, unknown = parser.parse_known_args(args)
        known = [option for action in parser._actions for option in action.option_strings]
    except Exception:  # Beam's private parser API changed: let Beam judge the options itself
        return [], []
    return [a for a in unknown if a.startswith("-")], known


def make_options(runner, pipeline_options=(), extra_args=(), verbose=False):
    """PipelineOptions for `runner` plus pass-through options; PipelineOptionsError for unknown ones."""
    import_beam(verbose)
    from apache_beam.options.pipeline_options import PipelineOptions

    args = pipeline_args(runner, pipeline_options, extra_args, verbose)
    unknown, known = _unknown_options(args)
    if unknown:
        name = unknown[0].split("=", 1)[0]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise PipelineOptionsError(f"unknown Beam pipeline option {unknown[0]}{hint}")
    return PipelineOptions(args)


def read_counters(result):
    """{counter name: value} of the musicvae_tf counters of a finished pipeline, summed over steps."""
    from apache_beam.metrics.metric import MetricsFilter

    counters = {}
    try:
        query = result.metrics().query(MetricsFilter().with_namespace(COUNTER_NAMESPACE))
    except Exception:  # a runner without metrics support
        return counters
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        counters[counter.key.metric.name] = counters.get(counter.key.metric.name, 0) + int(value or 0)
    return counters


def run_pipeline(build, options, verbose=False):
    """Builds a pipeline with `build(pipeline)`, runs it to the end; returns its counters."""
    beam = import_beam()
    if not verbose:
        python_logging.getLogger("apache_beam").setLevel(python_logging.ERROR)
    pipeline = beam.Pipeline(options=options)
    build(pipeline)
    try:
        with _quiet_worker_stderr(enabled=not verbose):
            result = pipeline.run()
            result.wait_until_finish()
    except Exception as error:  # a worker's exception arrives wrapped in the runner's own
        if verbose:
            raise
        raise PipelineFailedError(f"the Beam pipeline failed: {_failure_line(error)}") from None
    return read_counters(result)


def _failure_line(error):
    """The most telling line of a runner's error: the innermost 'SomeError: message' line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", line)]
    text = (named[-1] if named else (lines[0] if lines else type(error).__name__))
    return text if len(text) <= 300 else text[:297] + "..."


def counter(name):
    """A Beam counter in the musicvae_tf namespace (for DoFns)."""
    from apache_beam.metrics import Metrics

    return Metrics.counter(COUNTER_NAMESPACE, name)


def _no_gpu_here():
    if "tensorflow" not in sys.modules:
        return False
    try:
        return not sys.modules["tensorflow"].config.list_physical_devices("GPU")
    except Exception:
        return False


class _quiet_worker_stderr:
    """Drops Beam's local-worker start-up lines from file descriptor 2 while a job runs; the rest
    passes through as it comes (local workers are subprocesses writing to the same descriptor)."""

    def __init__(self, enabled):
        self.enabled = enabled
        self._saved = None

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            sys.stderr.flush()
            self._saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            self._saved = None
            return self
        # TensorFlow's start-up lines in the workers: the tools' own filter, with what the driver
        # learnt (no GPU here) as context for the failed-cuInit line.
        self._context = [_NO_DRIVER_LINE] if _no_gpu_here() else []
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._thread = threading.Thread(target=self._pump, args=(read_end, self._saved), daemon=True)
        self._thread.start()
        return self

    def _keep(self, line):
        text = line.rstrip("\r\n")
        if any(pattern.search(text) for pattern in _WORKER_NOISE):
            return False
        kept = filter_startup_lines(self._context + [line])
        return bool(kept) and kept[-1] is line

    def _pump(self, read_end, output):
        with os.fdopen(read_end, "rb") as stream:
            for raw in stream:
                line = raw.decode("utf-8", errors="replace")
                if self._keep(line):
                    try:
                        os.write(output, raw)
                    except OSError:
                        return

    def __exit__(self, *exc_info):
        if self._saved is None:
            return False
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        # Workers that are still shutting down may hold the pipe open: wait briefly, then go on.
        os.dup2(self._saved, 2)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():  # else the pump still writes to it until the workers exit
            os.close(self._saved)
        self._saved = None
        return False


# -- the command-line side, shared by music_vae_preprocess and music_vae_convert ----------------
def define_runner_flags(define, default_runner):
    """--runner and --pipeline_options; Beam options may also follow `--` on the command line."""
    define("string", "runner", default_runner,
           "Beam runner: DirectRunner (this machine; add -- --direct_num_workers=N "
           "--direct_running_mode=multi_processing for N processes), DataflowRunner, FlinkRunner, "
           "SparkRunner, PortableRunner, ...")
    define("list", "pipeline_options", [],
           "Comma-separated Beam pipeline options, as in Magenta (e.g. --project=p,--region=r); options "
           "after `--` on the command line are passed too.")


def options_from_command_line(runner, pipeline_options, leftover_args, verbose=False):
    """PipelineOptions from the flags and the arguments after `--`; ValueError (one line) if bad."""
    # A value may follow its option ("--project p"); anything else without a dash is a stray argument.
    positional = [a for i, a in enumerate(leftover_args) if not a.startswith("-")
                  and (i == 0 or not leftover_args[i - 1].startswith("--") or "=" in leftover_args[i - 1])]
    if positional:
        raise PipelineOptionsError(f"unexpected argument {positional[0]!r} (Beam pipeline options start "
                                   "with --, e.g. -- --direct_num_workers=2)")
    return make_options(runner, pipeline_options, leftover_args, verbose=verbose)
