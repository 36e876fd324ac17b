"""CONFIG_MAP carries every Magenta config with Magenta's hparams, converters and structure.

`tests/data/magenta_configs.json` was recorded from Magenta's own configs.py (commit 526d3eb) by
executing it with stub model/converter classes that record their constructor arguments; see
tests/data/README.md.
"""
import copy
import json

import pytest

from musicvae_tf import configs
from musicvae_tf.model_spec import ModelSpec, model_spec_from_dict
from conftest import TESTS_DIR

MAGENTA = json.loads((TESTS_DIR / "data" / "magenta_configs.json").read_text())


def test_every_magenta_config_name_is_present():
    assert sorted(configs.CONFIG_MAP) == sorted(MAGENTA)
    assert sorted(configs.CONFIG_DESCRIPTIONS) == sorted(MAGENTA)


@pytest.mark.parametrize("name", sorted(MAGENTA))
def test_hparams_equal_magentas(name):
    """Magenta's hparams, plus the port's extensions at the defaults that train as Magenta does."""
    assert configs.CONFIG_MAP[name].hparams.values() == {**MAGENTA[name]["hparams"], **configs.EXTENSION_HPARAMS}
    assert not set(configs.EXTENSION_HPARAMS) & set(MAGENTA[name]["hparams"])


@pytest.mark.parametrize("name", sorted(MAGENTA))
def test_converter_augmenter_and_tfds_name_match(name):
    config = configs.CONFIG_MAP[name]
    expected = MAGENTA[name]
    assert type(config.data_converter).__name__ == expected["data_converter"]["class"]
    assert (config.note_sequence_augmenter is None) == (expected["augmenter"] is None)
    assert config.tfds_name == expected["tfds_name"]
    assert isinstance(config.model, ModelSpec)
    assert model_spec_from_dict(config.model.to_dict()) == config.model


def test_structure_of_hierarchical_configs():
    spec = configs.CONFIG_MAP["hierdec-trio_16bar"].model
    assert spec.encoder.kind == "BidirectionalLstmEncoder"
    assert spec.decoder.kind == "HierarchicalLstmDecoder"
    assert spec.decoder.level_lengths == (16, 16) and spec.decoder.disable_autoregression is True
    assert spec.decoder.core_decoder.output_depths == (90, 90, 512)
    hier = configs.CONFIG_MAP["hier-multiperf_vel_1bar_med"].model
    assert hier.encoder.level_lengths == (64, 8) and hier.decoder.level_lengths == (8, 64)


def test_converters_are_not_shared_between_configs():
    converters = [id(c.data_converter) for c in configs.CONFIG_MAP.values()]
    assert len(set(converters)) == len(converters)


def test_update_config_and_values():
    config = configs.CONFIG_MAP["cat-mel_2bar_small"]
    updated = configs.update_config(config, {"train_examples_path": "x.tfrecord"})
    assert updated.train_examples_path == "x.tfrecord" and config.train_examples_path is None
    assert set(updated.values()) == {"model", "hparams", "note_sequence_augmenter", "data_converter",
                                     "train_examples_path", "eval_examples_path", "tfds_name",
                                     "description", "train_command"}
    # Magenta's way of making one still works: the two fields of this port default to None.
    bare = configs.Config(model=config.model, hparams=config.hparams, data_converter=config.data_converter)
    assert bare.description is None and bare.train_command is None and bare.tfds_name is None
    with pytest.raises(ValueError, match="bogus"):
        configs.update_config(config, {"bogus": 1})


def test_get_config_copies_parses_and_suggests():
    config = configs.get_config("cat-mel_2bar_small", "batch_size=8,enc_rnn_size=[16]")
    assert config.hparams.batch_size == 8 and config.hparams.enc_rnn_size == [16]
    assert configs.CONFIG_MAP["cat-mel_2bar_small"].hparams.batch_size == 512
    with pytest.raises(ValueError, match="Did you mean cat-mel_2bar_small"):
        configs.get_config("cat-mel_2bar_smal")
    deep = copy.deepcopy(configs.CONFIG_MAP["cat-mel_2bar_med_chords"])
    assert deep.data_converter.control_depth == configs.CONFIG_MAP["cat-mel_2bar_med_chords"].data_converter.control_depth
