"""The parts of a lo-fi loop on a beat grid: keys voicings, a bass line from the chord roots, swing and
humanizing, and the NoteSequences that get written and rendered.

Times here are in beats (quarter notes, 4 per bar) until `part_sequence` turns them into seconds at
the loop's tempo, so swing and the patterns do not depend on the tempo.
"""

import dataclasses

import note_seq
import numpy as np
from note_seq import chord_symbols_lib

BEATS_PER_BAR = 4

# Keys rhythm per bar: (start beat, length in beats, velocity factor).
KEYS_PATTERNS = {
    "held": ((0.0, 3.75, 1.0),),
    "push": ((0.0, 2.25, 1.0), (2.5, 1.4, 0.8)),
    "stabs": ((0.0, 0.75, 1.0), (1.5, 0.5, 0.75), (2.5, 1.25, 0.9)),
}
# Bass rhythm per bar: (start beat, length in beats, which note of the chord).
BASS_PATTERNS = {
    "roots": ((0.0, 3.5, "root"),),
    "boom": ((0.0, 1.5, "root"), (2.5, 0.9, "root"), (3.5, 0.4, "approach")),
    "walk": ((0.0, 0.9, "root"), (1.0, 0.9, "fifth"), (2.0, 0.9, "octave"), (3.0, 0.9, "approach")),
}
KEYS_RANGE = (50, 76)  # D3..E5: voicings stay in the middle of a keyboard
BASS_LOWEST_ROOT = 33  # A1: roots fall in A1..G#2
KEYS_VELOCITY = 62
BASS_VELOCITY = 84


@dataclasses.dataclass
class Note:
    pitch: int
    start: float  # beats
    end: float  # beats
    velocity: int = 80


@dataclasses.dataclass
class Part:
    """One instrument of the loop: a name (also the stem's file name), a GM program and its notes."""
    name: str
    program: int
    notes: list
    is_drum: bool = False


def _is_no_chord(symbol):
    return symbol == note_seq.NO_CHORD


def chord_pitch_classes(symbol):
    """Pitch classes of `symbol`, root first; sevenths and ninths in full, an eleventh's fifth left out."""
    pitches = chord_symbols_lib.chord_symbol_pitches(symbol)
    root = chord_symbols_lib.chord_symbol_root(symbol)
    ordered = sorted(pitches, key=lambda pc: (pc - root) % 12)
    if len(ordered) > 5:  # more notes than a hand voices: drop the fifth
        ordered = [pc for pc in ordered if (pc - root) % 12 != 7]
    return ordered


def _candidate_voicings(pitch_classes, low, high):
    """Close-position voicings of every inversion that fit in [low, high]."""
    candidates = []
    for inversion in range(len(pitch_classes)):
        order = pitch_classes[inversion:] + pitch_classes[:inversion]
        for bottom in range(low, low + 12):
            if bottom % 12 != order[0]:
                continue
            voicing, pitch = [bottom], bottom
            for pc in order[1:]:
                pitch += (pc - pitch) % 12 or 12
                voicing.append(pitch)
            for shift in (0, 12):
                shifted = [p + shift for p in voicing]
                if shifted[-1] <= high:
                    candidates.append(shifted)
    return candidates


def voice_chord(symbol, previous=None, pitch_range=KEYS_RANGE):
    """MIDI pitches for `symbol` (all its notes), the inversion that moves least from `previous`."""
    candidates = _candidate_voicings(chord_pitch_classes(symbol), *pitch_range)
    centre = (pitch_range[0] + pitch_range[1]) / 2.0

    def cost(voicing):
        spread_from_centre = abs(np.mean(voicing) - centre)
        if not previous:
            return spread_from_centre
        shared = min(len(voicing), len(previous))
        movement = sum(abs(a - b) for a, b in zip(sorted(voicing)[:shared], sorted(previous)[:shared]))
        return movement + 0.1 * spread_from_centre

    return min(candidates, key=cost)


def keys_part(chords, program, pattern="held"):
    """The chords (one per bar) voiced as a keys/pad part; "N.C." bars rest."""
    notes, previous, voicings = [], None, {}
    for bar, symbol in enumerate(chords):
        if _is_no_chord(symbol):
            continue
        # A chord keeps its first voicing, so every pass of the progression sounds the same.
        voicing = voicings.setdefault(symbol, voice_chord(symbol, previous))
        previous = voicing
        for start, length, factor in KEYS_PATTERNS[pattern]:
            begin = bar * BEATS_PER_BAR + start
            for pitch in voicing:
                notes.append(Note(pitch, begin, begin + length, int(round(KEYS_VELOCITY * factor))))
    return Part("keys", program, notes)


def _bass_root(symbol):
    """The bass note of `symbol` (its slash bass, else its root) in the bass register."""
    pc = chord_symbols_lib.chord_symbol_bass(symbol)
    return BASS_LOWEST_ROOT + (pc - BASS_LOWEST_ROOT) % 12


