"""Why a converter extracts no example from a NoteSequence, said so that a user can act on it.

    tensors = converter.to_tensors(sequence)
    if not tensors.outputs:
        reason = why_no_examples(converter, sequence)
        print(reason.text)   # "it is in 3/4 time; the config needs 4/4 (bars of 4 quarter notes)"
        reason.code          # "time_signature", for counting

The checks follow the converters' own filters, which are Magenta's, in the order a sequence meets
them: the notes the converter reads at all (melody programs 0-31 and the piano range, drum
notes on MIDI channel 10 of the kit's pitches, the three parts of a trio); the split at tempo
and time-signature changes; the metric grid (a time signature whose bar is not the config's bar
length, e.g. 3/4 or 6/8 for a 4/4 config); the lines extracted (a melody or drum line ends after
`gap_bars` silent bars; with `skip_polyphony` a track with simultaneous notes is dropped); the
window the model needs (`slice_bars`); chord inference for chord-conditioned configs. Only note_seq
is used (no model code).
"""

import collections
import copy

import note_seq
from note_seq import sequences_lib

from musicvae_tf.converters.base import BASS_PROGRAMS, MEL_PROGRAMS
from musicvae_tf.converters.drums import DrumsConverter
from musicvae_tf.converters.groove import GrooveConverter
from musicvae_tf.converters.melody import OneHotMelodyConverter
from musicvae_tf.converters.trio import TrioConverter


class Reason(collections.namedtuple("Reason", ["code", "text"])):
    """`code`: a stable key for counting (see LABELS); `text`: one clause for the user."""


# Short labels for per-reason counts (music_vae_convert's summary).
LABELS = {
    "empty": "no notes",
    "drums_only": "only drums",
    "no_melody_instrument": "no melody instrument",
    "pitch_range": "notes out of range",
    "no_drums": "no drums",
    "drum_pitches": "no drum of the kit",
    "missing_parts": "missing a trio part",
    "time_signature": "other time signature",
    "unquantizable": "not on the grid",
    "time_changes": "split by tempo/meter changes",
    "too_short": "too short",
    "polyphonic": "polyphonic",
    "parts_apart": "trio parts never together",
    "chords": "no chords inferable",
    "other": "other",
}
_QUANTIZATION_ERRORS = (note_seq.BadTimeSignatureError, note_seq.NonIntegerStepsPerBarError,
                        note_seq.NegativeTimeError, sequences_lib.MultipleTimeSignatureError,
                        sequences_lib.MultipleTempoError)


def _bars(steps, steps_per_bar):
    value = steps / steps_per_bar
    return f"{value:g} bar" + ("" if value == 1 else "s")


def _meter(time_signature):
    return f"{time_signature.numerator}/{time_signature.denominator}"


def _meters(sequence):
    """The distinct time signatures of `sequence` ("4/4" when it gives none, as note_seq assumes)."""
    meters = []
    for signature in sorted(sequence.time_signatures, key=lambda s: s.time):
        if _meter(signature) not in meters:
            meters.append(_meter(signature))
    return meters or ["4/4"]


def _bar_quarters(meter):
    numerator, denominator = (int(part) for part in meter.split("/"))
    return numerator * 4 / denominator if denominator else None


def _read_notes(converter, sequence):
    """The notes `converter` reads, or a Reason when there are none."""
    notes = list(sequence.notes)
    if isinstance(converter, OneHotMelodyConverter):
        pitched = [n for n in notes if not n.is_drum]
        if not pitched:
            return Reason("drums_only", "it has only drums (MIDI channel 10); the config models melodies")
        in_programs = [n for n in pitched if converter._valid_programs is None
                       or n.program in converter._valid_programs]
        if not in_programs:
            programs = sorted(converter._valid_programs)
            which = ("General MIDI programs 0-31: pianos, organs, guitars, ..." if programs == list(MEL_PROGRAMS)
                     else f"programs {', '.join(map(str, programs))}")
            return Reason("no_melody_instrument", f"none of its instruments is a melody instrument the config "
                          f"reads ({which})")
        kept = [n for n in in_programs if converter._keeps(n)]
        if not kept:
            return Reason("pitch_range", f"all its notes lie outside the pitch range {converter._min_pitch}-"
                          f"{converter._max_pitch}")
        return kept
    if isinstance(converter, (DrumsConverter, GrooveConverter)):
        drums = [n for n in notes if n.is_drum] if isinstance(converter, DrumsConverter) else notes
        if not any(n.is_drum for n in notes) and isinstance(converter, DrumsConverter):
            return Reason("no_drums", "it has no drums (MIDI channel 10); the config models drum patterns")
        kept = [n for n in drums if n.pitch in converter._pitch_class_map]
        if not kept:
            return Reason("drum_pitches", "none of its drum notes is a pitch of the config's drum kit")
        return kept
    if isinstance(converter, TrioConverter):
        parts = {"melody (programs 0-31)": any(not n.is_drum and n.program in MEL_PROGRAMS for n in notes),
                 "bass (programs 32-39)": any(not n.is_drum and n.program in BASS_PROGRAMS for n in notes),
                 "drums (MIDI channel 10)": any(n.is_drum for n in notes)}
        missing = [name for name, present in parts.items() if not present]
        if missing:
            return Reason("missing_parts", f"it has no {' and no '.join(missing)}; the config needs "
                          "melody, bass and drums together")
    return notes


