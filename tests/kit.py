"""The test kit: what many tests need, written once.

    from kit import TINY, tiny_config, seeded, melody, run_layer_test

- `tiny_hparams` / `tiny_config(spec)`: a config of a few units per layer over a stand-in converter
  (any depths), `TINY`: tiny --hparams for the real configs, `FLAT` / `HIER`: two model specs.
- `seeded(layer, seed)`: every weight drawn from a seeded normal distribution (reproducible values).
- `one_hots(...)`, `melody(pitches)`, `melody_midi(path, pitches)`: inputs.
- `tiny_checkpoint(directory)`: a saved tiny cat-mel_2bar_small model (the port's format).
- `run_layer_test(layer, call, expected)`: build, output values, get_config/from_config, .keras
  save/load and Magenta's TF1 variable names of one layer; `clone(layer)`: its config round trip.
- `read_tfrecord_sequences(path)`: NoteSequences of a TFRecord file, without TensorFlow.
- `absl_messages()`: a context manager collecting the messages absl logs in this process.
- `numpy_lstm_step` / `numpy_lstm_sequence`, `sigmoid`, `log_softmax`: numpy references
  (Magenta's LSTMBlockCell conventions: kernel rows [x, h], gates (i, g, f, o), forget bias 1).
- `DEMO_DIR`: the packaged cat-mel_2bar_small model; `needs_packaged_model(config)`: skip mark.
"""

import contextlib
import logging as python_logging
import os
import struct
import types
from pathlib import Path

import keras
import note_seq
import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf.checkpoints.resolver import find_pretrained
from musicvae_tf.hparams import HParams
from musicvae_tf.model_spec import DecoderSpec, EncoderSpec, ModelSpec


def needs_packaged_model(config_name):
    """Skips a test when musicvae_tf/pretrained/ has no packaged model of `config_name`."""
    return pytest.mark.skipif(
        find_pretrained(config_name) is None,
        reason=f"no packaged {config_name} model in musicvae_tf/pretrained/ "
               f"(python scripts/train_packaged_models.py --model={config_name})")


# The packaged 2-bar melody model (docs/models.md) that the tools use without --checkpoint_file.
DEMO_DIR = str(find_pretrained("cat-mel_2bar_small"))
needs_demo_model = needs_packaged_model("cat-mel_2bar_small")

# Small sizes for the real configs (the layer structure and variable names stay the config's).
TINY = "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16,16]"

FLAT = ModelSpec(EncoderSpec("BidirectionalLstmEncoder"), DecoderSpec("CategoricalLstmDecoder"))
HIER = ModelSpec(EncoderSpec("HierarchicalLstmEncoder", level_lengths=(2, 4)),
                 DecoderSpec("HierarchicalLstmDecoder", core_decoder=DecoderSpec("CategoricalLstmDecoder"),
                             level_lengths=(2, 4), disable_autoregression=True))


def tiny_hparams(**overrides):
    """Magenta's hparams (every name) at a few units per layer and 8 steps."""
    values = dict(max_seq_len=8, z_size=4, free_bits=0.0, max_beta=1.0, beta_rate=0.0, batch_size=3,
                  grad_clip=1.0, clip_mode="global_norm", grad_norm_clip_to_zero=10000,
                  learning_rate=0.001, decay_rate=0.9999, min_learning_rate=0.00001,
                  conditional=True, dec_rnn_size=[6, 6], enc_rnn_size=[5], dropout_keep_prob=1.0,
                  sampling_schedule="constant", sampling_rate=0.0, use_cudnn=False,
                  residual_encoder=False, residual_decoder=False,
                  control_preprocessing_rnn_size=[256])
    values.update(overrides)
    return HParams(**values)


def tiny_config(spec, depth=5, control_depth=0, end_token=None, **overrides):
    """A config for `build_model`: `spec`, tiny hparams, a stand-in converter of the given depths."""
    converter = types.SimpleNamespace(input_depth=depth, output_depth=depth,
                                      control_depth=control_depth, end_token=end_token)
    return types.SimpleNamespace(model=spec, hparams=tiny_hparams(**overrides), data_converter=converter)


