"""The record of what a run directory was trained with: run_dir/config.json.

    {"config": "cat-mel_2bar_small", "hparams": {...every hparam...}, "examples_path": "..."}

Training writes it when it starts a run directory and checks it when it resumes one; generation
reads it to rebuild the same model (`load_run_config(run_dir)` -> (config name, hparams dict)).
"""

import json
import os

import tensorflow as tf

RUN_CONFIG_FILENAME = "config.json"


class RunConfigMismatchError(ValueError):
    """The flags ask for a model other than the one the run directory holds."""


def run_config_path(run_dir):
    return os.path.join(run_dir, RUN_CONFIG_FILENAME)


def load_run_config(run_dir):
    """Returns (config name, hparams dict, full record) saved in run_dir, or None if there is none."""
    path = run_config_path(run_dir)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "r") as handle:
        try:
            record = json.load(handle)
        except ValueError:
            raise ValueError(f"{path} is not valid JSON") from None
    return record["config"], record["hparams"], record


def _normalize(value):
    return json.loads(json.dumps(value))


def save_run_config(run_dir, config_name, hparams, examples_path=None):
    """Writes run_dir/config.json (written to a temporary file, then renamed)."""
    tf.io.gfile.makedirs(run_dir)
    record = {"config": config_name, "hparams": _normalize(hparams.values()), "examples_path": examples_path}
    path = run_config_path(run_dir)
    temporary = path + ".tmp"
    with tf.io.gfile.GFile(temporary, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    tf.io.gfile.rename(temporary, path, overwrite=True)
    return record


def check_run_config(run_dir, config_name, hparams, ignore=()):
    """Raises RunConfigMismatchError when run_dir/config.json disagrees with config_name/hparams.

    Returns True when there was a record to compare with, False when there was none. Hparams
    named in `ignore` (e.g. batch_size for evaluation) may differ.
    """
    saved = load_run_config(run_dir)
    if saved is None:
        return False
    saved_name, saved_hparams, _ = saved
    if saved_name != config_name:
        raise RunConfigMismatchError(
            f"{run_dir} was trained with --config={saved_name}, not {config_name}; "
            "use another --run_dir or the same config")
    wanted = _normalize(hparams.values())
    differences = []
    for name in sorted(set(saved_hparams) | set(wanted)):
        if name in ignore:
            continue
        if saved_hparams.get(name, "<unset>") != wanted.get(name, "<unset>"):
            differences.append(f"{name}={saved_hparams.get(name, '<unset>')!r} (saved) vs "
                               f"{wanted.get(name, '<unset>')!r} (flags)")
    if differences:
        raise RunConfigMismatchError(
            f"{run_dir} was trained with other hparams: {'; '.join(differences)}; "
            "use another --run_dir or the saved --hparams")
    return True
