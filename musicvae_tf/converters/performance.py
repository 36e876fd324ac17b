"""Multi-instrument performances as hierarchical one-hot tensors (Magenta's hier-multiperf).

A NoteSequence is cut into pieces of `hop_size_bars` bars. In each piece every
instrument becomes a metric performance (NOTE_ON / NOTE_OFF / TIME_SHIFT / VELOCITY
events at `steps_per_quarter` steps per quarter), the tracks are sorted by (is_drum,
program) and each track is cut into chunks of `chunk_size_bars` bars. A track chunk
is encoded as [program token, events..., end token]; program tokens follow the
performance event classes (one per MIDI program, plus one for drums) and the end token
comes last, so depth = event classes + 129 + 1. Examples are padded hierarchically to
[chunks, max_num_instruments, max_events_per_instrument] (see `hierarchical`).

Optional chord conditioning gives every event (and the program and end tokens) a
one-hot chord control.

Behaviour and options follow Magenta's MusicVAE MultiInstrumentPerformanceConverter.
Deliberate differences, none affecting the tensors of accepted sequences: without chord
conditioning the (empty) controls have as many rows as the inputs; decoding a chord-
conditioned sample without any events gives no chords instead of failing; a piece with
an instrument that mixes programs is skipped instead of failing.

A quirk kept from Magenta: a track chunk without any note (inside a multi-chunk hop)
is re-read from an empty sequence and so gets the drum program token.
"""

import random

import note_seq
import numpy as np
from note_seq import chords_lib
from note_seq import performance_lib

from musicvae_tf.converters.base import CHORD_SYMBOL, ConverterTensors, np_onehot
from musicvae_tf.converters.hierarchical import (
    BaseHierarchicalNoteSequenceConverter,
    hierarchical_pad_tensors,
    remove_padding,
    split_performance,
)

# One program token per MIDI program plus one shared by all drum tracks.
NUM_PROGRAMS = note_seq.MAX_MIDI_PROGRAM - note_seq.MIN_MIDI_PROGRAM + 1
NUM_PROGRAM_TOKENS = NUM_PROGRAMS + 1

_QUANTIZATION_ERRORS = (
    note_seq.BadTimeSignatureError,
    note_seq.NonIntegerStepsPerBarError,
    note_seq.NegativeTimeError,
)


def extract_instrument_performances(quantized_sequence, num_velocity_bins, max_steps_truncate=None):
    """One MetricPerformance per instrument of a metrically quantized sequence.

    Instruments are visited in the iteration order of a Python set of their numbers
    (as Magenta did); performances longer than `max_steps_truncate` are cut.
    """
    performances = []
    for instrument in set(note.instrument for note in quantized_sequence.notes):
        performance = performance_lib.MetricPerformance(
            quantized_sequence, start_step=0, num_velocity_bins=num_velocity_bins,
            instrument=instrument)
        if max_steps_truncate is not None and performance.num_steps > max_steps_truncate:
            performance.set_length(max_steps_truncate)
        performances.append(performance)
    return performances


