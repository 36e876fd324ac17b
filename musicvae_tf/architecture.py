"""A model's architecture (spec and sizes) apart from its training knobs, as checkpoints record it.

The architecture hparams of a model are the ones its layers are built from: `build_model` reads
hparams through a `ReadRecorder`, so whatever the builders read (z_size, the RNN sizes, residual
connections, NADE size, max_seq_len where a hierarchical part splits the sequence, ...) is
architecture, and every other hparam (batch size, learning rate, KL and sampling schedules,
clipping, and max_seq_len of a flat model, which only sets the default output length) is a
training knob. Dropout is read by the builders but only acts in training: they read it through
`training_knob`, which records nothing.

The port's checkpoints record both (`describe(model)`):

    {"architecture": {"model_spec": {...}, "hparams": {"z_size": 256, ...}},
     "training_hparams": {"batch_size": 512, ...}}

and `compare` is the one comparison of stored hparams with requested ones.
"""

import collections
import dataclasses

import numpy as np

# A requested or stored hparam that the other side does not have.
MISSING = "<unset>"


class ReadRecorder:
    """HParams seen through a recorder: `recorder.read` holds the names read so far."""

    def __init__(self, hparams):
        object.__setattr__(self, "_hparams", hparams)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name):
        value = getattr(self._hparams, name)
        if name in self._hparams:  # not methods such as values()
            self.read.add(name)
        return value

    def __contains__(self, name):
        return name in self._hparams


def training_knob(hparams, name):
    """Reads hparam `name` without making it architecture (for dropout: it acts only in training)."""
    return getattr(hparams._hparams if isinstance(hparams, ReadRecorder) else hparams, name)


def _plain(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (tuple, list, np.ndarray)):
        return [_plain(v) for v in value]
    return value


@dataclasses.dataclass
class StoredModel:
    """What a checkpoint of the port records about its model."""

    config_name: str
    model_spec: dict       # ModelSpec.to_dict(); None in records written before it was stored
    architecture: dict     # {hparam: value} the layers were built from; None: not recorded
    training: dict         # {hparam: value} of the other hparams

    @property
    def hparams(self):
        """Every recorded hparam."""
        return {**self.training, **(self.architecture or {})}


def describe(model):
    """The record of `model`'s architecture and training knobs (JSON-ready dict)."""
    values = {name: _plain(value) for name, value in model.hparams.values().items()}
    names = set(model.architecture_hparams)
    return {"architecture": {"model_spec": _plain_spec(model.model_spec),
                             "hparams": {k: v for k, v in sorted(values.items()) if k in names}},
            "training_hparams": {k: v for k, v in sorted(values.items()) if k not in names}}


def _plain_spec(spec):
    import json

    return None if spec is None else json.loads(json.dumps(spec.to_dict()))


def stored_model(record, config_name):
    """A `StoredModel` from a record written by `describe` (or the older {"hparams": ...} form)."""
    if "architecture" in record:
        architecture = record["architecture"]
        return StoredModel(config_name, architecture.get("model_spec"), dict(architecture["hparams"]),
                           dict(record.get("training_hparams", {})))
    return StoredModel(config_name, None, None, dict(record.get("hparams", {})))


def architecture_names(config, stored):
    """Names of the architecture hparams of `stored` (a StoredModel) for `config`'s model.

    Older records do not say: then the model is built from the recorded hparams once to find out.
    """
    if stored.architecture is not None:
        return set(stored.architecture)
    import copy

    from musicvae_tf.model import build_model

    probe = copy.deepcopy(config.hparams).update(stored.hparams)
    return set(build_model(config, probe).architecture_hparams)


def same_value(a, b):
    """Equality of hparam values as JSON stores them (lists = tuples, 1 = 1.0)."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(same_value(x, y) for x, y in zip(a, b)))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


Difference = collections.namedtuple("Difference", ["name", "stored", "requested", "architecture"])


def compare(stored, requested, architecture, names=None):
    """The hparams whose stored and requested values differ, sorted by name.

    `stored`, `requested`: {name: value}; `architecture`: the names that are architecture;
    `names`: compare only these (default: every name on either side). A name missing on one side
    shows MISSING there. Each `Difference` says whether it is an architecture hparam.
    """
    names = set(stored) | set(requested) if names is None else set(names)
    differences = []
    for name in sorted(names):
        before, after = stored.get(name, MISSING), requested.get(name, MISSING)
        if not same_value(before, after):
            differences.append(Difference(name, before, after, name in architecture))
    return differences
