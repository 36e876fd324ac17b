"""Choosing a `tf.distribute.Strategy` for training from a short name.

    strategy = make_strategy("auto")                       # one or all GPUs, else the default
    strategy = make_strategy("mirrored", devices=["/cpu:0", "/cpu:1"])
    strategy = make_strategy("multi_worker")               # reads TF_CONFIG

Names:
- ``auto``: MultiWorkerMirroredStrategy when TF_CONFIG describes more than one worker,
  MirroredStrategy over every GPU when there are at least two, otherwise TF's default strategy.
- ``mirrored``: MirroredStrategy over `devices` (all GPUs, or the CPU, when not given).
- ``multi_worker``: MultiWorkerMirroredStrategy; the cluster comes from TF_CONFIG.
- ``one_device``: OneDeviceStrategy on the first GPU, or the CPU.

A MultiWorkerMirroredStrategy has to be created before TensorFlow runs any op, so call this
first thing in a program.
"""

import json
import os

import tensorflow as tf
from absl import logging

STRATEGY_NAMES = ("auto", "mirrored", "multi_worker", "one_device")


def cluster_worker_count():
    """The number of workers TF_CONFIG lists (0 when TF_CONFIG is unset or has no cluster)."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError("TF_CONFIG is not valid JSON") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def make_strategy(name="auto", devices=None):
    """Returns the `tf.distribute.Strategy` called `name` (see the module docstring)."""
    if name not in STRATEGY_NAMES:
        raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGY_NAMES)}")
    if name == "auto":
        if cluster_worker_count() > 1:
            name = "multi_worker"
        elif devices is not None and len(devices) > 1:
            name = "mirrored"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            logging.info("Training with the default strategy (one device).")
            return tf.distribute.get_strategy()
    if name == "multi_worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:
        gpus = tf.config.list_logical_devices("GPU")
        strategy = tf.distribute.OneDeviceStrategy(devices[0] if devices else ("/gpu:0" if gpus else "/cpu:0"))
    logging.info("Training with %s over %d replica(s).", type(strategy).__name__, strategy.num_replicas_in_sync)
    return strategy


def is_chief(strategy):
    """Whether this process writes the shared outputs (summaries, the checkpoints in run_dir/train)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return task_type == "worker" and task_id == 0 and not has_chief


def task_label(strategy):
    """A short name of this worker, e.g. 'worker_1' (empty for single-process training)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return ""
    if resolver.task_type is None:
        return ""
    return f"{resolver.task_type}_{resolver.task_id}"
