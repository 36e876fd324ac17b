"""Does a melody hold a key, does it repeat itself, do its notes sit on its chords? Per NoteSequence.

    key_consistency(sequence)        # 0.97: share of the notes inside the best-fitting major scale
    bar_self_similarity(sequence)    # 0.55: how much each bar's notes repeat an earlier bar's
    chord_tone_fraction(sequences)   # 0.81: share of notes whose pitch class is in the chord sounding

Used to compare model samples with real tunes (the same figure on both sets), e.g. 16-bar samples
of hierdec-mel_16bar beside held-out 16-bar tunes, or chord-conditioned samples beside the training
data and beside the same samples against shuffled chords.

Definitions:
  key_consistency      max over the 12 major (= their relative natural minor) scales of the share
                       of notes whose pitch class is in the scale; NaN without notes. Chromatic
                       wandering lowers it; a tune in one key scores ~1.
  bar_self_similarity  bars of `steps_per_bar` 16ths (the converters write 120 qpm, 4/4: 2 s); each bar's
                       notes as a set of (onset 16th within the bar, pitch); for every bar after the
                       first that has a note, the largest Jaccard overlap with any earlier bar; the
                       mean of those. 1 = every bar repeats an earlier one exactly, 0 = no (onset,
                       pitch) pair ever comes back. NaN with fewer than two bars holding notes.
  chord_tone_fraction  over all notes of all sequences: the share whose pitch class belongs to the
                       chord sounding at the note's onset (the latest CHORD_SYMBOL annotation at or
                       before it, read with note_seq's chord-symbol parser); notes under no chord or
                       N.C. are not counted. `chords_from` takes the chords from other sequences
                       (e.g. shuffled, as a control) while the notes come from `sequences`.
"""

import numpy as np
import note_seq
from note_seq import chord_symbols_lib

_MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
_SCALES = np.array([[(pc - root) % 12 in _MAJOR_SCALE for pc in range(12)] for root in range(12)])
_CHORD_SYMBOL = note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL
_DEFAULT_QPM = 120.0


def _pitched(sequence):
    return [note for note in sequence.notes if not note.is_drum]


def key_consistency(sequence):
    """Share of the notes inside the best-fitting major / natural-minor scale (NaN without notes)."""
    notes = _pitched(sequence)
    if not notes:
        return float("nan")
    counts = np.bincount([note.pitch % 12 for note in notes], minlength=12)
    return float((_SCALES @ counts).max() / counts.sum())


def _sixteenths_per_second(sequence):
    qpm = sequence.tempos[0].qpm if len(sequence.tempos) and sequence.tempos[0].qpm > 0 else _DEFAULT_QPM
    return qpm / 60.0 * 4.0


def bar_self_similarity(sequence, steps_per_bar=16):
    """Mean over bars (after the first with notes) of the best Jaccard overlap with an earlier bar."""
    rate = _sixteenths_per_second(sequence)
    bars = {}
    for note in _pitched(sequence):
        step = int(round(note.start_time * rate))
        bars.setdefault(step // steps_per_bar, set()).add((step % steps_per_bar, note.pitch))
    ordered = [bars[index] for index in sorted(bars)]
    if len(ordered) < 2:
        return float("nan")
    best = []
    for position in range(1, len(ordered)):
        current = ordered[position]
        best.append(max(len(current & earlier) / len(current | earlier) for earlier in ordered[:position]))
    return float(np.mean(best))


def _chord_pitch_classes(symbol, cache):
    if symbol not in cache:
        try:
            cache[symbol] = (None if symbol == note_seq.NO_CHORD else
                             frozenset(p % 12 for p in chord_symbols_lib.chord_symbol_pitches(symbol)))
        except chord_symbols_lib.ChordSymbolError:
            cache[symbol] = None
    return cache[symbol]


def chord_tone_counts(notes_sequence, chords_sequence, cache=None):
    """(notes on a chord tone, notes under a chord) for the notes of one sequence and the chords of another."""
    cache = {} if cache is None else cache
    chords = sorted((a.time, a.text) for a in chords_sequence.text_annotations if a.annotation_type == _CHORD_SYMBOL)
    if not chords:
        return 0, 0
    times = np.array([time for time, _ in chords])
    on_chord, counted = 0, 0
    for note in _pitched(notes_sequence):
        index = int(np.searchsorted(times, note.start_time + 1e-6, side="right")) - 1
        if index < 0:
            continue
        pitch_classes = _chord_pitch_classes(chords[index][1], cache)
        if pitch_classes is None:
            continue
        counted += 1
        on_chord += (note.pitch % 12) in pitch_classes
    return on_chord, counted


def chord_tone_fraction(sequences, chords_from=None):
    """Share of the notes on a tone of the chord sounding at their onset (NaN when none is under a chord)."""
    sequences = list(sequences)
    chords_from = sequences if chords_from is None else list(chords_from)
    if len(chords_from) != len(sequences):
        raise ValueError(f"{len(sequences)} sequences but {len(chords_from)} chord sequences")
    cache, on_chord, counted = {}, 0, 0
    for notes, chords in zip(sequences, chords_from):
        hit, total = chord_tone_counts(notes, chords, cache)
        on_chord += hit
        counted += total
    return on_chord / counted if counted else float("nan")


def derangement(n, seed=0):
    """A seeded permutation of range(n) that moves every index (n >= 2): the shuffled-chords control."""
    if n < 2:
        raise ValueError("shuffling needs at least two sequences")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    # Rotating a random order by one moves every element.
    result = np.empty(n, dtype=int)
    result[order] = np.roll(order, 1)
    return result
