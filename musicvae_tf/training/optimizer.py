"""Magenta's optimizer: Adam as TensorFlow 1 configured it, at a learning rate that decays per step.

    learning rate = (learning_rate - min_learning_rate) * decay_rate ** step + min_learning_rate

    optimizer = make_optimizer(hparams, read_step=lambda: trainer.step)   # the training loop's counter
    model.compile(optimizer=make_optimizer(hparams))                      # keyed on optimizer.iterations
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MagentaLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """Magenta's exponentially decaying learning rate, floored at `minimum`."""

    def __init__(self, initial, minimum, decay_rate):
        self.initial, self.minimum, self.decay_rate = float(initial), float(minimum), float(decay_rate)

    @classmethod
    def from_hparams(cls, hparams):
        return cls(hparams.learning_rate, hparams.min_learning_rate, hparams.decay_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        return (self.initial - self.minimum) * tf.pow(self.decay_rate, step) + self.minimum

    def get_config(self):
        return {"initial": self.initial, "minimum": self.minimum, "decay_rate": self.decay_rate}


def learning_rate(hparams, step):
    """The learning rate at `step` (a scalar tensor, float32)."""
    return MagentaLearningRate.from_hparams(hparams)(step)


def make_optimizer(hparams, read_step=None):
    """Adam (TF1 defaults: beta1 0.9, beta2 0.999, epsilon 1e-8) at Magenta's rate.

    `read_step()` returns the step the rate is computed for (the training loop's counter);
    without it the rate follows the optimizer's own `iterations` (Keras `fit`).
    """
    schedule = MagentaLearningRate.from_hparams(hparams)
    rate = schedule if read_step is None else (lambda: schedule(read_step()))
    return keras.optimizers.Adam(learning_rate=rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
