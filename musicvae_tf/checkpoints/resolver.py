"""What a checkpoint path holds: the one way every tool goes from a path to a model.

    resolved = resolve("run/train", config_name=None, hparams_string="batch_size=8")
    resolved.config_name, resolved.config       # the Config to build (recorded hparams applied)
    model = resolved.build_model()               # built and loaded; or resolved.load_weights(model)

A path is one of: the port's exported model directory (`port_format.save_model`), a
music_vae_train run's train/ directory or ckpt-N prefix, a Magenta checkpoint directory,
model.ckpt-N prefix or .tar bundle, or a packaged model (`find_pretrained`). The port's
checkpoints record their config and architecture; Magenta's record nothing (their sizes come
from the config and --hparams).
"""

import collections
import os
import pathlib
import shutil

from musicvae_tf import architecture
from musicvae_tf.checkpoints.magenta_tf1 import load_magenta_prefix, resolve_checkpoint
from musicvae_tf.checkpoints.port_format import (is_port_checkpoint, is_training_checkpoint, load_exported_weights,
                                                 load_training_checkpoint, read_port_record, supports_decoder_only)

# The demo models packaged with musicvae_tf, one folder (or bundle) per model.
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent.parent / "pretrained"


def find_pretrained(config_name, pretrained_dir=None):
    """The packaged model `<config_name>.<data>/` (or `<config_name>/`), else None (also when several match)."""
    directory = pathlib.Path(pretrained_dir or PRETRAINED_DIR)
    if not config_name or not directory.is_dir():
        return None
    entries = sorted(p for p in directory.iterdir()
                     if not p.name.startswith((".", "_")) and p.suffix not in (".py", ".md", ".txt")
                     and (p.name == config_name or p.name.startswith(config_name + ".")))
    return str(entries[0]) if len(entries) == 1 else None


def checkpoint_exists(path):
    """True when `path` names something a checkpoint can be read from (directory, file or prefix)."""
    return os.path.exists(path) or any(os.path.exists(path + suffix) for suffix in (".index", ".keras", ".json"))


def read_stored_model(path):
    """The `architecture.StoredModel` recorded beside a checkpoint of this port, else None.

    Covers the exported format (model.json) and training runs (run_dir/config.json, found from
    run_dir, run_dir/train or run_dir/train/ckpt-N). Magenta checkpoints record nothing.
    """
    from musicvae_tf.training import run_config

    path = os.fspath(path)
    if is_port_checkpoint(path):
        return read_port_record(path)
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    for candidate in (directory, os.path.dirname(os.path.abspath(directory))):
        stored = run_config.load_stored_model(candidate)
        if stored is not None:
            return stored
    return None


def read_stored_config(path):
    """(config name, dict of every hparam) recorded beside a checkpoint, else (None, None)."""
    stored = read_stored_model(path)
    return (None, None) if stored is None else (stored.config_name, stored.hparams)


class HParamsConflictError(ValueError):
    """Hparams the caller set differ from the architecture recorded with the checkpoint (one line)."""


def _format_value(value):
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_format_value(v) for v in value) + "]"
    return str(value)


def merge_stored_hparams(config, stored, overrides=(), source="--hparams"):
    """Applies the hparams recorded with a checkpoint to `config.hparams`, in place.

    `stored`: an `architecture.StoredModel` or a {name: value} dict (None: nothing recorded).
    `overrides`: names of hparams the caller set on purpose (e.g. from --hparams); they keep the
    caller's value when it equals the recorded one or the hparam is a training knob (not part of
    the recorded architecture). Any other difference raises HParamsConflictError in one line naming
    each hparam and both values, e.g. "--hparams z_size=128 conflicts with the checkpoint's
    z_size=256". Every hparam not in `overrides` takes the recorded value (added when the config
    does not have it).
    """
    if not stored:
        return
    if not isinstance(stored, architecture.StoredModel):
        stored = architecture.StoredModel(None, None, None, dict(stored))
    hparams = config.hparams
    values = stored.hparams
    shared = {name for name in overrides if name in values and name in hparams}
    conflicts = []
    if shared:
        conflicts = [d for d in architecture.compare(values, hparams.values(),
                                                     architecture.architecture_names(config, stored), shared)
                     if d.architecture]
    if conflicts:
        given = ",".join(f"{d.name}={_format_value(d.requested)}" for d in conflicts)
        recorded = ",".join(f"{d.name}={_format_value(d.stored)}" for d in conflicts)
        verb = "conflicts" if len(conflicts) == 1 else "conflict"
        raise HParamsConflictError(
            f"{source} {given} {verb} with the checkpoint's {recorded} (only training hparams "
            f"such as batch_size may differ; leave out the others to use the checkpoint's)")
    hparams.update({name: value for name, value in values.items() if not (name in overrides and name in hparams)})


