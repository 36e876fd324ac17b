"""Magenta's TF1 checkpoints: their variable names and loading them into the Keras model.

Magenta checkpoints come as a directory holding a `checkpoint` index file, a `model.ckpt-N`
prefix, or a `.tar` bundle of those (extracted to a temporary directory by
`tar_bundle.extract_bundle`, which refuses links and anything else that could land outside it). Every Keras variable has a Magenta name (see each layer's
`tf1_variables`), optionally rewritten by `var_name_substitutions` — (regex, replacement) pairs
applied in order, exactly like Magenta's `TrainedModel` — before looking it up in the checkpoint.
"""

import os
import re
import shutil
import tarfile
import tempfile

import tensorflow as tf
from absl import logging

from musicvae_tf.checkpoints import tar_bundle

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


def _find_prefix(directory, bundle=False):
    prefix = tf.train.latest_checkpoint(directory)
    # The `checkpoint` index file of a bundle may only name a prefix inside the bundle.
    if prefix and (not bundle or os.path.realpath(prefix).startswith(os.path.realpath(directory) + os.sep)):
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
            tar_bundle.extract_bundle(path, tmp)
            return _find_prefix(tmp, bundle=True), tmp
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if os.path.isdir(path):
        return _find_prefix(path), None
    if os.path.exists(path + ".index"):
        return path, None
    raise ValueError(f"no checkpoint at {path!r} (expected a directory, a model.ckpt-N prefix or a .tar)")


def load_magenta_checkpoint(model, path, var_name_substitutions=None, only=None):
    """Loads a Magenta TF1 checkpoint into `model` (a `MusicVAE`); returns the global step or None.

    `path`: a directory, a model.ckpt-N prefix or a .tar bundle. Raises CheckpointMismatchError
    (one line) when a variable is missing or has another shape.
    """
    prefix, tmp = resolve_checkpoint(path)
    try:
        return load_magenta_prefix(model, prefix, var_name_substitutions, only)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def load_magenta_prefix(model, prefix, var_name_substitutions=None, only=None):
    """`load_magenta_checkpoint` for a checkpoint prefix on disk (nothing to extract). `only`:
    load just these variables of the model (e.g. an encoder added later)."""
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    assignments = []
    wanted = None if only is None else {id(v) for v in only}
    for name, variable in model.tf1_variables().items():
        if wanted is not None and id(variable) not in wanted:
            continue
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
