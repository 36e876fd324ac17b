"""NoteSequence -> tensors -> NoteSequence on real tunes (public-domain fiddle tunes from
music21's corpus: Ryan's Mammoth Collection, 1883), and on a trio built from one of them.

The decoded sequences must keep every note: same pitches and the same quantized start
and end steps (at 4 steps per quarter; decoding uses 120 qpm, i.e. 0.125 s per step).
"""

import os

import note_seq
import numpy as np
import pytest

from musicvae_tf.converters import DrumsConverter, OneHotMelodyConverter, TrioConverter

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
SECONDS_PER_STEP = 0.125  # 120 qpm, 4 steps per quarter
TUNES = ("ryansMammoth/AlhambraReel", "ryansMammoth/AcrobatsHornpipe")
KICK, SNARE, CLOSED_HAT = 36, 38, 42  # first pitch of their reduced drum classes


@pytest.fixture(scope="module")
def tunes(tmp_path_factory):
    """{name: NoteSequence}: each tune parsed by music21, written to MIDI, read by note_seq."""
    music21 = pytest.importorskip("music21")
    out_dir = tmp_path_factory.mktemp("tunes")
    result = {}
    for name in TUNES:
        score = music21.corpus.parse(name)
        path = score.write("midi", fp=os.path.join(out_dir, name.replace("/", "_") + ".mid"))
        result[name] = note_seq.midi_file_to_note_sequence(str(path))
    return result


def quantized_notes(sequence, is_drum=False, instrument=None):
    """[(pitch, start_step, end_step)] of the sequence quantized at 4 steps per quarter,
    ordered by onset."""
    quantized = note_seq.quantize_note_sequence(sequence, STEPS_PER_QUARTER)
    return sorted(((n.pitch, n.quantized_start_step, n.quantized_end_step)
                   for n in quantized.notes
                   if n.is_drum == is_drum and instrument in (None, n.instrument)),
                  key=lambda note: (note[1], note[0]))


def decoded_notes(sequence, **filters):
    """[(pitch, start_step, end_step)] of a decoded (120 qpm) sequence."""
    notes = []
    for n in sequence.notes:
        if all(getattr(n, k) == v for k, v in filters.items()):
            notes.append((n.pitch, round(n.start_time / SECONDS_PER_STEP),
                          round(n.end_time / SECONDS_PER_STEP)))
    return sorted(notes, key=lambda note: (note[1], note[0]))


def monophonic_line(notes):
    """A melody's view of notes: each note ends no later than the next onset."""
    line = []
    for i, (pitch, start, end) in enumerate(notes):
        if i + 1 < len(notes):
            end = min(end, notes[i + 1][1])
        line.append((pitch, start, end))
    return line


def window(notes, start, end):
    """Notes starting in [start, end), cut at `end` and shifted to start at 0."""
    return [(p, s - start, min(e, end) - start) for p, s, e in notes if start <= s < end]


@pytest.mark.parametrize("name", TUNES)
def test_melody_round_trip_whole_tune(tunes, name):
    sequence = tunes[name]
    original = monophonic_line(quantized_notes(sequence))
    assert len(original) > 100
    converter = OneHotMelodyConverter(gap_bars=None, max_tensors_per_notesequence=None)
    converter.set_mode("eval")
    tensors = converter.to_tensors(sequence)
    assert len(tensors.outputs) == 1
    one_hot = tensors.outputs[0]
    assert one_hot.shape == (tensors.lengths[0], 90) and one_hot.dtype == bool
    assert np.all(one_hot.sum(axis=1) == 1)
    # Whole bars, starting at the bar of the first note.
    offset = original[0][1] - original[0][1] % STEPS_PER_BAR
    assert tensors.lengths[0] % STEPS_PER_BAR == 0
    assert tensors.lengths[0] >= original[-1][2] - offset

    decoded = converter.from_tensors(tensors.outputs)[0]
    assert decoded_notes(decoded) == [(p, s - offset, e - offset) for p, s, e in original]
    assert {n.velocity for n in decoded.notes} == {80}


