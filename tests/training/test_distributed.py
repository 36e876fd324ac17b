"""Distributed training: MirroredStrategy over two logical CPUs equals one-device training on the same
global batches, and two MultiWorkerMirroredStrategy workers on localhost end with equal weights.

Logical devices must be configured before TensorFlow starts, so each case runs in a fresh
subprocess.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import textwrap

import pytest
from conftest import console_command

TINY = "batch_size=8,z_size=8,enc_rnn_size=[16],dec_rnn_size=[16]"

# Trains the same batches with OneDeviceStrategy and with MirroredStrategy over /cpu:0 and /cpu:1,
# from the same initial weights and noise seed, and prints the comparison as JSON.
MIRRORED_SCRIPT = textwrap.dedent('''
    import json, sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    from musicvae_tf import configs
    from musicvae_tf.training import loop, strategy as strategy_lib

    kind, hparams, num_steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    config = configs.get_config("cat-mel_2bar_small", hparams)


    class SmallVAE(keras.Model):
        """A one-layer VAE with MusicVAE's compute_loss interface (fast to trace)."""

        def __init__(self, config):
            super().__init__()
            self.z_size = config.hparams.z_size
            self.encoder = keras.layers.Dense(2 * self.z_size)
            self.decoder = keras.layers.Dense(config.data_converter.output_depth)
            depth = config.data_converter.output_depth
            self.encoder.build((None, config.data_converter.input_depth))
            self.decoder.build((None, None, depth + self.z_size))

        def compute_loss(self, batch, step=0, training=False, global_batch_size=None, z_noise=None,
                         seed=None):
            inputs, outputs, _, lengths = batch
            stats = self.encoder(tf.reduce_mean(inputs, axis=1))
            mu, sigma = stats[:, :self.z_size], tf.nn.softplus(stats[:, self.z_size:])
            z = mu + sigma * z_noise
            time = tf.shape(outputs)[1]
            features = tf.concat([tf.pad(outputs[:, :-1], [[0, 0], [1, 0], [0, 0]]),
                                  tf.tile(z[:, None], [1, time, 1])], axis=-1)
            logits = self.decoder(features)
            mask = tf.sequence_mask(lengths, time, tf.float32)
            r_loss = tf.reduce_sum(tf.nn.softmax_cross_entropy_with_logits(outputs, logits) * mask, 1)
            kl = tf.reduce_sum(0.5 * (mu ** 2 + sigma ** 2 - 1) - tf.math.log(sigma), 1)
            loss = tf.reduce_sum(r_loss + kl) / global_batch_size
            return loss, {"loss": tf.reduce_mean(r_loss + kl), "r_loss": tf.reduce_mean(r_loss)}


    model_fn = SmallVAE if kind == "small" else None
    rng = np.random.default_rng(0)
    batch, length, depth = config.hparams.batch_size, config.hparams.max_seq_len, config.data_converter.output_depth
    count = num_steps * batch
    one_hot = np.eye(depth, dtype=np.float32)[rng.integers(0, depth, size=(count, length))]
    lengths = rng.integers(4, length + 1, size=count).astype(np.int32)
    dataset = tf.data.Dataset.from_tensor_slices(
        (one_hot, one_hot, np.zeros((count, length, 0), np.float32), lengths)).batch(batch, drop_remainder=True)

    def run(strategy, initial=None):
        trainer = loop.Trainer(config, strategy=strategy, model_fn=model_fn, noise_seed=5)
        if initial is not None:
            for variable, value in zip(trainer.model.weights, initial):
                variable.assign(value)
        start = [np.array(v.numpy()) for v in trainer.model.weights]
        losses = []
        trainer.train(dataset, num_steps=num_steps, save_checkpoint_secs=None, log_every_n_steps=1000,
                      on_step=lambda step, metrics: losses.append(metrics["loss"]))
        return trainer, start, losses

    one, start, one_losses = run(tf.distribute.OneDeviceStrategy("/cpu:0"))
    mirrored, _, mirrored_losses = run(strategy_lib.make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"]),
                                       initial=start)
    relative = []
    for a, b, s in zip(one.model.weights, mirrored.model.weights, start):
        a, b = np.asarray(a.numpy(), np.float64), np.asarray(b.numpy(), np.float64)
        relative.append(float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12)))
    moved = max(float(np.abs(np.asarray(a.numpy()) - s).max()) for a, s in zip(one.model.weights, start))
    print("RESULT " + json.dumps({
        "replicas": mirrored.num_replicas, "steps": [int(one.step.numpy()), int(mirrored.step.numpy())],
        "weight_relative_diff": max(relative), "weights_moved": moved,
        "one_losses": one_losses, "mirrored_losses": mirrored_losses}))
''')


def run_script(tmp_path, script, args, timeout=900):
    path = tmp_path / "script.py"
    path.write_text(script)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    result = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, env=env,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [l for l in result.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def check_mirrored_result(result, num_steps):
    assert result["replicas"] == 2
    assert result["steps"] == [num_steps, num_steps]
    assert result["weights_moved"] > 1e-4  # training changed the weights
    assert result["weight_relative_diff"] < 1e-5, result
    for a, b in zip(result["one_losses"], result["mirrored_losses"]):
        assert b == pytest.approx(a, rel=1e-5)


def test_mirrored_two_cpus_matches_one_device_small_model(tmp_path):
    # Tight value clipping makes the result depend on clipping the summed (global-batch) gradient.
    num_steps = 4
    result = run_script(tmp_path, MIRRORED_SCRIPT,
                        ["small", "batch_size=8,z_size=4,clip_mode=value,grad_clip=0.01", str(num_steps)])
    check_mirrored_result(result, num_steps)


@pytest.mark.slow
@pytest.mark.parametrize("clipping", ["clip_mode=global_norm,grad_clip=1.0", "clip_mode=value,grad_clip=0.01"])
def test_mirrored_two_cpus_matches_one_device_musicvae(tmp_path, clipping):
    num_steps = 3
    # No scheduled sampling: its coin flips are drawn per replica and would differ from one device.
    hparams = f"{TINY},sampling_schedule=constant,sampling_rate=0.0,{clipping}"
    result = run_script(tmp_path, MIRRORED_SCRIPT, ["musicvae", hparams, str(num_steps)])
    check_mirrored_result(result, num_steps)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_two_processes_agree_on_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    run_dir = tmp_path / "run"
    num_steps = 3
    processes = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}))
        processes.append(subprocess.Popen(
            console_command("music_vae_train") + ["--config=cat-mel_2bar_small", f"--run_dir={run_dir}", f"--hparams={TINY}",
                                 f"--num_steps={num_steps}", "--strategy=multi_worker", "--log_every_n_steps=1",
                                 "--seed=3"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    try:
        for process in processes:
            _, err = process.communicate(timeout=900)
            outputs.append((process.returncode, err))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    fingerprints = []
    for code, err in outputs:
        assert code == 0, err[-3000:]
        match = re.search(r"Finished at step (\d+); weights fingerprint: sum=(\S+) sumsq=(\S+)", err)
        assert match, err[-2000:]
        assert int(match.group(1)) == num_steps
        fingerprints.append((float(match.group(2)), float(match.group(3))))
    assert fingerprints[0] == fingerprints[1]
    # Only the chief writes the run directory.
    checkpoints = sorted(p.name for p in (run_dir / "train").glob("ckpt-*.index"))
    assert checkpoints == [f"ckpt-{num_steps}.index"]
    assert (run_dir / "config.json").exists()
