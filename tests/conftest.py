"""Shared pytest setup: quiet TensorFlow, the `slow` marker, fixture locations, console scripts.

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


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer tests (still run in CI); deselect with -m 'not slow'")


@pytest.fixture
def parity_dir():
    return PARITY_DIR
