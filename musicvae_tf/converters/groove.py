"""GrooVAE's drum representation: per 16th-note step and drum class, (hit, velocity, offset).

Drum notes are grouped into classes (by default the nine Roland pad classes). At every
quantized step each class contributes three numbers:
  hit       1 if the class plays at that step, else 0;
  velocity  the MIDI velocity / 127 (0 without a hit);
  offset    how far the played onset lies from the grid step, in steps, times 2, so that
            [-half a step, +half a step] becomes [-1, 1] (positive = played early).
When a class has several notes at one step the loudest one (first of equals) counts.

The default layout of one step is [hits(D), velocities(D), offsets(D)] for D classes.
With velocity/offset bins the velocities and offsets become one-hot blocks, and with
`split_instruments` every step is unrolled into D consecutive rows (one per class)
whose control channel says which class the row is for.

Behaviour and options are those of Magenta's MusicVAE GrooveConverter, including its
quirks (tapify takes the unmodified hit of the loudest remaining class; non-drum notes
are classed by pitch like drums). Deliberate differences, none of which changes what
Magenta produces for inputs it accepts:
  * notes whose pitch belongs to no class are ignored (Magenta raised KeyError);
  * a sequence without a tempo uses 120 qpm (Magenta raised IndexError);
  * decoding one-hot (binned) outputs without `split_instruments` decodes every step
    (Magenta decoded only the first 1/D of them);
  * decoded sequences get `total_time` set to the last note end.
"""

import collections

import note_seq
import numpy as np
from absl import logging
from note_seq import sequences_lib

from musicvae_tf.converters.base import (
    ROLAND_DRUM_PITCH_CLASSES,
    BaseNoteSequenceConverter,
    ConverterTensors,
    np_onehot,
)

# The tapify option collapses every step onto this class (open hi-hat in the default
# class orders).
TAP_DRUM_CLASS = 3
# All decoded drum notes go to this instrument (General MIDI drum channel).
DRUM_INSTRUMENT = 9
# A little headroom above the top bin edge so the maximum value lands in the last bin.
_BIN_EDGE_EPSILON = 0.0001

_QUANTIZATION_ERRORS = (
    note_seq.BadTimeSignatureError,
    note_seq.NonIntegerStepsPerBarError,
    note_seq.NegativeTimeError,
    note_seq.MultipleTimeSignatureError,
    note_seq.MultipleTempoError,
)


def _pitch_to_class(pitch_classes):
    mapping = {}
    for class_index, pitches in enumerate(pitch_classes):
        for pitch in pitches:
            mapping[pitch] = class_index
    return mapping


def _values_to_bins(values, min_value, max_value, num_bins):
    """[steps, drums] floats -> [steps, drums * num_bins] int32 one-hot bin memberships."""
    edges = np.linspace(min_value, max_value + _BIN_EDGE_EPSILON, num_bins)
    return np.array([
        np.concatenate(np_onehot(np.digitize(row, edges, right=True), num_bins, dtype=np.int32))
        for row in values])


def _sliding_windows(array, window_size, hop_size):
    return [array[start:start + window_size]
            for start in range(0, len(array) - window_size + 1, hop_size)]


