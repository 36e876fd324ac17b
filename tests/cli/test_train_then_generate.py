"""A checkpoint written by music_vae_train loads for generation with the run's own hparams."""
import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf import checkpoints, configs
from musicvae_tf.cli import train
from musicvae_tf.model import build_model
from musicvae_tf.trained_model import TrainedModel

TINY = "batch_size=4,z_size=4,enc_rnn_size=[8],dec_rnn_size=[8]"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    code = train.run_command(["music_vae_train", "--config=cat-mel_2bar_small", f"--run_dir={run_dir}",
                              "--num_steps=2", f"--hparams={TINY}", "--seed=1"])
    assert code == 0
    return run_dir


def test_trained_model_restores_every_weight_of_the_training_checkpoint(run_dir):
    prefix = tf.train.latest_checkpoint(str(run_dir / "train"))
    # No --hparams given: the sizes come from run_dir/config.json.
    model = TrainedModel(configs.CONFIG_MAP["cat-mel_2bar_small"], batch_size=2,
                         checkpoint_dir_or_path=str(run_dir / "train"))
    assert model.config.hparams.z_size == 4 and model.config.hparams.enc_rnn_size == [8]
    reader = tf.train.load_checkpoint(prefix)
    for index, weight in enumerate(model.model.weights):
        stored = reader.get_tensor(f"model_weights/{index}/.ATTRIBUTES/VARIABLE_VALUE")
        np.testing.assert_array_equal(weight.numpy(), stored)
    assert len(model.sample(n=3, length=32, temperature=0.5)) == 3


def test_stored_config_is_found_from_run_dir_train_dir_and_prefix(run_dir):
    prefix = tf.train.latest_checkpoint(str(run_dir / "train"))
    for path in (run_dir / "train", prefix):
        name, hparams = checkpoints.read_stored_config(str(path))
        assert name == "cat-mel_2bar_small" and hparams["z_size"] == 4
    assert checkpoints.is_training_checkpoint(prefix)


def test_training_checkpoint_with_other_sizes_is_a_one_line_mismatch(run_dir):
    prefix = tf.train.latest_checkpoint(str(run_dir / "train"))
    other = build_model(configs.CONFIG_MAP["cat-mel_2bar_small"], TINY.replace("z_size=4", "z_size=6"))
    with pytest.raises(checkpoints.CheckpointMismatchError, match="wrong config or hparams") as error:
        checkpoints.load_weights(other, prefix)
    assert "\n" not in str(error.value)
