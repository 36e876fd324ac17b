"""Which hparams are a model's architecture, as checkpoints record them (musicvae_tf.architecture)."""
import json

import pytest

from musicvae_tf import architecture, checkpoints, configs
from musicvae_tf.model import build_model

TINY = "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16,16]"


@pytest.mark.parametrize("name, expected", [
    ("cat-mel_2bar_small", {"z_size", "enc_rnn_size", "dec_rnn_size", "residual_encoder", "residual_decoder"}),
    # A hierarchical part splits the sequence: max_seq_len is architecture there.
    ("hierdec-mel_16bar", {"z_size", "enc_rnn_size", "dec_rnn_size", "residual_encoder", "residual_decoder",
                           "max_seq_len"}),
    ("nade-drums_2bar_reduced", {"z_size", "enc_rnn_size", "dec_rnn_size", "residual_encoder", "residual_decoder",
                                 "nade_num_hidden"}),
])
def test_architecture_is_what_the_layers_are_built_from(name, expected):
    model = build_model(configs.get_config(name, TINY))
    assert set(model.architecture_hparams) == expected
    # Training knobs, dropout included (it acts only in training), are not architecture.
    assert not {"batch_size", "learning_rate", "dropout_keep_prob", "max_beta", "use_cudnn"} & expected


def test_checkpoint_records_architecture_and_training_knobs_apart(tmp_path):
    config = configs.get_config("cat-mel_2bar_small", TINY + ",dropout_keep_prob=0.5,batch_size=7")
    model = build_model(config, config_name="cat-mel_2bar_small")
    checkpoints.save_model(model, str(tmp_path))
    record = json.loads((tmp_path / "model.json").read_text())
    assert set(record) == {"config_name", "architecture", "training_hparams", "weights_dtype"}
    assert record["weights_dtype"] == "float32"  # float16: tests/checkpoints/test_load_weights.py
    assert record["architecture"]["hparams"] == {"dec_rnn_size": [16, 16], "enc_rnn_size": [16],
                                                 "residual_decoder": False, "residual_encoder": False, "z_size": 8}
    assert record["architecture"]["model_spec"] == json.loads(json.dumps(config.model.to_dict()))
    assert record["training_hparams"]["dropout_keep_prob"] == 0.5 and record["training_hparams"]["batch_size"] == 7
    stored = checkpoints.read_port_record(str(tmp_path))
    assert stored.hparams == json.loads(json.dumps(config.hparams.values()))
    # The record rebuilds the same model.
    assert checkpoints.load_port_model(str(tmp_path)).hparams.values() == model.hparams.values()


def test_compare_names_each_difference_and_its_kind():
    stored = {"z_size": 8, "dec_rnn_size": [16, 16], "batch_size": 4, "only_stored": 1}
    requested = {"z_size": 8.0, "dec_rnn_size": (16, 32), "batch_size": 8, "only_requested": 2}
    differences = architecture.compare(stored, requested, {"z_size", "dec_rnn_size"})
    assert differences == [
        architecture.Difference("batch_size", 4, 8, False),
        architecture.Difference("dec_rnn_size", [16, 16], (16, 32), True),
        architecture.Difference("only_requested", architecture.MISSING, 2, False),
        architecture.Difference("only_stored", 1, architecture.MISSING, False),
    ]
    assert architecture.compare(stored, requested, {"z_size"}, names=["z_size"]) == []  # 8 == 8.0


def test_older_records_without_architecture_are_classified_by_building_the_model():
    config = configs.get_config("hierdec-mel_16bar", TINY)
    older = architecture.stored_model({"hparams": config.hparams.values()}, "hierdec-mel_16bar")
    assert older.architecture is None and older.hparams == config.hparams.values()
    assert architecture.architecture_names(config, older) == set(build_model(config).architecture_hparams)


def test_resolve_applies_the_record_and_refuses_architecture_changes(tmp_path):
    model = build_model(configs.get_config("cat-mel_2bar_small", TINY), config_name="cat-mel_2bar_small")
    checkpoints.save_model(model, str(tmp_path))
    resolved = checkpoints.resolve(str(tmp_path), hparams_string="batch_size=3,learning_rate=0.5")
    assert (resolved.config_name, resolved.hparams_overrides) == ("cat-mel_2bar_small",
                                                                  frozenset({"batch_size", "learning_rate"}))
    assert (resolved.config.hparams.z_size, resolved.config.hparams.batch_size) == (8, 3)
    rebuilt = resolved.build_model()
    assert [w.numpy().tolist() for w in rebuilt.weights[:2]] == [w.numpy().tolist() for w in model.weights[:2]]
    with pytest.raises(checkpoints.HParamsConflictError,
                       match=r"^--hparams z_size=16 conflicts with the checkpoint's z_size=8 "):
        checkpoints.resolve(str(tmp_path), hparams_string="z_size=16")
