"""Sampling, encoding, decoding and interpolating with a trained MusicVAE (Magenta's TrainedModel).

    from musicvae_tf import TrainedModel, configs
    model = TrainedModel(configs.CONFIG_MAP['cat-mel_2bar_small'], batch_size=4,
                         checkpoint_dir_or_path='cat-mel_2bar_small.tar')
    melodies = model.sample(n=10, length=32, temperature=0.5)
    z, mu, sigma = model.encode(melodies[:2])
    path = model.interpolate(melodies[0], melodies[1], num_steps=5, length=32)

The model runs in fixed batches of `batch_size`: requests of any size are split into batches,
the last one padded, and the padding dropped from the results. Every call goes through the
model's compiled functions with the same shapes (batch fixed, time free), so repeated calls
reuse one traced graph each for encoding and decoding.

Only the decoder is built and loaded up front: sampling and decoding need nothing else, and in
the large configs the encoder holds most of the weights (hierdec-mel_16bar: about 80%). The
first call that encodes adds the encoder and loads its weights from the same checkpoint.
"""

import copy
import os

import numpy as np
import tensorflow as tf
from absl import logging

from musicvae_tf.fixed_batches import default_workers, run_in_batches
from musicvae_tf.interpolation import slerp_path


class NoExtractedExamplesError(Exception):
    """The data converter extracted no example from a NoteSequence given to `encode`."""


class MultipleExtractedExamplesError(Exception):
    """The data converter extracted more than one example from a NoteSequence given to `encode`."""


