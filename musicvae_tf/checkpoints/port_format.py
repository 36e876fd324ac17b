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
    weights = model.weights_in_checkpoint_order()  # (refuses a model without its encoder)
    os.makedirs(directory, exist_ok=True)
    if weights_dtype == "float16":
        arrays = {f"w{index:04d}": np.asarray(v.numpy()).astype(np.float16) for index, v in enumerate(weights)}
        paths = np.array([v.path for v in weights])
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


def stored_positions(model, stored_shapes, source, only=None):
    """[(index in the checkpoint, variable)] of the weights of `model` to load, shapes checked.

    Checkpoints store a whole MusicVAE's weights in one list, in the order encoder, decoder,
    latent (`weights_in_checkpoint_order`). A model built without its encoder (for sampling) takes
    the decoder's part of that list: it ends where the latent's 4 weights (none when z_size is 0)
    begin. `only`: load just these variables (e.g. an encoder added later). A count or shape that
    does not fit (another config or hparams) raises CheckpointMismatchError in one line.
    """
    count = len(stored_shapes)
    if model.has_encoder:
        weights = model.weights_in_checkpoint_order()
        if count != len(weights):
            raise CheckpointMismatchError(f"{source} holds {count} weights but the model has "
                                          f"{len(weights)}: wrong config or hparams for this model")
        pairs = list(enumerate(weights))
    else:
        decoder = list(model.decoder.weights)
        first_decoder = count - len(decoder) - (LATENT_WEIGHTS if model.z_size else 0)
        if first_decoder < 0:
            raise CheckpointMismatchError(f"{source} holds {count} weights, fewer than the model's decoder "
                                          f"({len(decoder)}): wrong config or hparams for this model")
        pairs = [(first_decoder + i, v) for i, v in enumerate(decoder)]
    if only is not None:
        wanted = {id(v) for v in only}
        pairs = [(i, v) for i, v in pairs if id(v) in wanted]
    for index, variable in pairs:
        if tuple(stored_shapes[index]) != tuple(variable.shape):
            raise CheckpointMismatchError(
                f"weight {variable.path} has shape {tuple(stored_shapes[index])} in {source} but "
                f"{tuple(variable.shape)} in the model: wrong config or hparams for this model")
    return pairs


# GaussianLatent's weights: mu kernel and bias, sigma kernel and bias.
LATENT_WEIGHTS = 4


def load_float16_weights(model, directory, only=None):
    """Assigns the float16 weights of `directory` to `model`'s variables, cast to their dtype
    (stored in checkpoint order with their shapes; see `stored_positions`)."""
    with np.load(os.path.join(directory, FLOAT16_WEIGHTS_FILE), allow_pickle=False) as stored:
        keys = [f"w{index:04d}" for index in range(len([k for k in stored.files if k != "paths"]))]
        # (shapes from the members' headers: only the arrays that are loaded get decompressed)
        shapes = [_npz_member_shape(stored, key) for key in keys]
        for index, variable in stored_positions(model, shapes, directory, only):
            variable.assign(stored[keys[index]].astype(variable.dtype))


def _npz_member_shape(npz, key):
    """Shape of one array of an open .npz, read from its header without its data."""
    with npz.zip.open(key + ".npy") as member:
        major, _ = np.lib.format.read_magic(member)
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        shape, _, _ = read_header(member)
    return shape


def supports_decoder_only(path):
    """Whether `path` can load into a model built without its encoder: every format except the
    float32 Keras .h5 export (whose loader needs the whole model)."""
    return not (is_port_checkpoint(path) and not os.path.exists(os.path.join(path, FLOAT16_WEIGHTS_FILE)))


def load_exported_weights(model, directory, only=None):
    """Loads an exported model's weights (float32 .h5 or float16 .npz) into `model`."""
    if os.path.exists(os.path.join(directory, FLOAT16_WEIGHTS_FILE)):
        load_float16_weights(model, directory, only)
    elif not model.has_encoder or only is not None:
        raise ValueError(f"{directory} is a float32 .h5 export: it loads into a whole model only")
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


def load_training_checkpoint(model, prefix, only=None):
    """Restores the model weights of a music_vae_train checkpoint (run_dir/train/ckpt-N).

    The training loop stores every weight in a fixed-order `model_weights` list (checkpoint order,
    see `stored_positions`, which also checks the count and shapes).
    """
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    key = "model_weights/{}/.ATTRIBUTES/VARIABLE_VALUE"
    count = sum(1 for name in shapes if name.startswith("model_weights/") and
                name.endswith("/.ATTRIBUTES/VARIABLE_VALUE"))
    stored = [shapes.get(key.format(index), ()) for index in range(count)]
    pairs = stored_positions(model, stored, f"checkpoint {prefix}", only)
    for index, variable in pairs:
        variable.assign(reader.get_tensor(key.format(index)))
    step = reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") \
        if "step/.ATTRIBUTES/VARIABLE_VALUE" in shapes else None
    logging.info("loaded %d weights from training checkpoint %s", len(pairs), prefix)
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
