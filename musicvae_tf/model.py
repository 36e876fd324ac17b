"""The MusicVAE Keras model: encoder, Gaussian latent, decoder, Magenta's loss and schedules.

    config = configs.CONFIG_MAP["cat-mel_2bar_small"]
    model = build_model(config)
    mu, sigma = model.encode(inputs, lengths)
    out = model.sample(n=4, length=32, temperature=0.5)

Loss (Magenta's `_compute_model_loss`): with z = mu + sigma * eps,
    loss = mean(r_loss) + beta * mean(max(KL(q(z|x) || N(0, I)) - free_bits * ln 2, 0))
    beta = (1 - beta_rate ** step) * max_beta
plus, in training, two extensions of the port that are off by default: word dropout of the decoder's
fed-back inputs and latent_mean_penalty * 0.5 * |batch mean of mu|^2.
The optimizer, its learning-rate schedule and the training step (with Magenta's gradient
clipping) are in `musicvae_tf.training` (`optimizer`, `step`); `fit` runs that same step.
"""

import math

import keras
import tensorflow as tf
from absl import logging

from musicvae_tf.architecture import ReadRecorder, training_knob
from musicvae_tf.hparam_checks import check_hparams
from musicvae_tf.hparams import HParams
from musicvae_tf.layers.decoders import build_decoder
from musicvae_tf.layers.encoders import BidirectionalLstmEncoder, HierarchicalLstmEncoder
from musicvae_tf.layers.latent import LN2, GaussianLatent
from musicvae_tf.training.optimizer import learning_rate
from musicvae_tf.training.step import train_step

NO_ENCODER = ("this model was built without its encoder (decoder_only=True); call ensure_encoder() "
              "and load its weights first")

# -------------------------------------------------------------------------------------------------
# Schedules (pure functions of hparams and the global step; usable in tf.function).
# -------------------------------------------------------------------------------------------------


def kl_beta(hparams, step):
    """KL weight at `step`: (1 - beta_rate ** step) * max_beta."""
    step = tf.cast(step, tf.float32)
    return (1.0 - tf.pow(tf.cast(hparams.beta_rate, tf.float32), step)) * hparams.max_beta


def uses_scheduled_sampling(hparams):
    schedule = getattr(hparams, "sampling_schedule", None)
    return bool(schedule) and not (schedule == "constant" and hparams.sampling_rate == 0)


def sampling_probability(hparams, step, training=True):
    """Probability of feeding back a sample instead of the data, as Magenta's schedules.

    Returns the Python number 0.0 when no schedule is set (teacher forcing, decided statically),
    1.0 outside training when a schedule is set, else a scalar tensor:
      constant: rate; inverse_sigmoid: 1 - k / (k + exp(step / k)); exponential: 1 - k ** step.
    """
    if not uses_scheduled_sampling(hparams):
        return 0.0
    if not training:
        return 1.0
    schedule, rate = hparams.sampling_schedule, hparams.sampling_rate
    step = tf.cast(step, tf.float32)
    if schedule == "constant":
        if not 0 <= rate <= 1:
            raise ValueError(f"constant sampling rate must be in [0, 1], got {rate}")
        return tf.constant(float(rate))
    if schedule == "inverse_sigmoid":
        if rate < 1:
            raise ValueError(f"inverse_sigmoid sampling rate must be at least 1, got {rate}")
        k = tf.constant(float(rate))
        return 1.0 - k / (k + tf.exp(step / k))
    if schedule == "exponential":
        if not 0 < rate < 1:
            raise ValueError(f"exponential sampling rate must be in (0, 1), got {rate}")
        return 1.0 - tf.pow(tf.constant(float(rate)), step)
    raise ValueError(f"unknown sampling_schedule {schedule!r}")


def shift_right(outputs):
    """Decoder inputs for teacher forcing: `outputs` delayed one step, zeros first."""
    return tf.pad(outputs[:, :-1], [[0, 0], [1, 0], [0, 0]])


