"""The built-in synthesizer: audio for any NoteSequence with nothing but pip packages.

Used when FluidSynth is not installed (see `audio.choose_renderer`). Pitched notes go through
pretty_midi's additive synthesis (each note a periodic waveform with an exponential decay and a
fade-out, the approach note_seq.midi_synth wraps), with the waveform chosen per General MIDI
instrument family: a warm near-sine for electric pianos, bright harmonics for pianos, odd
harmonics for reeds, a sawtooth-like spectrum for strings and pads, and so on. pretty_midi
leaves drums silent, so drums are synthesized here: a pitch-swept sine for kicks and toms, noise
plus a body tone for snares, filtered noise over inharmonic square waves for hats and cymbals.

Everything is deterministic (the noise of each drum comes from a fixed seed), so a seed of
music_vae_lofi gives the same WAV every time.
"""

import functools

import note_seq
import numpy as np
from note_seq import drums_encoder_decoder

NAME = "built-in synth"
# Level of one note at full velocity; a 4-note chord at velocity 100 peaks near 0.5.
NOTE_GAIN = 0.18
DRUM_GAIN = 0.6

# Relative amplitudes of harmonics 1, 2, 3, ... per General MIDI family (program // 8).
_FAMILY_HARMONICS = {
    0: (1.0, 0.5, 0.3, 0.18, 0.1, 0.06, 0.03),  # pianos
    1: (1.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.0, 0.0, 0.0, 0.12),  # chromatic percussion: bell-like
    2: (1.0, 0.8, 0.6, 0.45, 0.3, 0.2, 0.12, 0.1),  # organs
    3: (1.0, 0.6, 0.35, 0.25, 0.12, 0.08, 0.05),  # guitars
    4: (1.0, 0.45, 0.15, 0.06),  # basses: round, a little bite
    5: tuple(1.0 / k for k in range(1, 11)),  # strings: sawtooth-like
    6: tuple(0.8 / k for k in range(1, 9)),  # ensembles
    7: (1.0, 0.2, 0.5, 0.1, 0.3, 0.05, 0.15),  # brass
    8: (1.0, 0.0, 0.6, 0.0, 0.35, 0.0, 0.2, 0.0, 0.1),  # reeds: odd harmonics
    9: (1.0, 0.12, 0.05),  # pipes: flute-like
    10: tuple(1.0 / k for k in range(1, 13)),  # synth leads
    11: (1.0, 0.5, 0.25, 0.12, 0.06),  # synth pads
    12: (1.0, 0.3, 0.2, 0.1),  # synth effects
    13: (1.0, 0.4, 0.3, 0.2, 0.1),  # ethnic
    14: (1.0, 0.3, 0.1),  # percussive
    15: (1.0, 0.2),  # sound effects
}
# Electric pianos (programs 4 and 5) get the soft, nearly pure tone of a tine piano.
_ELECTRIC_PIANO = (1.0, 0.22, 0.06, 0.03)


