"""Warm starts (music_vae_train --warm_start_from) from Magenta's fixture checkpoint, in this process.

The fixture checkpoint (tests/data/magenta_parity/cat-mel_2bar_small, made by Magenta's own code:
30 Adam steps on Aird's Airs tunes, hparams in case.json) is fine-tuned on the 50 examples its
converter fixture holds. The first fine-tuning step must see exactly the loss the loaded model
computes on that batch at the checkpoint's step with the same noise: the same weights, batch,
step (30: beta, learning rate and sampling probability follow from it) and stateless seeds, so
only float32 summation order (tf.function graph vs eager) may differ; rtol 1e-5 is a bound on
that, two orders above what it changes on this loss (~65). A randomly initialised model starts
at ~144, so a start near 65 is the checkpoint's level and nothing else.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR
from kit import absl_messages
from musicvae_tf import checkpoints, configs, metrics
from musicvae_tf.model import build_model
from musicvae_tf.training import loop, warm_start
from musicvae_tf.training.step import step_seeds

BATCH = 50
SEED = 7


@pytest.fixture(scope="module")
def fixture():
    case = json.loads((PARITY_DIR / "cat-mel_2bar_small" / "case.json").read_text())
    config = configs.get_config("cat-mel_2bar_small", case["hparams"] + f",batch_size={BATCH}")
    examples = metrics.load_examples(config, PARITY_DIR / "sources" / "folk_melody_source.tfrecord")
    batch = tuple(tf.constant(a[:BATCH]) for a in examples)
    return config, batch, str(PARITY_DIR / "cat-mel_2bar_small" / "checkpoint"), case["hparams"]


def _loss_of_loaded_model(config, checkpoint, batch, step, noise_seed, fresh=False):
    model = build_model(config)
    if not fresh:
        checkpoints.load_weights(model, checkpoint)
    step = tf.constant(step, tf.int64)
    z_noise, seed = step_seeds(tf.constant(noise_seed, tf.int64), step, config.hparams.z_size, BATCH)
    loss, _ = model.compute_loss(batch, step, training=True, global_batch_size=BATCH, z_noise=z_noise, seed=seed)
    return float(loss)


@pytest.fixture(scope="module")
def fine_tuned(fixture, tmp_path_factory):
    """The fixture checkpoint fine-tuned for 40 steps (step 30 -> 70), saved at the end."""
    config, batch, checkpoint, _ = fixture
    train_dir = tmp_path_factory.mktemp("fine_tuned") / "train"
    trainer = loop.Trainer(config, train_dir=str(train_dir), noise_seed=SEED)
    summary = warm_start.warm_start(trainer, checkpoint)
    iterations_after_warm_start = int(trainer.optimizer.iterations.numpy())
    losses = []
    trainer.train(tf.data.Dataset.from_tensors(batch).repeat(), num_steps=70, save_checkpoint_secs=None,
                  on_step=lambda step, values: losses.append(values["loss"]))
    return trainer, summary, iterations_after_warm_start, losses, str(train_dir)


def test_fine_tuning_starts_at_the_checkpoints_loss_and_goes_down(fixture, fine_tuned):
    config, batch, checkpoint, _ = fixture
    trainer, summary, iterations, losses, _ = fine_tuned
    assert "Magenta TF1 checkpoint" in summary and "step 30 from the checkpoint" in summary
    assert "Adam state fresh (the checkpoint has none)" in summary
    assert iterations == 0
    expected = _loss_of_loaded_model(config, checkpoint, batch, 30, SEED)
    untrained = _loss_of_loaded_model(config, checkpoint, batch, 30, SEED, fresh=True)
    assert len(losses) == 40 and int(trainer.step.numpy()) == 70
    np.testing.assert_allclose(losses[0], expected, rtol=1e-5)
    assert untrained > 1.8 * expected  # ~144 vs ~65: the start is the checkpoint's, not a fresh model's
    # 40 Adam steps on one batch of 50 examples: the loss falls well below the start (measured ~53).
    assert np.mean(losses[-5:]) < 0.9 * losses[0]


def test_a_checkpoint_of_another_architecture_is_one_line(fixture):
    _, _, checkpoint, hparams = fixture
    other = configs.get_config("cat-mel_2bar_small", hparams.replace("z_size=32", "z_size=16") + f",batch_size={BATCH}")
    trainer = loop.Trainer(other, noise_seed=SEED)
    with pytest.raises(checkpoints.CheckpointMismatchError) as raised:
        warm_start.warm_start(trainer, checkpoint)
    message = str(raised.value)
    assert "\n" not in message and "shape" in message and "wrong config or hparams" in message


def test_a_music_vae_train_checkpoint_brings_its_step_and_adam_state(fixture, fine_tuned):
    config, _, _, _ = fixture
    source, _, _, _, train_dir = fine_tuned
    saved = tf.train.latest_checkpoint(train_dir)
    assert saved.endswith("ckpt-70")
    target = loop.Trainer(config, noise_seed=SEED)
    summary = warm_start.warm_start(target, saved)
    assert "music_vae_train checkpoint" in summary and "step 70 from the checkpoint" in summary
    assert "Adam state from the checkpoint" in summary
    assert int(target.optimizer.iterations.numpy()) == 40
    for restored, original in zip(target.optimizer.variables, source.optimizer.variables):
        np.testing.assert_array_equal(restored.numpy(), original.numpy())
    for restored, original in zip(target.model.weights, source.model.weights):
        np.testing.assert_array_equal(restored.numpy(), original.numpy())


def test_music_vae_train_warm_start_from_the_command_line(fixture, tmp_path, capsys):
    from musicvae_tf.cli import train as train_cli

    _, _, checkpoint, hparams = fixture
    data_path = PARITY_DIR / "sources" / "folk_melody_source.tfrecord"
    common = ["music_vae_train", "--config=cat-mel_2bar_small", f"--warm_start_from={checkpoint}",
              f"--examples_path={data_path}", "--log_every_n_steps=1"]
    with absl_messages() as logged:
        code = train_cli.run_command(common + [f"--run_dir={tmp_path / 'run'}", f"--hparams={hparams},batch_size=16",
                                               "--num_steps=32"])
    assert code == 0, capsys.readouterr().err
    assert any("(Magenta TF1 checkpoint): 16 weights, step 30 from the checkpoint, Adam state fresh" in line
               for line in logged), logged
    steps = [line.split(":")[0] for line in logged if line.startswith("step ")]
    assert steps == ["step 31", "step 32"]
    assert (tmp_path / "run" / "train" / "ckpt-32.index").exists()
    capsys.readouterr()

    # A run directory with checkpoints resumes; warm-starting it again is refused in one line.
    assert train_cli.run_command(common + [f"--run_dir={tmp_path / 'run'}", f"--hparams={hparams},batch_size=16",
                                           "--num_steps=40"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"music_vae_train: error: {tmp_path / 'run'} already has checkpoints (ckpt-32): drop "
                       "--warm_start_from to resume that run, or choose a new --run_dir")
    # Another architecture: one line, nothing written.
    other = hparams.replace("z_size=32", "z_size=16")
    assert train_cli.run_command(common + [f"--run_dir={tmp_path / 'other'}", f"--hparams={other}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("music_vae_train: error: variable 'encoder/mu/kernel' has shape (128, 32)")
    assert "wrong config or hparams for this checkpoint" in err[-1]
    assert not (tmp_path / "other").exists()  # nothing left that would refuse the corrected retry
    # The retry with the checkpoint's own sizes in the same --run_dir trains.
    assert train_cli.run_command(common + [f"--run_dir={tmp_path / 'other'}", f"--hparams={hparams},batch_size=16",
                                           "--num_steps=31"]) == 0, capsys.readouterr().err
    assert (tmp_path / "other" / "train" / "ckpt-31.index").exists()