class TrainedModel:
    """A MusicVAE restored from a checkpoint, for inference.

    Args:
      config: a `musicvae_tf.configs.Config` (copied; its converter is put in `infer` mode).
      batch_size: the number of sequences run through the model at once.
      checkpoint_dir_or_path: a directory (its latest checkpoint is used), a checkpoint prefix
        (`.../model.ckpt-1234`), a Magenta `.tar` bundle, or a checkpoint saved by musicvae_tf.
        None leaves the model randomly initialised (useful for tests and benchmarks).
      var_name_substitutions: optional list of (regex, replacement) pairs renaming the model's
        variable names to the checkpoint's (TF1 checkpoints only), as in Magenta.
      session_target: accepted for compatibility with Magenta; ignored (no TF1 sessions).
      hparams_overrides: names of `config.hparams` the caller set on purpose. Checkpoints saved
        by musicvae_tf record their hparams, and those are used; an override that differs from
        the recorded value raises HParamsConflictError unless it is a training knob, not part of
        the recorded architecture (batch_size, learning rate, ...; see `architecture`). Default: the
        hparams whose value differs from the registered config's default
        (`configs.CONFIG_MAP[<recorded config name>]`).
      parallel_batches: how many of a request's batches are decoded at once (default: 2 where
        the process may use 2 cores or more, else 1; see musicvae_tf.fixed_batches). Results do
        not depend on it.
      **sample_kwargs: extra keyword arguments passed to the model's sampling call.
    """

    def __init__(self, config, batch_size, checkpoint_dir_or_path=None, var_name_substitutions=None,
                 session_target=None, hparams_overrides=None, parallel_batches=None, **sample_kwargs):
        del session_target
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self._config = copy.deepcopy(config)
        self._config.data_converter.set_mode("infer")
        checkpoint_path = None
        if checkpoint_dir_or_path is not None:
            checkpoint_path = os.path.expanduser(os.fspath(checkpoint_dir_or_path))
            self._adopt_stored_hparams(checkpoint_path, hparams_overrides)
        self._config.hparams.batch_size = batch_size
        self._batch_size = batch_size
        self._sample_kwargs = sample_kwargs
        self._parallel_batches = default_workers() if parallel_batches is None else int(parallel_batches)
        converter = self._config.data_converter
        self._z_size = int(self._config.hparams.z_size or 0)
        self._input_depth = converter.input_depth
        self._control_depth = converter.control_depth

        from musicvae_tf import checkpoints
        from musicvae_tf.model import build_model

        self._checkpoint_path = checkpoint_path
        self._var_name_substitutions = var_name_substitutions
        decoder_only = checkpoint_path is None or checkpoints.supports_decoder_only(checkpoint_path)
        self._model = build_model(self._config, decoder_only=decoder_only)
        if checkpoint_path is not None:
            logging.info("Restoring %s weights from %s", "the decoder's" if decoder_only else "all",
                         checkpoint_path)
            checkpoints.load_weights(self._model, checkpoint_path,
                                     var_name_substitutions=var_name_substitutions)
        else:
            logging.info("No checkpoint given: the model keeps its random initial weights.")

    def _encoding_model(self):
        """The model with its encoder, added and loaded on first use (see the module docstring)."""
        if not self._model.has_encoder:
            added = self._model.ensure_encoder()
            if self._checkpoint_path is not None:
                from musicvae_tf import checkpoints

                logging.info("Restoring the encoder's weights from %s", self._checkpoint_path)
                checkpoints.load_weights(self._model, self._checkpoint_path,
                                         var_name_substitutions=self._var_name_substitutions, only=added)
        return self._model

    def _adopt_stored_hparams(self, checkpoint_path, overrides):
        """Checkpoints made by musicvae_tf (exported or training runs) record their hparams: use them."""
        from musicvae_tf.checkpoints import resolver

        stored = resolver.read_stored_model(checkpoint_path)
        if not stored:
            return
        if overrides is None:
            overrides = resolver.changed_from_registered_defaults(self._config.hparams, stored.config_name)
        # batch_size is this object's own: never the checkpoint's.
        resolver.merge_stored_hparams(self._config, stored, overrides=set(overrides) | {"batch_size"},
                                      source="the config's hparams")

    # --- properties ---------------------------------------------------------------------------
    @property
    def config(self):
        """The (copied) Config the model was built from."""
        return self._config

    @property
    def batch_size(self):
        return self._batch_size

    @property
    def model(self):
        """The underlying Keras `MusicVAE`, whole (its encoder is added and loaded if need be)."""
        return self._encoding_model()

    # --- helpers ------------------------------------------------------------------------------
    def _max_length(self, length):
        # Magenta decodes "until the end token" with tf.int32.max iterations; without a length the
        # loop here stops at max_seq_len, so a model that never emits the end token still stops.
        if not length and self._config.data_converter.end_token is None:
            raise ValueError("A length must be specified when the end token is not used.")
        return int(length or self._config.hparams.max_seq_len)

    def _c_input_array(self, c_input):
        if not self._control_depth:
            return np.zeros([0, 0], np.float32)
        if c_input is None:
            raise ValueError(f"this config is conditioned on controls: pass c_input "
                             f"[length, {self._control_depth}]")
        c_input = np.asarray(c_input, np.float32)
        if c_input.ndim != 2 or c_input.shape[1] != self._control_depth:
            raise ValueError(f"c_input must have shape [length, {self._control_depth}], "
                             f"got {c_input.shape}")
        return c_input

    def _from_tensors(self, samples, c_input):
        converter = self._config.data_converter
        if self._control_depth:
            controls = np.tile(np.expand_dims(c_input, 0), [len(samples), 1, 1])
            return converter.from_tensors(samples, controls)
        return converter.from_tensors(samples)

    def _run_decoder(self, z, temperature, max_length, c_input, return_full_results):
        """Decodes each row of z [n, z_size] in batches of batch_size; a list of n results.

        Each batch draws its sampling noise from a stateless seed: the `seed` given to the
        constructor (every batch the same, as before), else one folded per batch from a seed
        taken from TensorFlow's global generator per call (so `tf.random.set_seed` makes a call
        repeatable). So batches may run concurrently (`parallel_batches`) with the results of one
        after another."""
        kwargs = dict(self._sample_kwargs)
        fixed_seed = kwargs.pop("seed", None)
        if fixed_seed is None:
            # Seeded here only to be order-free: keep the unseeded default path (XLA where the
            # decoder allows; MusicVAE.sample takes a seeded call off it otherwise).
            kwargs.setdefault("jit_compile", self._model.xla_sampling)
            call_seed = tf.random.uniform([2], 0, 2 ** 31 - 1, tf.int32)

        def decode(index, z_batch):
            seed = (fixed_seed if fixed_seed is not None else
                    tf.random.experimental.stateless_fold_in(call_seed, index))
            results = self._model.sample(
                n=self._batch_size, length=max_length,
                z=tf.constant(z_batch, tf.float32) if self._z_size else None,
                temperature=float(temperature),
                c_input=c_input if self._control_depth else None, seed=seed, **kwargs)
            return results if return_full_results else results.samples

        results = run_in_batches(decode, [z], self._batch_size, workers=self._parallel_batches)
        if return_full_results:
            return _unstack_results(results, len(z))
        return list(results)

    # --- Magenta's API ------------------------------------------------------------------------
    def sample(self, n=None, length=None, temperature=1.0, same_z=False, c_input=None):
        """`n` random samples (default: one batch) as NoteSequences."""
        n = n or self._batch_size
        max_length = self._max_length(length)
        c_input = self._c_input_array(c_input)
        num_batches = int(np.ceil(n / self._batch_size))
        if self._z_size and same_z:
            z = np.tile(np.random.randn(1, self._z_size).astype(np.float32), (num_batches * self._batch_size, 1))
        else:
            z = np.concatenate([np.random.randn(self._batch_size, self._z_size).astype(np.float32)
                                for _ in range(num_batches)])
        samples = self._run_decoder(z, temperature, max_length, c_input, False)[:n]
        return self._from_tensors(samples, c_input)

    def encode(self, note_sequences, assert_same_length=False):
        """Encodes NoteSequences (one example each) into (z, mu, sigma) arrays."""
        if not self._z_size:
            raise RuntimeError("Cannot encode with a non-conditional model.")
        inputs, controls, lengths = [], [], []
        for note_sequence in note_sequences:
            extracted = self._config.data_converter.to_tensors(note_sequence)
            if not extracted.inputs:
                raise NoExtractedExamplesError(
                    f"No examples extracted from NoteSequence: {_describe(note_sequence)}")
            if len(extracted.inputs) > 1:
                raise MultipleExtractedExamplesError(
                    f"Multiple ({len(extracted.inputs)}) examples extracted from NoteSequence: "
                    f"{_describe(note_sequence)}")
            inputs.append(extracted.inputs[0])
            controls.append(extracted.controls[0])
            lengths.append(extracted.lengths[0])
            if assert_same_length and len(inputs[0]) != len(inputs[-1]):
                raise AssertionError(
                    f"Sequences 0 and {len(inputs) - 1} have different lengths: "
                    f"{len(inputs[0])} vs {len(inputs[-1])}")
        return self.encode_tensors(inputs, lengths, controls)

    def encode_tensors(self, input_tensors, lengths, control_tensors=None):
        """Encodes input tensors (each [time, input_depth]) into (z, mu, sigma) arrays."""
        if not self._z_size:
            raise RuntimeError("Cannot encode with a non-conditional model.")
        n = len(input_tensors)
        if n == 0:
            raise ValueError("encode_tensors needs at least one input")
        if len(lengths) != n:
            raise ValueError(f"{n} input tensors but {len(lengths)} lengths")
        max_time = max(len(t) for t in input_tensors)
        inputs = np.zeros([n, max_time, self._input_depth], np.float32)
        for i, tensor in enumerate(input_tensors):
            inputs[i, :len(tensor)] = tensor
        controls = np.zeros([n, max_time, self._control_depth], np.float32)
        if control_tensors is not None:
            for i, tensor in enumerate(control_tensors):
                controls[i, :len(tensor)] = tensor
        model = self._encoding_model()
        mu, sigma = run_in_batches(
            lambda index, x, l, c: model.encode_compiled(tf.constant(x), tf.constant(l), tf.constant(c)),
            [inputs, np.asarray(lengths, np.int32), controls], self._batch_size)
        z = (mu + sigma * np.random.randn(*mu.shape)).astype(np.float32)
        return z, mu, sigma

    def decode(self, z, length=None, temperature=1.0, c_input=None):
        """Decodes latent vectors into NoteSequences."""
        tensors = self.decode_to_tensors(z, length, temperature, c_input)
        return self._from_tensors(tensors, self._c_input_array(c_input))

    def decode_to_tensors(self, z, length=None, temperature=1.0, c_input=None,
                          return_full_results=False):
        """Decodes latent vectors into output arrays ([time, output_depth] each).

        With `return_full_results`, returns the decoder's full per-example results instead.
        """
        if not self._z_size:
            raise RuntimeError("Cannot decode with a non-conditional model.")
        max_length = self._max_length(length)
        c_input = self._c_input_array(c_input)
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self._z_size:
            raise ValueError(f"z must have shape [n, {self._z_size}], got {z.shape}")
        return self._run_decoder(z, temperature, max_length, c_input, return_full_results)

    def interpolate(self, start_sequence, end_sequence, num_steps, length=None, temperature=1.0,
                    assert_same_length=True):
        """Decodes `num_steps` codes on the great circle from the start's to the end's mean code."""
        _, mu, _ = self.encode([start_sequence, end_sequence], assert_same_length)
        z = slerp_path(mu[0], mu[1], num_steps)
        return self.decode(z, length=length, temperature=temperature)


def _unstack_results(results, batch_size):
    """Splits a batch of decoder results (a structure of [batch, ...] tensors) per example."""
    flat = [np.asarray(t) for t in tf.nest.flatten(results)]
    per_example = []
    for i in range(batch_size):
        per_example.append(tf.nest.pack_sequence_as(
            results, [t[i] if t.ndim and t.shape[0] == batch_size else t for t in flat]))
    return per_example


def _describe(note_sequence):
    """A short description instead of the whole proto text in error messages."""
    name = note_sequence.filename or note_sequence.id or "<unnamed>"
    return f"{name} ({len(note_sequence.notes)} notes, {note_sequence.total_time:.2f} s)"