def word_dropout(x_input, rate, seed=None):
    """`x_input` [B, T, depth] with each step's fed-back output zeroed with probability `rate`.

    Not in Magenta (Bowman et al. 2016's word dropout): a decoder that cannot always see its
    previous output must take more from z, which a strong autoregressive decoder otherwise learns
    to ignore. A zeroed step reads like the first one, which has no previous output either.
    """
    shape = tf.stack([tf.shape(x_input)[0], tf.shape(x_input)[1], 1])
    coins = tf.random.uniform(shape) if seed is None else tf.random.stateless_uniform(shape, seed=seed)
    return x_input * tf.cast(coins >= rate, x_input.dtype)


def _unpack_batch(batch):
    if isinstance(batch, dict):
        return batch["inputs"], batch["outputs"], batch.get("controls"), batch["lengths"]
    inputs, outputs, controls, lengths = batch
    return inputs, outputs, controls, lengths


@keras.saving.register_keras_serializable(package="musicvae_tf")
class MusicVAE(keras.Model):
    """MusicVAE. Build it with `build_model(config)`; see the module docstring."""

    def __init__(self, encoder, decoder, hparams, input_depth, output_depth, control_depth=0,
                 end_token=None, config_name=None, model_spec=None, architecture_hparams=(), **kwargs):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        if isinstance(hparams, dict):
            hparams = HParams(**hparams)
        self.hparams = hparams
        self.input_depth = int(input_depth)
        self.output_depth = int(output_depth)
        self.control_depth = int(control_depth)
        self.end_token = None if end_token is None else int(end_token)
        self.config_name = config_name
        if isinstance(model_spec, dict):
            from musicvae_tf.model_spec import model_spec_from_dict

            model_spec = model_spec_from_dict(model_spec)
        # The ModelSpec built from and the hparams the layers were built from (`architecture`).
        self.model_spec = model_spec
        self.architecture_hparams = tuple(architecture_hparams)
        self.z_size = int(hparams.z_size)
        # encoder None: built for sampling and decoding only (`build_model(decoder_only=True)`);
        # `ensure_encoder` adds it (and the latent) when something needs to encode.
        self.encoder = encoder
        self.decoder = decoder
        self.latent = None
        if self.z_size and encoder is not None:
            self.latent = GaussianLatent(encoder.output_depth, self.z_size, name="latent")
        self._compiled = {}
        self._trackers = {}
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(encoder=keras.saving.serialize_keras_object(self.encoder),
                      decoder=keras.saving.serialize_keras_object(self.decoder),
                      hparams=self.hparams.values(), input_depth=self.input_depth,
                      output_depth=self.output_depth, control_depth=self.control_depth,
                      end_token=self.end_token, config_name=self.config_name,
                      model_spec=None if self.model_spec is None else self.model_spec.to_dict(),
                      architecture_hparams=list(self.architecture_hparams))
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # -- the parts, in the order checkpoints store their weights ------------------------------------
    @property
    def has_encoder(self):
        return self.encoder is not None

    def ensure_encoder(self):
        """Builds the encoder and the latent of a model built with `decoder_only=True` (randomly
        initialised: load their weights next, e.g. `checkpoints.load_weights(..., only=...)`).
        Returns the variables it created ([] when the model already had them)."""
        if self.has_encoder:
            return []
        recorder = ReadRecorder(self.hparams)
        self.encoder = build_encoder(self.model_spec.encoder, recorder, self.input_depth + self.control_depth)
        if self.z_size:
            self.latent = GaussianLatent(self.encoder.output_depth, self.z_size, name="latent")
        self.architecture_hparams = tuple(sorted(set(self.architecture_hparams) | recorder.read))
        # Keras lists weights in the order sub-layers were assigned: put the encoder back in front
        # so that `weights` is in checkpoint order, as in a model built whole.
        rank = {id(self.encoder): 0, id(self.decoder): 1, id(self.latent): 2}
        self._layers.sort(key=lambda layer: rank.get(id(layer), 3))
        return self.encoder_weights()

    def encoder_weights(self):
        """The weights of the encoder and the latent (what `ensure_encoder` adds)."""
        if not self.has_encoder:
            return []
        return list(self.encoder.weights) + (list(self.latent.weights) if self.latent is not None else [])

    def weights_in_checkpoint_order(self):
        """Encoder, decoder, latent: the order of `weights` of a model built whole, in which
        checkpoints store them (whatever order the parts were added in). Raises ValueError for a
        model without its encoder (it cannot be saved whole)."""
        if not self.has_encoder:
            raise ValueError(NO_ENCODER)
        latent = list(self.latent.weights) if self.latent is not None else []
        return list(self.encoder.weights) + list(self.decoder.weights) + latent

    # -- encoding -----------------------------------------------------------------------------------
    def encode(self, inputs, lengths, controls=None, training=False, seed=None):
        """Posterior of z: returns (mu, sigma), each [B, z_size].

        inputs [B, T, input_depth]; lengths [B] (hierarchical encoders also take per-segment
        lengths [B, segments]); controls [B, T, control_depth] are appended to the inputs.
        """
        if not self.has_encoder:
            raise ValueError(NO_ENCODER)
        if self.latent is None:
            raise ValueError("this model has z_size=0 and no encoder posterior")
        inputs = tf.convert_to_tensor(inputs, tf.float32)
        if self.control_depth:
            if controls is None:
                raise ValueError(f"this model needs controls of depth {self.control_depth}")
            inputs = tf.concat([inputs, tf.cast(controls, tf.float32)], axis=-1)
        encoding = self.encoder(inputs, tf.cast(lengths, tf.int32), training=training, seed=seed)
        return self.latent(encoding)

    def _prepare(self, inputs, outputs, controls, lengths):
        """Magenta's truncation to max_seq_len and the shifted decoder input."""
        max_len = self.hparams.max_seq_len
        inputs = tf.cast(inputs, tf.float32)[:, :max_len]
        outputs = tf.cast(outputs, tf.float32)[:, :max_len]
        if self.control_depth and controls is not None:
            controls = tf.cast(controls, tf.float32)[:, :max_len]
        else:
            controls = None
        lengths = tf.minimum(tf.cast(lengths, tf.int32), tf.shape(outputs)[1])
        return inputs, outputs, controls, lengths

    def reconstruct(self, inputs, outputs, lengths, controls=None, z=None, training=False,
                    sampling_probability=0.0, seed=None):
        """Decodes `outputs` by teacher forcing (x_input = outputs shifted right).

        z defaults to the posterior mean of `inputs`. Returns a `DecoderOutput` (r_loss [B],
        metrics, rnn_output = logits [B, T, P], rnn_input, final_state).
        """
        inputs, outputs, controls, lengths = self._prepare(inputs, outputs, controls, lengths)
        if z is None and self.z_size:
            z, _ = self.encode(inputs, lengths, controls, training=training)
        return self.decoder.reconstruction_loss(shift_right(outputs), outputs, lengths, z, controls,
                                                sampling_probability, training, seed)

    # -- loss ------------------------------------------------------------------------------------
    # Autograph is skipped: the code has no tensor-dependent Python control flow (loops are explicit
    # tf.while_loops), and converting the layers makes tracing many times slower.
    @tf.autograph.experimental.do_not_convert
    def compute_loss(self, batch, step=0, training=False, global_batch_size=None, z_noise=None,
                     seed=None):
        """Magenta's loss for one (per-replica) batch; returns (scalar loss, metrics dict).

        batch: (inputs, outputs, controls, lengths) or a dict with those keys.
        global_batch_size: the batch size the loss is averaged over (the global batch when the
          batch is one replica's share; default: this batch's size), so summing the replicas'
          losses gives the global-batch mean.
        z_noise: optional eps [B, z_size] for z = mu + sigma * eps; seed: optional [2] int
          seed making all other randomness (eps if not given, sampling, dropout) stateless.
        Metrics (local-batch means): loss, r_loss, kl_loss, kl_bits, elbo, beta,
        sampling_probability and the decoder's (accuracy, ...).
        """
        inputs, outputs, controls, lengths = self._prepare(*_unpack_batch(batch))
        batch_size = tf.shape(outputs)[0]
        denominator = tf.cast(batch_size if global_batch_size is None else global_batch_size,
                              tf.float32)
        hp = self.hparams
        seeds = [None] * 4 if seed is None else [
            tf.random.experimental.stateless_fold_in(seed, i) for i in range(4)]
        if self.z_size:
            mu, sigma = self.encode(inputs, lengths, controls, training=training, seed=seeds[0])
            z = GaussianLatent.sample(mu, sigma, z_noise, seeds[1])
            kl_div = GaussianLatent.kl_divergence(mu, sigma)
        else:
            z = None
            kl_div = tf.zeros([batch_size])
        probability = sampling_probability(hp, step, training)
        x_input = shift_right(outputs)
        dropped = float(hp.get("word_dropout_rate", 0.0))  # absent from older records
        if training and dropped > 0:
            x_input = word_dropout(x_input, dropped, seeds[3])
        result = self.decoder.reconstruction_loss(x_input, outputs, lengths, z, controls,
                                                  probability, training, seeds[2])
        kl_cost = tf.maximum(kl_div - hp.free_bits * LN2, 0.0)
        beta = kl_beta(hp, step)
        loss = (tf.reduce_sum(result.r_loss) + beta * tf.reduce_sum(kl_cost)) / denominator
        mean_mu = tf.reduce_mean(mu, axis=0) if self.z_size else None  # the code all examples share
        offset_weight = float(hp.get("latent_mean_penalty", 0.0))  # absent from older records
        if training and offset_weight > 0 and self.z_size:
            # Weighted by this replica's share of the global batch, so replicas sum to one penalty.
            offset = 0.5 * tf.reduce_sum(tf.square(mean_mu))
            loss += offset_weight * offset * tf.cast(batch_size, tf.float32) / denominator
        metrics = {
            "loss": tf.reduce_mean(result.r_loss) + beta * tf.reduce_mean(kl_cost),
            "r_loss": tf.reduce_mean(result.r_loss),
            "kl_loss": tf.reduce_mean(kl_cost),
            "kl_bits": tf.reduce_mean(kl_div) / LN2,
            "elbo": -tf.reduce_mean(result.r_loss + kl_div),
            "beta": beta,
            "sampling_probability": tf.cast(probability, tf.float32),
        }
        if self.z_size:
            metrics["mu_offset"] = tf.sqrt(tf.reduce_mean(tf.square(mean_mu)))
        for name, (total, count) in result.metrics.items():
            metrics[name] = total / tf.maximum(count, 1.0)
        return loss, metrics

    # -- keras fit -------------------------------------------------------------------------------
    def _update_trackers(self, metrics):
        for name, value in metrics.items():
            if name not in self._trackers:
                self._trackers[name] = keras.metrics.Mean(name=name)
            self._trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    @property
    def metrics(self):
        return list(self._trackers.values())

    @tf.autograph.experimental.do_not_convert
    def train_step(self, data):
        # Keras `fit`: the Trainer's step, keyed on the optimizer's counter.
        step = tf.identity(self.optimizer.iterations)
        metrics = train_step(self, self.optimizer, data, step)
        metrics["learning_rate"] = learning_rate(self.hparams, step)
        return self._update_trackers(metrics)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, data):
        _, metrics = self.compute_loss(data, self.optimizer.iterations if self.optimizer else 0,
                                       training=False)
        return self._update_trackers(metrics)

    # -- sampling -------------------------------------------------------------------------------
    @property
    def xla_sampling(self):
        """Whether an unseeded `sample` call runs its loop under XLA by default (the decoder's
        `xla_sampling`: not the hierarchical decoder's)."""
        return getattr(self.decoder, "xla_sampling", True)

    def sample(self, n=None, length=None, z=None, temperature=1.0, c_input=None, end_token=None,
               seed=None, use_end_token=False, jit_compile=None):
        """Decodes z (random N(0, I) when None and the model is conditional); -> `SampleOutput`.

        n: number of samples (defaults to z's batch); length: maximum steps (defaults to
        max_seq_len); c_input: [T, control_depth] controls shared by all samples; end_token:
        stop each sample at this class index (`use_end_token=True` takes the converter's).
        jit_compile: run the sampling loop as one XLA computation (a step becomes a few fused
        kernels); default: when no `seed` is given and the decoder's `xla_sampling` allows (not
        the hierarchical decoder's). XLA's random numbers differ from the graph path's for the same
        seed, so a seeded call keeps the graph path (its samples stay those of earlier releases);
        unseeded XLA calls draw a stateless seed per call.
        Runs through a cached tf.function (one trace per n / z presence / end token / seed
        presence, and per length on the XLA path).
        """
        if z is not None:
            z = tf.convert_to_tensor(z, tf.float32)
            n = int(z.shape[0]) if n is None else n
            if int(z.shape[0]) != n:
                raise ValueError(f"z has {z.shape[0]} rows but n={n}")
        elif n is None:
            raise ValueError("sample needs n or z")
        if self.z_size and z is None:
            logging.warning("sampling without z: drawing z from N(0, I)")
            z = (tf.random.normal([n, self.z_size]) if seed is None else
                 tf.random.stateless_normal([n, self.z_size], seed=seed))
        if end_token is None and use_end_token:
            end_token = self.end_token
        length = self.hparams.max_seq_len if length is None else length
        if self.control_depth and c_input is None:
            raise ValueError(f"this model needs c_input of depth {self.control_depth}")
        if jit_compile is None:
            jit_compile = seed is None and self.xla_sampling
        jit = bool(jit_compile)
        if jit and seed is None:
            # A fresh stateless seed per call: XLA ignores the seeds of stateful random ops (and
            # says so on stderr); this draws from TF's global generator (tf.random.set_seed).
            seed = tf.random.uniform([2], 0, 2 ** 31 - 1, tf.int32)
        # XLA needs the number of steps at compile time (its loop buffers have a fixed size).
        static_length = int(length) if jit else None
        key = ("sample", n, z is None, end_token, seed is None, static_length)
        if key not in self._compiled:
            def run(z, length, temperature, c_input, seed):
                return self.decoder.sample(n, static_length or length, z, c_input, temperature,
                                           end_token=end_token, seed=seed)
            z_spec = None if z is None else tf.TensorSpec([n, self.z_size], tf.float32)
            c_spec = None if not self.control_depth else tf.TensorSpec([None, self.control_depth])
            seed_spec = None if seed is None else tf.TensorSpec([2], tf.int32)
            specs = [z_spec, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32), c_spec,
                     seed_spec]
            self._compiled[key] = _signature_function(run, specs, jit_compile=jit)
        return self._compiled[key](z, tf.constant(length, tf.int32),
                                   tf.constant(temperature, tf.float32),
                                   None if c_input is None else tf.convert_to_tensor(c_input, tf.float32),
                                   None if seed is None else tf.cast(seed, tf.int32))

    def encode_compiled(self, inputs, lengths, controls=None):
        """`encode` through a cached tf.function (one trace per lengths rank); -> (mu, sigma)."""
        lengths = tf.cast(lengths, tf.int32)
        key = ("encode", lengths.shape.rank)
        if key not in self._compiled:
            lengths_spec = tf.TensorSpec([None] * lengths.shape.rank, tf.int32)
            c_spec = tf.TensorSpec([None, None, self.control_depth]) if self.control_depth else None
            specs = [tf.TensorSpec([None, None, self.input_depth]), lengths_spec, c_spec]
            self._compiled[key] = _signature_function(
                lambda x, l, c: self.encode(x, l, c), specs)
        return self._compiled[key](tf.cast(inputs, tf.float32), lengths,
                                   None if not self.control_depth else tf.cast(controls, tf.float32))

    # -- checkpoint names --------------------------------------------------------------------------
    def tf1_variables(self):
        """Magenta variable name -> Keras variable for the whole model."""
        from musicvae_tf.checkpoints import layer_tf1_variables

        names = {}
        if self.has_encoder:
            names.update(layer_tf1_variables(self.encoder, "encoder"))
        if self.latent is not None:
            names.update(layer_tf1_variables(self.latent, "encoder"))
        names.update(layer_tf1_variables(self.decoder, "decoder"))
        return names


