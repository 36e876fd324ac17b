"""Monophonic melody <-> one-hot tensors (Magenta's OneHotMelodyConverter).

`EventListOneHotConverter` is the generic machinery (quantize, extract event lists,
slice, dedupe, sample, one-hot encode, optional chord/key controls) that Magenta calls
`LegacyEventListOneHotConverter`; `OneHotMelodyConverter` specialises it to melodies.

Melody events per step (note_seq.MelodyOneHotEncoding): 0 = no event (hold),
1 = note off, 2.. = note on for pitches min_pitch..max_pitch; with `add_end_token` one
more class marks the end.
"""

import copy
import functools
import hashlib

import note_seq
import numpy as np
from note_seq import chords_lib

from musicvae_tf.converters.base import (
    CHORD_SYMBOL,
    OUTPUT_VELOCITY,
    PIANO_MAX_MIDI_PITCH,
    PIANO_MIN_MIDI_PITCH,
    BaseNoteSequenceConverter,
    ConverterTensors,
    maybe_sample_items,
    np_onehot,
)
from musicvae_tf.converters.extraction import extract_melodies

_NUM_KEYS = 12


def _stable_order(item):
    """A sort key that scatters slices like a hash but is the same in every process."""
    return hashlib.blake2b(repr(item).encode(), digest_size=8).digest()


