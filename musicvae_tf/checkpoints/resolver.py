"""What a checkpoint path holds, and loading any supported checkpoint into a model.

A path is one of: the port's exported model directory (`port_format.save_model`), a
music_vae_train run's train/ directory or ckpt-N prefix, a Magenta checkpoint directory,
model.ckpt-N prefix or .tar bundle, or a packaged demo model (`find_pretrained`).
"""

import json
import os
import pathlib
import shutil

from musicvae_tf.checkpoints.magenta_tf1 import load_magenta_prefix, resolve_checkpoint
from musicvae_tf.checkpoints.port_format import (RUN_CONFIG_FILE, WEIGHTS_FILE, is_port_checkpoint,
                                                 is_training_checkpoint, load_training_checkpoint,
                                                 read_port_metadata)

# The demo models packaged with musicvae_tf, one folder (or bundle) per model.
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained"


def find_pretrained(config_name, pretrained_dir=None):
    """A packaged demo checkpoint for `config_name` (or the only one when no name), else None."""
    directory = pathlib.Path(pretrained_dir or PRETRAINED_DIR)
    if not directory.is_dir():
        return None
    entries = sorted(p for p in directory.iterdir()
                     if not p.name.startswith((".", "_")) and p.suffix not in (".py", ".md", ".txt"))
    if config_name:
        entries = [p for p in entries if p.name == config_name or p.name.startswith(config_name + ".")]
    return str(entries[0]) if len(entries) == 1 else None


def checkpoint_exists(path):
    """True when `path` names something a checkpoint can be read from (directory, file or prefix)."""
    return os.path.exists(path) or any(os.path.exists(path + suffix) for suffix in (".index", ".keras", ".json"))


def read_stored_config(path):
    """(config name, hparams dict) recorded beside a checkpoint of this port, else (None, None).

    Covers the exported format (model.json) and training runs (run_dir/config.json, found from
    run_dir, run_dir/train or run_dir/train/ckpt-N). Magenta checkpoints record nothing.
    """
    path = os.fspath(path)
    if is_port_checkpoint(path):
        return read_port_metadata(path)
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    for candidate in (directory, os.path.dirname(os.path.abspath(directory))):
        record_path = os.path.join(candidate, RUN_CONFIG_FILE)
        if os.path.isfile(record_path):
            with open(record_path) as f:
                record = json.load(f)
            if "config" in record and "hparams" in record:
                return record["config"], record["hparams"]
    return None, None


def load_weights(model, path, var_name_substitutions=None):
    """Loads any supported checkpoint into `model`; returns its step when it records one.

    `path`: the port's exported directory, a music_vae_train run's train/ directory or ckpt-N
    prefix, or a Magenta checkpoint (directory, model.ckpt-N prefix or .tar bundle; a bundle is
    extracted once, to a temporary directory deleted afterwards).
    """
    path = os.fspath(path)
    if is_port_checkpoint(path):
        model.load_weights(os.path.join(path, WEIGHTS_FILE))
        return None
    prefix, tmp = resolve_checkpoint(path)
    try:
        if is_training_checkpoint(prefix):
            return load_training_checkpoint(model, prefix)
        return load_magenta_prefix(model, prefix, var_name_substitutions)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
