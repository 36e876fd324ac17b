"""Checkpoints: Magenta's TF1 checkpoints, the port's own formats, and the resolver over both.

    from musicvae_tf import checkpoints
    checkpoints.load_weights(model, "cat-mel_2bar_small.tar")   # any supported checkpoint
    checkpoints.save_model(model, "exported/")                   # the port's exported format

Modules:
  magenta_tf1   Magenta variable names (`tf1_variables`), .tar bundles, loading TF1 checkpoints
  port_format   exported models (model.weights.h5 + model.json) and music_vae_train checkpoints
  resolver      what a path holds: `resolve(path, config_name, hparams)` -> the Config to build and
                its weights (`load_weights`); stored architecture vs requested hparams; demo models
"""

from musicvae_tf.checkpoints.magenta_tf1 import (CheckpointMismatchError, layer_tf1_variables,
                                                 load_magenta_checkpoint, load_magenta_prefix,
                                                 register_tf1_names, resolve_checkpoint)
from musicvae_tf.checkpoints.port_format import (FLOAT16_WEIGHTS_FILE, META_FILE, WEIGHTS_FILE, is_port_checkpoint,
                                                 is_training_checkpoint, load_exported_weights, load_port_model,
                                                 load_training_checkpoint, read_port_metadata, read_port_record,
                                                 save_model, supports_decoder_only, weights_fingerprint)
from musicvae_tf.checkpoints.resolver import (PRETRAINED_DIR, HParamsConflictError, ResolvedCheckpoint,
                                              checkpoint_exists, find_pretrained, load_weights,
                                              merge_stored_hparams, read_stored_config, read_stored_model,
                                              resolve)

__all__ = ["CheckpointMismatchError", "FLOAT16_WEIGHTS_FILE", "HParamsConflictError", "META_FILE", "PRETRAINED_DIR",
           "ResolvedCheckpoint", "WEIGHTS_FILE", "checkpoint_exists", "find_pretrained", "is_port_checkpoint",
           "is_training_checkpoint", "layer_tf1_variables", "load_exported_weights", "load_magenta_checkpoint",
           "load_magenta_prefix", "load_port_model", "load_training_checkpoint", "load_weights",
           "merge_stored_hparams", "read_port_metadata", "read_port_record", "read_stored_config",
           "read_stored_model", "register_tf1_names", "resolve", "resolve_checkpoint", "save_model",
           "supports_decoder_only", "weights_fingerprint"]
