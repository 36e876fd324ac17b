"""Chord progressions given as text -> the per-step chord controls a chord-conditioned converter uses.

    symbols = parse_chord_progression("Am7 Fmaj7 C G")        # ['Am7', 'Fmaj7', 'C', 'G']
    c_input = chord_controls(converter, symbols, num_steps=32)  # [32, 49] one-hot, one chord per bar
    model.sample(n=4, length=32, c_input=c_input)               # TrainedModel

The controls are encoded with the converter's own chord encoding, as in training, so a seventh
chord becomes its triad (TriadChordOneHotEncoding: Am7 -> A minor, Fmaj7 -> F major); chords that
are not a major, minor, augmented or diminished triad (e.g. Csus4, C5) cannot be encoded and raise.
No model code here.
"""

import re

import note_seq
import numpy as np
from note_seq import chord_symbols_lib

# What users may write for "no chord" besides note_seq's own "N.C.".
_NO_CHORD_SPELLINGS = frozenset({"N.C.", "NC", "N.C"})


def parse_chord_progression(text):
    """Chord symbols from a space- and/or comma-separated string, e.g. "Am7, Fmaj7 C G".

    Every symbol is checked with note_seq's chord-symbol parser; "N.C." (or "NC") means no chord
    and is returned as note_seq.NO_CHORD. Raises ValueError with a one-line message naming the
    first symbol that cannot be read, or when the text holds no symbol.
    """
    symbols = [token for token in re.split(r"[\s,]+", str(text or "").strip()) if token]
    if not symbols:
        raise ValueError("the chord progression is empty: give chord symbols such as \"C G Am F\"")
    parsed = []
    for symbol in symbols:
        if symbol.upper() in _NO_CHORD_SPELLINGS:
            parsed.append(note_seq.NO_CHORD)
            continue
        try:
            chord_symbols_lib.chord_symbol_pitches(symbol)
        except chord_symbols_lib.ChordSymbolError:
            raise ValueError(f"unknown chord symbol {symbol!r} (write e.g. C, Am, F#m7, Bbmaj7, "
                             f"Gdim, N.C.)") from None
        parsed.append(symbol)
    return parsed


def chord_encoding_of(converter):
    """The chord encoding `converter` conditions on, or None (converters without chords)."""
    return getattr(converter, "chord_encoding", None)


def steps_per_bar_of(converter):
    """Steps in one bar of `converter`'s grid, or None for converters without a metric grid."""
    return getattr(converter, "steps_per_bar", None)


def encode_chords(converter, symbols):
    """The converter's class index of each chord symbol; ValueError (one line) for one it cannot encode."""
    encoding = chord_encoding_of(converter)
    if encoding is None:
        raise ValueError("this converter is not conditioned on chords")
    indices = []
    for symbol in symbols:
        try:
            indices.append(encoding.encode_event(symbol))
        except (note_seq.ChordSymbolError, note_seq.ChordEncodingError):
            raise ValueError(f"chord {symbol!r} is not a major, minor, augmented or diminished triad "
                             f"(or one of their sevenths), the chords this model knows") from None
    return indices


def chord_controls(converter, symbols, num_steps, steps_per_chord=None):
    """One-hot chord controls [num_steps, converter.control_depth] for `symbols`, looped.

    Each chord lasts `steps_per_chord` steps (default: one bar of the converter's grid, 16 steps
    for the 2-bar melody configs); the progression repeats until `num_steps` are filled. The dtype
    is float32, what TrainedModel.sample / decode take as `c_input`.
    """
    encoding = chord_encoding_of(converter)
    if encoding is None:
        raise ValueError("this model is not conditioned on chords (use a *_chords config)")
    if converter.control_depth != encoding.num_classes:
        raise ValueError(f"the converter's controls ({converter.control_depth} columns) hold more than "
                         f"chords ({encoding.num_classes}); key conditioning is not supported here")
    if not symbols:
        raise ValueError("no chord symbols given")
    num_steps = int(num_steps)
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    if steps_per_chord is None:
        steps_per_chord = steps_per_bar_of(converter)
        if not steps_per_chord:
            raise ValueError("the converter has no bar length: give steps_per_chord")
    steps_per_chord = int(steps_per_chord)
    if steps_per_chord < 1:
        raise ValueError(f"steps_per_chord must be at least 1, got {steps_per_chord}")
    indices = encode_chords(converter, symbols)
    per_step = [indices[(step // steps_per_chord) % len(indices)] for step in range(num_steps)]
    controls = np.zeros([num_steps, converter.control_depth], np.float32)
    controls[np.arange(num_steps), per_step] = 1.0
    return controls


def chords_of_controls(converter, controls):
    """The chord symbol (the encoding's spelling, e.g. 'Am' for Am7) at each step of `controls`."""
    encoding = chord_encoding_of(converter)
    if encoding is None:
        raise ValueError("this converter is not conditioned on chords")
    return [encoding.decode_event(int(i)) for i in np.argmax(np.asarray(controls), axis=-1)]


_TRANSITIONS_CACHE = {}


def install_chord_inference_cache():
    """Makes note_seq's chord inference compute its key-chord transition matrix once per process.

    note_seq.infer_chords_for_sequence rebuilds a 588 x 588 transition matrix in Python loops on
    every call (seconds per call; most of the cost of inferring the chords of a tune). The matrix
    depends only on the inference's probabilities, so it is cached by their values. Idempotent.
    """
    from note_seq import chord_inference

    original = getattr(chord_inference._key_chord_transition_distribution, "__wrapped__", None)
    if original is not None:
        return
    original = chord_inference._key_chord_transition_distribution

    def cached(key_chord_distribution, key_change_prob, chord_change_prob):
        key = (np.asarray(key_chord_distribution).tobytes(), float(key_change_prob), float(chord_change_prob))
        if key not in _TRANSITIONS_CACHE:
            _TRANSITIONS_CACHE[key] = original(key_chord_distribution, key_change_prob, chord_change_prob)
        return _TRANSITIONS_CACHE[key]

    cached.__wrapped__ = original
    chord_inference._key_chord_transition_distribution = cached
