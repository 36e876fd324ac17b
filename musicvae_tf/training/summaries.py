"""TensorBoard summaries for training and evaluation.

Scalars are written under the names Magenta's TensorBoard shows where Magenta had one
('loss', 'losses/r_loss', 'losses/kl_loss', 'losses/kl_bits', 'losses/kl_beta', 'learning_rate',
'global_norm', 'metrics/accuracy', ...), and plain names for the rest.
"""

import json
import numbers

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# Metric key (as the model and the training loop report it) -> TensorBoard tag.
SUMMARY_TAGS = {
    "loss": "loss",
    "r_loss": "losses/r_loss",
    "kl_loss": "losses/kl_loss",
    "kl_bits": "losses/kl_bits",
    "beta": "losses/kl_beta",
    "elbo": "losses/elbo",
    "learning_rate": "learning_rate",
    "global_norm": "global_norm",
    "sampling_probability": "sampling_probability",
}


def summary_tag(name):
    """The TensorBoard tag of a metric: Magenta's tag, 'metrics/<name>' for accuracies, or the name."""
    if name in SUMMARY_TAGS:
        return SUMMARY_TAGS[name]
    if "/" in name:
        return name
    if "accuracy" in name:
        return "metrics/" + name
    return name


def _plugin_metadata(plugin_name):
    # TensorBoard finds scalars and text by these plugin names; writing them through the core
    # tf.summary.write keeps TensorBoard itself an optional install.
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin_name
    return metadata.SerializeToString()


_SCALAR_METADATA = _plugin_metadata("scalars")
_TEXT_METADATA = _plugin_metadata("text")


def write_text(tag, text, step):
    """A text summary (inside `writer.as_default()`)."""
    tf.summary.write(tag, tf.constant(text), step=step, metadata=_TEXT_METADATA)


def write_scalar(tag, value, step):
    """A float32 scalar summary (inside `writer.as_default()`)."""
    tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=_SCALAR_METADATA)


def hparams_markdown(hparams_values):
    """A two-column markdown table of every hparam, sorted by name."""
    lines = ["| Key | Value |", "| :--- | :--- |"]
    for key in sorted(hparams_values):
        lines.append(f"| {key} | {hparams_values[key]} |")
    return "\n".join(lines) + "\n"


def write_trial_summary(writer, config_name, hparams, examples_path, step=0):
    """Writes the config name, the examples path and the hparams table as text summaries."""
    with writer.as_default():
        write_text("config", config_name or "", step)
        write_text("examples_path", str(examples_path or ""), step)
        write_text("hparams", hparams_markdown(hparams.values()), step)
        write_text("hparams_json", json.dumps(hparams.values(), sort_keys=True), step)
    writer.flush()


def write_scalars(writer, metrics, step):
    """Writes every finite scalar of `metrics` (name -> number) at `step`."""
    with writer.as_default():
        for name, value in sorted(metrics.items()):
            write_scalar(summary_tag(name), float(value), int(step))
    writer.flush()


def to_python_scalars(metrics):
    """name -> float for a dict of tensors, numpy values or numbers."""
    result = {}
    for name, value in metrics.items():
        if isinstance(value, (tf.Tensor, tf.Variable)):
            value = value.numpy()
        value = np.asarray(value)
        if value.size != 1:
            value = value.mean()
        result[name] = float(value) if not isinstance(value, numbers.Integral) else int(value)
    return result
