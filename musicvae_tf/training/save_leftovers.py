"""Removing what an interrupted checkpoint save leaves in a training run's folders.

TensorFlow writes a checkpoint's shards into `<prefix>_temp/` and merges them into the prefix when
complete (each file first written as `<file>.tempstate<number>`), and rewrites the `checkpoint`
index file through `checkpoint.tmp<32 hex digits>`. A kill during a save leaves these behind
forever. Only entries of exactly these shapes are removed: a `ckpt-N_temp` folder holding nothing
but TensorFlow's `part-*` shard files, and temporary files named as TensorFlow names them.
Anything else a user keeps there is left alone.
"""

import os
import re
import shutil

from absl import logging

_TEMP_SHARD_FOLDER = re.compile(r"^ckpt-\d+_temp$")
# TensorFlow's tensor bundles are written as <file>.tempstate<random 64-bit number>, then renamed.
_SHARD_FILE = re.compile(r"^part-\d+-of-\d+(\.index|\.data-\d+-of-\d+)?(\.tempstate\d+)?$")
_BUNDLE_TEMPORARY = re.compile(r"^ckpt-\d+(\.index|\.data-\d+-of-\d+)\.tempstate\d+$")
_INDEX_TEMPORARY = re.compile(r"^checkpoint\.tmp[0-9a-f]{32}$")


def _is_shard_folder(path):
    return os.path.isdir(path) and not os.path.islink(path) and all(
        _SHARD_FILE.match(name) and os.path.isfile(os.path.join(path, name)) and
        not os.path.islink(os.path.join(path, name)) for name in os.listdir(path))


def find_save_leftovers(train_dir):
    """Paths of the leftovers of interrupted saves in `train_dir`."""
    found = []
    if os.path.isdir(train_dir):
        for name in sorted(os.listdir(train_dir)):
            path = os.path.join(train_dir, name)
            if _TEMP_SHARD_FOLDER.match(name) and _is_shard_folder(path):
                found.append(path)
            elif (_INDEX_TEMPORARY.match(name) or _BUNDLE_TEMPORARY.match(name)) and os.path.isfile(path) \
                    and not os.path.islink(path):
                found.append(path)
    return found


def remove_save_leftovers(train_dir):
    """Removes `find_save_leftovers`; returns the removed paths (each is logged)."""
    removed = []
    for path in find_save_leftovers(train_dir):
        try:
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        except OSError as error:  # e.g. read-only: harmless, reported and left
            logging.warning("Could not remove %s, left by an interrupted save: %s", path, error.strerror)
            continue
        logging.info("Removed %s, left by an interrupted save.", path)
        removed.append(path)
    return removed
