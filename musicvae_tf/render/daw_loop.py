"""NoteSequences ready for a DAW: a loop at a chosen tempo, repeated back to back."""

import math

import note_seq
from note_seq import sequences_lib


def _seconds_per_quarter(sequence):
    qpm = sequence.tempos[0].qpm if sequence.tempos else note_seq.DEFAULT_QUARTERS_PER_MINUTE
    return 60.0 / qpm


def loop_for_daw(sequence, repeats=1, qpm=None, loop_quarters=None, quarters_per_bar=4):
    """Returns `sequence` at tempo `qpm`, repeated `repeats` times back to back.

    The loop's length is `loop_quarters` quarter notes when given (e.g. the model's output length),
    else its total time rounded up to whole bars, so trailing rests keep the loop in time.
    """
    if repeats < 1:
        raise ValueError(f"the number of loop repeats must be at least 1, got {repeats}")
    if qpm is not None and qpm <= 0:
        raise ValueError(f"qpm must be positive, got {qpm}")
    result = note_seq.NoteSequence()
    result.CopyFrom(sequence)
    if not result.tempos:
        result.tempos.add(qpm=note_seq.DEFAULT_QUARTERS_PER_MINUTE)
    if qpm is not None:
        result = sequences_lib.stretch_note_sequence(result, result.tempos[0].qpm / qpm)
    quarter = _seconds_per_quarter(result)
    if loop_quarters:
        loop_seconds = loop_quarters * quarter
    else:
        bar_seconds = quarters_per_bar * quarter
        loop_seconds = max(1, math.ceil(result.total_time / bar_seconds - 1e-6)) * bar_seconds
    loop_seconds = max(loop_seconds, result.total_time)
    if repeats == 1:
        result.total_time = loop_seconds
        return result
    return sequences_lib.concatenate_sequences([result] * repeats, [loop_seconds] * repeats)