def harmonics_for_program(program):
    """The harmonic amplitudes the built-in synth uses for a General MIDI program (0-127)."""
    if program in (4, 5):
        return _ELECTRIC_PIANO
    return _FAMILY_HARMONICS[int(program) // 8 % 16]


@functools.lru_cache(maxsize=None)
def _wave_function(harmonics):
    weights = np.asarray(harmonics, np.float64) / np.sum(harmonics)

    def wave(phase):
        out = np.zeros_like(phase)
        for k, weight in enumerate(weights, start=1):
            if weight:
                out += weight * np.sin(k * phase)
        return out

    return wave


# --- drums --------------------------------------------------------------------------------------

# note_seq's 9 drum classes (the drums models' classes): kick, snare, closed hat, open hat, low tom,
# mid tom, high tom, crash, ride; each General MIDI drum pitch belongs to one.
_DRUM_CLASS_OF_PITCH = {pitch: index
                        for index, pitches in enumerate(drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES)
                        for pitch in pitches}
# Square-wave partials (Hz) that make a hat or cymbal sound metallic rather than like plain noise.
_METAL_PARTIALS = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


def _high_pass(signal, times=1):
    for _ in range(times):
        signal = np.diff(signal, prepend=0.0)
    return signal


def _sweep(t, sample_rate, start_hz, end_hz, sweep_s):
    """A sine whose pitch falls from start_hz to end_hz with time constant sweep_s."""
    frequency = end_hz + (start_hz - end_hz) * np.exp(-t / sweep_s)
    return np.sin(2 * np.pi * np.cumsum(frequency) / sample_rate)


def _metal(t, sample_rate):
    partials = [np.sign(np.sin(2 * np.pi * f * 4.0 * t)) for f in _METAL_PARTIALS
                if f * 4.0 < sample_rate / 2]
    return _high_pass(np.sum(partials, axis=0) / len(_METAL_PARTIALS), 2) if partials else np.zeros_like(t)


@functools.lru_cache(maxsize=64)
def drum_one_shot(drum_class, sample_rate):
    """The sound of one hit of drum class `drum_class` (0-8) at full velocity, as float64 samples."""
    lengths = (0.5, 0.3, 0.1, 0.6, 0.5, 0.45, 0.4, 2.0, 1.2)
    t = np.arange(int(lengths[drum_class] * sample_rate)) / float(sample_rate)
    noise = np.random.default_rng(1000 + drum_class).standard_normal(len(t))
    if drum_class == 0:  # kick: a sine falling from 150 to 48 Hz, and a click
        body = _sweep(t, sample_rate, 150.0, 48.0, 0.035) * np.exp(-t / 0.28)
        sound = body + 0.3 * _high_pass(noise) * np.exp(-t / 0.004)
    elif drum_class == 1:  # snare: a tone body and a burst of bright noise
        body = (0.6 * np.sin(2 * np.pi * 185.0 * t) + 0.3 * np.sin(2 * np.pi * 330.0 * t)) * np.exp(-t / 0.05)
        sound = body + 0.55 * _high_pass(noise) * np.exp(-t / 0.11)
    elif drum_class in (2, 3):  # hats: metal and noise, closed short, open long
        decay = 0.022 if drum_class == 2 else 0.22
        sound = (0.6 * _metal(t, sample_rate) + 0.5 * _high_pass(noise, 2)) * np.exp(-t / decay)
    elif drum_class in (4, 5, 6):  # toms: pitched sweeps
        base = (95.0, 130.0, 175.0)[drum_class - 4]
        sound = _sweep(t, sample_rate, base * 1.6, base, 0.05) * np.exp(-t / 0.18)
    else:  # crash and ride
        decay = 0.8 if drum_class == 7 else 0.5
        sound = (0.5 * _metal(t, sample_rate) + (0.5 if drum_class == 7 else 0.2) * _high_pass(noise, 2)) \
            * np.exp(-t / decay)
    fade = min(len(t), int(0.005 * sample_rate))
    if fade:
        sound[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = np.max(np.abs(sound)) if len(sound) else 1.0
    return sound / (peak or 1.0)


def _add_at(buffer, start, sound):
    end = min(len(buffer), start + len(sound))
    if end > start >= 0:
        buffer[start:end] += sound[:end - start]


# --- the synthesizer ----------------------------------------------------------------------------

def synthesize(sequence, sample_rate):
    """Mono float32 audio of `sequence` at `sample_rate`: its length, plus the notes' release tails."""
    midi = note_seq.note_sequence_to_pretty_midi(sequence)
    tail_seconds = 2.0
    length = int(np.ceil((max(sequence.total_time, midi.get_end_time()) + tail_seconds) * sample_rate))
    buffer = np.zeros(length, np.float64)
    for instrument in midi.instruments:
        if instrument.is_drum:
            for note in instrument.notes:
                drum_class = _DRUM_CLASS_OF_PITCH.get(note.pitch)
                if drum_class is None:
                    continue
                hit = drum_one_shot(drum_class, sample_rate) * (DRUM_GAIN * note.velocity / 127.0)
                _add_at(buffer, int(round(note.start * sample_rate)), hit)
            continue
        wave = _wave_function(harmonics_for_program(instrument.program))
        # pretty_midi scales each note by its velocity (0-127).
        audio = instrument.synthesize(fs=sample_rate, wave=wave) * (NOTE_GAIN / 127.0)
        _add_at(buffer, 0, audio)
    return buffer.astype(np.float32)
