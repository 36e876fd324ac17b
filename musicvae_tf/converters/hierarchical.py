"""Helpers for hierarchical converters (nested segments padded into one flat tensor).

A hierarchical example is a nested list, e.g. [chunk][instrument] -> [events, depth]
one-hot array. With `max_lengths = [chunks, instruments, events]` it is padded to a
fixed shape and flattened: missing segments become a single end-token row, every
segment is zero-padded to `events` rows, and the segments are concatenated, giving
[chunks * instruments * events, depth]. Its `length` is then the vector of segment
lengths (before zero padding). Behaviour follows Magenta's MusicVAE hierarchical data
module.
"""

import note_seq
import numpy as np
from note_seq import performance_lib

from musicvae_tf.converters.base import (
    BaseNoteSequenceConverter,
    ConverterTensors,
    maybe_sample_items,
    np_onehot,
)


class TooLongError(Exception):
    """A nested list or array is longer than its maximum length."""


def flatten_nested(nested):
    """Leaves of nested lists/tuples in depth-first order (numpy arrays are leaves)."""
    if isinstance(nested, (list, tuple)):
        leaves = []
        for item in nested:
            leaves.extend(flatten_nested(item))
        return leaves
    return [nested]


def pad_with_element(nested_list, max_lengths, element):
    """Pads each level of `nested_list` to `max_lengths`, filling the lowest level with `element`.

    pad_with_element([[0, 1, 2], [3, 4]], [3, 4], 5) == [[0, 1, 2, 5], [3, 4, 5, 5], [5, 5, 5, 5]].
    Raises TooLongError when a level is already longer than allowed.
    """
    if not max_lengths:
        return nested_list
    missing = max_lengths[0] - len(nested_list)
    if missing < 0:
        raise TooLongError()
    if len(max_lengths) == 1:
        return list(nested_list) + [element] * missing
    return [pad_with_element(item, max_lengths[1:], element)
            for item in list(nested_list) + [[] for _ in range(missing)]]


def pad_with_value(array, length, pad_value):
    """Pads a 2-D array along its first axis to `length` rows of `pad_value`."""
    if array.shape[0] > length:
        raise TooLongError()
    return np.pad(array, ((0, length - array.shape[0]), (0, 0)), "constant",
                  constant_values=pad_value)


def remove_padding(max_lengths, samples, controls=None):
    """Reshapes flat [T, depth] samples (and controls) back to max_lengths + [depth]."""
    if not max_lengths:
        return samples, controls
    samples = [np.reshape(sample, list(max_lengths) + [-1]) for sample in samples]
    if controls is not None:
        controls = [np.reshape(control, list(max_lengths) + [-1]) for control in controls]
    return samples, controls


def _pad_and_flatten(example, max_lengths, end_token, depth):
    """Nested segments -> (flat [prod(max_lengths), depth] array, segment lengths)."""
    end_row = np_onehot([end_token], depth)
    segments = flatten_nested(pad_with_element(example, max_lengths[:-1], end_row))
    lengths = np.squeeze(np.array([len(segment) for segment in segments], np.int32))
    flat = np.concatenate([pad_with_value(segment, max_lengths[-1], 0) for segment in segments])
    return flat, lengths


def hierarchical_pad_tensors(tensors, sample_size, randomize, max_lengths, end_token,
                             input_depth, output_depth, control_depth, control_pad_token):
    """Samples examples of `tensors`, then pads and flattens each one (see module doc).

    Examples that exceed `max_lengths` anywhere are dropped. Without chord controls
    each example gets an empty [T, 0] control array.
    """
    examples = maybe_sample_items(list(zip(*tensors)), sample_size, randomize)
    if not examples:
        return ConverterTensors()
    if not max_lengths:
        return ConverterTensors(*zip(*examples))

    padded = []
    for inputs, outputs, controls, _ in examples:
        try:
            flat_inputs, lengths = _pad_and_flatten(inputs, max_lengths, end_token, input_depth)
            flat_outputs, _ = _pad_and_flatten(outputs, max_lengths, end_token, output_depth)
            if control_depth and len(flatten_nested(controls)):
                flat_controls, _ = _pad_and_flatten(
                    controls, max_lengths, control_pad_token, control_depth)
            else:
                flat_controls = np.zeros([len(flat_outputs), 0])
        except TooLongError:
            continue
        padded.append((flat_inputs, flat_outputs, flat_controls, lengths))
    if not padded:
        return ConverterTensors()
    return ConverterTensors(*zip(*padded))


