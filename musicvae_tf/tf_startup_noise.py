"""The lines TensorFlow prints on every start-up on a machine without a usable GPU, which say nothing
to a user: the console scripts (musicvae_tf.cli.common) and Beam's local workers
(musicvae_tf.pipelines.beam_runner) drop them, and pass every other line through.

    kept = filter_startup_lines(captured_stderr.splitlines(keepends=True))

The noise: absl's "All log messages before absl::InitializeLog()" preamble, "Could not find cuda
drivers on your machine", "failed call to cuInit" (only when the no-driver line was seen too, or
CUDA_VISIBLE_DEVICES hides every GPU: with a driver it is a real error), duplicate
cuDNN/cuFFT/cuBLAS factory registrations, and "oneDNN custom operations are on", which TensorFlow
prints (twice, at any TF_CPP_MIN_LOG_LEVEL: it comes before absl's logging is set up) on CPUs
where it turns oneDNN on by default, e.g. Intel Xeons with AVX-512.
"""
import os
import re

# A TensorFlow/absl C++ log line: severity letter, date, time, thread id, file:line].
_CPP_PREFIX = r"^[IWEF]\d{4} [\d:.]+\s+\d+ "
_ABSL_PREAMBLE = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$")
_NO_CUDA_DRIVER = re.compile(
    _CPP_PREFIX + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not be used\.$")
_ONEDNN_NOTICE = re.compile(_CPP_PREFIX + r"port\.cc:\d+\] oneDNN custom operations are on\. ")
_CUINIT_FAILED = re.compile(_CPP_PREFIX + r"\S+:\d+\] failed call to cuInit: ")
_DUPLICATE_CUDA_FACTORY = re.compile(
    _CPP_PREFIX + r"\S+:\d+\] Unable to register cu(DNN|FFT|BLAS) factory: .*already been registered$")


def _gpus_hidden():
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return visible is not None and visible.strip() in ("", "-1")


def filter_startup_lines(lines):
    """The lines of `lines` (TensorFlow's start-up stderr) that are not known start-up noise."""
    no_driver = _gpus_hidden() or any(_NO_CUDA_DRIVER.match(line) for line in lines)
    kept = []
    for line in lines:
        text = line.rstrip("\r\n")
        if (_ABSL_PREAMBLE.match(text) or _NO_CUDA_DRIVER.match(text) or _ONEDNN_NOTICE.match(text)
                or _DUPLICATE_CUDA_FACTORY.match(text) or (no_driver and _CUINIT_FAILED.match(text))):
            continue
        kept.append(line)
    return kept
