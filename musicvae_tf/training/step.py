"""One training step, as Magenta's training graph did it; used by the Trainer and by Keras `fit`.

The loss at the current step (the KL weight and the sampling probability are functions of the
step), gradients, Magenta's clipping (by value, or by global norm with the step skipped when the
norm reaches grad_norm_clip_to_zero), then Adam. Under a strategy with several replicas each
replica computes the loss of its share of the global batch (`global_batch_size`), and gradients
are summed over the replicas *before* clipping, so the update is the one a single device computes
on the whole batch.

The training noise is stateless (`step_seeds`): z's epsilon comes from (run seed, step) for the
whole global batch, each replica taking its own rows, so N replicas draw exactly what one device
draws and a resumed run draws what an uninterrupted one would have. The model's other randomness
(scheduled-sampling coins, dropout) gets a seed per (step, replica).
"""

import tensorflow as tf


def clip_gradients(grads, hparams):
    """Magenta's clipping; returns (clipped gradients, global norm of the unclipped ones)."""
    global_norm = tf.linalg.global_norm(grads)
    if hparams.clip_mode == "value":
        g = hparams.grad_clip
        return [tf.clip_by_value(grad, -g, g) for grad in grads], global_norm
    if hparams.clip_mode == "global_norm":
        clipped, _ = tf.clip_by_global_norm(grads, hparams.grad_clip, use_norm=global_norm)
        keep = global_norm < hparams.grad_norm_clip_to_zero
        return [tf.where(keep, c, tf.zeros_like(c)) for c in clipped], global_norm
    raise ValueError(f"unknown clip_mode {hparams.clip_mode!r}")


def step_seeds(run_seed, step, z_size, global_batch_size, replica_batch_size=None, replica_id=0):
    """(z noise rows of this replica or None without a latent code, [2] int32 seed for the rest)."""
    replica_batch_size = replica_batch_size or global_batch_size
    seed = tf.stack([tf.cast(run_seed % (2**31 - 1), tf.int32), tf.cast(step % (2**31 - 1), tf.int32)])
    other_seed = tf.random.experimental.stateless_fold_in(
        tf.random.experimental.stateless_fold_in(seed, 1), tf.cast(replica_id, tf.int32))
    if not z_size:
        return None, other_seed
    noise = tf.random.stateless_normal([global_batch_size, int(z_size)], seed=seed)
    start = replica_id * replica_batch_size
    return noise[start:start + replica_batch_size], other_seed


def train_step(model, optimizer, batch, step, hparams=None, global_batch_size=None, z_noise=None, seed=None):
    """Updates `model` by one step on `batch`; returns the loss's metrics plus `global_norm`.

    `model` has MusicVAE's `compute_loss`; `hparams` (default `model.hparams`) give the clipping.
    Call it inside `strategy.run` to train on several replicas (see the module docstring), or
    directly; `global_batch_size` defaults to this batch's size.
    """
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        # With replicas, this replica's share of the global-batch mean: summed over the replicas
        # it is the mean a single device computes.
        loss, metrics = model.compute_loss(batch, step, training=True, global_batch_size=global_batch_size,
                                           z_noise=z_noise, seed=seed)
    gradients = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(tape.gradient(loss, variables), variables)]
    context = tf.distribute.get_replica_context()
    num_replicas = context.num_replicas_in_sync if context is not None else 1
    if num_replicas > 1:
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
    clipped, global_norm = clip_gradients(gradients, model.hparams if hparams is None else hparams)
    if num_replicas > 1:
        # Keras' optimizer sums the replicas' gradients again; hand it equal shares.
        clipped = [g / num_replicas for g in clipped]
    optimizer.apply_gradients(zip(clipped, variables))
    metrics = dict(metrics)
    metrics["global_norm"] = global_norm
    return metrics