def _with_notes(sequence, notes):
    copied = copy.deepcopy(sequence)
    del copied.notes[:]
    copied.notes.extend(notes)
    return copied


def _quantized_pieces(converter, sequence, steps_per_quarter, steps_per_bar):
    """(pieces on the converter's grid, the first quantization error or None)."""
    if converter.presplit_on_time_changes:
        pieces = sequences_lib.split_note_sequence_on_time_changes(sequence)
    else:
        pieces = [sequence]
    quantized, error = [], None
    for piece in pieces:
        try:
            grid = note_seq.quantize_note_sequence(piece, steps_per_quarter)
        except _QUANTIZATION_ERRORS as exception:
            error = error or exception
            continue
        if grid.notes and note_seq.steps_per_bar_in_quantized_sequence(grid) == steps_per_bar:
            quantized.append(grid)
    return quantized, error


def _longest_line(converter, pieces):
    """(longest extracted line in steps, number of lines, extraction stats) over the quantized pieces."""
    extract = (converter._event_extractor_fn if isinstance(converter, OneHotMelodyConverter)
               else converter._drums_extractor_fn)
    longest, count, stats = 0, 0, collections.Counter()
    for piece in pieces:
        lines, piece_stats = extract(piece)
        stats.update(piece_stats)
        count += len(lines)
        longest = max([longest] + [len(line) for line in lines])
    return longest, count, stats


def _span_steps(piece):
    starts = [n.quantized_start_step for n in piece.notes]
    ends = [n.quantized_end_step for n in piece.notes]
    return max(ends) - min(starts) if starts else 0


def why_no_examples(converter, note_sequence):
    """A Reason why `converter.to_tensors(note_sequence)` gives no example (call it only then)."""
    if not note_sequence.notes:
        return Reason("empty", "it has no notes")
    notes = _read_notes(converter, note_sequence)
    if isinstance(notes, Reason):
        return notes
    steps_per_quarter = getattr(converter, "_steps_per_quarter", None)
    steps_per_bar = getattr(converter, "_steps_per_bar", None)
    if not (steps_per_quarter and steps_per_bar):
        return Reason("other", "the config's converter finds nothing it can use in it")
    sequence = _with_notes(note_sequence, notes)
    bar_quarters = steps_per_bar / steps_per_quarter
    meters = _meters(sequence)
    if all(_bar_quarters(meter) != bar_quarters for meter in meters):
        needed = "4/4" if bar_quarters == 4 else f"{bar_quarters:g} quarter notes per bar"
        return Reason("time_signature", f"it is in {', '.join(meters)} time; the config needs {needed} "
                      f"(bars of {bar_quarters:g} quarter notes)")
    pieces, error = _quantized_pieces(converter, sequence, steps_per_quarter, steps_per_bar)
    if not pieces:
        detail = f" ({' '.join(str(error).split())})" if error else ""
        return Reason("unquantizable", f"its notes cannot be placed on the config's grid of {steps_per_quarter} "
                      f"steps per quarter note{detail}")
    needed_steps = getattr(converter, "_slice_steps", None)
    if isinstance(converter, TrioConverter):
        needed_steps = converter._slice_bars * steps_per_bar
    elif isinstance(converter, GrooveConverter) and converter._split_bars:
        needed_steps = converter._split_bars * steps_per_bar
    if isinstance(converter, (OneHotMelodyConverter, DrumsConverter)):
        longest, count, stats = _longest_line(converter, pieces)
        if not longest and stats.get("polyphonic_tracks_discarded"):
            return Reason("polyphonic", "every track plays several notes at once; the config needs "
                          "one line at a time")
        if needed_steps and longest < needed_steps:
            subject = "it" if count == 1 else "its longest phrase (a silent bar ends one)"
            return _too_short(longest, needed_steps, steps_per_bar, pieces, note_sequence, subject)
    elif needed_steps:
        longest = max(_span_steps(piece) for piece in pieces)
        if longest < needed_steps:
            return _too_short(longest, needed_steps, steps_per_bar, pieces, note_sequence, "it")
        if isinstance(converter, TrioConverter):
            return Reason("parts_apart", f"its melody, bass and drums never play together for "
                          f"{_bars(needed_steps, steps_per_bar)}")
    if converter.chord_encoding is not None:
        try:
            for piece in pieces:
                note_seq.infer_chords_for_sequence(copy.deepcopy(piece))
        except note_seq.ChordInferenceError:
            return Reason("chords", "its chords cannot be inferred (the config is conditioned on chords)")
    return Reason("other", "the config's converter finds nothing it can use in it")


def _too_short(longest, needed_steps, steps_per_bar, pieces, note_sequence, subject):
    needed = _bars(needed_steps, steps_per_bar)
    if len(pieces) > 1 and sum(_span_steps(piece) for piece in pieces) >= needed_steps:
        return Reason("time_changes", f"its tempo or time-signature changes split it into {len(pieces)} "
                      f"pieces of at most {_bars(longest, steps_per_bar)}; the config needs {needed} "
                      "without a change")
    return Reason("too_short", f"{subject} is {_bars(longest, steps_per_bar)} long; the config needs {needed}")


def count_reasons(reasons):
    """'12 other time signature, 3 only drums' for an iterable of Reasons (most frequent first)."""
    counts = collections.Counter(reason.code for reason in reasons)
    return ", ".join(f"{count} {LABELS.get(code, code)}" for code, count in counts.most_common())
