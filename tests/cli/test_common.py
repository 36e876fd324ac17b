"""musicvae_tf.cli.common: the start-up shared by the command-line tools (noise filter, help, errors)."""
import os
import subprocess
import sys

import pytest
from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.tf_startup_noise import filter_startup_lines

NO_DRIVER = ("I0000 00:00:1795433988.471662   11094 cudart_stub.cc:31] Could not find cuda drivers on "
             "your machine, GPU will not be used.\n")
PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
CUINIT = ("E0000 00:00:1795433994.521097   11094 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
          "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
FACTORY = ("E0000 00:00:1700000000.000000    42 cuda_dnn.cc:8310] Unable to register cuDNN factory: "
           "Attempting to register factory for plugin cuDNN when one has already been registered\n")
ONEDNN = ("I0000 00:00:1796165792.265940    5651 port.cc:153] oneDNN custom operations are on. You may see "
          "slightly different numerical results due to floating-point round-off errors from different "
          "computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n")
REAL_ERROR = "E0000 00:00:1795433994.521097   11094 op_kernel.cc:1830] OP_REQUIRES failed: out of memory\n"


def test_start_up_noise_is_dropped_and_everything_else_kept(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    lines = [PREAMBLE, ONEDNN, NO_DRIVER, "a Python warning\n", PREAMBLE, ONEDNN, NO_DRIVER, FACTORY, CUINIT,
             REAL_ERROR]
    assert filter_startup_lines(lines) == ["a Python warning\n", REAL_ERROR]


def test_cuinit_failure_stays_visible_when_a_driver_was_found(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert filter_startup_lines([PREAMBLE, CUINIT]) == [CUINIT]
    # ... unless the user hid the GPUs on purpose.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert filter_startup_lines([CUINIT]) == []


def test_filtered_stderr_works_on_the_file_descriptor(tmp_path):
    # A child process, so that this test's own stderr capture is not involved.
    code = ("import os\nfrom musicvae_tf.cli import common\n"
            "with common.filtered_stderr():\n"
            f"    os.write(2, {(PREAMBLE + NO_DRIVER + REAL_ERROR)!r}.encode())\n"
            "os.write(2, b'after\\n')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert result.stderr == REAL_ERROR + "after\n"


@pytest.mark.parametrize("argv, expected", [
    (["prog", "--log=DEBUG"], True), (["prog", "--log", "debug"], True),
    (["prog", "--log=INFO"], False), (["prog", "--logdebug"], False), (["prog"], False),
])
def test_debug_requested(argv, expected):
    assert common.debug_requested(argv) is expected
    assert common.debug_requested(argv, log_flag=None) is False


def test_run_main_reports_expected_errors_in_one_line(capsys):
    class ToolError(Exception):
        pass

    def fail():
        raise ToolError("first line\nsecond line")

    assert common.run_main("prog", fail, ["prog"], expected_errors=(ToolError,)) == 1
    assert capsys.readouterr().err == "prog: error: first line\n"
    assert common.run_main("prog", lambda: None, ["prog", "extra", "args"]) == 1
    assert capsys.readouterr().err == "prog: error: unexpected arguments: extra args\n"
    assert common.run_main("prog", lambda: None, ["prog"], log_level="loud") == 1
    assert "--log must be DEBUG, INFO, WARNING, ERROR or FATAL, not 'loud'" in capsys.readouterr().err
    previous = logging.get_verbosity()
    try:
        assert common.run_main("prog", lambda: 3, ["prog"], log_level="warn") == 3
        assert logging.get_verbosity() == logging.WARNING
    finally:
        logging.set_verbosity(previous)
    with pytest.raises(RuntimeError):  # unexpected errors keep their traceback
        common.run_main("prog", lambda: (_ for _ in ()).throw(RuntimeError("bug")), ["prog"])


def test_flag_errors_are_one_line(capsys):
    registry = flags.FlagValues()
    flags.DEFINE_integer("count", 1, "A number.", flag_values=registry)
    assert common.parse_command_line("prog", registry, ["prog", "--count=x"]) is None
    err = capsys.readouterr().err
    assert err.startswith("prog: error: flag --count=x:") and err.count("\n") == 1
    assert common.parse_command_line("prog", registry, ["prog", "--count=4", "rest"]) == ["prog", "rest"]
    assert registry.count == 4


def test_help_into_a_closed_pipe_is_not_an_error():
    """`music_vae_train --helpfull | head`: the reader goes away before the help is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-c", "from musicvae_tf.cli.train import console_entry_point; console_entry_point()",
             "--helpfull"], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert result.stderr == ""


@pytest.mark.parametrize("tool", ["train", "generate", "evaluate", "convert", "quickstart", "preprocess",
                                  "personalize"])
def test_python_dash_m_aliases_run_the_tools(tool):
    """`python -m musicvae_tf.<tool>` (Magenta-style invocations) runs musicvae_tf.cli.<tool>."""
    result = subprocess.run([sys.executable, "-m", f"musicvae_tf.{tool}", "--help"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"music_vae_{tool}: ")
    import importlib

    module = importlib.import_module(f"musicvae_tf.{tool}")
    if not hasattr(module, "__path__"):  # musicvae_tf.personalize is the library package (its __main__ runs)
        assert module is importlib.import_module(f"musicvae_tf.cli.{tool}")


def test_fast_exit_runs_exit_handlers_and_flushes(tmp_path):
    """A one-shot tool's successful run ends without the interpreter's teardown, but after the exit
    handlers (temporary-folder cleanups), logging and stdio; a failed run exits as usual."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "tool"  # named as the program, as pip's console-script wrapper is
    script.write_text(textwrap.dedent(f"""
        import atexit, sys
        from absl import flags
        from musicvae_tf.cli import common
        marker = {str(tmp_path / 'handler-ran')!r}
        atexit.register(lambda: open(marker, "w").write("yes"))
        status = int(sys.argv.pop())
        def main(argv):
            sys.stdout.write("written before the exit, not yet flushed")
            return status
        common.run_script("tool", "A test tool.", flags.FlagValues(), main, log_flag=None, fast_exit=True)
    """))
    for status in (0, 1):
        (tmp_path / "handler-ran").unlink(missing_ok=True)
        result = subprocess.run([sys.executable, str(script), str(status)], capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == status, result.stderr[-2000:]
        assert result.stdout == "written before the exit, not yet flushed"
        assert (tmp_path / "handler-ran").read_text() == "yes"
    assert not common.launched_as_script("tool")  # pytest's process is not the script


@pytest.mark.parametrize("spec_name, main_file, expected", [
    (None, "/venv/bin/music_vae_generate", True),             # the installed console script
    ("musicvae_tf.generate", "/src/musicvae_tf/generate.py", True),  # python -m musicvae_tf.generate
    ("pytest.__main__", "/venv/lib/pytest/__main__.py", False),      # a process embedding the tool
    (None, "/home/me/my_script.py", False),
])
def test_launched_as_script(monkeypatch, spec_name, main_file, expected):
    import types

    main = types.ModuleType("__main__")
    main.__file__ = main_file
    main.__spec__ = types.SimpleNamespace(name=spec_name) if spec_name else None
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert common.launched_as_script("music_vae_generate") is expected
