"""Melody + bass + drums trios <-> concatenated one-hot tensors (Magenta's TrioConverter).

Each instrument of a sequence is classed by program (melody 0-31, bass 32-39) or as
drums; every (melody, bass, drums) combination of instruments yields windows of
`slice_bars` bars where all three play (allowing `gap_bars` empty bars). A window's
tensor is [melody one-hot (90) | bass one-hot (90) | drums one-hot (512)] per step.
"""

import collections
import copy
import itertools

import note_seq
import numpy as np
from absl import logging

from musicvae_tf.converters.base import (
    BASS_PROGRAMS,
    CHORD_SYMBOL,
    ELECTRIC_BASS_PROGRAM,
    MAX_INSTRUMENT_NUMBER,
    MEL_PROGRAMS,
    BaseNoteSequenceConverter,
    ConverterTensors,
    extract_instrument,
)
from musicvae_tf.converters.drums import DrumsConverter, quantize_fixed_meter
from musicvae_tf.converters.melody import OneHotMelodyConverter

DRUMS_INSTRUMENT = 9
BASS_INSTRUMENT = 1


class TrioConverter(BaseNoteSequenceConverter):
    """Three-part (melody, bass, drums) multi-one-hot converter.

    Args:
      slice_bars: window length in bars.
      gap_bars: empty bars tolerated per instrument (on each side of a covered bar).
      max_bars: only the first max_bars bars of a sequence are used.
      steps_per_quarter, quarters_per_bar: quantization grid; other meters are skipped.
      max_tensors_per_notesequence: keep at most this many examples per sequence.
      chord_encoding, condition_on_key: chord/key conditioning taken from the melody part.
    """

    class InstrumentType:
        UNK = 0
        MEL = 1
        BASS = 2
        DRUMS = 3
        INVALID = 4

    def __init__(self, slice_bars=None, gap_bars=2, max_bars=1024, steps_per_quarter=4,
                 quarters_per_bar=4, max_tensors_per_notesequence=5, chord_encoding=None,
                 condition_on_key=False):
        self._melody_converter = OneHotMelodyConverter(
            gap_bars=None, steps_per_quarter=steps_per_quarter, pad_to_total_time=True,
            presplit_on_time_changes=False, max_tensors_per_notesequence=None,
            chord_encoding=chord_encoding, condition_on_key=condition_on_key)
        self._drums_converter = DrumsConverter(
            gap_bars=None, steps_per_quarter=steps_per_quarter, pad_to_total_time=True,
            presplit_on_time_changes=False, max_tensors_per_notesequence=None)
        self._slice_bars = slice_bars
        self._gap_bars = gap_bars
        self._max_bars = max_bars
        self._steps_per_quarter = steps_per_quarter
        self._steps_per_bar = steps_per_quarter * quarters_per_bar
        self._chord_encoding = chord_encoding
        self._condition_on_key = condition_on_key
        self._split_output_depths = (self._melody_converter.output_depth,
                                     self._melody_converter.output_depth,
                                     self._drums_converter.output_depth)
        depth = sum(self._split_output_depths)
        self._program_map = {p: self.InstrumentType.MEL for p in MEL_PROGRAMS}
        self._program_map.update({p: self.InstrumentType.BASS for p in BASS_PROGRAMS})
        super().__init__(
            input_depth=depth, input_dtype=bool, output_depth=depth, output_dtype=bool,
            control_depth=self._melody_converter.control_depth,
            control_dtype=self._melody_converter.control_dtype, end_token=False,
            presplit_on_time_changes=True,
            max_tensors_per_notesequence=max_tensors_per_notesequence)

    @property
    def split_output_depths(self):
        return self._split_output_depths

    def _maybe_infer_chords(self, note_sequence, quantized):
        """Infers chords/keys when conditioning needs them; copies them to the unquantized
        sequence (the parts are extracted from it). Returns False if inference fails."""
        has_chords = any(ta.annotation_type == CHORD_SYMBOL for ta in quantized.text_annotations)
        if not ((self._chord_encoding and not has_chords)
                or (self._condition_on_key and not quantized.key_signatures)):
            return True
        try:
            note_seq.infer_chords_for_sequence(quantized,
                                               add_key_signatures=self._condition_on_key)
        except note_seq.ChordInferenceError:
            return False
        for annotation in quantized.text_annotations:
            if annotation.annotation_type == CHORD_SYMBOL:
                added = note_sequence.text_annotations.add()
                added.annotation_type = CHORD_SYMBOL
                added.time = annotation.time
                added.text = annotation.text
        for key in quantized.key_signatures:
            added = note_sequence.key_signatures.add()
            added.time = key.time
            added.key = key.key
        return True

    def _classify_instruments(self, quantized, total_bars):
        """Per-instrument type and [total_bars, instruments] bar coverage."""
        instrument_type = np.zeros(MAX_INSTRUMENT_NUMBER + 1, np.uint8)
        coverage = np.zeros((total_bars, MAX_INSTRUMENT_NUMBER + 1), bool)
        for note in quantized.notes:
            i = note.instrument
            if i > MAX_INSTRUMENT_NUMBER:
                logging.warning("Skipping invalid instrument number: %d", i)
                continue
            if note.is_drum:
                kind = self.InstrumentType.DRUMS
            else:
                kind = self._program_map.get(note.program, self.InstrumentType.INVALID)
            if not instrument_type[i]:
                instrument_type[i] = kind
            elif instrument_type[i] != kind:
                instrument_type[i] = self.InstrumentType.INVALID
            start_bar = note.quantized_start_step // self._steps_per_bar
            end_bar = int(np.ceil(note.quantized_end_step / self._steps_per_bar))
            if start_bar < total_bars:
                coverage[start_bar:min(end_bar, total_bars), i] = True
        return instrument_type, coverage

    def _to_tensors_fn(self, note_sequence):
        # Chords and total_time get written below; keep the caller's sequence intact.
        note_sequence = copy.deepcopy(note_sequence)
        quantized = quantize_fixed_meter(note_sequence, self._steps_per_quarter,
                                         self._steps_per_bar)
        if quantized is None or not self._maybe_infer_chords(note_sequence, quantized):
            return ConverterTensors()

        total_bars = int(np.ceil(quantized.total_quantized_steps / self._steps_per_bar))
        total_bars = min(total_bars, self._max_bars)
        instrument_type, coverage = self._classify_instruments(quantized, total_bars)

        by_type = collections.defaultdict(list)
        for i, kind in enumerate(instrument_type):
            if kind not in (self.InstrumentType.UNK, self.InstrumentType.INVALID):
                by_type[kind].append(i)
        if len(by_type) < 3:
            return ConverterTensors()
        mel, bass, drums = (by_type[self.InstrumentType.MEL], by_type[self.InstrumentType.BASS],
                            by_type[self.InstrumentType.DRUMS])

        # Every part is padded to the whole (bar-rounded) sequence.
        note_sequence.total_time = (total_bars * self._steps_per_bar * 60
                                    / note_sequence.tempos[0].qpm / self._steps_per_quarter)
        encoded = {}
        encoded_controls = None
        for i in mel + bass:
            tensors = self._melody_converter.to_tensors(extract_instrument(note_sequence, i))
            if tensors.outputs:
                encoded[i] = tensors.outputs[0]
                if encoded_controls is None:
                    encoded_controls = tensors.controls[0]
                elif not np.array_equal(encoded_controls, tensors.controls[0]):
                    logging.warning("Trio controls disagreement between instruments.")
            else:
                coverage[:, i] = False
        for i in drums:
            tensors = self._drums_converter.to_tensors(extract_instrument(note_sequence, i))
            if tensors.outputs:
                encoded[i] = tensors.outputs[0]
            else:
                coverage[:, i] = False

        # A bar counts as covered when the instrument plays within gap_bars of it.
        played = coverage.copy()
        for j in range(total_bars):
            coverage[j] = np.any(
                played[max(0, j - self._gap_bars):min(total_bars, j + self._gap_bars) + 1],
                axis=0)

        seqs, control_seqs = [], []
        for group in itertools.product(mel, bass, drums):
            group = list(group)
            group_coverage = np.all(coverage[:, group], axis=1)
            # Near either end, one instrument of the group covering is enough.
            group_coverage[:self._gap_bars] = np.any(coverage[:self._gap_bars, group])
            group_coverage[-self._gap_bars:] = np.any(coverage[-self._gap_bars:, group])
            for j in range(total_bars - self._slice_bars + 1):
                if np.all(group_coverage[j:j + self._slice_bars]) and all(
                        i in encoded for i in group):
                    start = j * self._steps_per_bar
                    end = (j + self._slice_bars) * self._steps_per_bar
                    seqs.append(np.concatenate([encoded[i][start:end] for i in group], axis=-1))
                    if encoded_controls is not None:
                        control_seqs.append(encoded_controls[start:end])
        return ConverterTensors(inputs=seqs, outputs=seqs, controls=control_seqs)

    def from_tensors(self, samples, controls=None):
        """Decodes [T, 692] samples: melody (instrument 0), bass (instrument 1, program 33)
        and drums (instrument 9) in one NoteSequence each."""
        sequences = []
        bounds = np.cumsum(self._split_output_depths)
        for i, sample in enumerate(samples):
            mel_ns = self._melody_converter.from_tensors(
                [sample[:, :bounds[0]]], [controls[i]] if controls is not None else None)[0]
            bass_ns = self._melody_converter.from_tensors([sample[:, bounds[0]:bounds[1]]])[0]
            drums_ns = self._drums_converter.from_tensors([sample[:, bounds[1]:]])[0]
            for note in bass_ns.notes:
                note.instrument = BASS_INSTRUMENT
                note.program = ELECTRIC_BASS_PROGRAM
            for note in drums_ns.notes:
                note.instrument = DRUMS_INSTRUMENT
            mel_ns.notes.extend(bass_ns.notes)
            mel_ns.notes.extend(drums_ns.notes)
            mel_ns.total_time = max(mel_ns.total_time, bass_ns.total_time, drums_ns.total_time)
            sequences.append(mel_ns)
        return sequences
