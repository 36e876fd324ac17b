"""Drums for a lo-fi loop: a small library of boom-bap patterns, or 2-bar loops sampled from a drums model.

Each pattern is two bars of sixteenths per drum, `x` a hit, `o` a ghost (soft) hit, `.` a rest; the
second bar carries the variation, and the two bars repeat to fill the loop:

    boom_bap     the classic: kick on 1 and the "and" of 2, snare on 2 and 4, straight eighth hats
    lazy         sparse kick, laid-back snare, hats with ghost notes between
    dusty        busier kick, a ghost snare before beat 4, sixteenth hats with ghosts
    half_time    snare on beat 3 only, an open hat at the end of each bar

Humanizing (`humanize_drums`): the snare drags a little behind the beat (lazy feel), every hit moves by
a few milliseconds and its velocity by a few steps, hats most, kick least.
"""

import numpy as np

from musicvae_tf.lofi import parts

KICK, SNARE, CLOSED_HAT, OPEN_HAT = 36, 38, 42, 46

PATTERNS = {
    "boom_bap": {
        KICK: "x.....x...x..... x.....x..x......",
        SNARE: "....x.......x... ....x.......x..o",
        CLOSED_HAT: "x.x.x.x.x.x.x.x. x.x.x.x.x.x.x.x.",
    },
    "lazy": {
        KICK: "x.........x..... x......x..x.....",
        SNARE: "....x.......x... ....x.......x...",
        CLOSED_HAT: "x.o.x.o.x.o.x.o. x.o.x.o.x.o.x.oo",
    },
    "dusty": {
        KICK: "x..x......x..... x..x.....x.x....",
        SNARE: "....x..o....x... ....x..o....x..o",
        CLOSED_HAT: "xoxoxoxoxoxoxoxo xoxoxoxoxoxoxoxo",
    },
    "half_time": {
        KICK: "x.........x..... x..x......x.....",
        SNARE: "........x....... ........x.......",
        CLOSED_HAT: "x.x.x.x.x.x.x... x.x.x.x.x.x.x...",
        OPEN_HAT: "..............x. ..............x.",
    },
}
# Velocity of a hit and of a ghost note, per drum.
_VELOCITIES = {KICK: (104, 60), SNARE: (96, 38), CLOSED_HAT: (70, 38), OPEN_HAT: (70, 40)}
# Humanizing per drum: (timing spread ms, mean drag ms, velocity spread).
_FEEL = {KICK: (3.0, 0.0, 5.0), SNARE: (5.0, 12.0, 6.0), CLOSED_HAT: (7.0, 4.0, 9.0),
         OPEN_HAT: (7.0, 4.0, 8.0)}
_DEFAULT_FEEL = (6.0, 3.0, 8.0)
DRUM_PROGRAM = 0  # GM drum kit "Standard"
_SIXTEENTH = 0.25  # beats


def pattern_part(name, num_bars):
    """The drum part of pattern `name` over `num_bars` bars; ValueError naming the patterns otherwise."""
    if name not in PATTERNS:
        raise ValueError(f"unknown drum pattern {name!r}; choose one of: {', '.join(PATTERNS)}")
    notes = []
    for pitch, rows in PATTERNS[name].items():
        steps = rows.replace(" ", "")
        hit, ghost = _VELOCITIES[pitch]
        for bar in range(num_bars):
            offset = (bar % 2) * 16
            for step in range(16):
                mark = steps[offset + step]
                if mark == ".":
                    continue
                start = bar * parts.BEATS_PER_BAR + step * _SIXTEENTH
                notes.append(parts.Note(pitch, start, start + _SIXTEENTH, hit if mark == "x" else ghost))
    return parts.Part("drums", DRUM_PROGRAM, notes, is_drum=True)


def humanize_drums(part, rng, qpm, amount=1.0):
    """A copy of the drum part with per-drum timing drag and spread and velocity spread (`amount` scales)."""
    by_pitch = {}
    for note in part.notes:
        by_pitch.setdefault(note.pitch, []).append(note)
    notes = []
    for pitch, group in sorted(by_pitch.items()):
        spread, drag, velocity_sd = _FEEL.get(pitch, _DEFAULT_FEEL)
        single = parts.Part(part.name, part.program, group, is_drum=True)
        notes.extend(parts.humanize(single, rng, qpm, timing_ms=spread * amount, drag_ms=drag * amount,
                                    velocity_sd=velocity_sd * amount).notes)
    notes.sort(key=lambda n: (n.start, n.pitch))
    return parts.Part(part.name, part.program, notes, is_drum=True)


def sequences_to_part(sequences, num_bars, steps_per_quarter=4):
    """Concatenates 2-bar drum NoteSequences (quantized at 120 qpm by the converter) into a part.

    The loop cycles through `sequences` two bars at a time until `num_bars` are filled.
    """
    notes = []
    for bar_pair in range((num_bars + 1) // 2):
        sequence = sequences[bar_pair % len(sequences)]
        qpm = sequence.tempos[0].qpm if sequence.tempos else 120.0
        for note in sequence.notes:
            beat = note.start_time * qpm / 60.0
            if beat >= 2 * parts.BEATS_PER_BAR - 1e-6:
                continue
            start = bar_pair * 2 * parts.BEATS_PER_BAR + round(beat * steps_per_quarter) / steps_per_quarter
            if start >= num_bars * parts.BEATS_PER_BAR:
                continue
            # The converter writes one velocity for every hit; give each drum its pattern accent.
            velocity = _VELOCITIES.get(note.pitch, (84, 0))[0]
            notes.append(parts.Note(note.pitch, start, start + _SIXTEENTH, velocity))
    return parts.Part("drums", DRUM_PROGRAM, notes, is_drum=True)


def sample_drums(model, num_bars, temperature, rng):
    """Drums from a 2-bar drums model: two sampled loops, A A B A ... (B every fourth 2-bar block)."""
    z = rng.standard_normal((2, model.config.hparams.z_size)).astype(np.float32)
    loop_a, loop_b = model.decode(z, length=model.config.hparams.max_seq_len, temperature=temperature)
    blocks = (num_bars + 1) // 2
    order = [loop_b if k % 4 == 2 else loop_a for k in range(blocks)]
    return sequences_to_part(order, num_bars)
