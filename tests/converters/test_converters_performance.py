"""MultiInstrumentPerformanceConverter and the hierarchical helpers, on hand-built sequences.

At 120 qpm and 24 steps per quarter a step lasts 1/48 s and a 4/4 bar is 96 steps (2 s).
Token layout with 8 velocity bins and pitches 0-127: NOTE_ON p -> p, NOTE_OFF p -> 128 + p,
TIME_SHIFT s (1..96) -> 255 + s, VELOCITY b (1..8) -> 351 + b, program token 360 + program,
drum program token 488, end token 489; depth 490.
"""
import note_seq
import numpy as np
import pytest

from musicvae_tf.converters.hierarchical import (
    TooLongError,
    hierarchical_pad_tensors,
    pad_with_element,
    pad_with_value,
    remove_padding,
)
from musicvae_tf.converters.performance import MultiInstrumentPerformanceConverter

END = 489


def on(p):
    return p


def off(p):
    return 128 + p


def shift(s):
    return 255 + s


def vel(b):
    return 351 + b


def program(p):
    return 360 + p


DRUMS = 488
# note_seq velocity bins (8 bins of 16): velocity v -> (v - 1) // 16 + 1; bin b -> 1 + (b - 1) * 16.
PIANO_TOKENS = [program(0), vel(7), on(60), shift(24), off(60), on(64), shift(24), off(64), shift(48), END]
BASS_TOKENS = [program(33), vel(4), on(36), shift(48), off(36), shift(48), END]
DRUM_TOKENS = [DRUMS, vel(8), on(36), shift(6), off(36), shift(90), END]


def _sequence(extra_notes=(), chords=()):
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=4, denominator=4)
    notes = [
        # instrument, program, is_drum, pitch, velocity, start, end
        (0, 0, False, 60, 100, 0.0, 0.5),
        (0, 0, False, 64, 100, 0.5, 1.0),
        (1, 33, False, 36, 60, 0.0, 1.0),
        (9, 0, True, 36, 120, 0.0, 0.125),
    ] + list(extra_notes)
    for instrument, prog, is_drum, pitch, velocity, start, end in notes:
        ns.notes.add(instrument=instrument, program=prog, is_drum=is_drum, pitch=pitch,
                     velocity=velocity, start_time=start, end_time=end)
    for time, figure in chords:
        ns.text_annotations.add(time=time, text=figure,
                                annotation_type=note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL)
    ns.total_time = max(n.end_time for n in ns.notes)
    return ns


def _converter(**kwargs):
    defaults = dict(num_velocity_bins=8, hop_size_bars=1, max_num_instruments=8, max_events_per_instrument=64)
    defaults.update(kwargs)
    converter = MultiInstrumentPerformanceConverter(**defaults)
    converter.set_mode("eval")
    return converter


def _segments(flat, max_lengths):
    """[prod(max_lengths), depth] one-hot -> nested lists of token lists (zero rows dropped)."""
    shaped = flat.reshape(list(max_lengths) + [-1])
    return [[[int(np.argmax(row)) for row in track if row.any()] for track in chunk] for chunk in shaped]


def test_depths_and_shapes():
    converter = _converter()
    assert (converter.input_depth, converter.output_depth, converter.end_token) == (490, 490, END)
    assert converter.control_depth == 0 and converter.length_shape == (8,)
    assert converter.program_token(33) == program(33) and converter.program_token(0, is_drum=True) == DRUMS
    assert converter.max_lengths == [1, 8, 64]


def test_one_bar_tokens_hand_computed():
    converter = _converter()
    tensors = converter.to_tensors(_sequence())
    assert len(tensors.inputs) == 1
    inputs, outputs, controls, lengths = (x[0] for x in tensors)
    assert inputs.shape == (512, 490) and inputs.dtype == bool
    np.testing.assert_array_equal(inputs, outputs)
    assert controls.shape == (512, 0)
    # Tracks sorted by (is_drum, program); missing tracks are a lone end token.
    assert _segments(outputs, [1, 8, 64]) == [[PIANO_TOKENS, BASS_TOKENS, DRUM_TOKENS] + [[END]] * 5]
    np.testing.assert_array_equal(lengths, [10, 7, 7, 1, 1, 1, 1, 1])
    # Each segment occupies 64 rows: one-hot rows first, then zeros.
    assert outputs.reshape(8, 64, 490).sum(axis=-1).tolist() == [
        [1] * n + [0] * (64 - n) for n in [10, 7, 7, 1, 1, 1, 1, 1]]


def test_round_trip_keeps_notes_programs_and_velocity_bins():
    converter = _converter()
    tensors = converter.to_tensors(_sequence())
    decoded = converter.from_tensors(tensors.outputs)[0]
    notes = sorted((n.instrument, n.program, n.is_drum, n.pitch, n.velocity, n.start_time, n.end_time)
                   for n in decoded.notes)
    assert notes == [
        (0, 0, False, 60, 97, 0.0, 0.5),
        (0, 0, False, 64, 97, 0.5, 1.0),
        (1, 33, False, 36, 49, 0.0, 1.0),
        (2, 0, True, 36, 113, 0.0, 0.125),
    ]
    assert decoded.total_time == 1.0 and decoded.tempos[0].qpm == 120


