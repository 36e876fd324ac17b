"""Declarative description of a MusicVAE architecture, as used in `configs.CONFIG_MAP`.

Magenta's configs hold unbuilt model objects (`MusicVAE(BidirectionalLstmEncoder(), ...)`) that
receive their sizes from the hparams later. Keras layers take their sizes at construction, so
the configs here hold a `ModelSpec` instead: plain frozen dataclasses naming the encoder and
decoder classes and their structural arguments. `musicvae_tf.model.build_model(config)` turns a
spec plus the config's hparams and converter depths into Keras layers.

The spec mirrors Magenta's constructor arguments one to one, e.g.

    ModelSpec(
        encoder=EncoderSpec("BidirectionalLstmEncoder"),
        decoder=DecoderSpec("HierarchicalLstmDecoder",
                            core_decoder=DecoderSpec("CategoricalLstmDecoder"),
                            level_lengths=(16, 16),
                            disable_autoregression=True))
"""

import dataclasses
from typing import Optional, Tuple, Union

ENCODER_KINDS = ("BidirectionalLstmEncoder", "HierarchicalLstmEncoder")
DECODER_KINDS = (
    "CategoricalLstmDecoder",
    "MultiOutCategoricalLstmDecoder",
    "SplitMultiOutLstmDecoder",
    "MultiLabelRnnNadeDecoder",
    "GrooveLstmDecoder",
    "HierarchicalLstmDecoder",
)


@dataclasses.dataclass(frozen=True)
class EncoderSpec:
    """An encoder: `BidirectionalLstmEncoder`, or `HierarchicalLstmEncoder` over one."""

    kind: str
    # HierarchicalLstmEncoder only: the class of the per-level encoder and the level lengths
    # (e.g. (16, 16): 16 bars of 16 steps), as in Magenta's constructor.
    core_encoder: Optional[str] = None
    level_lengths: Tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind not in ENCODER_KINDS:
            raise ValueError(f"unknown encoder {self.kind!r}; expected one of {ENCODER_KINDS}")
        if self.kind == "HierarchicalLstmEncoder" and not self.level_lengths:
            raise ValueError("HierarchicalLstmEncoder needs level_lengths")


@dataclasses.dataclass(frozen=True)
class DecoderSpec:
    """A decoder and its structural arguments (sizes come from hparams)."""

    kind: str
    # MultiOutCategoricalLstmDecoder / SplitMultiOutLstmDecoder: depth of each output.
    output_depths: Tuple[int, ...] = ()
    # SplitMultiOutLstmDecoder: one core decoder per output.
    core_decoders: Tuple["DecoderSpec", ...] = ()
    # HierarchicalLstmDecoder: the bottom-level decoder and the conductor structure.
    core_decoder: Optional["DecoderSpec"] = None
    level_lengths: Tuple[int, ...] = ()
    disable_autoregression: Union[bool, Tuple[int, ...]] = False
    hierarchical_encoder: Optional[EncoderSpec] = None

    def __post_init__(self):
        if self.kind not in DECODER_KINDS:
            raise ValueError(f"unknown decoder {self.kind!r}; expected one of {DECODER_KINDS}")
        if self.kind == "HierarchicalLstmDecoder" and (self.core_decoder is None or not self.level_lengths):
            raise ValueError("HierarchicalLstmDecoder needs core_decoder and level_lengths")
        if self.kind == "SplitMultiOutLstmDecoder" and len(self.core_decoders) != len(self.output_depths):
            raise ValueError("SplitMultiOutLstmDecoder needs one core decoder per output depth")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A MusicVAE: an encoder and a decoder."""

    encoder: EncoderSpec
    decoder: DecoderSpec

    def to_dict(self):
        return dataclasses.asdict(self)


def _decoder_from_dict(values):
    if values is None:
        return None
    values = dict(values)
    values["core_decoders"] = tuple(_decoder_from_dict(v) for v in values.get("core_decoders", ()))
    values["core_decoder"] = _decoder_from_dict(values.get("core_decoder"))
    if values.get("hierarchical_encoder") is not None:
        values["hierarchical_encoder"] = _encoder_from_dict(values["hierarchical_encoder"])
    for key in ("output_depths", "level_lengths"):
        values[key] = tuple(values.get(key, ()))
    if isinstance(values.get("disable_autoregression"), list):
        values["disable_autoregression"] = tuple(values["disable_autoregression"])
    return DecoderSpec(**values)


def _encoder_from_dict(values):
    values = dict(values)
    values["level_lengths"] = tuple(values.get("level_lengths", ()))
    return EncoderSpec(**values)


def model_spec_from_dict(values):
    """Inverse of `ModelSpec.to_dict` (used when a spec is stored next to a checkpoint)."""
    return ModelSpec(encoder=_encoder_from_dict(values["encoder"]),
                     decoder=_decoder_from_dict(values["decoder"]))
