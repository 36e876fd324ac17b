"""Starting a training run from another checkpoint (music_vae_train --warm_start_from).

    summary = warm_start(trainer, "cat-mel_2bar_small.tar")   # before trainer.train(...)

Any checkpoint the port loads: Magenta's TF1 checkpoints (directory, model.ckpt-N prefix, .tar),
a music_vae_train run (train/ directory or ckpt-N prefix), an exported or packaged model. The
weights always come from it; the step counter and Adam's state come from it when it has them
and are fresh otherwise:

| checkpoint                     | weights | step             | Adam moments and iteration count |
|--------------------------------|---------|------------------|----------------------------------|
| music_vae_train (ckpt-N)       | yes     | yes              | yes                              |
| Magenta TF1, training one      | yes     | global_step      | `<var>/Adam`, `<var>/Adam_1`, beta1_power |
| Magenta TF1, published         | yes     | global_step      | fresh (published checkpoints have no slots) |
| exported / packaged model      | yes     | fresh (0)        | fresh                            |

The step matters beyond counting: the KL weight (beta), the learning rate and scheduled
sampling are functions of it, so a continued step continues the schedules where the
checkpoint left them. A checkpoint of another architecture raises CheckpointMismatchError in one
line. The returned summary says what was taken (it is also logged).
"""

import math
import os
import shutil

import tensorflow as tf
from absl import logging

from musicvae_tf import checkpoints


def _kind(path):
    if checkpoints.is_port_checkpoint(path):
        return "exported", None, None
    prefix, tmp = checkpoints.resolve_checkpoint(path)
    kind = "training" if checkpoints.is_training_checkpoint(prefix) else "magenta"
    return kind, prefix, tmp


def _restore_training_state(trainer, prefix):
    """Step and Adam state of a music_vae_train checkpoint (weights are loaded separately)."""
    stored = tf.train.load_checkpoint(prefix).get_variable_to_shape_map()
    has_optimizer = any(name.startswith("optimizer/") for name in stored)
    objects = {"step": trainer.step}
    if has_optimizer:
        objects["optimizer"] = trainer.optimizer
    tf.train.Checkpoint(**objects).restore(prefix).expect_partial()
    return has_optimizer


def _restore_magenta_adam(trainer, prefix):
    """Adam slots of a Magenta training checkpoint into the Keras optimizer; False when absent."""
    reader = tf.train.load_checkpoint(prefix)
    stored = reader.get_variable_to_shape_map()
    names = trainer.model.tf1_variables()
    if not names or not all(f"{name}/Adam" in stored and f"{name}/Adam_1" in stored for name in names):
        return False
    optimizer = trainer.optimizer
    for name, variable in names.items():
        index = optimizer._get_variable_index(variable)
        optimizer._momentums[index].assign(reader.get_tensor(f"{name}/Adam"))
        optimizer._velocities[index].assign(reader.get_tensor(f"{name}/Adam_1"))
    # TF1 keeps beta1^(t+1) after t updates; Keras' bias correction uses beta_1^(iterations+1).
    if "beta1_power" in stored:
        power = float(reader.get_tensor("beta1_power"))
        iterations = int(round(math.log(power) / math.log(optimizer.beta_1))) - 1
    else:
        iterations = int(trainer.step.numpy())
    optimizer.iterations.assign(max(iterations, 0))
    return True


def warm_start(trainer, path, var_name_substitutions=None):
    """Loads `path` into a freshly initialised `trainer`; returns a one-line summary."""
    path = os.path.expanduser(os.fspath(path))
    kind, prefix, tmp = _kind(path)
    try:
        source = prefix or path
        step = checkpoints.load_weights(trainer.model, source, var_name_substitutions=var_name_substitutions)
        adam = False
        if kind == "training":
            adam = _restore_training_state(trainer, prefix)
        elif kind == "magenta":
            if step is not None:
                trainer.step.assign(step)
            adam = _restore_magenta_adam(trainer, prefix)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    described = {"training": "music_vae_train checkpoint", "magenta": "Magenta TF1 checkpoint",
                 "exported": "exported model"}[kind]
    current = int(trainer.step.numpy())
    step_text = (f"step {current} from the checkpoint" if kind != "exported" and step is not None
                 else "step 0 (fresh: the checkpoint records none)")
    adam_text = ("Adam state from the checkpoint" if adam
                 else "Adam state fresh (the checkpoint has none)")
    summary = (f"Warm start from {path} ({described}): {len(trainer.model.weights)} weights, "
               f"{step_text}, {adam_text}")
    logging.info(summary)
    return summary

