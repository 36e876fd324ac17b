"""What the training loop needs from a MusicVAE model, in one place.

The model (`musicvae_tf.model`) owns the loss, the schedules and Magenta's clipping; this module
adds what distributed training needs on top:
- Adam as TensorFlow 1 configured it for Magenta (epsilon 1e-8), its learning rate read from
  the training loop's step counter;
- the training noise: z's epsilon drawn from a stateless seed (run seed, step) for the whole
  global batch, each replica taking its own rows, so N replicas draw exactly what one device
  draws and a resumed run draws what an uninterrupted one would have. The model's other
  randomness (scheduled-sampling coins, dropout) gets a stateless seed per (step, replica).
"""

import keras
import tensorflow as tf

from musicvae_tf import model as model_lib


def build(config):
    """Builds the Keras MusicVAE of `config` (all weights exist on return)."""
    return model_lib.build_model(config)


class ModelAdapter:
    """The training loop's view of a MusicVAE model."""

    def __init__(self, model, config):
        self.model = model
        self.config = config
        self.hparams = config.hparams

    def learning_rate(self, step):
        return model_lib.learning_rate(self.hparams, step)

    def make_optimizer(self, read_step):
        """Adam (TF1 defaults: beta1 0.9, beta2 0.999, epsilon 1e-8) at Magenta's rate for the step."""
        return keras.optimizers.Adam(learning_rate=lambda: self.learning_rate(read_step()),
                                     beta_1=0.9, beta_2=0.999, epsilon=1e-8)

    def clip_gradients(self, gradients):
        return model_lib.clip_gradients(gradients, self.hparams)

    def make_seeds(self, run_seed, step, global_batch_size, replica_batch_size, replica_id):
        """(z noise rows of this replica or None, [2] int32 seed for the rest) for this step."""
        seed = tf.stack([tf.cast(run_seed % (2**31 - 1), tf.int32), tf.cast(step % (2**31 - 1), tf.int32)])
        other_seed = tf.random.experimental.stateless_fold_in(
            tf.random.experimental.stateless_fold_in(seed, 1), tf.cast(replica_id, tf.int32))
        if not self.hparams.z_size:
            return None, other_seed
        noise = tf.random.stateless_normal([global_batch_size, int(self.hparams.z_size)], seed=seed)
        start = replica_id * replica_batch_size
        return noise[start:start + replica_batch_size], other_seed

    def compute_loss(self, batch, step, training, global_batch_size=None, z_noise=None, seed=None):
        """(loss summed over this batch / global_batch_size, metrics as local means)."""
        return self.model.compute_loss(batch, step, training=training, global_batch_size=global_batch_size,
                                       z_noise=z_noise, seed=seed)
