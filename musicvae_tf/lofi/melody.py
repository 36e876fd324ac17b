"""The melody of a lo-fi loop, from a 2-bar melody model conditioned on the loop's chords.

The loop is cut into 2-bar blocks. Blocks follow a phrase plan A B A C (A, B, C three latent codes
drawn from the seed), so the first idea comes back as lo-fi loops do; a block whose code and chords
equal an earlier block's repeats it note for note. Each block is conditioned on its two bars' chords,
reduced by the model's chord encoding (Am7 -> Am); a chord the encoding cannot hold (e.g. Csus4) is
given to the model as "no chord" and the keys still play it. The melody is moved by octaves so its
median sits near C5, above the keys; single notes outside G3..F6 are folded into it by octaves. A model without chord conditioning
(e.g. cat-mel_2bar_small) works too: its melody is then transposed as a whole to the shift that puts
most of its notes on the chords' tones (`fit_to_chords`).
"""

import note_seq
import numpy as np
from absl import logging

from musicvae_tf.lofi import parts

PHRASE_PLAN = (0, 1, 0, 2)  # latent code of each 2-bar block, cycling
MELODY_CENTRE = 72  # the melody's median pitch is moved by octaves to near C5, above the keys
MELODY_VELOCITY = 80
MELODY_RANGE = (55, 89)  # G3..F6: notes outside are moved by octaves into it


def conditioning_chords(converter, symbols):
    """`symbols` as the model is conditioned on them: one the encoding cannot hold becomes "N.C."."""
    from musicvae_tf.converters import chords as chord_lib

    result = []
    for symbol in symbols:
        try:
            chord_lib.encode_chords(converter, [symbol])
            result.append(symbol)
        except ValueError:
            logging.warning("The melody model knows no chord like %s; its bars are conditioned on "
                            "no chord (the keys still play %s)", symbol, symbol)
            result.append(note_seq.NO_CHORD)
    return result


def _block_sequences(model, block_chords, block_codes, z, temperature):
    """The decoded NoteSequence of every block (one decode call per distinct pair of chords)."""
    converter = model.config.data_converter
    length = model.config.hparams.max_seq_len
    conditioned = bool(converter.control_depth)
    results = {}
    wanted = sorted(set(zip(block_codes, block_chords)), key=lambda key: (key[1], key[0]))
    groups = {}
    for code, chord_pair in wanted:
        codes = groups.setdefault(chord_pair if conditioned else (), [])
        if code not in codes:
            codes.append(code)
    for chord_pair, codes in groups.items():
        kwargs = {}
        if conditioned:
            from musicvae_tf.converters import chords as chord_lib

            kwargs["c_input"] = chord_lib.chord_controls(converter, list(chord_pair), num_steps=length)
        sequences = model.decode(z[codes], length=length, temperature=temperature, **kwargs)
        for code, sequence in zip(codes, sequences):
            for pair in ([chord_pair] if conditioned else set(block_chords)):
                results[(code, pair)] = sequence
    return [results[(code, pair)] for code, pair in zip(block_codes, block_chords)]


def fit_to_chords(notes, chords):
    """The transposition (-6..5 semitones) that puts most of an unconditioned melody's note time on
    the tones of the chords under it (the same for the whole melody, so its shape is kept)."""
    from musicvae_tf.lofi.parts import chord_pitch_classes

    tones = [set() if symbol == note_seq.NO_CHORD else set(chord_pitch_classes(symbol)) for symbol in chords]

    def fit(shift):
        return sum((n.end - n.start) for n in notes
                   if (n.pitch + shift) % 12 in tones[min(int(n.start // parts.BEATS_PER_BAR), len(tones) - 1)])

    return max(range(-6, 6), key=lambda shift: (fit(shift), -abs(shift)))


def melody_part(model, chords, temperature, rng, program):
    """A melody over `chords` (one per bar) from `model` (a TrainedModel of a 2-bar melody config)."""
    converter = model.config.data_converter
    num_bars = len(chords)
    num_blocks = (num_bars + 1) // 2
    if converter.control_depth:
        model_chords = conditioning_chords(converter, chords)
    else:
        logging.warning("The melody model is not conditioned on chords: its melody is transposed as a whole "
                        "onto the chords' tones")
        model_chords = list(chords)
    block_chords = [(model_chords[2 * k], model_chords[(2 * k + 1) % num_bars]) for k in range(num_blocks)]
    block_codes = [PHRASE_PLAN[k % len(PHRASE_PLAN)] for k in range(num_blocks)]
    z = rng.standard_normal((max(PHRASE_PLAN) + 1, model.config.hparams.z_size)).astype(np.float32)
    sequences = _block_sequences(model, block_chords, block_codes, z, temperature)

    notes = []
    steps_per_quarter = 4
    for block, sequence in enumerate(sequences):
        qpm = sequence.tempos[0].qpm if sequence.tempos else 120.0
        for note in sequence.notes:
            start = round(note.start_time * qpm / 60.0 * steps_per_quarter) / steps_per_quarter
            end = round(note.end_time * qpm / 60.0 * steps_per_quarter) / steps_per_quarter
            offset = block * 2 * parts.BEATS_PER_BAR
            if offset + start >= num_bars * parts.BEATS_PER_BAR:
                continue
            notes.append(parts.Note(note.pitch, offset + start, offset + max(end, start + 0.25),
                                    MELODY_VELOCITY))
    if notes and not converter.control_depth:
        shift = fit_to_chords(notes, chords)
        for note in notes:
            note.pitch += shift
    if notes:
        median = float(np.median([n.pitch for n in notes]))
        shift = 12 * int(round((MELODY_CENTRE - median) / 12.0))
        low, high = MELODY_RANGE
        for note in notes:
            pitch = note.pitch + shift
            while pitch < low:
                pitch += 12
            while pitch > high:
                pitch -= 12
            note.pitch = pitch
    return parts.Part("melody", program, notes), model_chords
