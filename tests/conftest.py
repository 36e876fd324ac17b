"""Shared pytest setup: quiet TensorFlow, the `slow` marker, and fixture locations."""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

TESTS_DIR = pathlib.Path(__file__).parent
PARITY_DIR = TESTS_DIR / "data" / "magenta_parity"
# The full fixtures, when a checkout sits next to the shared folder (never required).
SHARED_PARITY_DIR = TESTS_DIR.parent.parent / "shared" / "fixtures" / "magenta_parity"


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: longer tests (still run in CI); deselect with -m 'not slow'")


@pytest.fixture
def parity_dir():
    return PARITY_DIR