def bass_part(chords, program, pattern="boom"):
    """A bass line on the chord roots (slash chords: their bass note), one chord per bar."""
    notes = []
    for bar, symbol in enumerate(chords):
        if _is_no_chord(symbol):
            continue
        root = _bass_root(symbol)
        following = chords[(bar + 1) % len(chords)]
        target = root if _is_no_chord(following) else _bass_root(following)
        for start, length, role in BASS_PATTERNS[pattern]:
            if role == "root":
                pitch = root
            elif role == "fifth":
                pitch = root + 7
            elif role == "octave":
                pitch = root + 12
            else:  # a step into the next bar's root; the fifth when the chord stays
                pitch = root + 7 if target == root else target - 1 if target > root else target + 1
            begin = bar * BEATS_PER_BAR + start
            notes.append(Note(pitch, begin, begin + length, BASS_VELOCITY))
    return Part("bass", program, notes)


# --- feel ---------------------------------------------------------------------------------------

def swing_beat(beat, swing):
    """`beat` moved by swing: each eighth note's second sixteenth starts at `swing` of the eighth.

    0.5 is straight, 2/3 a triplet feel; times in between are stretched linearly, so notes off the
    sixteenth grid move smoothly too.
    """
    eighth = 0.5
    base = np.floor(beat / eighth) * eighth
    u = (beat - base) / eighth
    warped = np.where(u < 0.5, u * 2.0 * swing, swing + (u - 0.5) * 2.0 * (1.0 - swing))
    return float(base + warped * eighth)


def apply_swing(part, swing):
    """A copy of `part` with swing applied to every note's start and end."""
    notes = [Note(n.pitch, swing_beat(n.start, swing), swing_beat(n.end, swing), n.velocity)
             for n in part.notes]
    return dataclasses.replace(part, notes=notes)


def humanize(part, rng, qpm, timing_ms=8.0, velocity_sd=6.0, drag_ms=0.0, strum_ms=0.0):
    """A copy of `part` with played-by-hand timing and dynamics.

    Each note moves by N(drag_ms, timing_ms) milliseconds (its length kept) and its velocity by
    N(0, velocity_sd); notes starting together are spread by `strum_ms` from the lowest up.
    """
    beats_per_ms = qpm / 60000.0
    notes = []
    order = sorted(part.notes, key=lambda n: (n.start, n.pitch))
    chord_start, chord_index = None, 0
    for note in order:
        if chord_start is not None and abs(note.start - chord_start) < 1e-6:
            chord_index += 1
        else:
            chord_start, chord_index = note.start, 0
        shift = (rng.normal(drag_ms, timing_ms) + chord_index * strum_ms) * beats_per_ms if timing_ms or \
            drag_ms or strum_ms else 0.0
        velocity = int(np.clip(round(note.velocity + rng.normal(0.0, velocity_sd)), 1, 127))
        start = max(0.0, note.start + shift)
        notes.append(Note(note.pitch, start, max(start + 1e-3, note.end + shift), velocity))
    return dataclasses.replace(part, notes=notes)


# --- NoteSequences ------------------------------------------------------------------------------

def part_sequence(part, qpm, num_beats, instrument=0):
    """The NoteSequence of `part` at `qpm`, notes cut at the loop's end (`num_beats`)."""
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    sequence.ticks_per_quarter = note_seq.STANDARD_PPQ
    seconds_per_beat = 60.0 / qpm
    total = num_beats * seconds_per_beat
    for note in part.notes:
        start = note.start * seconds_per_beat
        if start >= total:
            continue
        sequence.notes.add(pitch=int(note.pitch), velocity=int(note.velocity), start_time=start,
                           end_time=min(note.end * seconds_per_beat, total), instrument=instrument,
                           program=int(part.program), is_drum=part.is_drum)
    sequence.total_time = total
    return sequence


def loop_sequence(parts, qpm, num_beats, chords=None):
    """All parts in one NoteSequence (one instrument each), with the chord symbols as annotations."""
    sequence = note_seq.NoteSequence()
    for index, part in enumerate(parts):
        sequence.MergeFrom(part_sequence(part, qpm, num_beats, instrument=index)
                           if not part.is_drum else part_sequence(part, qpm, num_beats, instrument=9))
    del sequence.tempos[1:]
    del sequence.time_signatures[1:]
    sequence.ticks_per_quarter = note_seq.STANDARD_PPQ
    for bar, symbol in enumerate(chords or ()):
        sequence.text_annotations.add(time=bar * BEATS_PER_BAR * 60.0 / qpm, text=symbol,
                                      annotation_type=note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL)
    sequence.total_time = num_beats * 60.0 / qpm
    return sequence
