"""Loading Magenta TF1 checkpoints into the Keras model, and the port's own checkpoint format.

Magenta checkpoints come as a directory holding a `checkpoint` index file, a `model.ckpt-N`
prefix, or a `.tar` bundle of those (extracted to a temporary directory after refusing members
that would land outside it). Every Keras variable has a Magenta name (see each layer's
`tf1_variables`), optionally rewritten by `var_name_substitutions` — (regex, replacement) pairs
applied in order, exactly like Magenta's `TrainedModel` — before looking it up in the checkpoint.

The port's own format is a directory with `model.weights.h5` and `model.json` (config name,
hparams values, and the Keras config of the model).
"""

import json
import os
import re
import shutil
import tarfile
import tempfile

import numpy as np
import tensorflow as tf
from absl import logging

WEIGHTS_FILE = "model.weights.h5"
META_FILE = "model.json"

# layer class -> fn(layer, scope) -> {magenta name: variable}, for layers without tf1_variables.
_TF1_NAMERS = {}


def register_tf1_names(layer_class, namer):
    """Registers `namer(layer, scope) -> {magenta_name: variable}` for instances of `layer_class`."""
    _TF1_NAMERS[layer_class] = namer


def layer_tf1_variables(layer, scope):
    """Magenta names of a layer's variables under `scope`, via the registry or `tf1_variables`."""
    for cls in type(layer).__mro__:
        if cls in _TF1_NAMERS:
            return _TF1_NAMERS[cls](layer, scope)
    if not hasattr(layer, "tf1_variables"):
        raise ValueError(f"{type(layer).__name__} does not define Magenta variable names "
                         "(tf1_variables or checkpoints.register_tf1_names)")
    return layer.tf1_variables(scope)


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the model (wrong config or hparams)."""


def _safe_extract(tar_path, directory):
    root = os.path.realpath(directory)
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        for member in members:
            name = member.name
            target = os.path.realpath(os.path.join(root, name))
            if os.path.isabs(name) or ".." in name.replace("\\", "/").split("/") or \
                    not (target == root or target.startswith(root + os.sep)):
                raise ValueError(f"refusing to extract {name!r} from {tar_path}: path outside the bundle")
            if member.issym() or member.islnk():
                link = member.linkname
                base = os.path.dirname(target) if member.issym() else root
                link_target = os.path.realpath(os.path.join(base, link))
                if os.path.isabs(link) or not link_target.startswith(root + os.sep):
                    raise ValueError(f"refusing to extract link {name!r} -> {link!r} from {tar_path}")
            elif not (member.isfile() or member.isdir()):
                raise ValueError(f"refusing to extract special file {name!r} from {tar_path}")
        tar.extractall(root, members=members)


def _find_prefix(directory):
    prefix = tf.train.latest_checkpoint(directory)
    if prefix:
        return prefix
    indexes = sorted(f for f in os.listdir(directory) if f.endswith(".index"))
    if not indexes:
        for sub, _, files in os.walk(directory):
            found = sorted(f for f in files if f.endswith(".index"))
            if found:
                return os.path.join(sub, found[-1][:-len(".index")])
        raise ValueError(f"no TF checkpoint found in {directory}")
    return os.path.join(directory, indexes[-1][:-len(".index")])


def resolve_checkpoint(path):
    """Returns (checkpoint prefix, temporary directory to delete or None) for a dir/prefix/.tar."""
    path = os.fspath(path)
    if os.path.isfile(path) and tarfile.is_tarfile(path):
        tmp = tempfile.mkdtemp(prefix="musicvae_ckpt_")
        try:
            _safe_extract(path, tmp)
            return _find_prefix(tmp), tmp
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if os.path.isdir(path):
        return _find_prefix(path), None
    if os.path.exists(path + ".index"):
        return path, None
    raise ValueError(f"no checkpoint at {path!r} (expected a directory, a model.ckpt-N prefix or a .tar)")


def load_magenta_checkpoint(model, path, var_name_substitutions=None):
    """Loads a Magenta TF1 checkpoint into `model` (a `MusicVAE`); returns the global step or None.

    Raises CheckpointMismatchError (one line) when a variable is missing or has another shape.
    """
    prefix, tmp = resolve_checkpoint(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
        assignments = []
        for name, variable in model.tf1_variables().items():
            ckpt_name = name
            for pattern, substitution in var_name_substitutions or ():
                ckpt_name = re.sub(pattern, substitution, ckpt_name)
            if ckpt_name not in shapes:
                raise CheckpointMismatchError(
                    f"checkpoint {prefix} has no variable {ckpt_name!r}: wrong config for this "
                    f"checkpoint, or var_name_substitutions needed")
            if tuple(shapes[ckpt_name]) != tuple(variable.shape):
                raise CheckpointMismatchError(
                    f"variable {ckpt_name!r} has shape {tuple(shapes[ckpt_name])} in {prefix} but "
                    f"{tuple(variable.shape)} in the model: wrong config or hparams for this checkpoint")
            assignments.append((variable, ckpt_name))
        for variable, ckpt_name in assignments:
            variable.assign(reader.get_tensor(ckpt_name))
        logging.info("loaded %d variables from %s", len(assignments), prefix)
        step = reader.get_tensor("global_step") if "global_step" in shapes else None
        return None if step is None else int(step)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def is_port_checkpoint(path):
    return os.path.isdir(path) and os.path.exists(os.path.join(path, WEIGHTS_FILE))


def save_model(model, directory):
    """Saves `model` in the port's format: weights (.weights.h5) + JSON (config name, hparams)."""
    os.makedirs(directory, exist_ok=True)
    model.save_weights(os.path.join(directory, WEIGHTS_FILE))
    meta = {"config_name": model.config_name, "hparams": model.hparams.values()}
    with open(os.path.join(directory, META_FILE), "w") as f:
        json.dump(meta, f, indent=1, default=_json_default)
    return directory


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in model.json")


