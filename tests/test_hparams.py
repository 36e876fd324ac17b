"""HParams: Magenta-compatible parsing, typing and copying."""
import copy

import pytest

from musicvae_tf import configs
from musicvae_tf.hparams import HParams, merge_hparams, parse_hparams_string


def _hparams():
    return HParams(batch_size=512, learning_rate=0.001, enc_rnn_size=[256], clip_mode="global_norm",
                   residual_decoder=False, free_bits=0)


def test_parse_keeps_types_and_lists():
    hparams = _hparams().parse("batch_size=32,enc_rnn_size=[64,64],learning_rate=1,residual_decoder=true")
    assert hparams.batch_size == 32 and isinstance(hparams.batch_size, int)
    assert hparams.enc_rnn_size == [64, 64]
    assert hparams.learning_rate == 1.0 and isinstance(hparams.learning_rate, float)
    assert hparams.residual_decoder is True
    assert hparams.values()["enc_rnn_size"] == [64, 64]


def test_parse_scalar_into_list_and_string():
    hparams = _hparams().parse("enc_rnn_size=128,clip_mode=value")
    assert hparams.enc_rnn_size == [128]
    assert hparams.clip_mode == "value"


def test_int_hparam_accepts_float_literal_of_integer_only():
    hparams = _hparams().parse("free_bits=48.0")
    assert hparams.free_bits == 48
    with pytest.raises(ValueError, match="free_bits"):
        _hparams().parse("free_bits=0.5")


@pytest.mark.parametrize("text, message", [
    ("batch_size=abc", "batch_size"),
    ("nonexistent=3", "unknown hparam 'nonexistent'"),
    ("batch_size", "malformed"),
    ("batch_size=", "no value"),
    ("enc_rnn_size=[64,x]", "enc_rnn_size"),
    ("batch_size=1,batch_size=2", "set twice"),
    ("batch_size=[1,2]", "single value"),
])
def test_malformed_strings_raise_one_line_value_errors(text, message):
    with pytest.raises(ValueError, match=message) as error:
        _hparams().parse(text)
    assert "\n" not in str(error.value)


def test_values_is_a_copy_and_deepcopy_is_independent():
    hparams = _hparams()
    values = hparams.values()
    values["enc_rnn_size"].append(1)
    assert hparams.enc_rnn_size == [256]
    clone = copy.deepcopy(hparams)
    clone.parse("batch_size=8")
    assert hparams.batch_size == 512 and clone.batch_size == 8
    assert clone != hparams and copy.deepcopy(hparams) == hparams


def test_attribute_assignment_only_for_known_names():
    hparams = _hparams()
    hparams.batch_size = 7
    assert hparams.batch_size == 7
    with pytest.raises(AttributeError):
        hparams.bogus = 1


def test_merge_hparams_second_wins_and_adds_names():
    merged = merge_hparams(_hparams(), HParams(batch_size=4, nade_num_hidden=128))
    assert merged.batch_size == 4 and merged.nade_num_hidden == 128 and merged.enc_rnn_size == [256]


def test_parse_hparams_string_empty_and_spacing():
    assert parse_hparams_string("") == {}
    assert parse_hparams_string(" a = 1 , b=[2, 3] ") == {"a": "1", "b": ["2", "3"]}


def test_merge_keeps_a_float_hparam_float_as_magenta_does():
    """TF HParams fix a name's type when it is first defined: cat-mel_2bar_small's sampling_rate=1000
    over the default 0.0 is 1000.0, so a fractional rate can be given on the command line."""
    merged = merge_hparams(HParams(sampling_rate=0.0, batch_size=1), HParams(sampling_rate=1000, batch_size=2))
    assert isinstance(merged.sampling_rate, float) and merged.sampling_rate == 1000.0
    assert isinstance(merged.batch_size, int)
    assert merged.parse("sampling_rate=0.15").sampling_rate == pytest.approx(0.15)
    config = configs.get_config("cat-mel_2bar_small", "sampling_schedule=constant,sampling_rate=0.5")
    assert config.hparams.sampling_rate == 0.5