class EventListOneHotConverter(BaseNoteSequenceConverter):
    """Converts NoteSequences through a note_seq one-hot event encoding.

    Args:
      event_list_fn: returns a new, empty event sequence (used when decoding).
      event_extractor_fn: quantized NoteSequence -> (list of event sequences, stats).
      legacy_encoder_decoder: a note_seq OneHotEncoding for single events; used for both
        inputs and outputs.
      add_end_token: append an end-of-sequence class.
      slice_bars / slice_steps: window (bars or steps, at most one) slid bar by bar over
        each extracted event list.
      steps_per_quarter / steps_per_second: exactly one; metric or absolute quantization.
      quarters_per_bar: quarter notes per bar; sequences with another bar length are skipped.
      pad_to_total_time: pad every event list to span the whole sequence.
      max_tensors_per_notesequence: keep at most this many examples per sequence.
      presplit_on_time_changes: split sequences at tempo/time-signature changes first.
      chord_encoding: a note_seq chord OneHotEncoding to condition on chords, or None.
      condition_on_key: also condition on the key (12-way one-hot after the chords).
      dedupe_event_lists: drop duplicate slices (with identical chords/keys).
    """

    def __init__(self, event_list_fn, event_extractor_fn, legacy_encoder_decoder,
                 add_end_token=False, slice_bars=None, slice_steps=None, steps_per_quarter=None,
                 steps_per_second=None, quarters_per_bar=4, pad_to_total_time=False,
                 max_tensors_per_notesequence=None, presplit_on_time_changes=True,
                 chord_encoding=None, condition_on_key=False, dedupe_event_lists=True):
        if (steps_per_quarter is None) == (steps_per_second is None):
            raise ValueError("Give exactly one of steps_per_quarter and steps_per_second.")
        if slice_bars is not None and slice_steps is not None:
            raise ValueError("Give at most one of slice_bars and slice_steps.")
        self._event_list_fn = event_list_fn
        self._event_extractor_fn = event_extractor_fn
        self._legacy_encoder_decoder = legacy_encoder_decoder
        self._chord_encoding = chord_encoding
        self._condition_on_key = condition_on_key
        self._steps_per_quarter = steps_per_quarter
        self._steps_per_second = steps_per_second
        self._steps_per_bar = steps_per_quarter * quarters_per_bar if steps_per_quarter else None
        self._slice_steps = self._steps_per_bar * slice_bars if slice_bars else slice_steps
        self._pad_to_total_time = pad_to_total_time
        self._dedupe_event_lists = dedupe_event_lists

        depth = legacy_encoder_decoder.num_classes + int(bool(add_end_token))
        control_depth = ((chord_encoding.num_classes if chord_encoding is not None else 0)
                         + (_NUM_KEYS if condition_on_key else 0))
        super().__init__(
            input_depth=depth, input_dtype=bool, output_depth=depth, output_dtype=bool,
            control_depth=control_depth, control_dtype=bool,
            end_token=legacy_encoder_decoder.num_classes if add_end_token else None,
            presplit_on_time_changes=presplit_on_time_changes,
            max_tensors_per_notesequence=max_tensors_per_notesequence)

    @property
    def steps_per_bar(self):
        """Steps per bar of the metric grid (None with absolute quantization)."""
        return self._steps_per_bar

    @property
    def steps_per_quarter(self):
        """Steps per quarter note of the metric grid (None with absolute quantization)."""
        return self._steps_per_quarter

    # -- encoding -----------------------------------------------------------------------
    def _quantize(self, note_sequence):
        """Quantized copy of the sequence, or None when it cannot be used."""
        try:
            if self._steps_per_quarter:
                quantized = note_seq.quantize_note_sequence(note_sequence, self._steps_per_quarter)
                if note_seq.steps_per_bar_in_quantized_sequence(quantized) != self._steps_per_bar:
                    return None
                return quantized
            return note_seq.quantize_note_sequence_absolute(note_sequence, self._steps_per_second)
        except (note_seq.BadTimeSignatureError, note_seq.NonIntegerStepsPerBarError,
                note_seq.NegativeTimeError):
            return None

    def _slice(self, event_lists):
        if not self._slice_steps:
            return list(event_lists)
        sliced = []
        for events in event_lists:
            for end in range(self._slice_steps, len(events) + 1, self._steps_per_bar):
                sliced.append(events[end - self._slice_steps:end])
        return sliced

    def _dedupe_and_sample(self, all_sliced_lists):
        """Dedupes (events, chords, keys) slices jointly and samples them.

        `all_sliced_lists` holds one list of slices per stream (events, then optionally
        chords and keys). Returns the same structure, restricted to the kept slices.
        """
        # One tuple per slice whose items are per-step tuples (event, chord, key); the
        # exact nesting matters because the set below orders items by their hashes.
        per_step_tuples = [tuple(zip(*streams)) for streams in zip(*all_sliced_lists)]
        if self._dedupe_event_lists:
            kept = list(set(per_step_tuples))
            if self._chord_encoding:
                # Chord symbols are strings, whose hashes (and so this set's order, and which slices
                # "the first max_tensors_per_notesequence" are) change with every process in
                # Magenta. An order that is as arbitrary but the same in every run makes chord
                # datasets and their figures reproducible.
                kept.sort(key=_stable_order)
        else:
            kept = per_step_tuples
        kept = maybe_sample_items(kept, self.max_tensors_per_notesequence, self.is_training)
        if not kept:
            return []
        return list(zip(*[tuple(zip(*slice_steps)) for slice_steps in kept if slice_steps]))

    def _controls_for(self, chord_tuples, key_tuples):
        """One-hot control arrays (chords, then keys) per slice; [] if a chord can't be encoded."""
        n = max(len(chord_tuples), len(key_tuples))
        control_seqs = []
        for i in range(n):
            parts = []
            if i < len(chord_tuples):
                try:
                    tokens = [self._chord_encoding.encode_event(c) for c in chord_tuples[i]]
                    if self.end_token:
                        # The end step repeats the last chord (N.C. when there is none).
                        tokens.append(tokens[-1] if tokens else
                                      self._chord_encoding.encode_event(note_seq.NO_CHORD))
                except (note_seq.ChordSymbolError, note_seq.ChordEncodingError):
                    return []
                parts.append(np_onehot(tokens, self._chord_encoding.num_classes,
                                       self.control_dtype))
            if i < len(key_tuples):
                keys = list(key_tuples[i])
                if self.end_token:
                    keys.append(keys[-1] if keys else np.random.choice(range(_NUM_KEYS)))
                parts.append(np_onehot(keys, _NUM_KEYS, self.control_dtype))
            control_seqs.append(np.concatenate(parts, axis=1))
        return control_seqs

    def _to_tensors_fn(self, note_sequence):
        quantized = self._quantize(note_sequence)
        if quantized is None:
            return ConverterTensors()

        has_chords = any(ta.annotation_type == CHORD_SYMBOL for ta in quantized.text_annotations)
        if ((self._chord_encoding and not has_chords)
                or (self._condition_on_key and not quantized.key_signatures)):
            try:
                note_seq.infer_chords_for_sequence(
                    quantized, add_key_signatures=self._condition_on_key)
            except note_seq.ChordInferenceError:
                return ConverterTensors()

        event_lists, _ = self._event_extractor_fn(quantized)
        if self._pad_to_total_time:
            for events in event_lists:
                events.set_length(len(events) + events.start_step, from_left=True)
                events.set_length(quantized.total_quantized_steps)
        sliced_event_lists = self._slice(event_lists)

        # Chords and keys join the dedupe so one melody slice over two different chord
        # progressions gives two examples.
        all_sliced_lists = [sliced_event_lists]
        if self._chord_encoding:
            try:
                all_sliced_lists.append(
                    chords_lib.event_list_chords(quantized, sliced_event_lists))
            except chords_lib.CoincidentChordsError:
                return ConverterTensors()
        if self._condition_on_key:
            if self._steps_per_second:
                steps_per_second = self._steps_per_second
            else:
                steps_per_second = self._steps_per_quarter * quantized.tempos[0].qpm / 60.0
            all_sliced_lists.append(
                chords_lib.event_list_keys(quantized, sliced_event_lists, steps_per_second))

        kept = self._dedupe_and_sample(all_sliced_lists)
        if not kept:
            return ConverterTensors()
        event_tuples = kept[0]
        control_seqs = []
        if self._chord_encoding or self._condition_on_key:
            control_seqs = self._controls_for(
                kept[1] if self._chord_encoding else [],
                kept[-1] if self._condition_on_key else [])
            if not control_seqs:
                return ConverterTensors()

        end = [] if self.end_token is None else [self.end_token]
        seqs = [np_onehot([self._legacy_encoder_decoder.encode_event(e) for e in events] + end,
                          self.output_depth, self.output_dtype)
                for events in event_tuples]
        return ConverterTensors(inputs=seqs, outputs=seqs, controls=control_seqs)

    # -- decoding -----------------------------------------------------------------------
    def from_tensors(self, samples, controls=None):
        """Decodes one-hot (or logit) samples [T, depth] into NoteSequences.

        Decoding stops at the first end token. With `controls`, the chords (and keys)
        are written back as annotations at each step.
        """
        sequences = []
        for i, sample in enumerate(samples):
            labels = np.argmax(sample, axis=-1).tolist()
            end_index = len(labels)
            if self.end_token is not None and self.end_token in labels:
                end_index = labels.index(self.end_token)
            events = self._event_list_fn()
            for label in labels[:end_index]:
                events.append(self._legacy_encoder_decoder.decode_event(label))
            if self._steps_per_quarter:
                qpm = note_seq.DEFAULT_QUARTERS_PER_MINUTE
                seconds_per_step = 60.0 / (self._steps_per_quarter * qpm)
                sequence = events.to_sequence(velocity=OUTPUT_VELOCITY, qpm=qpm)
            else:
                seconds_per_step = 1.0 / self._steps_per_second
                sequence = events.to_sequence(velocity=OUTPUT_VELOCITY)
            if controls is not None:
                step_times = [step * seconds_per_step for step in events.steps]
                if self._chord_encoding:
                    # Magenta reads chords from all but the last 12 control columns even
                    # when no key is present; kept as is for identical decoding.
                    chord_labels = np.argmax(controls[i][:, :-_NUM_KEYS], axis=-1)[:end_index]
                    chords = [self._chord_encoding.decode_event(c) for c in chord_labels]
                    chords_lib.add_chords_to_sequence(sequence, chords, step_times)
                if self._condition_on_key:
                    keys = np.argmax(controls[i][:, -_NUM_KEYS:], axis=-1)[:end_index]
                    chords_lib.add_keys_to_sequence(sequence, keys, step_times)
            sequences.append(sequence)
        return sequences


