"""The record of what a run directory was trained with: run_dir/config.json.

    {"config": "cat-mel_2bar_small", "architecture": {"model_spec": {...}, "hparams": {...}},
     "training_hparams": {...}, "examples_path": "..."}

Training writes it when it starts a run directory and checks it when it resumes one; generation
reads it to rebuild the same model (`load_run_config(run_dir)` -> (config name, hparams dict,
record)). Records written before the architecture was stored hold one "hparams" dict instead.
"""

import json
import os

import tensorflow as tf
from absl import logging

from musicvae_tf import architecture

RUN_CONFIG_FILENAME = "config.json"


class RunConfigMismatchError(ValueError):
    """The flags ask for a model other than the one the run directory holds."""


def run_config_path(run_dir):
    return os.path.join(run_dir, RUN_CONFIG_FILENAME)


def read_run_record(run_dir):
    """The raw record in run_dir/config.json, or None if there is none (ValueError: not JSON)."""
    path = run_config_path(run_dir)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "r") as handle:
        try:
            return json.load(handle)
        except ValueError:
            raise ValueError(f"{path} is not valid JSON") from None


def load_stored_model(run_dir):
    """The `architecture.StoredModel` of the run, or None when run_dir has no (usable) record."""
    record = read_run_record(run_dir)
    if record is None or "config" not in record or not ("architecture" in record or "hparams" in record):
        return None
    return architecture.stored_model(record, record["config"])


def load_run_config(run_dir):
    """Returns (config name, dict of every hparam, full record) saved in run_dir, or None."""
    stored = load_stored_model(run_dir)
    if stored is None:
        return None
    return stored.config_name, stored.hparams, read_run_record(run_dir)


def save_run_config(run_dir, config_name, model, examples_path=None):
    """Writes run_dir/config.json for `model` (written to a temporary file, then renamed)."""
    tf.io.gfile.makedirs(run_dir)
    record = {"config": config_name, **architecture.describe(model), "examples_path": examples_path}
    path = run_config_path(run_dir)
    temporary = path + ".tmp"
    with tf.io.gfile.GFile(temporary, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
    tf.io.gfile.rename(temporary, path, overwrite=True)
    return record


def check_run_config(run_dir, config_name, hparams, ignore=(), allow_training_changes=False):
    """Raises RunConfigMismatchError when run_dir/config.json disagrees with config_name/hparams.

    Returns True when there was a record to compare with, False when there was none. Hparams
    named in `ignore` (e.g. batch_size for evaluation) may differ. With `allow_training_changes`
    (resuming a training run) only the architecture must match: training hparams such as the
    learning rate or the KL schedule may change, and each change is logged.
    """
    stored = load_stored_model(run_dir)
    if stored is None:
        return False
    if stored.config_name != config_name:
        raise RunConfigMismatchError(
            f"{run_dir} was trained with --config={stored.config_name}, not {config_name}; "
            "use another --run_dir or the same config")
    wanted = json.loads(json.dumps(hparams.values()))
    names = _architecture_names(stored) if allow_training_changes else set(stored.architecture or ())
    differences = [d for d in architecture.compare(stored.hparams, wanted, names)
                   if d.name not in ignore and not _added_since(d)]
    refused = [d for d in differences if d.architecture or not allow_training_changes]
    if refused:
        listed = "; ".join(f"{d.name}={d.stored!r} (saved) vs {d.requested!r} (flags)" for d in refused)
        if allow_training_changes:
            raise RunConfigMismatchError(
                f"{run_dir} holds a model of another architecture: {listed}; use another --run_dir or the "
                "saved --hparams (training hparams such as learning_rate may change)")
        raise RunConfigMismatchError(
            f"{run_dir} was trained with other hparams: {listed}; use another --run_dir or the saved --hparams")
    for d in differences:
        logging.warning("Resuming %s with a changed training hparam: %s=%r (saved) -> %r", run_dir, d.name,
                        d.stored, d.requested)
    return True


def _added_since(difference):
    """A hparam the record predates (a later version added it), asked for at its default: the
    run was trained as if it had been set so (e.g. word_dropout_rate=0.0)."""
    from musicvae_tf import configs

    if difference.stored != architecture.MISSING:
        return False
    defaults = configs.EXTENSION_HPARAMS
    return difference.name in defaults and architecture.same_value(defaults[difference.name],
                                                                   difference.requested)


def _architecture_names(stored):
    """The architecture hparams of the run (older records do not say: found by building its model)."""
    if stored.architecture is not None:
        return set(stored.architecture)
    from musicvae_tf import configs

    return architecture.architecture_names(configs.get_config(stored.config_name), stored)
