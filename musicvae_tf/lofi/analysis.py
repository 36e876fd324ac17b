"""Figures a listener cares about, measured on the audio and the parts of a loop: loudness, peak,
where the spectrum stops, length; notes per bar and pitch range per part. Used for the summary
line, loop.json and the tests."""

import numpy as np


def rms_dbfs(samples):
    """RMS level in dB relative to full scale (-inf for silence)."""
    samples = np.asarray(samples, np.float64)
    level = np.sqrt(np.mean(samples ** 2)) if samples.size else 0.0
    return float(20.0 * np.log10(level)) if level > 0 else float("-inf")


def peak_dbfs(samples):
    peak = float(np.max(np.abs(samples))) if np.size(samples) else 0.0
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def power_spectrum(samples, sample_rate):
    """(frequencies, power) of the mono sum of [channels, frames] or [frames] audio (Hann window)."""
    samples = np.asarray(samples, np.float64)
    mono = samples.mean(axis=0) if samples.ndim == 2 else samples
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)))) ** 2
    return np.fft.rfftfreq(len(mono), 1.0 / sample_rate), spectrum


def energy_fraction_above(samples, sample_rate, hz):
    """The share of the audio's energy above `hz`."""
    frequencies, power = power_spectrum(samples, sample_rate)
    total = power.sum()
    return float(power[frequencies > hz].sum() / total) if total > 0 else 0.0


def spectral_rolloff(samples, sample_rate, fraction=0.99):
    """The frequency below which `fraction` of the energy lies (where the spectrum stops, in practice)."""
    frequencies, power = power_spectrum(samples, sample_rate)
    cumulative = np.cumsum(power)
    if cumulative[-1] <= 0:
        return 0.0
    return float(frequencies[np.searchsorted(cumulative, fraction * cumulative[-1])])


def part_figures(part, num_bars):
    """{notes, notes_per_bar, lowest, highest} of a lofi Part (pitch names for pitched parts)."""
    import pretty_midi

    pitches = [note.pitch for note in part.notes]
    figures = {"notes": len(pitches), "notes_per_bar": round(len(pitches) / max(num_bars, 1), 2)}
    if pitches:
        if part.is_drum:
            figures["drums"] = sorted(set(pitches))
        else:
            figures["range"] = (f"{pretty_midi.note_number_to_name(min(pitches))}-"
                                f"{pretty_midi.note_number_to_name(max(pitches))}")
    return figures
