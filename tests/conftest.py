"""Shared pytest setup: quiet TensorFlow, the `slow` and `opt_in` markers, fixture locations, console
scripts.

Helpers that tests share (tiny configs, seeded weights, melodies, `run_layer_test`, ...) are in
kit.py; tests sit in folders that mirror the package (cli/, converters/, layers/, ...)."""
import os
import pathlib
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

TESTS_DIR = pathlib.Path(__file__).parent
PARITY_DIR = TESTS_DIR / "data" / "magenta_parity"
# The full fixtures, when a checkout sits next to the shared folder (never required).
SHARED_PARITY_DIR = TESTS_DIR.parent.parent / "shared" / "fixtures" / "magenta_parity"


def console_command(name):
    """The command that runs console script `name` (e.g. "music_vae_generate"): the installed
    script beside this Python or on PATH, else `python -m musicvae_tf.<tool>` (same entry point)."""
    script = pathlib.Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    if found:
        return [found]
    return [sys.executable, "-m", "musicvae_tf." + name[len("music_vae_"):]]


# Tests too long for the default run (minutes on 2 cores) run only when asked for.
OPT_IN_VARIABLE = "MUSICVAE_TF_OPT_IN_TESTS"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer tests (still run in CI); deselect with -m 'not slow'")
    config.addinivalue_line("markers", f"opt_in: too long for the default run; run with {OPT_IN_VARIABLE}=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get(OPT_IN_VARIABLE, "").strip() in ("", "0"):
        skip = pytest.mark.skip(reason=f"opt-in (minutes on 2 cores): set {OPT_IN_VARIABLE}=1 to run")
        for item in items:
            if "opt_in" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def parity_dir():
    return PARITY_DIR


@pytest.fixture
def small_disk(tmp_path):
    """`mount(size_kb, read_only=False)` -> a folder on a tmpfs of that size (unmounted after the test).

    Needs root and a kernel that lets the test mount; otherwise the test is skipped, saying so.
    """
    import subprocess

    mounted = []

    def mount(size_kb, read_only=False):
        if os.geteuid() != 0 or not shutil.which("mount"):
            pytest.skip("a full or read-only disk needs root to mount a small tmpfs")
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                capture_output=True, text=True)
        if result.returncode:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", str(folder)], check=False)