def _signature_function(fn, specs, jit_compile=False):
    """tf.function over `fn` with fixed specs; None entries are passed through as None."""
    present = [i for i, s in enumerate(specs) if s is not None]

    @tf.function(input_signature=[specs[i] for i in present], autograph=False,
                 jit_compile=jit_compile or None)
    def compiled(*args):
        full = [None] * len(specs)
        for i, a in zip(present, args):
            full[i] = a
        return fn(*full)

    def call(*args):
        return compiled(*[args[i] for i in present])

    return call


def build_encoder(spec, hparams, input_size):
    kwargs = dict(residual=bool(hparams.residual_encoder),
                  dropout_keep_prob=float(training_knob(hparams, "dropout_keep_prob")), name="encoder")
    if spec.kind == "BidirectionalLstmEncoder":
        return BidirectionalLstmEncoder(input_size, hparams.enc_rnn_size, **kwargs)
    if spec.kind == "HierarchicalLstmEncoder":
        if spec.core_encoder not in (None, "BidirectionalLstmEncoder"):
            raise ValueError(f"unsupported hierarchical core encoder {spec.core_encoder!r}")
        total = int(math.prod(spec.level_lengths))
        if total != hparams.max_seq_len:
            raise ValueError(f"the product of the encoder level lengths {spec.level_lengths} ({total}) "
                             f"must equal max_seq_len ({hparams.max_seq_len})")
        return HierarchicalLstmEncoder(input_size, spec.level_lengths, hparams.enc_rnn_size, **kwargs)
    raise ValueError(f"unknown encoder kind {spec.kind!r}")


