"""Melody and drum-track extraction from quantized NoteSequences.

These are the two extraction routines of Magenta's melody and drum pipelines, which
note_seq does not ship. The heavy lifting (reading one monophonic line or one drum line
out of a quantized sequence) is note_seq's `Melody.from_quantized_sequence` and
`DrumTrack.from_quantized_sequence`; this module adds the search loop and the filters
(minimum length, truncation, distinct pitches) with Magenta's exact rules, so the
extracted lines, and their order, are the ones Magenta's converters see.

Both functions return `(lines, stats)`, where `stats` is a dict of counters keyed by
the names Magenta uses.
"""

import collections

import note_seq
import numpy as np
from note_seq import sequences_lib

_MELODY_STATS = ("polyphonic_tracks_discarded", "melodies_discarded_too_short",
                 "melodies_discarded_too_few_pitches", "melodies_discarded_too_long",
                 "melodies_truncated")
_DRUM_STATS = ("drum_tracks_discarded_too_short", "drum_tracks_discarded_too_long",
               "drum_tracks_truncated")


def _next_bar_start(end_step, search_start_step, steps_per_bar):
    """First step at or after `end_step` on the bar grid that begins at `search_start_step`."""
    return end_step + (search_start_step - end_step) % steps_per_bar


def _truncation_length(max_steps_truncate, steps_per_bar, pad_end):
    """Length to cut an over-long line to; with `pad_end` it ends on a bar line."""
    if pad_end:
        return max_steps_truncate - max_steps_truncate % steps_per_bar
    return max_steps_truncate


def extract_melodies(quantized_sequence, search_start_step=0, min_bars=7,
                     max_steps_truncate=None, max_steps_discard=None, gap_bars=1.0,
                     min_unique_pitches=5, ignore_polyphonic_notes=True, pad_end=False,
                     filter_drums=True):
    """Extracts monophonic melodies from every instrument of a quantized NoteSequence.

    For each instrument a melody starts at a note onset and ends after `gap_bars` bars of
    silence; the search then resumes at the next bar line. A melody is kept when it is at
    least `min_bars` bars long, at most `max_steps_discard` steps (if given), and uses at
    least `min_unique_pitches` pitch classes; longer than `max_steps_truncate` steps it is
    cut (to a bar line when `pad_end`). With `ignore_polyphonic_notes` False an
    instrument with simultaneous onsets yields nothing; otherwise the highest note wins.

    Returns:
      (list of note_seq.Melody, dict of stat name -> count)
    """
    sequences_lib.assert_is_relative_quantized_sequence(quantized_sequence)
    stats = collections.Counter({name: 0 for name in _MELODY_STATS})
    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence))
    melodies = []
    # Instruments are visited in the iteration order of a Python set of ints, as Magenta
    # does; this fixes the order of the returned melodies.
    instruments = set(note.instrument for note in quantized_sequence.notes)
    for instrument in instruments:
        start_step = search_start_step
        while True:
            melody = note_seq.Melody()
            try:
                melody.from_quantized_sequence(
                    quantized_sequence, instrument=instrument, search_start_step=start_step,
                    gap_bars=gap_bars, ignore_polyphonic_notes=ignore_polyphonic_notes,
                    pad_end=pad_end, filter_drums=filter_drums)
            except note_seq.PolyphonicMelodyError:
                stats["polyphonic_tracks_discarded"] += 1
                break
            start_step = _next_bar_start(melody.end_step, search_start_step, steps_per_bar)
            if not melody:
                break
            if len(melody) < melody.steps_per_bar * min_bars:
                stats["melodies_discarded_too_short"] += 1
                continue
            if max_steps_discard is not None and len(melody) > max_steps_discard:
                stats["melodies_discarded_too_long"] += 1
                continue
            if max_steps_truncate is not None and len(melody) > max_steps_truncate:
                melody.set_length(
                    _truncation_length(max_steps_truncate, melody.steps_per_bar, pad_end))
                stats["melodies_truncated"] += 1
            if np.count_nonzero(melody.get_note_histogram()) < min_unique_pitches:
                stats["melodies_discarded_too_few_pitches"] += 1
                continue
            melodies.append(melody)
    return melodies, dict(stats)


def extract_drum_tracks(quantized_sequence, search_start_step=0, min_bars=7,
                        max_steps_truncate=None, max_steps_discard=None, gap_bars=1.0,
                        pad_end=False, ignore_is_drum=False):
    """Extracts drum tracks (all drum instruments merged) from a quantized NoteSequence.

    A track starts at a drum onset and ends after `gap_bars` bars without drums; the
    search resumes at the next bar line. Tracks shorter than `min_bars` bars or longer
    than `max_steps_discard` steps are dropped; tracks longer than `max_steps_truncate`
    are cut (to a bar line when `pad_end`). With `ignore_is_drum`, non-drum notes count.

    Returns:
      (list of note_seq.DrumTrack, dict of stat name -> count)
    """
    stats = collections.Counter({name: 0 for name in _DRUM_STATS})
    steps_per_bar = int(sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence))
    drum_tracks = []
    start_step = search_start_step
    while True:
        track = note_seq.DrumTrack()
        track.from_quantized_sequence(
            quantized_sequence, search_start_step=start_step, gap_bars=gap_bars,
            pad_end=pad_end, ignore_is_drum=ignore_is_drum)
        start_step = _next_bar_start(track.end_step, start_step, steps_per_bar)
        if not track:
            break
        if len(track) < track.steps_per_bar * min_bars:
            stats["drum_tracks_discarded_too_short"] += 1
            continue
        if max_steps_discard is not None and len(track) > max_steps_discard:
            stats["drum_tracks_discarded_too_long"] += 1
            continue
        if max_steps_truncate is not None and len(track) > max_steps_truncate:
            track.set_length(_truncation_length(max_steps_truncate, track.steps_per_bar, pad_end))
            stats["drum_tracks_truncated"] += 1
        drum_tracks.append(track)
    return drum_tracks, dict(stats)
