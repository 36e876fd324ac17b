"""The custom training loop: a MusicVAE, its Adam optimizer and step counter under a strategy.

    trainer = Trainer(config, strategy=make_strategy("auto"), train_dir="run/train")
    trainer.restore_or_initialize()          # latest checkpoint in train_dir, if any
    trainer.train(dataset, num_steps=1000)   # dataset: batches of hparams.batch_size examples

One step is `training.step.train_step` (Magenta's loss, clipping and Adam) on every replica,
then step + 1; with several replicas each one gets batch_size / replicas examples.

The step counter, the weights and Adam's moments live in one `tf.train.Checkpoint`, saved by a
`tf.train.CheckpointManager` in train_dir every `save_checkpoint_secs` and at the end. A
non-finite loss stops training with `NonFiniteLossError` before anything is saved, and `save`
refuses weights or Adam moments that are not finite (an update can diverge while the loss computed
before it was finite) with `NonFiniteWeightsError`: the last checkpoint stays the last good one.
A save that cannot be written (a full or read-only disk) removes what it began and raises
`CheckpointSaveError`.
"""

import os
import re
import shutil
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import logging

from musicvae_tf.model import build_model
from musicvae_tf.training import save_leftovers, strategy as strategy_lib, summaries
from musicvae_tf.training.optimizer import learning_rate, make_optimizer
from musicvae_tf.training.step import step_seeds, train_step


def _stopped_text(latest):
    """What a stop on a non-finite value leaves behind: `latest` is the latest checkpoint ("" none)."""
    if latest is None:
        return "stopped without saving, the last checkpoint is the last good one"
    if latest:
        return f"stopped without saving, the last good checkpoint {os.path.basename(latest)} stays the latest"
    return "stopped without saving (no checkpoint yet)"


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; carries the step at which it happened."""

    def __init__(self, step, value, latest=None):
        super().__init__(f"non-finite loss ({value}) at step {step}; {_stopped_text(latest)}")
        self.step = step
        self.value = value


class NonFiniteWeightsError(NonFiniteLossError):
    """The update of a step left a weight or an optimizer moment NaN or infinite."""

    def __init__(self, step, latest=None):
        RuntimeError.__init__(
            self, f"the update of step {step} made weights non-finite (learning rate too high?); "
                  f"{_stopped_text(latest)}")
        self.step = step
        self.value = float("nan")


class CheckpointSaveError(RuntimeError):
    """A checkpoint could not be written (a full or read-only disk); what it began is removed."""

    def __init__(self, step, train_dir, detail, latest=None):
        super().__init__(f"cannot save checkpoint ckpt-{step} in {train_dir}: {detail}; {_stopped_text(latest)}")
        self.step = step


def write_failure_text(error):
    """The cause of a failed write without TensorFlow's op and file decorations: 'No space left on device'."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    text = (getattr(error, "message", None) or str(error)).strip().splitlines()[0]
    return re.sub(r"\s*\[Op:\w+\]$", "", text.rsplit("; ", 1)[-1]).strip() or type(error).__name__


class NoTrainingDataError(ValueError):
    """The dataset ended: it gave no batch at all, or a finite dataset ran out."""

    def __init__(self, steps_done, batch_size):
        super().__init__(f"the training data gives no batch of batch_size={batch_size} examples" if not steps_done
                         else f"the training data ran out after {steps_done} steps")
        self.steps_done = steps_done
        self.batch_size = batch_size


