"""Hyperparameters container compatible with Magenta's `contrib_training.HParams`.

Supports what MusicVAE users rely on:

    hparams = HParams(batch_size=512, enc_rnn_size=[256])
    hparams.parse('batch_size=32,enc_rnn_size=[64,64]')
    hparams.batch_size            # 32
    hparams.values()              # {'batch_size': 32, 'enc_rnn_size': [64, 64]}
    copy.deepcopy(hparams)

`parse` keeps each hparam's type: an int stays an int, a float accepts ints, a
bool accepts true/false/1/0, and a list accepts `[a,b,...]` of its element type.
Unknown names and values that do not fit the type raise `ValueError` with a
one-line message naming the offending hparam.
"""

import json
import re

# name=value pairs; a value is either a bracketed list or anything up to the next comma.
_PAIR_RE = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\[[^\]]*\]|[^,\[\]]*)\s*(,|$)")

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _cast_scalar(name, text, template):
    """Converts `text` to the type of `template` (an existing value of hparam `name`)."""
    text = text.strip()
    try:
        if isinstance(template, bool):
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError
        if isinstance(template, int):
            number = float(text)
            if number != int(number):
                raise ValueError
            return int(number)
        if isinstance(template, float):
            return float(text)
        if template is None:
            return _guess_scalar(text)
        return text.strip("'\"")
    except ValueError:
        raise ValueError(
            f"hparam {name!r} expects a {type(template).__name__}, got {text!r}") from None


def _guess_scalar(text):
    """Infers a value's type for hparams whose current value is None."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip("'\"")


class HParams:
    """A set of named hyperparameters with Magenta-compatible parsing."""

    def __init__(self, **kwargs):
        object.__setattr__(self, "_names", [])
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    # -- construction -----------------------------------------------------------------------
    def add_hparam(self, name, value):
        if name in self._names:
            raise ValueError(f"hparam {name!r} already exists")
        if name.startswith("_") or hasattr(type(self), name):
            raise ValueError(f"hparam name {name!r} is reserved")
        self._names.append(name)
        object.__setattr__(self, name, list(value) if isinstance(value, tuple) else value)

    def set_hparam(self, name, value):
        if name not in self._names:
            raise ValueError(f"unknown hparam {name!r}")
        object.__setattr__(self, name, value)

    def del_hparam(self, name):
        if name in self._names:
            self._names.remove(name)
            object.__delattr__(self, name)

    def __setattr__(self, name, value):
        if name not in self._names:
            raise AttributeError(f"unknown hparam {name!r}; use add_hparam to add one")
        object.__setattr__(self, name, value)

    # -- parsing ----------------------------------------------------------------------------
    def parse(self, text):
        """Overrides values from a string like 'batch_size=32,enc_rnn_size=[64,64]'."""
        updates = parse_hparams_string(text)
        for name, raw in updates.items():
            if name not in self._names:
                raise ValueError(
                    f"unknown hparam {name!r} in {text!r}; known: {', '.join(sorted(self._names))}")
            self.set_hparam(name, self._cast(name, raw))
        return self

    def _cast(self, name, raw):
        template = getattr(self, name)
        if isinstance(raw, list):
            if template is not None and not isinstance(template, list):
                raise ValueError(f"hparam {name!r} expects a single value, got a list")
            element = template[0] if template else None
            return [_cast_scalar(name, item, element) for item in raw]
        if isinstance(template, list):
            element = template[0] if template else None
            return [_cast_scalar(name, raw, element)]
        return _cast_scalar(name, raw, template)

    def update(self, values):
        """Sets each name in `values` ({name: value}), adding the names this set does not have."""
        for name, value in values.items():
            if name in self._names:
                self.set_hparam(name, value)
            else:
                self.add_hparam(name, value)
        return self

    def override_from_dict(self, values):
        for name, value in values.items():
            self.set_hparam(name, value)
        return self

    def parse_json(self, text):
        return self.override_from_dict(json.loads(text))

    # -- views ------------------------------------------------------------------------------
    def values(self):
        """A dict copy of every hparam (name -> value)."""
        return {name: _copy_value(getattr(self, name)) for name in self._names}

    def get(self, name, default=None):
        return getattr(self, name) if name in self._names else default

    def to_json(self, indent=None, sort_keys=True):
        return json.dumps(self.values(), indent=indent, sort_keys=sort_keys)

    def __contains__(self, name):
        return name in self._names

    def __eq__(self, other):
        return isinstance(other, HParams) and self.values() == other.values()

    def __repr__(self):
        return "HParams(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.values().items())) + ")"

    def __deepcopy__(self, memo):
        return HParams(**self.values())

    def __copy__(self):
        return HParams(**self.values())

    def __getstate__(self):
        return self.values()

    def __setstate__(self, state):
        object.__setattr__(self, "_names", [])
        for name, value in state.items():
            self.add_hparam(name, value)


def _copy_value(value):
    return list(value) if isinstance(value, list) else value


def parse_hparams_string(text):
    """Splits 'a=1,b=[2,3]' into {'a': '1', 'b': ['2', '3']}; raises ValueError if malformed."""
    result = {}
    text = (text or "").strip()
    position = 0
    while position < len(text):
        match = _PAIR_RE.match(text, position)
        if not match or match.end() == position:
            raise ValueError(f"malformed hparams string {text!r} near {text[position:position + 20]!r}; "
                             "expected name=value pairs separated by commas, lists as [a,b]")
        name, value = match.group("name"), match.group("value").strip()
        if name in result:
            raise ValueError(f"hparam {name!r} is set twice in {text!r}")
        if value.startswith("["):
            inner = value[1:-1].strip()
            result[name] = [item.strip() for item in inner.split(",")] if inner else []
        else:
            if not value:
                raise ValueError(f"hparam {name!r} has no value in {text!r}")
            result[name] = value
        position = match.end()
    return result


def merge_hparams(base, overrides):
    """Returns a copy of `base` updated with `overrides` (new names are added, as in Magenta).

    As in Magenta (TF HParams fix a type when a name is first defined), a float in `base` stays a
    float: cat-mel_2bar_small's sampling_rate=1000 is 1000.0, so `--hparams=sampling_rate=0.5` parses.
    """
    values = base.values()
    updates = {name: float(value) if isinstance(values.get(name), float) and isinstance(value, int)
               and not isinstance(value, bool) else value
               for name, value in overrides.values().items()}
    return HParams(**values).update(updates)