class GrooveConverter(BaseNoteSequenceConverter):
    """Converts drum NoteSequences to and from (hit, velocity, offset) grids.

    Args:
      split_bars: if set, cut the grid into windows of this many bars (only full
        windows are kept); otherwise the whole sequence is one example.
      steps_per_quarter: grid steps per quarter note.
      quarters_per_bar: sequences with another bar length produce no examples.
      max_tensors_per_notesequence: stored for the data pipeline; like Magenta, this
        converter does not itself limit how many windows a sequence yields.
      pitch_classes: list of pitch lists, one per drum class (default: Roland classes).
      inference_pitch_classes: classes used in 'infer' mode (default: pitch_classes);
        must have as many classes as pitch_classes.
      humanize: zero all input velocities and offsets (the model learns to add them).
      tapify: put only the loudest hit of each step, on the tap class, into the inputs.
      add_instruments: class indices removed from the inputs (but kept in outputs).
      num_velocity_bins, num_offset_bins: if both set, velocities and offsets are
        one-hot bins instead of continuous values (set both or neither).
      split_instruments: one output row per (step, class), with a class control.
      hop_size: window hop in steps (default: the window size); needs split_bars.
      hits_as_controls: pass the true hits as controls.
      fixed_velocities: zero all input velocities.
      max_note_dropout_probability: if set, drop input hits at random: per sequence a
        probability p ~ U(0, max); each hit is dropped with p * max(0.2, 1 - velocity).
    """

    def __init__(self, split_bars=None, steps_per_quarter=4, quarters_per_bar=4,
                 max_tensors_per_notesequence=8, pitch_classes=None,
                 inference_pitch_classes=None, humanize=False, tapify=False,
                 add_instruments=None, num_velocity_bins=None, num_offset_bins=None,
                 split_instruments=False, hop_size=None, hits_as_controls=False,
                 fixed_velocities=False, max_note_dropout_probability=None):
        self._split_bars = split_bars
        self._steps_per_quarter = steps_per_quarter
        self._quarters_per_bar = quarters_per_bar
        self._steps_per_bar = steps_per_quarter * quarters_per_bar
        self._humanize = humanize
        self._tapify = tapify
        self._add_instruments = add_instruments
        self._fixed_velocities = fixed_velocities
        self._num_velocity_bins = num_velocity_bins
        self._num_offset_bins = num_offset_bins
        self._categorical_outputs = bool(num_velocity_bins and num_offset_bins)
        self._split_instruments = split_instruments
        self._hop_size = hop_size
        self._hits_as_controls = hits_as_controls
        self._max_note_dropout_probability = max_note_dropout_probability
        self._note_dropout = max_note_dropout_probability is not None

        self._pitch_classes = pitch_classes or ROLAND_DRUM_PITCH_CLASSES
        self._infer_pitch_classes = inference_pitch_classes or self._pitch_classes
        if len(self._pitch_classes) != len(self._infer_pitch_classes):
            raise ValueError(
                "pitch_classes and inference_pitch_classes must have the same number of classes, "
                f"got {len(self._pitch_classes)} and {len(self._infer_pitch_classes)}")
        self._pitch_class_map = _pitch_to_class(self._pitch_classes)
        self._infer_pitch_class_map = _pitch_to_class(self._infer_pitch_classes)
        self._num_drums = len(self._pitch_classes)

        if bool(num_velocity_bins) != bool(num_offset_bins):
            raise ValueError("num_velocity_bins and num_offset_bins must be set together (or neither)")
        if split_bars is None and hop_size is not None:
            raise ValueError("hop_size needs split_bars")
        if tapify and self._num_drums <= TAP_DRUM_CLASS:
            raise ValueError(f"tapify needs at least {TAP_DRUM_CLASS + 1} pitch classes")

        drums_per_row = 1 if split_instruments else self._num_drums
        if self._categorical_outputs:
            depth = drums_per_row * (1 + num_velocity_bins + num_offset_bins)
        else:
            depth = drums_per_row * 3

        control_depth = 0
        if hits_as_controls:
            control_depth += 1 if split_instruments else self._num_drums
        if split_instruments:
            control_depth += self._num_drums

        super().__init__(
            input_depth=depth, input_dtype=np.float32,
            output_depth=depth, output_dtype=np.float32,
            control_depth=control_depth, control_dtype=bool,
            end_token=False, presplit_on_time_changes=False,
            max_tensors_per_notesequence=max_tensors_per_notesequence)

    # -- description --------------------------------------------------------------------
    @property
    def pitch_classes(self):
        """Drum classes of the current mode (inference classes in 'infer' mode)."""
        return self._infer_pitch_classes if self.is_inferring else self._pitch_classes

    @property
    def pitch_class_map(self):
        """{pitch: class index} of the current mode."""
        return self._infer_pitch_class_map if self.is_inferring else self._pitch_class_map

    @property
    def num_drums(self):
        return self._num_drums

    @property
    def steps_per_bar(self):
        return self._steps_per_bar

    @property
    def split_instruments(self):
        return self._split_instruments

    @property
    def categorical_outputs(self):
        return self._categorical_outputs

    # -- NoteSequence -> tensors --------------------------------------------------------
    def to_tensors(self, note_sequence):
        # No time-change pre-split and no sampling: every full window is returned.
        return self._to_tensors_fn(note_sequence)

    def _quantize(self, note_sequence):
        try:
            quantized = sequences_lib.quantize_note_sequence(note_sequence, self._steps_per_quarter)
            if note_seq.steps_per_bar_in_quantized_sequence(quantized) != self._steps_per_bar:
                return None
        except _QUANTIZATION_ERRORS:
            return None
        return quantized

    def _feature_grids(self, quantized):
        """Returns (hits, velocities, offsets), each [steps, num_drums] float64."""
        qpm = quantized.tempos[0].qpm if quantized.tempos else note_seq.DEFAULT_QUARTERS_PER_MINUTE
        step_length = (60. / qpm) / quantized.quantization_info.steps_per_quarter

        class_map = self.pitch_class_map
        notes_by_step = collections.defaultdict(lambda: collections.defaultdict(list))
        for note in quantized.notes:
            drum = class_map.get(note.pitch)
            if drum is None:
                logging.log_first_n(logging.WARNING,
                                    "GrooveConverter: ignoring pitch %d (in no drum class)", 5, note.pitch)
                continue
            notes_by_step[int(note.quantized_start_step)][drum].append(note)

        max_start_step = max(note.quantized_start_step for note in quantized.notes)
        num_bars = int(np.ceil((max_start_step + 1) / self._steps_per_bar))
        num_steps = self._steps_per_bar * num_bars

        hits = np.zeros((num_steps, self._num_drums))
        velocities = np.zeros((num_steps, self._num_drums))
        offsets = np.zeros((num_steps, self._num_drums))
        for step, by_drum in notes_by_step.items():
            for drum, notes in by_drum.items():
                note = max(notes, key=lambda n: n.velocity)
                hits[step, drum] = 1.
                velocities[step, drum] = note.velocity / 127.
                grid_time = step_length * note.quantized_start_step
                offsets[step, drum] = (grid_time - note.start_time) / step_length * 2
        return hits, velocities, offsets

    def _to_tensors_fn(self, note_sequence):
        quantized = self._quantize(note_sequence)
        if quantized is None or not quantized.notes:
            return ConverterTensors()

        hits, velocities, offsets = self._feature_grids(quantized)
        num_steps = len(hits)
        in_hits, in_velocities, in_offsets = hits.copy(), velocities.copy(), offsets.copy()

        if self._note_dropout:
            probability = np.random.uniform(0.0, self._max_note_dropout_probability)
            # Quieter hits are dropped more often.
            drop_weights = np.maximum(0.2, 1 - in_velocities)
            keep = 1 - np.random.binomial(1, drop_weights * probability)
            in_hits *= keep
            in_velocities *= keep
            in_offsets *= keep

        if self._tapify:
            loudest = np.argmax(in_velocities, axis=1)
            rows = np.arange(num_steps)
            for grid in (in_hits, in_velocities, in_offsets):
                grid[:] = 0
            in_hits[:, TAP_DRUM_CLASS] = hits[rows, loudest]
            in_velocities[:, TAP_DRUM_CLASS] = velocities[rows, loudest]
            in_offsets[:, TAP_DRUM_CLASS] = offsets[rows, loudest]

        if self._humanize:
            in_velocities[:] = 0
            in_offsets[:] = 0
        if self._fixed_velocities:
            in_velocities[:] = 0
        if self._add_instruments:
            for grid in (in_hits, in_velocities, in_offsets):
                grid[:, self._add_instruments] = 0.

        if self._categorical_outputs:
            velocities = _values_to_bins(velocities, 0., 1., self._num_velocity_bins)
            in_velocities = _values_to_bins(in_velocities, 0., 1., self._num_velocity_bins)
            offsets = _values_to_bins(offsets, -1., 1., self._num_offset_bins)
            in_offsets = _values_to_bins(in_offsets, -1., 1., self._num_offset_bins)

        if self._split_instruments:
            rows = num_steps * self._num_drums
            hits, velocities, offsets, in_hits, in_velocities, in_offsets = (
                grid.reshape([rows, -1])
                for grid in (hits, velocities, offsets, in_hits, in_velocities, in_offsets))

        # float64, as Magenta's: from_tensors then gives back Magenta's times to the last bit.
        outputs = np.concatenate([hits, velocities, offsets], axis=1)
        inputs = np.concatenate([in_hits, in_velocities, in_offsets], axis=1)

        control_parts = []
        if self._hits_as_controls:
            control_parts.append(hits.astype(bool))
        if self._split_instruments:
            drum_ids = np_onehot(np.arange(self._num_drums), self._num_drums, bool)
            control_parts.append(np.tile(drum_ids, (num_steps, 1)))
        controls = np.concatenate(control_parts, axis=-1) if control_parts else None

        if self._split_bars:
            window = self._steps_per_bar * self._split_bars
            hop = self._hop_size or window
            if self._split_instruments:
                window *= self._num_drums
                hop *= self._num_drums
            outputs = _sliding_windows(outputs, window, hop)
            inputs = _sliding_windows(inputs, window, hop)
            if controls is not None:
                controls = _sliding_windows(controls, window, hop)
        else:
            outputs = [outputs]
            inputs = [inputs]
            if controls is not None:
                controls = [controls]
        return ConverterTensors(inputs=inputs, outputs=outputs, controls=controls)

    # -- tensors -> NoteSequence --------------------------------------------------------
    def _decode_row_group(self, rows):
        """Splits the rows of one time step into per-class (hits, velocities, offsets)."""
        num_drums = self._num_drums
        if self._categorical_outputs:
            if self._split_instruments:
                hits, velocities, offsets = np.split(rows, [1, self._num_velocity_bins + 1], axis=1)
                hits = hits[:, 0]
            else:
                row = rows[0]
                hits, velocities, offsets = np.split(
                    row, [num_drums, num_drums * (self._num_velocity_bins + 1)])
                velocities = np.split(velocities, num_drums)
                offsets = np.split(offsets, num_drums)
            velocities = [int((np.argmax(v) / len(v)) * 127) for v in velocities]
            offsets = [(np.argmax(o) / len(o)) - 0.5 for o in offsets]
        else:
            if self._split_instruments:
                hits, velocities, offsets = rows.T
            else:
                hits, velocities, offsets = np.split(rows[0], 3)
            velocities = np.clip(np.round(velocities * 127).astype(np.int64), 0, 127)
            offsets = np.clip(offsets / 2, -0.5, 0.5)
        return hits, velocities, offsets

    def from_tensors(self, samples, controls=None):
        """Decodes [T, depth] samples (hit > 0.5 makes a note) into drum NoteSequences at 120 qpm."""
        qpm = 120.
        step_length = (60. / qpm) / self._steps_per_quarter
        rows_per_step = self._num_drums if self._split_instruments else 1
        pitch_classes = self.pitch_classes
        sequences = []
        for sample in samples:
            sample = np.asarray(sample)
            sequence = note_seq.NoteSequence()
            sequence.tempos.add(qpm=qpm)
            for step in range(sample.shape[0] // rows_per_step):
                rows = sample[step * rows_per_step:(step + 1) * rows_per_step]
                hits, velocities, offsets = self._decode_row_group(rows)
                for drum in range(len(hits)):
                    if hits[drum] <= 0.5:
                        continue
                    start_time = (step - offsets[drum]) * step_length
                    sequence.notes.add(
                        pitch=pitch_classes[drum][0], velocity=int(velocities[drum]),
                        instrument=DRUM_INSTRUMENT, is_drum=True,
                        start_time=start_time, end_time=start_time + step_length)
            if sequence.notes:
                sequence.total_time = max(n.end_time for n in sequence.notes)
            sequences.append(sequence)
        return sequences