def test_hop_splits_into_bars_and_limits_examples():
    # Bar 2 holds piano + bass; bar 3 only bass (too few instruments: skipped).
    extra = [(0, 0, False, 67, 100, 2.0, 2.5), (1, 33, False, 43, 60, 2.0, 3.0),
             (1, 33, False, 41, 60, 4.0, 4.5)]
    sequence = _sequence(extra)
    tensors = _converter().to_tensors(sequence)
    assert len(tensors.inputs) == 2
    second = _segments(tensors.outputs[1], [1, 8, 64])[0]
    assert second[0] == [program(0), vel(7), on(67), shift(24), off(67), shift(72), END]
    assert second[1] == [program(33), vel(4), on(43), shift(48), off(43), shift(48), END]
    assert second[2:] == [[END]] * 6

    assert len(_converter(max_tensors_per_notesequence=1).to_tensors(sequence).inputs) == 1
    assert len(_converter(first_subsequence_only=True).to_tensors(sequence).inputs) == 0
    # Bar 3 alone has 5 events: it also needs a lower min_total_events.
    assert len(_converter(min_num_instruments=1).to_tensors(sequence).inputs) == 2
    assert len(_converter(min_num_instruments=1, min_total_events=5).to_tensors(sequence).inputs) == 3


def test_chunks_within_a_hop_and_tied_notes():
    # Two-bar hop in one-bar chunks; the bass note 1.5-2.5 s crosses the bar line.
    sequence = _sequence([(1, 33, False, 38, 60, 1.5, 2.5), (0, 0, False, 67, 100, 2.0, 2.5)])
    converter = _converter(hop_size_bars=2, chunk_size_bars=1)
    assert converter.max_lengths == [2, 8, 64] and converter.length_shape == (16,)
    tensors = converter.to_tensors(sequence)
    assert len(tensors.inputs) == 1
    chunks = _segments(tensors.outputs[0], [2, 8, 64])
    assert chunks[0][0] == PIANO_TOKENS
    # Bar 1 bass: C2 0-48, then D2 from step 72, cut at the bar line.
    assert chunks[0][1] == [program(33), vel(4), on(36), shift(48), off(36), shift(24), on(38),
                            shift(24), off(38), END]
    assert chunks[0][2] == DRUM_TOKENS
    # Bar 2: the tied note is not continued. Silent chunks (bass, drums) are present but,
    # as in Magenta, carry the drum program token (they are re-read from an empty sequence).
    assert chunks[1][0] == [program(0), vel(7), on(67), shift(24), off(67), shift(72), END]
    assert chunks[1][1] == [DRUMS, shift(96), END]
    assert chunks[1][2] == [DRUMS, shift(96), END]
    np.testing.assert_array_equal(tensors.lengths[0], [10, 10, 7, 1, 1, 1, 1, 1, 7, 3, 3, 1, 1, 1, 1, 1])

    decoded = converter.from_tensors(tensors.outputs)[0]
    bass = sorted((n.pitch, n.start_time, n.end_time) for n in decoded.notes if n.instrument == 1)
    assert bass == [(36, 0.0, 1.0), (38, 1.5, 2.0)]
    piano = sorted((n.pitch, n.start_time, n.end_time) for n in decoded.notes if n.instrument == 0)
    assert piano == [(60, 0.0, 0.5), (64, 0.5, 1.0), (67, 2.0, 2.5)]


def test_chord_controls_hand_computed():
    triads = note_seq.TriadChordOneHotEncoding()
    c_major, g_major, no_chord = (triads.encode_event(f) for f in ("C", "G", note_seq.NO_CHORD))
    converter = _converter(chord_encoding=triads)
    assert converter.control_depth == triads.num_classes == 49
    sequence = _sequence(chords=[(0.0, "C"), (0.5, "G")])
    tensors = converter.to_tensors(sequence)
    controls = tensors.controls[0]
    assert controls.shape == (512, 49) and controls.dtype == bool
    chords = _segments(controls, [1, 8, 64])[0]
    # [pad, chord at each event's step..., the last chord again for the end token].
    # G starts at step 24. Steps at or after the piece's last note end (48) take the last
    # chord of the piece. Piano event steps: 0, 0, 0, 24, 24, 24, 48, 48.
    assert chords[0] == [no_chord] + [c_major] * 3 + [g_major] * 5 + [g_major]
    # Bass event steps 0, 0, 0, 48, 48; drums 0, 0, 0, 6, 6.
    assert chords[1] == [no_chord] + [c_major] * 3 + [g_major] * 2 + [g_major]
    assert chords[2] == [no_chord] + [c_major] * 5 + [c_major]
    assert chords[3:] == [[no_chord]] * 5

    decoded = converter.from_tensors(tensors.outputs, tensors.controls)[0]
    assert [(ta.time, ta.text) for ta in decoded.text_annotations] == [(0.0, "C"), (0.5, "G")]
    assert len(decoded.notes) == 4