class OneHotMelodyConverter(EventListOneHotConverter):
    """Melodies as one-hot event sequences, optionally conditioned on chords / key.

    Args:
      min_pitch, max_pitch: modelled pitch range (inclusive); other notes are dropped.
      valid_programs: optional collection of MIDI programs to keep.
      skip_polyphony: if True, instruments with simultaneous onsets are skipped; if False
        the highest note is taken.
      max_bars: truncate extracted melodies to this many bars (before slicing).
      slice_bars: window length in bars slid over each melody.
      gap_bars: this many silent bars end a melody (0/None: never).
      steps_per_quarter, quarters_per_bar: quantization grid; other meters are skipped.
      add_end_token, pad_to_total_time, max_tensors_per_notesequence,
      presplit_on_time_changes, chord_encoding, condition_on_key, dedupe_event_lists:
        as for `EventListOneHotConverter`.
    """

    def __init__(self, min_pitch=PIANO_MIN_MIDI_PITCH, max_pitch=PIANO_MAX_MIDI_PITCH,
                 valid_programs=None, skip_polyphony=False, max_bars=None, slice_bars=None,
                 gap_bars=1.0, steps_per_quarter=4, quarters_per_bar=4, add_end_token=False,
                 pad_to_total_time=False, max_tensors_per_notesequence=5,
                 presplit_on_time_changes=True, chord_encoding=None, condition_on_key=False,
                 dedupe_event_lists=True):
        self._min_pitch = min_pitch
        self._max_pitch = max_pitch
        self._valid_programs = valid_programs
        steps_per_bar = steps_per_quarter * quarters_per_bar
        self._melody_fn = functools.partial(
            note_seq.Melody, steps_per_bar=steps_per_bar, steps_per_quarter=steps_per_quarter)
        self._melody_encoding = note_seq.MelodyOneHotEncoding(min_pitch, max_pitch + 1)
        extractor = functools.partial(
            extract_melodies, min_bars=1, gap_bars=gap_bars or float("inf"),
            max_steps_truncate=steps_per_bar * max_bars if max_bars else None,
            min_unique_pitches=1, ignore_polyphonic_notes=not skip_polyphony, pad_end=True)
        super().__init__(
            self._melody_fn, extractor, self._melody_encoding, add_end_token=add_end_token,
            slice_bars=slice_bars, pad_to_total_time=pad_to_total_time,
            steps_per_quarter=steps_per_quarter, quarters_per_bar=quarters_per_bar,
            max_tensors_per_notesequence=max_tensors_per_notesequence,
            presplit_on_time_changes=presplit_on_time_changes, chord_encoding=chord_encoding,
            condition_on_key=condition_on_key, dedupe_event_lists=dedupe_event_lists)

    @property
    def melody_fn(self):
        return self._melody_fn

    @property
    def melody_encoding(self):
        return self._melody_encoding

    def _keeps(self, note):
        if self._valid_programs is not None and note.program not in self._valid_programs:
            return False
        return self._min_pitch <= note.pitch <= self._max_pitch

    def _to_tensors_fn(self, note_sequence):
        # Work on a copy: the caller's sequence keeps all its notes.
        filtered = copy.deepcopy(note_sequence)
        del filtered.notes[:]
        filtered.notes.extend(n for n in note_sequence.notes if self._keeps(n))
        return super()._to_tensors_fn(filtered)