class Trainer:
    """Model, optimizer, step counter and checkpointing for one training run."""

    def __init__(self, config, strategy=None, train_dir=None, checkpoints_to_keep=5,
                 keep_checkpoint_every_n_hours=None, model_fn=None, noise_seed=None):
        self.config = config
        self.hparams = config.hparams
        self.strategy = strategy or tf.distribute.get_strategy()
        self.train_dir = train_dir
        self.num_replicas = self.strategy.num_replicas_in_sync
        self.global_batch_size = int(self.hparams.batch_size)
        if self.global_batch_size % self.num_replicas:
            raise ValueError(f"batch_size={self.global_batch_size} does not split evenly over "
                             f"{self.num_replicas} replicas")
        self.replica_batch_size = self.global_batch_size // self.num_replicas
        self.is_chief = strategy_lib.is_chief(self.strategy)
        self._multi_worker = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        if noise_seed is None:
            noise_seed = int(np.random.default_rng().integers(0, 2**31 - 1))

        with self.strategy.scope():
            # Built inside the scope so that its weights are mirrored over the replicas.
            self.model = (model_fn or build_model)(config)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step",
                                    aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            # Part of the checkpoint so that a resumed run draws the same noise it would have drawn.
            self.noise_seed = tf.Variable(noise_seed, dtype=tf.int64, trainable=False, name="noise_seed",
                                          aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
            self.optimizer = make_optimizer(self.hparams, read_step=lambda: self.step)
            self.optimizer.build(self.model.trainable_variables)
        # `model_weights` lists every weight in a fixed order, so a checkpoint restores into a freshly
        # built model through that list even when a layer keeps a weight out of TF's object graph.
        self.checkpoint = tf.train.Checkpoint(step=self.step, model=self.model, optimizer=self.optimizer,
                                              noise_seed=self.noise_seed, model_weights=list(self.model.weights))
        self.manager = None
        self._temporary_dir = None
        if train_dir:
            directory = train_dir
            if not self.is_chief:
                # Every worker has to take part in saving; the others write to a scratch folder.
                self._temporary_dir = tempfile.mkdtemp(prefix=f"musicvae_{strategy_lib.task_label(self.strategy)}_")
                directory = self._temporary_dir
            self.manager = tf.train.CheckpointManager(
                self.checkpoint, directory, max_to_keep=checkpoints_to_keep or None,
                keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours, checkpoint_name="ckpt")
        self._step_function = None
        self._element_spec = None

    # -- checkpoints ------------------------------------------------------------------------
    def latest_checkpoint(self):
        if not self.train_dir:
            return None
        return tf.train.latest_checkpoint(self.train_dir)

    def restore_or_initialize(self):
        """Restores the latest checkpoint of train_dir (every worker reads the chief's); returns its path.

        The chief first removes what interrupted saves left in train_dir (`save_leftovers`)."""
        if self.is_chief and self.train_dir:
            save_leftovers.remove_save_leftovers(self.train_dir)
        path = self.latest_checkpoint()
        if path:
            status = self.checkpoint.restore(path)
            status.assert_existing_objects_matched()
            logging.info("Resumed from %s at step %d.", path, int(self.step.numpy()))
        return path

    def weights_are_finite(self):
        """True when every model weight and every optimizer variable is finite."""
        variables = [v for v in list(self.model.weights) + list(self.optimizer.variables)
                     if tf.as_dtype(v.dtype).is_floating]
        return bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in variables]).numpy())

    def save(self):
        """Writes a checkpoint named after the current step; returns its path (None without train_dir).

        Raises NonFiniteWeightsError, writing nothing, when a weight is not finite, and
        CheckpointSaveError when the checkpoint cannot be written (what the save began is removed).
        """
        if self.manager is None:
            return None
        if not self.weights_are_finite():
            raise NonFiniteWeightsError(int(self.step.numpy()) - 1, self.latest_checkpoint() or "")
        step = int(self.step.numpy())
        try:
            path = self.manager.save(checkpoint_number=step)
        except (tf.errors.OpError, OSError) as error:  # a full or read-only disk
            if self.is_chief:
                save_leftovers.remove_save_leftovers(self.train_dir)
            raise CheckpointSaveError(step, self.train_dir, write_failure_text(error),
                                      self.latest_checkpoint() or "") from None
        if self._temporary_dir:
            shutil.rmtree(self._temporary_dir, ignore_errors=True)
            os.makedirs(self._temporary_dir, exist_ok=True)
            return None
        logging.info("Saved checkpoint %s.", path)
        return path

    # -- one step ---------------------------------------------------------------------------
    def _replica_step(self, batch, step):
        replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
        z_noise, seed = step_seeds(self.noise_seed, step, self.hparams.z_size, self.global_batch_size,
                                   self.replica_batch_size, replica_id)
        metrics = train_step(self.model, self.optimizer, batch, step, self.hparams, self.global_batch_size,
                             z_noise=z_noise, seed=seed)
        return {name: tf.reduce_mean(tf.cast(value, tf.float32)) for name, value in metrics.items()}

    def _build_step_function(self, element_spec):
        strategy = self.strategy

        def step_fn(batch, save_request):
            step = self.step.read_value()
            per_replica = strategy.run(self._replica_step, args=(batch, step))
            metrics = {name: strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
                       for name, value in per_replica.items()}
            metrics["learning_rate"] = learning_rate(self.hparams, step)
            if self._multi_worker:
                # All workers must save together; one scalar all-reduce agrees on when.
                agreed = strategy.reduce(tf.distribute.ReduceOp.SUM,
                                         strategy.run(lambda r: tf.identity(r), args=(save_request,)), axis=None)
            else:
                agreed = save_request
            self.step.assign_add(1)
            return metrics, agreed

        return tf.function(step_fn, input_signature=[element_spec, tf.TensorSpec([], tf.float32)])

    def distribute(self, dataset):
        """Splits each global batch of `dataset` over the replicas."""
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return self.strategy.experimental_distribute_dataset(dataset.with_options(options))

    def step_function(self, distributed_dataset):
        """The compiled step for batches of `distributed_dataset` (traced once per element spec)."""
        spec = distributed_dataset.element_spec
        if self._step_function is None or spec != self._element_spec:
            self._step_function = self._build_step_function(spec)
            self._element_spec = spec
        return self._step_function

    # -- the loop ---------------------------------------------------------------------------
    def train(self, dataset, num_steps, save_checkpoint_secs=60, log_every_n_steps=100,
              summary_writer=None, on_step=None):
        """Trains until the step counter reaches `num_steps` (None: forever); returns the last metrics.

        Saves every `save_checkpoint_secs` and at the end, writes summaries every
        `log_every_n_steps` (chief only), raises NonFiniteLossError on a NaN/Inf loss.
        """
        start_step = int(self.step.numpy())
        if num_steps is not None and start_step >= num_steps:
            logging.info("Step %d already reached num_steps=%d; nothing to train.", start_step, num_steps)
            return {}
        distributed = self.distribute(dataset)
        step_function = self.step_function(distributed)
        iterator = iter(distributed)
        last_save = time.time()
        window_start, window_steps = time.time(), 0
        metrics = {}
        step = start_step
        while num_steps is None or step < num_steps:
            save_due = save_checkpoint_secs is not None and time.time() - last_save >= save_checkpoint_secs
            try:
                batch = next(iterator)
            except StopIteration:
                raise NoTrainingDataError(step - start_step, self.global_batch_size) from None
            tensors, agreed = step_function(batch, tf.constant(1.0 if save_due else 0.0))
            metrics = summaries.to_python_scalars(tensors)
            loss = metrics["loss"]
            if not np.isfinite(loss):
                raise NonFiniteLossError(step, loss, self.latest_checkpoint() or "")
            step += 1
            window_steps += 1
            if on_step is not None:
                on_step(step, metrics)
            if step % max(1, log_every_n_steps) == 0 or step == num_steps:
                elapsed = max(time.time() - window_start, 1e-9)
                steps_per_sec = window_steps / elapsed
                metrics["steps_per_sec"] = steps_per_sec
                metrics["examples_per_sec"] = steps_per_sec * self.global_batch_size
                logging.info("step %d: loss=%.4f, %.3f steps/s, %.1f examples/s", step, loss,
                             steps_per_sec, steps_per_sec * self.global_batch_size)
                if summary_writer is not None and self.is_chief:
                    summaries.write_scalars(summary_writer, metrics, step)
                window_start, window_steps = time.time(), 0
            if float(agreed.numpy()) > 0 and (num_steps is None or step < num_steps):
                self.save()
                last_save = time.time()
        if step > start_step:
            self.save()
        return metrics

    def weights_fingerprint(self):
        """(sum, sum of squares) of every model weight, in float64: equal weights give equal figures."""
        from musicvae_tf import checkpoints

        return tuple(checkpoints.weights_fingerprint(self.model))

    def close(self):
        if self._temporary_dir:
            shutil.rmtree(self._temporary_dir, ignore_errors=True)
            self._temporary_dir = None