def seeded(layer, seed=0, scale=0.4):
    """Sets every weight of `layer` (or a TrainedModel's model) to seeded normal values; returns it.

    Keras' initial weights give near-uniform logits; weights of this scale give decided ones.
    """
    rng = np.random.RandomState(seed)
    for weight in getattr(layer, "model", layer).weights:
        weight.assign(rng.normal(0.0, scale, weight.shape).astype(np.float32))
    return layer


def one_hots(batch, length, depth, seed=0):
    """[batch, length, depth] float32 one-hot rows of seeded random classes."""
    rng = np.random.default_rng(seed)
    return np.eye(depth, dtype=np.float32)[rng.integers(0, depth, [batch, length])]


def melody(pitches, step=0.25, qpm=120.0, velocity=80, meter=(4, 4)):
    """A monophonic NoteSequence (4/4 unless `meter`): one note of `step` seconds per pitch, back to back."""
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=meter[0], denominator=meter[1])
    for i, pitch in enumerate(pitches):
        sequence.notes.add(pitch=pitch, start_time=i * step, end_time=(i + 1) * step, velocity=velocity)
    sequence.total_time = len(pitches) * step
    return sequence


def melody_midi(path, pitches, step=0.25, meter=(4, 4)):
    """Writes `melody(pitches, step, meter=meter)` as a MIDI file; returns the path (str).

    `path` may be bytes (a name that is not UTF-8)."""
    path = os.fsdecode(path)
    note_seq.sequence_proto_to_midi_file(melody(pitches, step, meter=meter), path)
    return path


def tiny_checkpoint(directory, config_name="cat-mel_2bar_small", hparams=TINY):
    """A tiny model of `config_name` (Keras' initial weights) saved in the port's format in `directory`."""
    from musicvae_tf import checkpoints, configs
    from musicvae_tf.model import build_model

    model = build_model(configs.get_config(config_name, hparams), config_name=config_name)
    return checkpoints.save_model(model, str(directory))


def read_tfrecord_sequences(path, count=None):
    """NoteSequences from a TFRecord file (plain framing: length, crc, data, crc; no TensorFlow)."""
    sequences = []
    with open(path, "rb") as handle:
        while count is None or len(sequences) < count:
            header = handle.read(12)
            if not header:
                break
            (length,) = struct.unpack("<Q", header[:8])
            sequences.append(note_seq.NoteSequence.FromString(handle.read(length)))
            handle.read(4)
    return sequences


