"""Held-out examples for evaluation: a config's converter applied to a NoteSequence TFRecord.

    examples = load_examples(config, "folk_eval.tfrecord", max_examples=320)
    examples.outputs        # [n, max_seq_len, output_depth] float32, zero padded
    sequences = examples_to_note_sequences(config, examples)   # what a perfect model would write

Records are read in file order and converted with a copy of `config.data_converter` in 'eval'
mode (every example of every sequence, no random subsampling), so the first `max_examples`
examples are the same on every run and the same ones `data.get_dataset(is_training=False)` yields
first. Sequences are padded or truncated to `hparams.max_seq_len` and lengths clipped to it, as
the eval pipeline does.
"""

import collections
import copy

import numpy as np

from musicvae_tf.data.note_sequences import read_note_sequences, resolve_examples_path

HeldOutExamples = collections.namedtuple("HeldOutExamples", ["inputs", "outputs", "controls", "lengths"])
# inputs [n, T, input_depth], outputs [n, T, output_depth], controls [n, T, control_depth] (float32);
# lengths [n] (or [n] + converter.length_shape), int32; T = hparams.max_seq_len.


def _fit(sequence, total, depth):
    fitted = np.zeros([total, depth], np.float32)
    sequence = np.asarray(sequence, np.float32)[:total]
    if sequence.size:
        fitted[:len(sequence)] = sequence
    return fitted


def load_examples(config, examples_path, max_examples=None):
    """The first `max_examples` (None or 0: all) examples of the records at `examples_path`.

    `examples_path`: a TFRecord file of NoteSequences, a glob or a list of them. Raises
    FileNotFoundError when nothing matches, ValueError when the converter extracts no example.
    """
    files = resolve_examples_path(examples_path)
    converter = copy.deepcopy(config.data_converter)
    converter.set_mode("eval")
    total = int(config.hparams.max_seq_len)
    fields = {"inputs": [], "outputs": [], "controls": [], "lengths": []}
    for sequence in read_note_sequences(files):
        tensors = converter.to_tensors(sequence)
        for inputs, outputs, controls, length in zip(*tensors):
            fields["inputs"].append(_fit(inputs, total, converter.input_depth))
            fields["outputs"].append(_fit(outputs, total, converter.output_depth))
            fields["controls"].append(_fit(controls, total, converter.control_depth))
            fields["lengths"].append(np.minimum(np.asarray(length, np.int32), total))
            if max_examples and len(fields["lengths"]) >= max_examples:
                return _stack(fields)
    if not fields["lengths"]:
        raise ValueError(f"the {config.data_converter.__class__.__name__} of this config extracted no "
                         f"example from {', '.join(files)}")
    return _stack(fields)


def _stack(fields):
    return HeldOutExamples(np.stack(fields["inputs"]), np.stack(fields["outputs"]),
                           np.stack(fields["controls"]), np.stack(fields["lengths"]).astype(np.int32))


def step_mask(lengths, total):
    """[n, total] bool mask of the valid steps; lengths [n] or per segment [n, segments]."""
    lengths = np.asarray(lengths)
    if lengths.ndim == 1:
        return np.arange(total)[None, :] < lengths[:, None]
    segments = lengths.shape[1]
    if total % segments:
        raise ValueError(f"{total} steps do not split into {segments} equal segments")
    within = np.arange(total // segments)[None, None, :] < lengths[:, :, None]
    return within.reshape(len(lengths), total)


def tensors_to_note_sequences(config, tensors, lengths, controls=None):
    """NoteSequences of output tensors [n, T, output_depth] cut to their valid steps."""
    converter = copy.deepcopy(config.data_converter)
    converter.set_mode("infer")
    mask = step_mask(lengths, tensors.shape[1])
    samples = [np.asarray(tensor)[row_mask] for tensor, row_mask in zip(tensors, mask)]
    if converter.control_depth and controls is not None:
        return converter.from_tensors(samples, [np.asarray(c)[m] for c, m in zip(controls, mask)])
    return converter.from_tensors(samples)


def examples_to_note_sequences(config, examples):
    """The held-out targets as NoteSequences (decoded like model samples, for like-for-like features)."""
    return tensors_to_note_sequences(config, examples.outputs, examples.lengths, examples.controls)
