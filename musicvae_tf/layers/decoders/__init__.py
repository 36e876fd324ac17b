"""MusicVAE decoders and the registry `build_model` uses to construct them from a `DecoderSpec`.

A builder is `builder(spec, hparams, output_depth, z_size, control_depth, name) -> keras layer`,
where `z_size` is the depth of the conditioning vector the decoder receives (the model's z, or
a conductor's embedding inside a hierarchical decoder). Register one per `DecoderSpec.kind`:

    from musicvae_tf.layers.decoders import register_decoder
    register_decoder("GrooveLstmDecoder", build_groove_decoder)

Modules defining further decoders register themselves on import; this package imports the
known ones (`multi_out`, `rnn_nade`, `groove`) when they exist.
"""

import importlib

from musicvae_tf.architecture import training_knob
from musicvae_tf.layers.decoders.base import BaseLstmDecoder, DecoderOutput, SampleOutput
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder

_DECODER_BUILDERS = {}


def register_decoder(kind, builder):
    """Registers `builder` for `DecoderSpec.kind == kind` (replacing an earlier one)."""
    _DECODER_BUILDERS[kind] = builder


def build_decoder(spec, hparams, output_depth, z_size, control_depth, name="decoder"):
    """Builds the decoder layer described by `spec` (a `DecoderSpec`)."""
    if spec.kind not in _DECODER_BUILDERS:
        raise ValueError(f"no decoder registered for {spec.kind!r}; known: {sorted(_DECODER_BUILDERS)}")
    return _DECODER_BUILDERS[spec.kind](spec, hparams, output_depth, z_size, control_depth, name)


def lstm_decoder_kwargs(hparams):
    """The keyword arguments every `BaseLstmDecoder` takes from hparams."""
    return dict(rnn_sizes=list(hparams.dec_rnn_size), residual=bool(hparams.residual_decoder),
                dropout_keep_prob=float(training_knob(hparams, "dropout_keep_prob")))


def _build_categorical(spec, hparams, output_depth, z_size, control_depth, name):
    return CategoricalLstmDecoder(output_depth, z_size=z_size, control_depth=control_depth,
                                  name=name, **lstm_decoder_kwargs(hparams))


def _build_hierarchical(spec, hparams, output_depth, z_size, control_depth, name):
    from musicvae_tf.layers.decoders.hierarchical import build_hierarchical_decoder
    return build_hierarchical_decoder(spec, hparams, output_depth, z_size, control_depth, name)


register_decoder("CategoricalLstmDecoder", _build_categorical)
register_decoder("HierarchicalLstmDecoder", _build_hierarchical)

for _module in ("multi_out", "rnn_nade", "groove"):
    try:
        importlib.import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{_module}":
            raise

__all__ = ["BaseLstmDecoder", "CategoricalLstmDecoder", "DecoderOutput", "SampleOutput",
           "build_decoder", "lstm_decoder_kwargs", "register_decoder"]