def read_port_metadata(directory):
    """(config_name, hparams dict) stored by `save_model`."""
    with open(os.path.join(directory, META_FILE)) as f:
        meta = json.load(f)
    return meta.get("config_name"), meta.get("hparams", {})


def load_port_model(directory, config=None):
    """Rebuilds and loads a model saved by `save_model`; `config` defaults to the stored name."""
    from musicvae_tf import configs
    from musicvae_tf.model import build_model

    name, hparams_values = read_port_metadata(directory)
    if config is None:
        if not name:
            raise ValueError(f"{directory} does not record a config name; pass config=")
        config = configs.get_config(name)
    hparams = _copy_hparams(config.hparams, hparams_values)
    model = build_model(config, hparams, config_name=name)
    model.load_weights(os.path.join(directory, WEIGHTS_FILE))
    return model


def _copy_hparams(template, values):
    import copy

    hparams = copy.deepcopy(template)
    for key, value in values.items():
        if hasattr(hparams, key):
            setattr(hparams, key, value)
        else:
            hparams.add_hparam(key, value)
    return hparams


# Where `music_vae_train` records what a run directory was trained with (run_dir/config.json).
RUN_CONFIG_FILE = "config.json"
# tf.train.Checkpoint (object-based) checkpoints carry this entry; Magenta's TF1 checkpoints do not.
_OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


def is_training_checkpoint(prefix):
    """True for an object-based checkpoint written by music_vae_train (tf.train.Checkpoint)."""
    return _OBJECT_GRAPH_KEY in tf.train.load_checkpoint(prefix).get_variable_to_shape_map()


def load_training_checkpoint(model, prefix):
    """Restores the model weights of a music_vae_train checkpoint (run_dir/train/ckpt-N).

    The training loop stores every weight in a fixed-order `model_weights` list; a shape that does
    not match the model (other config or hparams) raises CheckpointMismatchError in one line.
    """
    shapes = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    stored = {name.split("/")[1]: shape for name, shape in shapes.items()
              if name.startswith("model_weights/") and name.endswith("/.ATTRIBUTES/VARIABLE_VALUE")}
    if len(stored) != len(model.weights):
        raise CheckpointMismatchError(
            f"checkpoint {prefix} holds {len(stored)} model weights but the model has "
            f"{len(model.weights)}: wrong config or hparams for this checkpoint")
    for index, variable in enumerate(model.weights):
        if tuple(stored.get(str(index), ())) != tuple(variable.shape):
            raise CheckpointMismatchError(
                f"weight {variable.path} has shape {tuple(stored.get(str(index), ()))} in {prefix} but "
                f"{tuple(variable.shape)} in the model: wrong config or hparams for this checkpoint")
    tf.train.Checkpoint(model_weights=list(model.weights)).restore(prefix).expect_partial()
    step = tf.train.load_checkpoint(prefix).get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") \
        if "step/.ATTRIBUTES/VARIABLE_VALUE" in shapes else None
    logging.info("loaded %d weights from training checkpoint %s", len(model.weights), prefix)
    return None if step is None else int(step)


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
    prefix, or a Magenta checkpoint (directory, model.ckpt-N prefix or .tar bundle).
    """
    path = os.fspath(path)
    if is_port_checkpoint(path):
        model.load_weights(os.path.join(path, WEIGHTS_FILE))
        return None
    prefix, tmp = resolve_checkpoint(path)
    try:
        if is_training_checkpoint(prefix):
            return load_training_checkpoint(model, prefix)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return load_magenta_checkpoint(model, path, var_name_substitutions)