class MultiInstrumentPerformanceConverter(BaseHierarchicalNoteSequenceConverter):
    """Converts multi-instrument NoteSequences to/from hierarchical performance one-hots.

    Args:
      num_velocity_bins: velocity bins (0: no velocity events; decoded velocity 100).
      max_tensors_per_notesequence: at most this many examples per NoteSequence (random
        subset in 'train' mode, the first ones otherwise).
      hop_size_bars: bars per example (the sequence is cut every hop_size_bars bars).
      chunk_size_bars: bars per chunk (the top level of the hierarchy).
      steps_per_quarter, quarters_per_bar: the metric grid; sequences with another bar
        length produce no examples.
      min_num_instruments, max_num_instruments: pieces with another number of tracks are
        skipped.
      min_total_events: pieces with fewer events over all tracks are skipped.
      max_events_per_instrument: rows per track chunk (including program and end
        tokens); pieces with a longer track chunk are skipped.
      min_pitch, max_pitch: pitch range of the event encoding; pieces with a note outside
        it are skipped.
      first_subsequence_only: skip sequences longer than one hop.
      chord_encoding: a note_seq OneHotEncoding of chord symbols (e.g.
        note_seq.TriadChordOneHotEncoding()) to condition on; chords are inferred when
        the sequence has none.
      drop_tracks_and_truncate: instead of skipping, randomly drop extra tracks and
        truncate long track chunks.
    """

    def __init__(self, num_velocity_bins=0, max_tensors_per_notesequence=None, hop_size_bars=1,
                 chunk_size_bars=1, steps_per_quarter=24, quarters_per_bar=4,
                 min_num_instruments=2, max_num_instruments=8, min_total_events=8,
                 max_events_per_instrument=64, min_pitch=performance_lib.MIN_MIDI_PITCH,
                 max_pitch=performance_lib.MAX_MIDI_PITCH, first_subsequence_only=False,
                 chord_encoding=None, drop_tracks_and_truncate=False):
        if hop_size_bars % chunk_size_bars:
            raise ValueError(
                f"hop_size_bars ({hop_size_bars}) must be a multiple of chunk_size_bars ({chunk_size_bars})")
        max_shift_steps = performance_lib.DEFAULT_MAX_SHIFT_QUARTERS * steps_per_quarter
        self._performance_encoding = note_seq.PerformanceOneHotEncoding(
            num_velocity_bins=num_velocity_bins, max_shift_steps=max_shift_steps,
            min_pitch=min_pitch, max_pitch=max_pitch)
        self._chord_encoding = chord_encoding
        self._num_velocity_bins = num_velocity_bins
        self._hop_size_bars = hop_size_bars
        self._chunk_size_bars = chunk_size_bars
        self._steps_per_quarter = steps_per_quarter
        self._steps_per_bar = steps_per_quarter * quarters_per_bar
        self._min_num_instruments = min_num_instruments
        self._max_num_instruments = max_num_instruments
        self._min_total_events = min_total_events
        self._max_events_per_instrument = max_events_per_instrument
        self._min_pitch = min_pitch
        self._max_pitch = max_pitch
        self._first_subsequence_only = first_subsequence_only
        self._drop_tracks_and_truncate = drop_tracks_and_truncate
        self._max_num_chunks = hop_size_bars // chunk_size_bars
        self._max_steps_truncate = self._steps_per_bar * hop_size_bars

        num_event_classes = self._performance_encoding.num_classes
        end_token = num_event_classes + NUM_PROGRAM_TOKENS
        depth = end_token + 1
        if chord_encoding is None:
            control_depth, control_pad_token = 0, None
        else:
            control_depth = chord_encoding.num_classes
            control_pad_token = chord_encoding.encode_event(note_seq.NO_CHORD)

        super().__init__(
            input_depth=depth, input_dtype=bool, output_depth=depth, output_dtype=bool,
            control_depth=control_depth, control_dtype=bool, control_pad_token=control_pad_token,
            end_token=end_token,
            max_lengths=[self._max_num_chunks, max_num_instruments, max_events_per_instrument],
            max_tensors_per_notesequence=max_tensors_per_notesequence)

    # -- description --------------------------------------------------------------------
    @property
    def performance_encoding(self):
        return self._performance_encoding

    @property
    def num_event_classes(self):
        """Performance event classes; program tokens start here."""
        return self._performance_encoding.num_classes

    def program_token(self, program, is_drum=False):
        """Token index announcing a track of `program` (or a drum track)."""
        return self.num_event_classes + (NUM_PROGRAMS if is_drum else program)

    # -- NoteSequence -> tensors --------------------------------------------------------
    def _new_chunk_fn(self, track):
        def new_chunk(quantized_sequence, start_step):
            return performance_lib.MetricPerformance(
                quantized_sequence=quantized_sequence,
                steps_per_quarter=self._steps_per_quarter if quantized_sequence is None else None,
                start_step=start_step, num_velocity_bins=self._num_velocity_bins,
                program=track.program, is_drum=track.is_drum)
        return new_chunk

    def _encode_track_chords(self, quantized_piece, chunk_tracks):
        """Per track: one-hot chords for [program token, events..., end token], or None."""
        try:
            track_chords = chords_lib.event_list_chords(quantized_piece, chunk_tracks)
        except chords_lib.CoincidentChordsError:
            return None
        encoded = []
        try:
            for chords in track_chords:
                tokens = [self._control_pad_token]
                tokens.extend(self._chord_encoding.encode_event(chord) for chord in chords)
                tokens.append(tokens[-1])
                encoded.append(np_onehot(tokens, self.control_depth, self.control_dtype))
        except (note_seq.ChordSymbolError, note_seq.ChordEncodingError):
            return None
        return encoded

    def _quantized_piece_to_tensors(self, quantized_piece):
        """One hop of music -> ([chunk][track] one-hots, [chunk][track] chord one-hots)."""
        if any(not self._min_pitch <= note.pitch <= self._max_pitch for note in quantized_piece.notes):
            return [], []

        tracks = extract_instrument_performances(
            quantized_piece, self._num_velocity_bins, max_steps_truncate=self._max_steps_truncate)
        if self._drop_tracks_and_truncate and len(tracks) > self._max_num_instruments:
            tracks = random.sample(tracks, self._max_num_instruments)
        if not self._min_num_instruments <= len(tracks) <= self._max_num_instruments:
            return [], []
        # Non-drum tracks first, by program. (A track mixing programs has program None:
        # Magenta failed on it; here it sorts first and the piece is rejected below.)
        tracks = sorted(tracks, key=lambda t: (t.is_drum, -1 if t.program is None else t.program))

        chunk_steps = self._steps_per_bar * self._chunk_size_bars
        chunks = [[] for _ in range(self._max_num_chunks)]
        total_events = 0
        for track in tracks:
            track.set_length(self._max_steps_truncate)
            track_chunks = split_performance(
                track, chunk_steps, self._new_chunk_fn(track), clip_tied_notes=True)
            if len(track_chunks) != self._max_num_chunks:
                raise AssertionError("a track split into the wrong number of chunks")
            if self._drop_tracks_and_truncate:
                for chunk in track_chunks:
                    chunk.truncate(self._max_events_per_instrument - 2)
            chunk_lengths = [len(chunk) for chunk in track_chunks]
            # Room is needed for the program token and the end token.
            if any(length > self._max_events_per_instrument - 2 for length in chunk_lengths):
                return [], []
            if any(chunk.program is None
                   or not note_seq.MIN_MIDI_PROGRAM <= chunk.program <= note_seq.MAX_MIDI_PROGRAM
                   for chunk in track_chunks if not chunk.is_drum):
                return [], []
            total_events += sum(chunk_lengths)
            for i, chunk in enumerate(track_chunks):
                chunks[i].append(chunk)

        if total_events < self._min_total_events:
            return [], []

        chunk_tensors, chunk_chord_tensors = [], []
        for chunk_tracks in chunks:
            track_tensors = []
            for track in chunk_tracks:
                tokens = [self.program_token(track.program, track.is_drum)]
                tokens.extend(self._performance_encoding.encode_event(event) for event in track)
                tokens.append(self.end_token)
                track_tensors.append(np_onehot(tokens, self.output_depth, self.output_dtype))
            if self._chord_encoding:
                chord_tensors = self._encode_track_chords(quantized_piece, chunk_tracks)
                if chord_tensors is None:
                    return [], []
                chunk_chord_tensors.append(chord_tensors)
            chunk_tensors.append(track_tensors)
        return chunk_tensors, chunk_chord_tensors

    def _add_inferred_chords(self, note_sequence):
        """Infers chords into `note_sequence` (in place); False when the sequence is unusable."""
        try:
            quantized = note_seq.quantize_note_sequence(note_sequence, self._steps_per_quarter)
            if note_seq.steps_per_bar_in_quantized_sequence(quantized) != self._steps_per_bar:
                return False
            note_seq.infer_chords_for_sequence(quantized)
        except _QUANTIZATION_ERRORS + (note_seq.ChordInferenceError,):
            return False
        for annotation in quantized.text_annotations:
            if annotation.annotation_type == CHORD_SYMBOL:
                note_sequence.text_annotations.add(
                    annotation_type=CHORD_SYMBOL, time=annotation.time, text=annotation.text)
        return True

    def _to_tensors_fn(self, note_sequence):
        # Sustain pedal changes note durations, which the performance events encode.
        note_sequence = note_seq.apply_sustain_control_changes(note_sequence)
        if self._chord_encoding and not any(
                ta.annotation_type == CHORD_SYMBOL for ta in note_sequence.text_annotations):
            if not self._add_inferred_chords(note_sequence):
                return ConverterTensors()

        qpm = (note_sequence.tempos[0].qpm if note_sequence.tempos
               else note_seq.DEFAULT_QUARTERS_PER_MINUTE)
        quarters_per_bar = self._steps_per_bar / self._steps_per_quarter
        hop_seconds = 60.0 * quarters_per_bar * self._hop_size_bars / qpm
        pieces = note_seq.split_note_sequence(note_sequence, hop_seconds)
        if self._first_subsequence_only and len(pieces) > 1:
            return ConverterTensors()

        examples, example_chords = [], []
        for piece in pieces:
            try:
                quantized = note_seq.quantize_note_sequence(piece, self._steps_per_quarter)
                if note_seq.steps_per_bar_in_quantized_sequence(quantized) != self._steps_per_bar:
                    return ConverterTensors()
            except _QUANTIZATION_ERRORS:
                return ConverterTensors()
            tensors, chord_tensors = self._quantized_piece_to_tensors(quantized)
            if tensors:
                examples.append(tensors)
                if self._chord_encoding:
                    example_chords.append(chord_tensors)

        tensors = ConverterTensors(inputs=examples, outputs=examples, controls=example_chords)
        return hierarchical_pad_tensors(
            tensors, self.max_tensors_per_notesequence, self.is_training, self._max_lengths,
            self.end_token, self.input_depth, self.output_depth, self.control_depth,
            self._control_pad_token)

    # -- tensors -> NoteSequence --------------------------------------------------------
    def _decode_track(self, encoded_track):
        """One-hot track rows -> (MetricPerformance, indices of the event rows used)."""
        tokens = np.argmax(encoded_track, axis=-1)
        tokens = tokens.tolist()
        if self.end_token in tokens:
            tokens = tokens[:tokens.index(self.end_token)]
        num_event_classes = self.num_event_classes
        program_tokens = [t for t in tokens if t >= num_event_classes]
        event_indices = [i for i, t in enumerate(tokens) if t < num_event_classes]
        program, is_drum = 0, False
        if program_tokens:
            # Only the first program token counts.
            program = program_tokens[0] - num_event_classes
            if program == NUM_PROGRAMS:
                program, is_drum = 0, True
        track = performance_lib.MetricPerformance(
            quantized_sequence=None, steps_per_quarter=self._steps_per_quarter, start_step=0,
            num_velocity_bins=self._num_velocity_bins, program=program, is_drum=is_drum)
        for i in event_indices:
            track.append(self._performance_encoding.decode_event(tokens[i]))
        return track, event_indices

    def _to_single_notesequence(self, sample, controls):
        qpm = note_seq.DEFAULT_QUARTERS_PER_MINUTE
        seconds_per_step = 60.0 / (self._steps_per_quarter * qpm)
        chunk_steps = self._steps_per_bar * self._chunk_size_bars

        sequence = note_seq.NoteSequence()
        sequence.tempos.add().qpm = qpm
        sequence.ticks_per_quarter = note_seq.STANDARD_PPQ

        instrument_chunks = [[] for _ in range(self._max_num_instruments)]
        timed_chords = []
        for chunk_index, encoded_chunk in enumerate(sample):
            chunk_offset = chunk_index * chunk_steps
            for instrument, encoded_track in enumerate(encoded_chunk):
                track, event_indices = self._decode_track(encoded_track)
                if controls is not None:
                    chord_tokens = np.argmax(controls[chunk_index][instrument], axis=-1)
                    chords = [self._chord_encoding.decode_event(chord_tokens[i]) for i in event_indices]
                    times = [(chunk_offset + step) * seconds_per_step
                             for step in track.steps if step < chunk_steps]
                    timed_chords.extend(zip(times, chords))
                track.set_length(chunk_steps)
                instrument_chunks[instrument].append(track)

        for instrument, chunks in enumerate(instrument_chunks):
            if not chunks:
                continue
            track = chunks[0]
            for chunk in chunks[1:]:
                for event in chunk:
                    track.append(event)
            sequence.notes.extend(track.to_sequence(instrument=instrument, qpm=qpm).notes)

        if sequence.notes:
            sequence.total_time = max(note.end_time for note in sequence.notes)
        if self._chord_encoding and timed_chords:
            times, chords = zip(*sorted(timed_chords))
            chords_lib.add_chords_to_sequence(sequence, chords, times)
        return sequence

    def from_tensors(self, samples, controls=None):
        """Decodes flat [chunks * instruments * events, depth] samples into NoteSequences.

        Track i of every chunk becomes instrument i; decoded chords (when conditioned)
        are added as chord-symbol annotations.
        """
        samples, controls = remove_padding(self._max_lengths, samples, controls)
        use_controls = self._chord_encoding is not None and controls is not None
        return [self._to_single_notesequence(sample, controls[i] if use_controls else None)
                for i, sample in enumerate(samples)]
