"""Attribute vectors: directions in latent space that change one musical property.

As in the MusicVAE paper and Magenta's colab: encode many examples, rank them by an attribute
(note density, mean pitch, syncopation), and take the mean code of the top fraction minus the
mean code of the bottom fraction. Adding `alpha * vector` to a code before decoding pushes the
result towards more (alpha > 0) or less (alpha < 0) of the attribute.

    model = TrainedModel(config, batch_size=8, checkpoint_dir_or_path=...)
    sequences = data.read_note_sequences("examples.tfrecord")   # plain or gzip TFRecord
    vectors = compute_attribute_vectors(model, sequences, ["note_density"])
    save_attribute_vectors("vectors.npz", vectors, config_name="cat-mel_2bar_small")
    z = apply_attribute_vector(z, vectors["note_density"], alpha=1.5)
"""

import copy
import os

import note_seq
import numpy as np
from absl import logging

_STEPS_PER_QUARTER = 4  # attributes are measured on a 16th-note grid
_CONFIG_KEY = "__config_name__"


def _quantized(sequence):
    if note_seq.sequences_lib.is_quantized_sequence(sequence):
        return sequence
    return note_seq.quantize_note_sequence(sequence, _STEPS_PER_QUARTER)


def note_density(sequence, num_steps=None):
    """Note onsets per 16th-note step, over `num_steps` if given, else over the total time."""
    if not sequence.notes:
        return 0.0
    quantized = _quantized(sequence)
    steps = num_steps or max(quantized.total_quantized_steps, 1)
    return len(quantized.notes) / float(steps)


def mean_pitch(sequence, num_steps=None):
    """Mean MIDI pitch of the pitched (non-drum) notes, or None without any."""
    del num_steps
    pitches = [note.pitch for note in sequence.notes if not note.is_drum]
    return float(np.mean(pitches)) if pitches else None


def syncopation(sequence, num_steps=None):
    """Fraction of onsets that fall between quarter-note beats (None without notes)."""
    del num_steps
    if not sequence.notes:
        return None
    quantized = _quantized(sequence)
    steps_per_quarter = quantized.quantization_info.steps_per_quarter or _STEPS_PER_QUARTER
    offbeat = sum(1 for note in quantized.notes if note.quantized_start_step % steps_per_quarter)
    return offbeat / float(len(quantized.notes))


ATTRIBUTES = {
    "note_density": note_density,
    "mean_pitch": mean_pitch,
    "syncopation": syncopation,
}


def attribute_fn(name):
    if name not in ATTRIBUTES:
        raise ValueError(f"unknown attribute {name!r}; known attributes: {', '.join(sorted(ATTRIBUTES))}")
    return ATTRIBUTES[name]


def _length_steps(length):
    return int(np.sum(length))


def extract_examples(converter, sequences, max_per_sequence=None):
    """The examples the converter extracts from `sequences`: (inputs, controls, lengths, decoded).

    Uses a copy of `converter` keeping up to `max_per_sequence` examples per sequence (None: all).
    """
    converter = copy.deepcopy(converter)
    converter.max_tensors_per_notesequence = max_per_sequence
    inputs, controls, lengths, decoded = [], [], [], []
    for sequence in sequences:
        tensors = converter.to_tensors(sequence)
        if not tensors.inputs:
            continue
        if converter.control_depth > 0:
            examples = converter.from_tensors(list(tensors.outputs), list(tensors.controls))
        else:
            examples = converter.from_tensors(list(tensors.outputs))
        inputs.extend(tensors.inputs)
        controls.extend(tensors.controls)
        lengths.extend(tensors.lengths)
        decoded.extend(examples)
    return inputs, controls, lengths, decoded


def attribute_vector_from_codes(codes, values, fraction=0.25):
    """Mean of the codes with the highest `fraction` of values minus that of the lowest."""
    codes = np.asarray(codes, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(codes) != len(values):
        raise ValueError(f"{len(codes)} codes but {len(values)} attribute values")
    if len(values) < 2:
        raise ValueError(f"need at least 2 examples with the attribute, got {len(values)}")
    if not 0.0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    count = max(1, int(round(len(values) * fraction)))
    order = np.argsort(values, kind="stable")
    low, high = order[:count], order[-count:]
    if np.mean(values[high]) == np.mean(values[low]):
        raise ValueError("the attribute does not vary across the examples")
    return (codes[high].mean(axis=0) - codes[low].mean(axis=0)).astype(np.float32)


def compute_attribute_vectors(model, sequences, attribute_names, fraction=0.25, max_per_sequence=None):
    """Attribute vectors for `attribute_names` from the examples in `sequences`.

    `model` is a TrainedModel; its converter extracts the examples and its encoder gives their
    codes (the posterior means). Returns {name: float32 vector of size z_size}.
    """
    functions = {name: attribute_fn(name) for name in attribute_names}
    converter = model.config.data_converter
    inputs, controls, lengths, decoded = extract_examples(converter, sequences, max_per_sequence)
    if len(inputs) < 2:
        raise ValueError(f"only {len(inputs)} example(s) could be extracted for the "
                         f"attribute vectors; need at least 2 (and many more for a useful vector)")
    logging.info("Encoding %d examples for attribute vectors...", len(inputs))
    _, mu, _ = model.encode_tensors(list(inputs), list(lengths),
                                    list(controls) if converter.control_depth else None)
    vectors = {}
    for name, function in functions.items():
        values = [function(example, _length_steps(length)) for example, length in zip(decoded, lengths)]
        keep = [i for i, value in enumerate(values) if value is not None]
        vectors[name] = attribute_vector_from_codes(mu[keep], [values[i] for i in keep], fraction)
        logging.info("Attribute %s: %d examples, vector norm %.3f", name, len(keep),
                     float(np.linalg.norm(vectors[name])))
    return vectors


def apply_attribute_vector(z, vector, alpha):
    """`z + alpha * vector` (z: [batch, z_size] or [z_size])."""
    z = np.asarray(z, dtype=np.float32)
    vector = np.asarray(vector, dtype=np.float32)
    if z.shape[-1] != vector.shape[-1]:
        raise ValueError(f"attribute vector has size {vector.shape[-1]} but the latent code has "
                         f"size {z.shape[-1]}")
    return z + np.float32(alpha) * vector


def save_attribute_vectors(path, vectors, config_name=None):
    """Writes {name: vector} (and the config name) to an .npz file."""
    arrays = {name: np.asarray(vector, dtype=np.float32) for name, vector in vectors.items()}
    if config_name:
        arrays[_CONFIG_KEY] = np.array(config_name)
    np.savez(path, **arrays)
    return path


def load_attribute_vectors(path):
    """Reads an .npz written by `save_attribute_vectors`: ({name: vector}, config name or None)."""
    if not os.path.isfile(path):
        raise ValueError(f"attribute vector file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            config_name = str(data[_CONFIG_KEY]) if _CONFIG_KEY in data.files else None
            vectors = {key: data[key].astype(np.float32) for key in data.files if key != _CONFIG_KEY}
    except Exception as error:
        raise ValueError(f"cannot read attribute vectors from {path}: {type(error).__name__}")
    return vectors, config_name
