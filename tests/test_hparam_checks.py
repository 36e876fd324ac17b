"""hparam_checks: every shipped config passes; values that cannot work are one line naming the hparam."""

import pytest

from musicvae_tf import configs
from musicvae_tf.hparam_checks import check_hparams
from musicvae_tf.model import build_model


def test_every_config_passes():
    for name, config in configs.CONFIG_MAP.items():
        check_hparams(config.hparams)  # raises for a config the checks would wrongly refuse


@pytest.mark.parametrize("hparams, message", [
    ("enc_rnn_size=[]", "hparam enc_rnn_size=[] must list at least one layer size, e.g. enc_rnn_size=[512]"),
    ("dec_rnn_size=[]", "hparam dec_rnn_size=[] must list at least one layer size, e.g. dec_rnn_size=[512]"),
    ("dec_rnn_size=[-4]", "hparam dec_rnn_size=[-4] must list layer sizes of at least 1, e.g. dec_rnn_size=[512]"),
    ("z_size=-1", "hparam z_size=-1 must be a whole number of 0 or more"),
    ("max_seq_len=0", "hparam max_seq_len=0 must be a whole number of at least 1"),
    ("learning_rate=nan", "hparam learning_rate=nan must be a positive number"),
    ("dropout_keep_prob=1.5", "hparam dropout_keep_prob=1.5 must be in (0, 1]"),
    ("free_bits=-1", "hparam free_bits=-1.0 must be a number of 0 or more"),
    ("word_dropout_rate=1.0", "hparam word_dropout_rate=1.0 must be in [0, 1)"),
])
def test_build_model_refuses_in_one_line(hparams, message):
    with pytest.raises(ValueError) as error:
        build_model("cat-mel_2bar_small", hparams=hparams)
    assert str(error.value) == message