def test_melody_round_trip_two_bar_slices(tunes):
    sequence = tunes["ryansMammoth/AlhambraReel"]
    original = monophonic_line(quantized_notes(sequence))
    # Without dedupe the slices come out in order, one per bar position.
    converter = OneHotMelodyConverter(gap_bars=None, slice_bars=2, dedupe_event_lists=False,
                                      max_tensors_per_notesequence=None)
    converter.set_mode("eval")
    tensors = converter.to_tensors(sequence)
    assert original[0][1] < STEPS_PER_BAR  # the melody starts at step 0
    melody_bars = -(-original[-1][2] // STEPS_PER_BAR)
    assert len(tensors.outputs) == melody_bars - 1
    decoded = converter.from_tensors(tensors.outputs)
    for k, slice_sequence in enumerate(decoded):
        start = k * STEPS_PER_BAR
        assert decoded_notes(slice_sequence) == window(original, start, start + 2 * STEPS_PER_BAR)


def build_trio(melody_sequence):
    """Melody (instrument 0, program 0) plus a bass line on each bar's first melody pitch
    two octaves down (instrument 1, program 33) and a rock beat (instrument 9)."""
    trio = note_seq.NoteSequence()
    trio.CopyFrom(melody_sequence)
    quantized = note_seq.quantize_note_sequence(melody_sequence, STEPS_PER_QUARTER)
    seconds_per_step = 60.0 / trio.tempos[0].qpm / STEPS_PER_QUARTER
    total_bars = -(-quantized.total_quantized_steps // STEPS_PER_BAR)
    first_pitch_in_bar = {}
    for n in sorted(quantized.notes, key=lambda n: n.quantized_start_step):
        first_pitch_in_bar.setdefault(n.quantized_start_step // STEPS_PER_BAR, n.pitch)
    for bar in range(total_bars):
        bar_start = bar * STEPS_PER_BAR
        pitch = first_pitch_in_bar.get(bar)
        if pitch is not None:
            for half in (0, 8):
                trio.notes.add(pitch=pitch - 24, velocity=90, instrument=1, program=33,
                               start_time=(bar_start + half) * seconds_per_step,
                               end_time=(bar_start + half + 6) * seconds_per_step)
        for step in range(0, STEPS_PER_BAR, 2):
            hits = [CLOSED_HAT]
            if step in (0, 8):
                hits.append(KICK)
            if step in (4, 12):
                hits.append(SNARE)
            for drum in hits:
                trio.notes.add(pitch=drum, velocity=100, instrument=9, is_drum=True,
                               start_time=(bar_start + step) * seconds_per_step,
                               end_time=(bar_start + step + 1) * seconds_per_step)
    trio.total_time = max(n.end_time for n in trio.notes)
    return trio


def test_trio_round_trip(tunes):
    trio = build_trio(tunes["ryansMammoth/AlhambraReel"])
    before = trio.SerializeToString()
    slice_bars = 4
    converter = TrioConverter(slice_bars=slice_bars, gap_bars=2,
                              max_tensors_per_notesequence=None)
    converter.set_mode("eval")
    tensors = converter.to_tensors(trio)
    assert trio.SerializeToString() == before  # the input is left untouched
    total_bars = -(-note_seq.quantize_note_sequence(trio, 4).total_quantized_steps // 16)
    assert len(tensors.outputs) == total_bars - slice_bars + 1
    assert tensors.outputs[0].shape == (slice_bars * STEPS_PER_BAR, 90 + 90 + 512)
    # Each step: exactly one class per part.
    parts = np.split(tensors.outputs[0], [90, 180], axis=1)
    assert all(np.all(p.sum(axis=1) == 1) for p in parts)

    melody = monophonic_line(quantized_notes(trio, instrument=0))
    bass = monophonic_line(quantized_notes(trio, instrument=1))
    drums = [(p, s) for p, s, _ in quantized_notes(trio, is_drum=True)]
    decoded = converter.from_tensors(tensors.outputs)
    for k in (0, len(decoded) - 1):
        start, end = k * STEPS_PER_BAR, (k + slice_bars) * STEPS_PER_BAR
        sequence = decoded[k]
        assert decoded_notes(sequence, instrument=0, program=0) == window(melody, start, end)
        assert decoded_notes(sequence, instrument=1, program=33) == window(bass, start, end)
        got_drums = [(p, s) for p, s, _ in decoded_notes(sequence, instrument=9, is_drum=True)]
        assert got_drums == [(p, s - start) for p, s in drums if start <= s < end]


def test_drums_round_trip_one_hot_and_roll(tunes):
    trio = build_trio(tunes["ryansMammoth/AlhambraReel"])
    drums = [(p, s) for p, s, _ in quantized_notes(trio, is_drum=True)]
    for roll in (False, True):
        converter = DrumsConverter(gap_bars=None, roll_input=roll, roll_output=roll,
                                   max_tensors_per_notesequence=None, add_end_token=True)
        converter.set_mode("eval")
        tensors = converter.to_tensors(trio)
        assert len(tensors.outputs) == 1
        assert tensors.outputs[0].shape[1] == (10 if roll else 513)
        decoded = converter.from_tensors(tensors.outputs)[0]
        assert [(p, s) for p, s, _ in decoded_notes(decoded)] == drums
        assert all(n.is_drum for n in decoded.notes)
