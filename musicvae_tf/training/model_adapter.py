"""What the training loop needs from a MusicVAE model, in one place.

The model (`musicvae_tf.model`) owns the loss and the schedules; this module turns them into the
pieces a distributed training step uses: Magenta's learning-rate schedule and Adam settings,
Magenta's gradient clipping applied to already-summed gradients, and the training noise drawn
from a stateless seed for the whole global batch, of which each replica takes its own rows (so
training on N replicas draws exactly what one device draws, and a resumed run draws what an
uninterrupted one would have).
"""

import inspect

import keras
import tensorflow as tf


def build(config):
    """Builds the Keras MusicVAE of `config` (musicvae_tf.model.build_model)."""
    from musicvae_tf.model import build_model

    return build_model(config)


def magenta_learning_rate(hparams, step):
    """(learning_rate - min_learning_rate) * decay_rate**step + min_learning_rate."""
    step = tf.cast(step, tf.float32)
    return ((hparams.learning_rate - hparams.min_learning_rate) * tf.pow(float(hparams.decay_rate), step)
            + hparams.min_learning_rate)


def magenta_clip_gradients(gradients, hparams):
    """Magenta's clipping of a list of gradients; returns (clipped, global norm before clipping)."""
    global_norm = tf.linalg.global_norm(gradients)
    if hparams.clip_mode == "value":
        limit = float(hparams.grad_clip)
        return [tf.clip_by_value(g, -limit, limit) for g in gradients], global_norm
    if hparams.clip_mode == "global_norm":
        clipped, _ = tf.clip_by_global_norm(gradients, float(hparams.grad_clip), use_norm=global_norm)
        keep = tf.cast(global_norm < float(hparams.grad_norm_clip_to_zero), clipped[0].dtype)
        # NaN norms compare False, so a NaN gradient becomes a zero update, as in Magenta.
        return [tf.where(keep > 0, g, tf.zeros_like(g)) for g in clipped], global_norm
    raise ValueError(f"unknown clip_mode {hparams.clip_mode!r}; expected 'global_norm' or 'value'")


class ModelAdapter:
    """The training loop's view of a MusicVAE model."""

    def __init__(self, model, config):
        self.model = model
        self.config = config
        self.hparams = config.hparams
        parameters = inspect.signature(model.compute_loss).parameters
        self._noise_argument = "z_noise" if "z_noise" in parameters else None
        self._takes_seed = "seed" in parameters

    # -- variables and optimizer ------------------------------------------------------------
    def build_variables(self):
        """Creates every weight (so a checkpoint restores at once rather than lazily)."""
        builder = getattr(self.model, "build_variables", None)
        if callable(builder):
            builder()
            return
        self.compute_loss(self.dummy_batch(1), tf.constant(0, tf.int64), training=False, noise=None)

    def dummy_batch(self, batch_size):
        converter = self.config.data_converter
        length = int(self.hparams.max_seq_len)

        def zeros(depth):
            return tf.zeros([batch_size, length, depth], tf.float32)

        length_shape = tuple(getattr(converter, "length_shape", ()) or ())
        lengths = tf.fill([batch_size, *length_shape], length // max(1, int(length_shape[0]) if length_shape else 1))
        return (zeros(converter.input_depth), zeros(converter.output_depth), zeros(converter.control_depth),
                tf.cast(lengths, tf.int32))

    def learning_rate(self, step):
        schedule = getattr(self.model, "learning_rate", None)
        if callable(schedule):
            return schedule(step)
        return magenta_learning_rate(self.hparams, step)

    def make_optimizer(self, read_step):
        """Adam with TensorFlow 1's defaults (epsilon 1e-8) and the step-dependent learning rate."""
        maker = getattr(self.model, "make_optimizer", None)
        if callable(maker):
            return maker(read_step)
        return keras.optimizers.Adam(learning_rate=lambda: self.learning_rate(read_step()),
                                     beta_1=0.9, beta_2=0.999, epsilon=1e-8)

    def clip_gradients(self, gradients):
        clip = getattr(self.model, "clip_gradients", None)
        if callable(clip):
            return clip(gradients)
        return magenta_clip_gradients(gradients, self.hparams)

    # -- noise and loss ---------------------------------------------------------------------
    def make_noise(self, global_batch_size, replica_batch_size, replica_id, seed):
        """This replica's rows of the global batch's standard-normal z noise (None if unsupported)."""
        if not self._noise_argument or not self.hparams.z_size:
            return None
        noise = tf.random.stateless_normal([global_batch_size, int(self.hparams.z_size)], seed=seed)
        start = replica_id * replica_batch_size
        return noise[start:start + replica_batch_size]

    def compute_loss(self, batch, step, training, noise=None):
        kwargs = {}
        if noise is not None and self._noise_argument:
            kwargs[self._noise_argument] = noise
        return self.model.compute_loss(batch, step, training=training, **kwargs)
