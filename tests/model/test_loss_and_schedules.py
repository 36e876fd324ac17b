"""Magenta's loss, schedules and clipping, checked against numbers computed by hand."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.layers.latent import GaussianLatent
from musicvae_tf.model import build_model, kl_beta, sampling_probability, shift_right, word_dropout
from musicvae_tf.training.optimizer import learning_rate, make_optimizer
from musicvae_tf.training.step import clip_gradients
from kit import FLAT, tiny_config, tiny_hparams


def test_kl_divergence_by_hand():
    mu = np.array([[0.5, -1.0]], np.float32)
    sigma = np.array([[2.0, 0.5]], np.float32)
    # 0.5 * (mu^2 + sigma^2 - 1) - log(sigma), summed over dimensions.
    expected = (0.5 * (0.25 + 4 - 1) - math.log(2.0)) + (0.5 * (1 + 0.25 - 1) - math.log(0.5))
    assert GaussianLatent.kl_divergence(mu, sigma).numpy()[0] == pytest.approx(expected, rel=1e-6)


def test_beta_and_learning_rate_schedules():
    hp = tiny_hparams(beta_rate=0.99, max_beta=0.5, learning_rate=0.01, min_learning_rate=0.001,
                      decay_rate=0.9)
    assert float(kl_beta(hp, 0)) == pytest.approx(0.0)
    assert float(kl_beta(hp, 10)) == pytest.approx((1 - 0.99 ** 10) * 0.5, rel=1e-5)
    assert float(learning_rate(hp, 0)) == pytest.approx(0.01, rel=1e-6)
    assert float(learning_rate(hp, 3)) == pytest.approx(0.009 * 0.9 ** 3 + 0.001, rel=1e-6)
    # beta_rate 0 (Magenta's default): beta = max_beta from step 1 on.
    assert float(kl_beta(tiny_hparams(max_beta=0.2), 5)) == pytest.approx(0.2)


def test_sampling_probability_schedules():
    assert sampling_probability(tiny_hparams(), 100) == 0.0
    constant = tiny_hparams(sampling_schedule="constant", sampling_rate=0.3)
    assert float(sampling_probability(constant, 7)) == pytest.approx(0.3)
    inverse = tiny_hparams(sampling_schedule="inverse_sigmoid", sampling_rate=1000.0)
    assert float(sampling_probability(inverse, 2000)) == pytest.approx(
        1 - 1000 / (1000 + math.exp(2.0)), rel=1e-5)
    exponential = tiny_hparams(sampling_schedule="exponential", sampling_rate=0.5)
    assert float(sampling_probability(exponential, 3)) == pytest.approx(1 - 0.125)
    # Outside training a schedule means always sampling, as in Magenta's eval jobs.
    assert sampling_probability(inverse, 0, training=False) == 1.0
    with pytest.raises(ValueError, match="inverse_sigmoid"):
        sampling_probability(tiny_hparams(sampling_schedule="inverse_sigmoid", sampling_rate=0.5), 0)
    with pytest.raises(ValueError, match="exponential"):
        sampling_probability(tiny_hparams(sampling_schedule="exponential", sampling_rate=1.0), 0)


def test_clip_gradients_by_hand():
    grads = [tf.constant([3.0, 0.0]), tf.constant([[4.0]])]  # global norm 5
    clipped, norm = clip_gradients(grads, tiny_hparams(grad_clip=1.0))
    assert float(norm) == pytest.approx(5.0)
    np.testing.assert_allclose(clipped[0].numpy(), [0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(clipped[1].numpy(), [[0.8]], rtol=1e-6)
    zeroed, _ = clip_gradients(grads, tiny_hparams(grad_norm_clip_to_zero=4))
    assert all(np.all(g.numpy() == 0) for g in zeroed)
    by_value, _ = clip_gradients(grads, tiny_hparams(clip_mode="value", grad_clip=2.0))
    np.testing.assert_allclose(by_value[0].numpy(), [2.0, 0.0])
    np.testing.assert_allclose(by_value[1].numpy(), [[2.0]])


def test_shift_right():
    x = tf.reshape(tf.range(1, 7, dtype=tf.float32), [1, 3, 2])
    np.testing.assert_array_equal(shift_right(x).numpy(), [[[0, 0], [1, 2], [3, 4]]])


def _batch(model, batch=3, length=8, seed=0):
    rng = np.random.default_rng(seed)
    x = np.eye(model.output_depth, dtype=np.float32)[rng.integers(0, model.output_depth, [batch, length])]
    lengths = np.array([length, length - 3, 2][:batch], np.int32)
    x = x * (np.arange(length)[None, :, None] < lengths[:, None, None])
    return x, x, np.zeros([batch, length, 0], np.float32), lengths


def test_compute_loss_matches_formula():
    model = build_model(tiny_config(FLAT, free_bits=0.5, max_beta=0.7, beta_rate=0.9))
    batch = _batch(model)
    noise = tf.constant(np.random.default_rng(1).normal(size=[3, 4]).astype(np.float32))
    loss, metrics = model.compute_loss(batch, step=4, z_noise=noise)
    inputs, outputs, _, lengths = batch
    mu, sigma = model.encode(inputs, lengths)
    z = mu + sigma * noise
    logits = model.decoder.teacher_force(shift_right(outputs), z).__getitem__(0).numpy()
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    mask = np.arange(8)[None, :] < lengths[:, None]
    r_loss = -(log_probs * outputs).sum(-1)
    r_loss = (r_loss * mask).sum(1)
    kl = (0.5 * (mu.numpy() ** 2 + sigma.numpy() ** 2 - 1) - np.log(sigma.numpy())).sum(1)
    kl_cost = np.maximum(kl - 0.5 * math.log(2), 0)
    beta = (1 - 0.9 ** 4) * 0.7
    assert float(loss) == pytest.approx(r_loss.mean() + beta * kl_cost.mean(), rel=1e-5)
    assert float(metrics["r_loss"]) == pytest.approx(r_loss.mean(), rel=1e-5)
    assert float(metrics["kl_loss"]) == pytest.approx(kl_cost.mean(), rel=1e-4, abs=1e-6)
    assert float(metrics["kl_bits"]) == pytest.approx(kl.mean() / math.log(2), rel=1e-4, abs=1e-6)
    assert float(metrics["elbo"]) == pytest.approx(-(r_loss + kl).mean(), rel=1e-5)
    assert float(metrics["beta"]) == pytest.approx(beta, rel=1e-6)
    correct = (logits.argmax(-1) == outputs.argmax(-1)) & mask
    assert float(metrics["accuracy"]) == pytest.approx(correct.sum() / mask.sum(), rel=1e-6)


def test_word_dropout_zeroes_whole_steps_at_its_rate():
    x = tf.ones([64, 50, 3])
    dropped = word_dropout(x, 0.3, seed=[1, 2]).numpy()
    per_step = dropped.sum(-1)
    assert set(np.unique(per_step)) == {0.0, 3.0}  # a step is kept or zeroed whole
    assert np.mean(per_step == 0) == pytest.approx(0.3, abs=0.02)
    np.testing.assert_array_equal(dropped, word_dropout(x, 0.3, seed=[1, 2]).numpy())


def test_word_dropout_rate_acts_in_training_only():
    """With word_dropout_rate the training loss is the formula's on the decoder inputs with the
    dropped steps zeroed (the step's fourth seed); evaluation sees every input."""
    keras.utils.set_random_seed(3)  # weights independent of the tests run before this one
    model = build_model(tiny_config(FLAT, word_dropout_rate=0.5))
    plain = build_model(tiny_config(FLAT))
    plain.set_weights(model.get_weights())
    batch = _batch(model)
    inputs, outputs, _, lengths = batch
    noise = tf.constant(np.random.default_rng(1).normal(size=[3, 4]).astype(np.float32))
    seed = tf.constant([5, 6])
    evaluated, _ = model.compute_loss(batch, z_noise=noise, seed=seed)
    reference, _ = plain.compute_loss(batch, z_noise=noise, seed=seed)
    assert float(evaluated) == pytest.approx(float(reference), rel=1e-6)
    trained, metrics = model.compute_loss(batch, z_noise=noise, seed=seed, training=True)
    mu, sigma = model.encode(inputs, lengths)
    fed = word_dropout(shift_right(outputs), 0.5, tf.random.experimental.stateless_fold_in(seed, 3))
    assert 0 < np.mean(fed.numpy().sum(-1) == 0) < 1
    logits = model.decoder.teacher_force(fed, mu + sigma * noise)[0].numpy()
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    mask = np.arange(8)[None, :] < lengths[:, None]
    r_loss = ((-(log_probs * outputs).sum(-1)) * mask).sum(1)
    assert float(metrics["r_loss"]) == pytest.approx(r_loss.mean(), rel=1e-5)
    assert float(trained) != pytest.approx(float(reference), rel=1e-5)  # (the formula holds to 1e-5)


def test_latent_mean_penalty_adds_the_batch_offset_of_mu_in_training_only():
    """latent_mean_penalty adds weight * 0.5 * |mean over the batch of mu|^2 to the training loss,
    outside the free bits; evaluation and the plain model's loss are unchanged."""
    model = build_model(tiny_config(FLAT, free_bits=100.0, latent_mean_penalty=3.0))
    plain = build_model(tiny_config(FLAT, free_bits=100.0))
    plain.set_weights(model.get_weights())
    batch = _batch(model)
    noise = tf.constant(np.random.default_rng(4).normal(size=[3, 4]).astype(np.float32))
    mu, _ = model.encode(batch[0], batch[3])
    offset = mu.numpy().mean(0)
    assert np.abs(offset).max() > 1e-4  # a nonzero offset, or the test could not fail
    trained, metrics = model.compute_loss(batch, z_noise=noise, training=True)
    reference, _ = plain.compute_loss(batch, z_noise=noise, training=True)
    assert float(trained) == pytest.approx(float(reference) + 3.0 * 0.5 * (offset ** 2).sum(), rel=1e-6)
    assert float(metrics["mu_offset"]) == pytest.approx(np.sqrt((offset ** 2).mean()), rel=1e-5)
    evaluated, _ = model.compute_loss(batch, z_noise=noise)
    assert float(evaluated) == pytest.approx(float(plain.compute_loss(batch, z_noise=noise)[0]), rel=1e-6)
    # Split over replicas (global_batch_size), the shares add up to the same total.
    parts = [model.compute_loss(tuple(x[s] for x in batch), global_batch_size=3, z_noise=noise[s],
                                training=True)[0] for s in (slice(0, 2), slice(2, 3))]
    mu_parts = [mu.numpy()[s].mean(0) for s in (slice(0, 2), slice(2, 3))]
    split_penalty = sum(n / 3 * 3.0 * 0.5 * (m ** 2).sum() for n, m in zip((2, 1), mu_parts))
    split_reference = sum(plain.compute_loss(tuple(x[s] for x in batch), global_batch_size=3,
                                             z_noise=noise[s], training=True)[0]
                          for s in (slice(0, 2), slice(2, 3)))
    assert float(sum(parts)) == pytest.approx(float(split_reference) + split_penalty, rel=1e-6)


def test_global_batch_split_sums_to_global_mean():
    """Per-replica losses with global_batch_size add up to the loss of the whole batch."""
    model = build_model(tiny_config(FLAT, max_beta=0.5))
    inputs, outputs, controls, lengths = _batch(model)
    noise = tf.constant(np.random.default_rng(2).normal(size=[3, 4]).astype(np.float32))
    whole, _ = model.compute_loss((inputs, outputs, controls, lengths), z_noise=noise)
    parts = [model.compute_loss((inputs[s], outputs[s], controls[s], lengths[s]), global_batch_size=3,
                                z_noise=noise[s])[0] for s in (slice(0, 2), slice(2, 3))]
    assert float(parts[0] + parts[1]) == pytest.approx(float(whole), rel=1e-5)


def test_train_step_with_fit_reduces_loss():
    model = build_model(tiny_config(FLAT, sampling_schedule="inverse_sigmoid", sampling_rate=10.0))
    model.compile(optimizer=make_optimizer(model.hparams))
    inputs, outputs, controls, lengths = _batch(model, seed=3)
    dataset = tf.data.Dataset.from_tensors((inputs, outputs, controls, lengths)).repeat(30)
    before, _ = model.compute_loss((inputs, outputs, controls, lengths), z_noise=tf.zeros([3, 4]))
    history = model.fit(dataset, epochs=1, verbose=0)
    after, _ = model.compute_loss((inputs, outputs, controls, lengths), z_noise=tf.zeros([3, 4]))
    assert float(after) < float(before)
    assert {"r_loss", "kl_loss", "accuracy", "global_norm", "sampling_probability"} <= set(history.history)
    assert int(model.optimizer.iterations) == 30
