"""Drum tracks <-> tensors (Magenta's DrumsConverter).

Drum pitches are first mapped to classes (`pitch_classes`: 9 reduced or 61 full General
MIDI classes, or any grouping). Each step is then either
- one-hot over all 2**num_classes combinations of classes hit at that step
  (note_seq.MultiDrumOneHotEncoding), or
- a "roll": one bit per class (note_seq.PianorollEncoderDecoder); as an input, the
  roll gets a final bit that is set when no class is hit.
An optional end token adds one class (one-hot) or one bit (roll) after the others.
"""

import functools

import note_seq
import numpy as np

from musicvae_tf.converters.base import (
    OUTPUT_VELOCITY,
    REDUCED_DRUM_PITCH_CLASSES,
    BaseNoteSequenceConverter,
    ConverterTensors,
    maybe_sample_items,
    np_onehot,
)
from musicvae_tf.converters.extraction import extract_drum_tracks


def quantize_fixed_meter(note_sequence, steps_per_quarter, steps_per_bar):
    """Quantized copy of `note_sequence`, or None if it can't be quantized or its bar
    length in steps differs from `steps_per_bar`."""
    try:
        quantized = note_seq.quantize_note_sequence(note_sequence, steps_per_quarter)
    except (note_seq.BadTimeSignatureError, note_seq.NonIntegerStepsPerBarError,
            note_seq.NegativeTimeError):
        return None
    if note_seq.steps_per_bar_in_quantized_sequence(quantized) != steps_per_bar:
        return None
    return quantized