def test_chords_are_inferred_when_missing():
    triads = note_seq.TriadChordOneHotEncoding()
    # Add a C major triad on the piano (instrument 3) for the whole bar.
    triad = [(3, 0, False, p, 80, 0.0, 2.0) for p in (48, 52, 55)]
    tensors = _converter(chord_encoding=triads).to_tensors(_sequence(triad))
    assert len(tensors.inputs) == 1
    chords = _segments(tensors.controls[0], [1, 8, 64])[0]
    assert set(chords[0][1:]) == {triads.encode_event("C")}


def test_rejections_and_drop_tracks_and_truncate():
    sequence = _sequence()
    assert _converter(max_pitch=59).to_tensors(sequence).inputs == []
    assert _converter(min_num_instruments=4).to_tensors(sequence).inputs == []
    assert _converter(max_num_instruments=2).to_tensors(sequence).inputs == []
    assert _converter(min_total_events=100).to_tensors(sequence).inputs == []
    # The piano chunk has 8 events: it needs max_events_per_instrument >= 10.
    assert _converter(max_events_per_instrument=9).to_tensors(sequence).inputs == []
    three_quarter = _sequence()
    three_quarter.time_signatures[0].numerator = 3
    assert _converter().to_tensors(three_quarter).inputs == []

    truncating = _converter(max_events_per_instrument=6, max_num_instruments=2,
                            drop_tracks_and_truncate=True)
    np.random.seed(0)
    tensors = truncating.to_tensors(sequence)
    assert len(tensors.inputs) == 1
    tracks = _segments(tensors.outputs[0], [1, 2, 6])[0]
    # Two of the three tracks survive, each cut to 4 events plus program and end tokens.
    assert all(len(t) == 6 and t[-1] == END for t in tracks)
    full = {PIANO_TOKENS[0]: PIANO_TOKENS, BASS_TOKENS[0]: BASS_TOKENS, DRUMS: DRUM_TOKENS}
    for track in tracks:
        assert track[:5] == full[track[0]][:5]


def test_train_mode_samples_reproducibly():
    extra = [(0, 0, False, 60 + i, 100, 2.0 * i, 2.0 * i + 0.5) for i in range(1, 6)]
    extra += [(1, 33, False, 36, 60, 2.0 * i, 2.0 * i + 1.0) for i in range(1, 6)]
    sequence = _sequence(extra)
    converter = _converter(max_tensors_per_notesequence=3)
    assert len(converter.to_tensors(sequence).inputs) == 3
    converter.set_mode("train")
    picks = []
    for seed in (1, 1, 2, 3, 4):
        np.random.seed(seed)
        tensors = converter.to_tensors(sequence)
        assert len(tensors.inputs) == 3
        picks.append(tuple(int(np.argmax(x[2])) for x in tensors.outputs))  # first piano pitch
    assert picks[0] == picks[1]
    assert all(list(p) == sorted(p) for p in picks)  # kept in sequence order
    assert len(set(picks)) > 1


def test_constructor_error():
    with pytest.raises(ValueError, match="multiple of chunk_size_bars"):
        MultiInstrumentPerformanceConverter(hop_size_bars=3, chunk_size_bars=2)


# ---------------------------------------------------------------------------------------
# Hierarchical helpers.
# ---------------------------------------------------------------------------------------
def test_pad_with_element_and_value():
    assert pad_with_element([[0, 1, 2], [3, 4]], [3, 4], 5) == [[0, 1, 2, 5], [3, 4, 5, 5], [5, 5, 5, 5]]
    with pytest.raises(TooLongError):
        pad_with_element([[0, 1, 2, 3, 4]], [1, 4], 5)
    np.testing.assert_array_equal(pad_with_value(np.ones((2, 2)), 3, 7), [[1, 1], [1, 1], [7, 7]])
    with pytest.raises(TooLongError):
        pad_with_value(np.ones((4, 2)), 3, 0)


def test_hierarchical_pad_tensors_and_remove_padding():
    def onehot(tokens, depth=4):
        return np.eye(depth, dtype=bool)[tokens]

    example = [[onehot([0, 1, 3])], [onehot([2, 3]), onehot([3])]]
    too_long = [[onehot([0, 1, 2, 0, 3])]]
    tensors = (example, too_long), (example, too_long), (), (2, 1)
    from musicvae_tf.converters.base import ConverterTensors
    result = hierarchical_pad_tensors(
        ConverterTensors(*tensors), None, False, [2, 2, 4], 3, 4, 4, 0, None)
    assert len(result.inputs) == 1  # the too-long example is dropped
    flat = result.outputs[0]
    assert flat.shape == (16, 4)
    np.testing.assert_array_equal(result.lengths[0], [3, 1, 2, 1])
    assert [int(np.argmax(r)) if r.any() else None for r in flat] == [
        0, 1, 3, None, 3, None, None, None, 2, 3, None, None, 3, None, None, None]
    (unpadded,), _ = remove_padding([2, 2, 4], [flat])
    assert unpadded.shape == (2, 2, 4, 4)
