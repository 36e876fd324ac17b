"""Evaluation of training checkpoints on held-out data.

    evaluator = Evaluator(config, train_dir="run/train", eval_dir="run/eval")
    evaluator.evaluate_checkpoint(path, dataset_fn, num_batches)   # -> {metric: mean}
    evaluator.run(dataset_fn, num_batches, eval_once=False)          # follows new checkpoints

Each metric is the mean over every evaluated example (all batches have batch_size examples), as
Magenta's streaming means gave. Results go to TensorBoard under eval_dir and to
eval_dir/metrics.json ({"<step>": {metric: value, ...}, ...}). Nothing is written to train_dir.
"""

import json
import os

import numpy as np
import tensorflow as tf
from absl import logging

from musicvae_tf.model import build_model
from musicvae_tf.training import summaries
from musicvae_tf.training.optimizer import learning_rate

METRICS_FILENAME = "metrics.json"


class NoCheckpointError(RuntimeError):
    """There is no checkpoint to evaluate."""


class Evaluator:
    """Restores checkpoints of a training run into a model and computes its held-out metrics."""

    def __init__(self, config, train_dir, eval_dir, model=None, config_name=None, examples_path=None):
        self.config = config
        self.config_name = config_name
        self.examples_path = examples_path
        self.train_dir = train_dir
        self.eval_dir = eval_dir
        self.model = model if model is not None else build_model(config)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self.checkpoint = tf.train.Checkpoint(step=self.step, model=self.model,
                                              model_weights=list(self.model.weights))
        self._eval_step = None
        self.writer = None

    def _step_function(self, element_spec):
        if self._eval_step is None:
            def eval_step(batch, batch_index):
                # Stateless noise: evaluating the same checkpoint twice gives the same figures.
                step = self.step.read_value()
                seed = tf.random.experimental.stateless_fold_in(
                    tf.stack([tf.constant(0, tf.int32), tf.cast(step % (2**31 - 1), tf.int32)]), batch_index)
                _, metrics = self.model.compute_loss(batch, step, training=False, seed=seed)
                return {name: tf.reduce_mean(tf.cast(value, tf.float32)) for name, value in metrics.items()}

            self._eval_step = tf.function(eval_step, input_signature=[element_spec, tf.TensorSpec([], tf.int32)])
        return self._eval_step

    def evaluate_dataset(self, dataset):
        """Mean of each metric of the current weights (at step `self.step`) over every batch of `dataset`.

        The result also holds `num_batches`. Raises ValueError when `dataset` has no batch.
        """
        step_function = self._step_function(dataset.element_spec)
        sums, count = {}, 0
        for batch in dataset:
            values = summaries.to_python_scalars(step_function(batch, tf.constant(count, tf.int32)))
            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
            count += 1
        if not count:
            raise ValueError("the evaluation data produced no complete batch; use more examples or a smaller "
                             "batch_size")
        metrics = {name: total / count for name, total in sums.items()}
        metrics["num_batches"] = count
        return metrics

    def restore(self, path):
        # Fails when the checkpoint lacks the model_weights list (not written by this training loop).
        self.checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
        return int(self.step.numpy())

    def evaluate_checkpoint(self, path, dataset_fn, num_batches):
        """Restores `path` and returns the mean of each metric over `num_batches` batches."""
        step = self.restore(path)
        dataset = dataset_fn()
        if num_batches:
            dataset = dataset.take(num_batches)
        metrics = self.evaluate_dataset(dataset)
        metrics["learning_rate"] = float(learning_rate(self.config.hparams, tf.constant(step, tf.int64)).numpy())
        count = metrics["num_batches"]
        logging.info("Evaluated %s (step %d) on %d batches: %s", path, step, count,
                     ", ".join(f"{k}={v:.4f}" for k, v in sorted(metrics.items())))
        self._record(step, path, metrics)
        return step, metrics

    def _record(self, step, path, metrics):
        tf.io.gfile.makedirs(self.eval_dir)
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(self.eval_dir)
            summaries.write_trial_summary(self.writer, self.config_name, self.config.hparams,
                                          self.examples_path, step=step)
        summaries.write_scalars(self.writer, {k: v for k, v in metrics.items() if k != "num_batches"}, step)
        metrics_path = os.path.join(self.eval_dir, METRICS_FILENAME)
        table = read_metrics(self.eval_dir)
        table[str(step)] = dict(metrics, checkpoint=os.path.basename(path))
        temporary = metrics_path + ".tmp"
        with tf.io.gfile.GFile(temporary, "w") as handle:
            json.dump(table, handle, indent=2, sort_keys=True, allow_nan=True)
        tf.io.gfile.rename(temporary, metrics_path, overwrite=True)
        finite = all(np.isfinite(v) for v in metrics.values() if isinstance(v, float))
        if not finite:
            logging.warning("Non-finite evaluation metrics at step %d.", step)

    def run(self, dataset_fn, num_batches, eval_once=False, interval_secs=60, timeout_secs=None,
            last_step=None):
        """Evaluates the latest checkpoint once, or each new one as training writes it.

        Following checkpoints stops after `timeout_secs` without a new one (None: wait forever) or
        once a checkpoint at or past `last_step` has been evaluated. Returns {step: metrics}.
        """
        results = {}
        if eval_once:
            path = tf.train.latest_checkpoint(self.train_dir)
            if not path:
                raise NoCheckpointError(f"no checkpoint in {self.train_dir} to evaluate")
            step, metrics = self.evaluate_checkpoint(path, dataset_fn, num_batches)
            results[step] = metrics
            return results
        for path in tf.train.checkpoints_iterator(self.train_dir, min_interval_secs=interval_secs,
                                                  timeout=timeout_secs):
            try:
                step, metrics = self.evaluate_checkpoint(path, dataset_fn, num_batches)
            except (tf.errors.NotFoundError, tf.errors.DataLossError) as error:
                # Training may delete an old checkpoint while we wait; go on with the next one.
                logging.warning("Skipping %s: %s", path, str(error).splitlines()[0])
                continue
            results[step] = metrics
            if last_step is not None and step >= last_step:
                break
        return results


def read_metrics(eval_dir):
    """The {step: metrics} table of eval_dir/metrics.json ({} when there is none yet)."""
    path = os.path.join(eval_dir, METRICS_FILENAME)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path, "r") as handle:
        return json.load(handle)