def split_performance(performance, steps_per_segment, new_performance_fn, clip_tied_notes=False):
    """Cuts a (Metric)Performance into segments of `steps_per_segment` steps.

    At a boundary, note-offs stay in the segment that ends and everything else starts
    the next one; time shifts crossing a boundary are split. A trailing empty segment is
    dropped. With `clip_tied_notes`, notes held across a boundary are cut off by
    round-tripping each segment through a NoteSequence.

    new_performance_fn(quantized_sequence, start_step) makes an empty segment.
    """
    time_shift = performance_lib.PerformanceEvent.TIME_SHIFT
    note_off = performance_lib.PerformanceEvent.NOTE_OFF
    segments = []
    current = new_performance_fn(quantized_sequence=None, start_step=0)
    step = 0

    def start_next_segment():
        segments.append(current)
        return new_performance_fn(quantized_sequence=None,
                                  start_step=len(segments) * steps_per_segment)

    for event in performance:
        if event.event_type != time_shift:
            if step == steps_per_segment and event.event_type != note_off:
                current = start_next_segment()
                step = 0
            current.append(event)
        elif step + event.event_value <= steps_per_segment:
            current.append(event)
            step += event.event_value
        else:
            steps_left = steps_per_segment - step
            if steps_left > 0:
                current.append(performance_lib.PerformanceEvent(time_shift, steps_left))
            current = start_next_segment()
            step = 0
            remainder = event.event_value - steps_left
            if remainder > 0:
                current.append(performance_lib.PerformanceEvent(time_shift, remainder))
                step += remainder
    segments.append(current)

    if segments and segments[-1].num_steps == 0:
        segments = segments[:-1]

    if clip_tied_notes:
        for i, segment in enumerate(segments):
            sequence = segment.to_sequence()
            if isinstance(segment, performance_lib.MetricPerformance):
                quantized = note_seq.quantize_note_sequence(
                    sequence, steps_per_quarter=segment.steps_per_quarter)
            else:
                quantized = note_seq.quantize_note_sequence_absolute(
                    sequence, steps_per_second=segment.steps_per_second)
            segments[i] = new_performance_fn(quantized_sequence=quantized,
                                             start_step=segment.start_step)
            segments[i].set_length(steps_per_segment)
    return segments


class BaseHierarchicalNoteSequenceConverter(BaseNoteSequenceConverter):
    """Base for converters whose examples are nested and padded by `max_lengths`.

    With `max_lengths` (and not `flat_output`) each example's length is a vector of
    prod(max_lengths[:-1]) segment lengths.
    """

    def __init__(self, input_depth, input_dtype, output_depth, output_dtype,
                 control_depth=None, control_dtype=bool, control_pad_token=None,
                 end_token=None, max_lengths=None, presplit_on_time_changes=True,
                 max_tensors_per_notesequence=None, flat_output=False):
        self._control_pad_token = control_pad_token
        self._max_lengths = [] if max_lengths is None else list(max_lengths)
        if max_lengths and not flat_output:
            length_shape = (int(np.prod(max_lengths[:-1])),)
        else:
            length_shape = ()
        super().__init__(
            input_depth=input_depth, input_dtype=input_dtype,
            output_depth=output_depth, output_dtype=output_dtype,
            control_depth=control_depth, control_dtype=control_dtype,
            end_token=end_token, max_tensors_per_notesequence=max_tensors_per_notesequence,
            length_shape=length_shape, presplit_on_time_changes=presplit_on_time_changes)

    @property
    def max_lengths(self):
        return list(self._max_lengths)

    @property
    def control_pad_token(self):
        return self._control_pad_token
