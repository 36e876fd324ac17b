"""Hparam values a model can be built and trained with; anything else is one clear ValueError line.

    check_hparams(config.hparams)   # e.g. "hparam enc_rnn_size=[] must list at least one layer size"

`model.build_model` calls it, so every tool refuses the same values in the same words. Only
values that cannot work are refused (an empty or non-positive layer size, a batch of fewer than
one example, a negative latent size, a learning rate that is not a positive number, ...); every
config of `configs.CONFIG_MAP` passes.
"""

import math

# hparam -> (test, what the value must be)
_LAYER_SIZES = ("enc_rnn_size", "dec_rnn_size")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_RULES = {
    "batch_size": (lambda v: _is_int(v) and v >= 1, "must be a whole number of at least 1"),
    "max_seq_len": (lambda v: _is_int(v) and v >= 1, "must be a whole number of at least 1"),
    "z_size": (lambda v: _is_int(v) and v >= 0, "must be a whole number of 0 or more"),
    "learning_rate": (lambda v: _is_number(v) and v > 0, "must be a positive number"),
    "min_learning_rate": (lambda v: _is_number(v) and v >= 0, "must be a number of 0 or more"),
    "decay_rate": (lambda v: _is_number(v) and 0 < v <= 1, "must be in (0, 1]"),
    "max_beta": (lambda v: _is_number(v) and v >= 0, "must be a number of 0 or more"),
    "free_bits": (lambda v: _is_number(v) and v >= 0, "must be a number of 0 or more"),
    "dropout_keep_prob": (lambda v: _is_number(v) and 0 < v <= 1, "must be in (0, 1]"),
    "grad_clip": (lambda v: _is_number(v) and v > 0, "must be a positive number"),
    "word_dropout_rate": (lambda v: _is_number(v) and 0 <= v < 1, "must be in [0, 1)"),
    "latent_mean_penalty": (lambda v: _is_number(v) and v >= 0, "must be a number of 0 or more"),
}


def _show(value):
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_show(v) for v in value) + "]"
    return str(value)


def check_hparams(hparams):
    """Raises ValueError (one line) for the first hparam whose value cannot work."""
    for name in _LAYER_SIZES:
        if name not in hparams:
            continue
        sizes = getattr(hparams, name)
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
        if not sizes:
            raise ValueError(f"hparam {name}=[] must list at least one layer size, e.g. {name}=[512]")
        if not all(_is_int(size) and size >= 1 for size in sizes):
            raise ValueError(f"hparam {name}={_show(sizes)} must list layer sizes of at least 1, e.g. "
                             f"{name}=[512]")
    for name, (valid, requirement) in _RULES.items():
        if name in hparams and not valid(getattr(hparams, name)):
            raise ValueError(f"hparam {name}={_show(getattr(hparams, name))} {requirement}")
