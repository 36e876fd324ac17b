"""The chord progression of a loop: given as text, or one of a few common lo-fi progressions in a key.

The presets are written as scale degrees so they work in any key (`--key`); each chord lasts one
bar and the progression repeats to fill the loop:

    name             degrees                     in C (A for the minor ones)
    ii-V-I           ii7  V7   Imaj7 Imaj7       Dm7 G7 Cmaj7 Cmaj7
    I-vi-ii-V        Imaj7 vi7 ii7   V7          Cmaj7 Am7 Dm7 G7
    IV-iii-ii-I      IVmaj7 iii7 ii7 Imaj7       Fmaj7 Em7 Dm7 Cmaj7   (the falling one)
    Imaj7-IVmaj7     Imaj7 IVmaj7                Cmaj7 Fmaj7           (two-chord neo-soul vamp)
    vi-IV-I-V        vi7 IVmaj7 I V              Am7 Fmaj7 C G         (in the key of the relative major)
    i-iv-VII-III     i7 iv7 VII7 IIImaj7         Am7 Dm7 G7 Cmaj7      (minor)
    i-VI-iv-v        i7 VImaj7 iv7 v7            Am7 Fmaj7 Dm7 Em7     (minor)

Chord symbols are checked by the chord converter's parser (musicvae_tf.converters.chords); this
module only spells the presets.
"""

import note_seq

# Semitones above the key's tonic, and the chord quality written after the root.
PRESETS = {
    "ii-V-I": ((2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")),
    "I-vi-ii-V": ((0, "maj7"), (9, "m7"), (2, "m7"), (7, "7")),
    "IV-iii-ii-I": ((5, "maj7"), (4, "m7"), (2, "m7"), (0, "maj7")),
    "Imaj7-IVmaj7": ((0, "maj7"), (5, "maj7")),
    "vi-IV-I-V": ((9, "m7"), (5, "maj7"), (0, ""), (7, "")),
    "i-iv-VII-III": ((0, "m7"), (5, "m7"), (10, "7"), (3, "maj7")),
    "i-VI-iv-v": ((0, "m7"), (8, "maj7"), (5, "m7"), (7, "m7")),
}
# The key a preset is spelled in when no --key is given and no seed picks one.
MINOR_PRESETS = frozenset({"i-iv-VII-III", "i-VI-iv-v"})
# Keys the seed picks from: ones whose lo-fi voicings sit well on a keyboard.
COMMON_KEYS = ("C", "D", "Eb", "E", "F", "G", "A", "Bb")

# Chords are spelled as in the key's signature: sharps in G, D, A, E, B, F# major (and their relative
# minors), flats elsewhere (Bbmaj7 in F, F#m7 in D); a key written with # or b keeps its accidental.
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_SHARP_MAJOR_TONICS = frozenset({7, 2, 9, 4, 11, 6})


def key_pitch_class(key):
    """0-11 for a key name such as "C", "F#", "Bb" (case of the letter ignored); ValueError otherwise."""
    text = str(key or "").strip()
    if not text:
        raise ValueError("the key is empty: give a note name such as C, F# or Bb")
    try:
        return note_seq.chord_symbols_lib.chord_symbol_root(text[0].upper() + text[1:])
    except note_seq.ChordSymbolError:
        raise ValueError(f"unknown key {key!r} (write a note name such as C, F# or Bb)") from None


def spell_preset(name, key):
    """The chord symbols of preset `name` in `key`; ValueError naming the presets for an unknown name."""
    if name not in PRESETS:
        raise ValueError(f"unknown progression {name!r}; choose one of: {', '.join(PRESETS)}")
    tonic = key_pitch_class(key)
    major_tonic = (tonic + 3) % 12 if name in MINOR_PRESETS else tonic
    written = str(key).strip()[1:]
    if written in ("#", "b"):  # the user's own spelling of the key wins
        names = _SHARP_NAMES if written == "#" else _FLAT_NAMES
    else:
        names = _SHARP_NAMES if major_tonic in _SHARP_MAJOR_TONICS else _FLAT_NAMES
    return [names[(tonic + offset) % 12] + quality for offset, quality in PRESETS[name]]


def chords_per_bar(symbols, num_bars):
    """The chord of each of `num_bars` bars: `symbols` repeated (one chord per bar)."""
    return [symbols[bar % len(symbols)] for bar in range(num_bars)]