def build_model(config, hparams=None, config_name=None, decoder_only=False):
    """Builds the `MusicVAE` for a `configs.Config` (its ModelSpec, hparams and converter depths).

    `config` may also be a name in `configs.CONFIG_MAP`. `hparams` overrides config.hparams (an
    HParams, or a string parsed onto a copy of them). `config_name` is stored with the model
    (saved with the port's own checkpoint format). All weights are created immediately. The
    hparams the layers are built from become `model.architecture_hparams` (see `architecture`).
    `decoder_only`: leave out the encoder and the latent (sampling and decoding need neither, and
    in the large configs the encoder holds most of the weights); `ensure_encoder` adds them.
    """
    import copy

    if isinstance(config, str):
        from musicvae_tf import configs

        config_name = config_name or config
        config = configs.get_config(config)
    if hparams is None:
        hparams = config.hparams
    elif isinstance(hparams, str):
        parsed = copy.deepcopy(config.hparams)
        parsed.parse(hparams)
        hparams = parsed
    check_hparams(hparams)
    converter = config.data_converter
    input_depth, output_depth = int(converter.input_depth), int(converter.output_depth)
    control_depth = int(converter.control_depth)
    spec = config.model
    recorder = ReadRecorder(hparams)
    encoder = None if decoder_only else build_encoder(spec.encoder, recorder, input_depth + control_depth)
    decoder = build_decoder(spec.decoder, recorder, output_depth, int(recorder.z_size), control_depth,
                            name="decoder")
    end_token = getattr(converter, "end_token", None)
    return MusicVAE(encoder, decoder, copy.deepcopy(hparams), input_depth, output_depth, control_depth,
                    end_token=end_token, config_name=config_name, model_spec=spec,
                    architecture_hparams=sorted(recorder.read), name="music_vae")