class DrumsConverter(BaseNoteSequenceConverter):
    """Drum tracks as one-hot or roll tensors.

    Args:
      max_bars: truncate extracted drum tracks to this many bars (before slicing).
      slice_bars: window length in bars slid bar by bar over each track.
      gap_bars: this many bars without drums end a track (0/None: never).
      pitch_classes: list of lists of MIDI pitches, one list per class; the first pitch
        of each class is used when decoding. Defaults to REDUCED_DRUM_PITCH_CLASSES.
      add_end_token: append an end step.
      steps_per_quarter, quarters_per_bar: quantization grid; other meters are skipped.
      pad_to_total_time: pad every track to span the whole sequence.
      roll_input / roll_output: use the roll encoding for inputs / outputs.
      max_tensors_per_notesequence: keep at most this many examples per sequence.
      presplit_on_time_changes: split sequences at tempo/time-signature changes first.
    """

    def __init__(self, max_bars=None, slice_bars=None, gap_bars=1.0, pitch_classes=None,
                 add_end_token=False, steps_per_quarter=4, quarters_per_bar=4,
                 pad_to_total_time=False, roll_input=False, roll_output=False,
                 max_tensors_per_notesequence=5, presplit_on_time_changes=True):
        self._pitch_classes = pitch_classes or REDUCED_DRUM_PITCH_CLASSES
        self._pitch_class_map = {}
        for class_index, pitches in enumerate(self._pitch_classes):
            for pitch in pitches:
                self._pitch_class_map[pitch] = class_index
        self._steps_per_quarter = steps_per_quarter
        self._steps_per_bar = steps_per_quarter * quarters_per_bar
        self._slice_steps = self._steps_per_bar * slice_bars if slice_bars else None
        self._pad_to_total_time = pad_to_total_time
        self._roll_input = roll_input
        self._roll_output = roll_output
        self._drums_extractor_fn = functools.partial(
            extract_drum_tracks, min_bars=1, gap_bars=gap_bars or float("inf"),
            max_steps_truncate=self._steps_per_bar * max_bars if max_bars else None,
            pad_end=True)

        num_classes = len(self._pitch_classes)
        end = int(bool(add_end_token))
        self._pr_encoder_decoder = note_seq.PianorollEncoderDecoder(input_size=num_classes + end)
        # Notes already carry class indices, so each "drum type" is one class.
        self._oh_encoder_decoder = note_seq.MultiDrumOneHotEncoding(
            drum_type_pitches=[(i,) for i in range(num_classes)])
        one_hot_depth = self._oh_encoder_decoder.num_classes + end
        output_depth = num_classes + end if roll_output else one_hot_depth
        input_depth = num_classes + 1 + end if roll_input else one_hot_depth
        super().__init__(
            input_depth=input_depth, input_dtype=bool, output_depth=output_depth,
            output_dtype=bool, end_token=output_depth - 1 if add_end_token else None,
            presplit_on_time_changes=presplit_on_time_changes,
            max_tensors_per_notesequence=max_tensors_per_notesequence)

    @property
    def pitch_classes(self):
        return self._pitch_classes

    def _roll(self, events):
        """[len, classes(+end)] bool roll of a tuple of frozensets of class indices."""
        if self.end_token is not None:
            events = list(events) + [(self._pr_encoder_decoder.input_size - 1,)]
        return np.vstack([self._pr_encoder_decoder.events_to_input(events, i).astype(bool)
                          for i in range(len(events))])

    def _one_hot(self, events):
        labels = [self._oh_encoder_decoder.encode_event(e) for e in events]
        if self.end_token is not None:
            labels.append(self._oh_encoder_decoder.num_classes)
        return np_onehot(labels, self._oh_encoder_decoder.num_classes
                         + (self.end_token is not None), bool)

    def _to_tensors_fn(self, note_sequence):
        quantized = quantize_fixed_meter(note_sequence, self._steps_per_quarter,
                                         self._steps_per_bar)
        if quantized is None:
            return ConverterTensors()

        # Keep drum notes of known pitches, relabelled with their class index.
        drum_notes = []
        for note in quantized.notes:
            if note.is_drum and note.pitch in self._pitch_class_map:
                note.pitch = self._pitch_class_map[note.pitch]
                drum_notes.append(note)
        del quantized.notes[:]
        quantized.notes.extend(drum_notes)

        tracks, _ = self._drums_extractor_fn(quantized)
        if self._pad_to_total_time:
            for track in tracks:
                track.set_length(len(track) + track.start_step, from_left=True)
                track.set_length(quantized.total_quantized_steps)
        if self._slice_steps:
            slices = [tuple(track[end - self._slice_steps:end])
                      for track in tracks
                      for end in range(self._slice_steps, len(track) + 1, self._steps_per_bar)]
        else:
            slices = [tuple(track) for track in tracks]

        # Dedupe through a set (its order is Magenta's: frozensets of ints hash stably).
        unique = maybe_sample_items(list(set(slices)), self.max_tensors_per_notesequence,
                                    self.is_training)
        rolls = [self._roll(t) for t in unique] if (self._roll_input or self._roll_output) else []
        one_hots = ([self._one_hot(t) for t in unique]
                    if not (self._roll_input and self._roll_output) else [])
        if self._roll_input:
            inputs = [np.append(roll, np.all(roll == 0, axis=1)[:, np.newaxis], axis=1)
                      for roll in rolls]
        else:
            inputs = one_hots
        outputs = rolls if self._roll_output else one_hots
        return ConverterTensors(inputs=inputs, outputs=outputs)

    def from_tensors(self, samples, unused_controls=None):
        """Decodes one-hot/roll samples into drum NoteSequences (first pitch of each class)."""
        sequences = []
        for sample in samples:
            if self._roll_output:
                if self.end_token is not None:
                    end_steps = np.where(sample[:, self.end_token])[0]
                    if len(end_steps):
                        sample = sample[:end_steps[0]]
                events = [frozenset(np.where(step)[0]) for step in sample]
            else:
                labels = np.argmax(sample, axis=-1).tolist()
                if self.end_token is not None and self.end_token in labels:
                    labels = labels[:labels.index(self.end_token)]
                events = [self._oh_encoder_decoder.decode_event(label) for label in labels]
            events = [frozenset(self._pitch_classes[c][0] for c in step) for step in events]
            track = note_seq.DrumTrack(events=events, steps_per_bar=self._steps_per_bar,
                                       steps_per_quarter=self._steps_per_quarter)
            sequences.append(track.to_sequence(velocity=OUTPUT_VELOCITY))
        return sequences
