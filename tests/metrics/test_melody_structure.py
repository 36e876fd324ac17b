"""Key consistency, bar self-similarity and chord-tone fraction (musicvae_tf.metrics.melody_structure)."""
import math

import note_seq
import numpy as np
import pytest

from musicvae_tf.metrics import melody_structure as ms

CHORD = note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL


def melody(notes, chords=(), qpm=120.0):
    """notes: (pitch, start 16th, length in 16ths); chords: (16th, symbol)."""
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=qpm)
    step = 60.0 / qpm / 4
    for pitch, start, length in notes:
        sequence.notes.add(pitch=pitch, start_time=start * step, end_time=(start + length) * step, velocity=80)
    for start, symbol in chords:
        sequence.text_annotations.add(time=start * step, text=symbol, annotation_type=CHORD)
    return sequence


def test_key_consistency_values():
    c_major = melody([(60 + p, i, 1) for i, p in enumerate([0, 2, 4, 5, 7, 9, 11, 12])])
    assert ms.key_consistency(c_major) == 1.0
    # 12 chromatic notes: the best scale holds 7 of them.
    chromatic = melody([(60 + p, p, 1) for p in range(12)])
    assert ms.key_consistency(chromatic) == pytest.approx(7 / 12)
    # G major plus one F natural: 7 of 8 notes fit G major (no F) or C major (no F#), none fits all 8.
    g_with_f = melody([(p, i, 1) for i, p in enumerate([67, 69, 71, 72, 74, 76, 78, 65])])
    assert ms.key_consistency(g_with_f) == pytest.approx(7 / 8)
    assert math.isnan(ms.key_consistency(melody([])))


def test_bar_self_similarity_values():
    bar = [(60, 0, 4), (62, 4, 4), (64, 8, 4), (65, 12, 4)]
    repeated = melody([(p, s + 16 * b, n) for b in range(4) for p, s, n in bar])
    assert ms.bar_self_similarity(repeated) == 1.0
    # Bar 2 shares 2 of the 4 (onset, pitch) pairs with bar 1: Jaccard 2 / 6.
    half = melody(bar + [(60, 16, 4), (62, 20, 4), (67, 24, 4), (69, 28, 4)])
    assert ms.bar_self_similarity(half) == pytest.approx(2 / 6)
    # Same pitches shifted by an eighth note share nothing; one bar only: undefined.
    shifted = melody(bar + [(p, s + 16 + 2, n) for p, s, n in bar])
    assert ms.bar_self_similarity(shifted) == 0.0
    assert math.isnan(ms.bar_self_similarity(melody(bar)))
    # 16th-note grid from the tempo: at 60 qpm a bar lasts 4 s.
    slow = melody([(p, s + 16 * b, n) for b in range(2) for p, s, n in bar], qpm=60)
    assert ms.bar_self_similarity(slow) == 1.0


def test_chord_tone_fraction_values():
    # C major chord for a bar, then Am7 (A C E G): E, G on C; A, B on Am7 -> 3 of 4 (B is not in Am7).
    sequence = melody([(64, 0, 4), (67, 8, 4), (69, 16, 4), (71, 24, 4)], chords=[(0, "C"), (16, "Am7")])
    assert ms.chord_tone_fraction([sequence]) == pytest.approx(3 / 4)
    # A note before the first chord and notes under N.C. are not counted.
    partial = melody([(61, 0, 2), (60, 4, 2), (61, 8, 2)], chords=[(4, "C"), (8, "N.C.")])
    assert ms.chord_tone_counts(partial, partial) == (1, 1)
    # Chords taken from another sequence: the notes of the first under the chords of the second.
    other = melody([], chords=[(0, "F#"), (16, "F#")])
    assert ms.chord_tone_fraction([sequence], chords_from=[other]) == 0.0
    assert math.isnan(ms.chord_tone_fraction([melody([(60, 0, 4)])]))
    with pytest.raises(ValueError, match="2 sequences but 1"):
        ms.chord_tone_fraction([sequence, sequence], chords_from=[other])


@pytest.mark.parametrize("n", [2, 3, 10, 101])
def test_derangement_moves_every_index(n):
    order = ms.derangement(n, seed=n)
    assert sorted(order.tolist()) == list(range(n))
    assert np.all(order != np.arange(n))
    assert np.array_equal(order, ms.derangement(n, seed=n))
