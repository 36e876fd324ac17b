"""The port's own checkpoints: exported models and the checkpoints of training runs.

- An exported model (`save_model`) is a directory with `model.weights.h5` and `model.json`:
  the config name, the architecture (model spec and the hparams the layers are built from) and
  the training hparams (`musicvae_tf.architecture.describe`). With `weights_dtype="float16"` the
  weights go to `model.weights.f16.npz` instead: every weight rounded to float16 (half the bytes;
  the packaged models use it), in the model's fixed weight order, cast back to the variables'
  float32 when loaded (`load_float16_weights`).
- `music_vae_train` writes object-based `tf.train.Checkpoint`s (run_dir/train/ckpt-N) and records
  the config name and hparams of the run in run_dir/config.json (`training.run_config`).
"""

import copy
import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from musicvae_tf import architecture
from musicvae_tf.checkpoints.magenta_tf1 import CheckpointMismatchError

WEIGHTS_FILE = "model.weights.h5"
FLOAT16_WEIGHTS_FILE = "model.weights.f16.npz"
META_FILE = "model.json"


def is_port_checkpoint(path):
    return os.path.isdir(path) and any(os.path.exists(os.path.join(path, name))
                                       for name in (WEIGHTS_FILE, FLOAT16_WEIGHTS_FILE))


def save_model(model, directory, weights_dtype="float32"):
    """Saves `model` in the port's format: weights + model.json (its record).

    weights_dtype "float32": Keras' model.weights.h5; "float16": model.weights.f16.npz (see the
    module docstring). Returns `directory`.
    """
    if weights_dtype not in ("float32", "float16"):
        raise ValueError(f"weights_dtype must be float32 or float16, got {weights_dtype!r}")
    os.makedirs(directory, exist_ok=True)
    if weights_dtype == "float16":
        arrays = {f"w{index:04d}": np.asarray(v.numpy()).astype(np.float16) for index, v in enumerate(model.weights)}
        paths = np.array([v.path for v in model.weights])
        np.savez_compressed(os.path.join(directory, FLOAT16_WEIGHTS_FILE), paths=paths, **arrays)
    else:
        model.save_weights(os.path.join(directory, WEIGHTS_FILE))
    meta = {"config_name": model.config_name, **architecture.describe(model), "weights_dtype": weights_dtype}
    with open(os.path.join(directory, META_FILE), "w") as f:
        json.dump(meta, f, indent=1)
    return directory


def read_port_record(directory):
    """The `architecture.StoredModel` that `save_model` recorded in `directory`."""
    with open(os.path.join(directory, META_FILE)) as f:
        meta = json.load(f)
    return architecture.stored_model(meta, meta.get("config_name"))


def load_float16_weights(model, directory):
    """Assigns the float16 weights of `directory` to `model`'s variables, cast to their dtype.

    The weights are stored in `model.weights` order with their shapes; a different count or shape
    (another config or hparams) raises CheckpointMismatchError in one line.
    """
    with np.load(os.path.join(directory, FLOAT16_WEIGHTS_FILE), allow_pickle=False) as stored:
        arrays = [stored[f"w{index:04d}"] for index in range(len([k for k in stored.files if k != "paths"]))]
    if len(arrays) != len(model.weights):
        raise CheckpointMismatchError(f"{directory} holds {len(arrays)} weights but the model has "
                                      f"{len(model.weights)}: wrong config or hparams for this model")
    for variable, array in zip(model.weights, arrays):
        if tuple(array.shape) != tuple(variable.shape):
            raise CheckpointMismatchError(
                f"weight {variable.path} has shape {tuple(array.shape)} in {directory} but "
                f"{tuple(variable.shape)} in the model: wrong config or hparams for this model")
        variable.assign(array.astype(variable.dtype))


def load_exported_weights(model, directory):
    """Loads an exported model's weights (float32 .h5 or float16 .npz) into `model`."""
    if os.path.exists(os.path.join(directory, FLOAT16_WEIGHTS_FILE)):
        load_float16_weights(model, directory)
    else:
        model.load_weights(os.path.join(directory, WEIGHTS_FILE))


def read_port_metadata(directory):
    """(config_name, dict of every hparam) stored by `save_model`."""
    record = read_port_record(directory)
    return record.config_name, record.hparams


def load_port_model(directory, config=None):
    """Rebuilds and loads a model saved by `save_model`; `config` defaults to the stored name."""
    from musicvae_tf import configs
    from musicvae_tf.model import build_model

    name, hparams_values = read_port_metadata(directory)
    if config is None:
        if not name:
            raise ValueError(f"{directory} does not record a config name; pass config=")
        config = configs.get_config(name)
    hparams = copy.deepcopy(config.hparams).update(hparams_values)
    model = build_model(config, hparams, config_name=name)
    load_exported_weights(model, directory)
    return model


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


def weights_fingerprint(model):
    """[sum, sum of squares] of every weight of `model`, in float64: equal weights give equal figures
    (the training log's last line; a personal model's check of its base model)."""
    import numpy as np

    total, squares = 0.0, 0.0
    for variable in model.weights:
        value = np.asarray(variable.numpy(), dtype=np.float64)
        total += float(value.sum())
        squares += float((value * value).sum())
    return [total, squares]