class ResolvedCheckpoint(collections.namedtuple("ResolvedCheckpoint",
                                                ["path", "config_name", "config", "hparams_overrides"])):
    """A checkpoint and the Config to build for it; `load_weights` / `build_model` use it."""

    def load_weights(self, model, var_name_substitutions=None, only=None):
        """Loads the checkpoint into `model`; returns its step when it records one."""
        return load_weights(model, self.path, var_name_substitutions, only)

    def build_model(self, var_name_substitutions=None):
        """The MusicVAE of `config`, with the checkpoint's weights."""
        from musicvae_tf.model import build_model

        model = build_model(self.config, config_name=self.config_name)
        self.load_weights(model, var_name_substitutions)
        return model


def resolve(checkpoint_path, config_name=None, hparams_string=""):
    """The checkpoint at `checkpoint_path` and the Config to build for it.

    The config is `config_name` (e.g. --config) or else the name the checkpoint records, with the
    checkpoint's recorded hparams, then `hparams_string` (e.g. --hparams) where it does not
    conflict with the recorded architecture (`merge_stored_hparams`). Raises ValueError with a
    one-line message (no name, a different recorded config, an unreadable record, a conflict).
    """
    from musicvae_tf import configs, hparams as hparams_lib

    path = os.fspath(checkpoint_path)
    try:
        stored = read_stored_model(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the model description in {path}: {error}")
    stored_name = stored.config_name if stored else None
    name = config_name or stored_name
    if not name:
        raise ValueError("--config is required")
    config = configs.get_config(name)
    if stored_name and config_name and stored_name != config_name:
        raise ValueError(f"checkpoint {path} was trained with config {stored_name!r}, not {config_name!r}")
    overrides = set()
    if hparams_string:
        overrides = set(hparams_lib.parse_hparams_string(hparams_string))
        config.hparams.parse(hparams_string)
    merge_stored_hparams(config, stored, overrides, source="--hparams")
    return ResolvedCheckpoint(path, name, config, frozenset(overrides))


def changed_from_registered_defaults(hparams, config_name):
    """Names whose value differs from the registered config's default (none for unknown names)."""
    from musicvae_tf import configs

    registered = configs.CONFIG_MAP.get(config_name) if config_name else None
    if registered is None:
        return set()
    defaults = registered.hparams
    return {name for name, value in hparams.values().items()
            if name in defaults and not architecture.same_value(value, getattr(defaults, name))}


def load_weights(model, path, var_name_substitutions=None, only=None):
    """Loads any supported checkpoint into `model`; returns its step when it records one.

    `path`: the port's exported directory, a music_vae_train run's train/ directory or ckpt-N
    prefix, or a Magenta checkpoint (directory, model.ckpt-N prefix or .tar bundle; a bundle is
    extracted once, to a temporary directory deleted afterwards). `model` may lack its encoder
    (`build_model(decoder_only=True)`: every format but float32 .h5 exports, see
    `supports_decoder_only`); `only`: load just these of its variables.
    """
    path = os.fspath(path)
    if is_port_checkpoint(path):
        load_exported_weights(model, path, only)
        return None
    prefix, tmp = resolve_checkpoint(path)
    try:
        if is_training_checkpoint(prefix):
            return load_training_checkpoint(model, prefix, only)
        return load_magenta_prefix(model, prefix, var_name_substitutions, only)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