@contextlib.contextmanager
def absl_messages():
    """`with absl_messages() as messages:` the messages absl logs in the block, as a list of str."""
    from absl import logging

    messages = []

    class Collect(python_logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect()
    logging.get_absl_logger().addHandler(handler)
    try:
        yield messages
    finally:
        logging.get_absl_logger().removeHandler(handler)


# --- references ----------------------------------------------------------------------------------

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def numpy_lstm_step(x, c, h, kernel, bias, forget_bias=1.0):
    """Magenta's LSTMBlockCell: kernel rows [x, h], gate columns (i, g, f, o), forget bias on f."""
    gates = np.concatenate([x, h], axis=-1) @ kernel + bias
    i, g, f, o = np.split(gates, 4, axis=-1)
    c = sigmoid(f + forget_bias) * c + sigmoid(i) * np.tanh(g)
    h = np.tanh(c) * sigmoid(o)
    return c, h


def numpy_lstm_sequence(xs, lengths, kernel, bias, c=None, h=None):
    """Masked run like tf.nn.dynamic_rnn: frozen state and zero output past each length."""
    batch, total, _ = xs.shape
    units = bias.shape[0] // 4
    c = np.zeros([batch, units]) if c is None else c
    h = np.zeros([batch, units]) if h is None else h
    outputs = np.zeros([batch, total, units])
    for t in range(total):
        new_c, new_h = numpy_lstm_step(xs[:, t], c, h, kernel, bias)
        alive = (t < lengths)[:, None]
        c, h = np.where(alive, new_c, c), np.where(alive, new_h, h)
        outputs[:, t] = np.where(alive, new_h, 0.0)
    return outputs, c, h


# --- one layer, every way it is used ------------------------------------------------------------

@keras.saving.register_keras_serializable(package="musicvae_tf_tests")
class LayerHolder(keras.Model):
    """A model holding one layer, so that the layer can go through a .keras file."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layer, dict):
            layer = keras.saving.deserialize_keras_object(layer)
        self.layer = layer
        self.built = True  # the layers of this package create their weights in __init__

    def get_config(self):
        return {**super().get_config(), "layer": keras.saving.serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def clone(layer):
    """A copy of `layer` made from its serialized config, with its weights copied."""
    copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(copy) is type(layer) and copy.get_config() == layer.get_config()
    assert [tuple(w.shape) for w in copy.weights] == [tuple(w.shape) for w in layer.weights]
    copy.set_weights(layer.get_weights())
    return copy


def _numpy(structure):
    return tf.nest.map_structure(lambda t: np.asarray(t), structure)


def _assert_same(actual, expected, atol, what):
    tf.nest.assert_same_structure(actual, expected)
    for a, e in zip(tf.nest.flatten(actual), tf.nest.flatten(expected)):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(e, np.float64), atol=atol, rtol=0,
                                   err_msg=what)


def run_layer_test(layer, call, expected, tmp_path, tf1_scope=None, tf1_names=None, atol=1e-5):
    """Checks one layer of this package (or a MusicVAE) the ways the package uses it.

    `call(layer)` runs it on fixed inputs and returns arrays (or a structure of them); `expected`
    are the values a reference computation gives for them (numpy, or Magenta's own numbers).
      1. build: every weight exists on construction, none twice;
      2. output values: `call(layer)` equals `expected` within `atol`;
      3. get_config / from_config: the clone has the same config and weight shapes, and with the
         weights copied gives the same outputs;
      4. .keras save and load (a MusicVAE directly, a layer inside a `LayerHolder`): the same
         config and outputs after loading;
      5. TF1 names: with `tf1_scope`, `checkpoints.layer_tf1_variables(layer, tf1_scope)` (a
         MusicVAE, tf1_scope "": `model.tf1_variables()`) names exactly `tf1_names` (Magenta's
         checkpoint names), each weight of the layer once.
    Returns the outputs.
    """
    from musicvae_tf.checkpoints import layer_tf1_variables

    assert layer.built and layer.weights, f"{type(layer).__name__} has no weights on construction"
    assert len({id(w) for w in layer.weights}) == len(layer.weights)
    outputs = _numpy(call(layer))
    _assert_same(outputs, expected, atol, f"{type(layer).__name__}: outputs against the reference")

    _assert_same(_numpy(call(clone(layer))), outputs, 0, f"{type(layer).__name__}: from_config clone")

    path = str(tmp_path / f"{type(layer).__name__}.keras")
    is_model = isinstance(layer, keras.Model)
    (layer if is_model else LayerHolder(layer)).save(path)
    loaded = keras.saving.load_model(path)
    loaded = loaded if is_model else loaded.layer
    assert type(loaded) is type(layer) and loaded.get_config() == layer.get_config()
    _assert_same(_numpy(call(loaded)), outputs, 0, f"{type(layer).__name__}: loaded from .keras")

    if tf1_scope is not None:
        names = layer_tf1_variables(layer, tf1_scope) if tf1_scope else layer.tf1_variables()
        assert sorted(names) == sorted(tf1_names)
        assert sorted(id(v) for v in names.values()) == sorted(id(w) for w in layer.weights), \
            "every weight has exactly one Magenta name"
    return outputs
