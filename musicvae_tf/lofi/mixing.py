"""From rendered parts to a lo-fi mix: stem levels and panning, vinyl crackle and tape hiss, overlays
(e.g. rain) laid over the music, and the master chain (Spotify's pedalboard).

All audio here is float32 [2, frames] (stereo) at one sample rate, exactly one loop long: a part's
release tail and the reverb's tail are folded back onto the loop's start, so the loop repeats
without a gap or a click.

The master chain, in order: bit-crush (`bit_depth`), sample-rate reduction by zero-order hold to
`downsample_hz` (the grainy images it makes lie above the low-pass), tape wow (a slow chorus heard
wet only, i.e. a pitch wobble), a 24 dB/octave ladder low-pass at `lowpass_hz`, a high-pass at 35 Hz,
gentle compression, a small room reverb, then gain to `target_rms_dbfs` and a limiter (peaks at most -1 dBFS).
"""

import dataclasses

import numpy as np

# -1 dBFS, the peak of every WAV the tools write: the loudest stem or their sum reaches it before the
# master, and the mix's highest peak is at most it.
from musicvae_tf.render.audio import PEAK

# Loudness of each stem before the common scaling (dBFS RMS over the loop): a lo-fi balance with the
# drums in front, the keys underneath.
STEM_RMS_DBFS = {"drums": -18.0, "bass": -20.0, "keys": -23.0, "melody": -21.0}
STEM_PAN = {"drums": 0.0, "bass": 0.0, "keys": -0.25, "melody": 0.2}
_CROSSFADE_SECONDS = 0.05


@dataclasses.dataclass
class MasterSettings:
    """The lo-fi master chain's settings (see the module doc)."""
    lowpass_hz: float = 4500.0
    bit_depth: float = 12.0
    downsample_hz: float = 16000.0
    wow: float = 0.5  # 0: none, 1: a seasick tape
    reverb_wet: float = 0.12
    target_rms_dbfs: float = -16.0


def db_to_gain(db):
    return float(10.0 ** (db / 20.0))


def rms(samples):
    samples = np.asarray(samples, np.float64)
    return float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0


def to_stereo(samples, pan=0.0):
    """[channels, frames] -> [2, frames], panned (-1 left .. 1 right) with equal power."""
    samples = np.asarray(samples, np.float32)
    if samples.ndim == 1:
        samples = samples[np.newaxis]
    if samples.shape[0] == 1:
        samples = np.repeat(samples, 2, axis=0)
    angle = (pan + 1.0) * np.pi / 4.0
    gains = np.array([np.cos(angle), np.sin(angle)], np.float32) * np.sqrt(2.0)
    return samples[:2] * gains[:, np.newaxis]


def fold_to_loop(samples, num_frames):
    """`samples` cut to `num_frames`, whatever rang on past the end added back onto the start."""
    samples = np.asarray(samples, np.float32)
    out = np.zeros((samples.shape[0], num_frames), np.float32)
    for begin in range(0, samples.shape[1], num_frames):
        chunk = samples[:, begin:begin + num_frames]
        out[:, :chunk.shape[1]] += chunk
    return out


def balance_stems(stems):
    """Each stem at its STEM_RMS_DBFS and pan, then all scaled by one factor so that neither any
    stem nor their sum peaks above PEAK (-1 dBFS). Silent stems stay silent. Returns a new dict."""
    balanced = {}
    for name, samples in stems.items():
        level = rms(samples)
        gain = db_to_gain(STEM_RMS_DBFS.get(name, -21.0)) / level if level > 1e-9 else 0.0
        balanced[name] = to_stereo(samples, STEM_PAN.get(name, 0.0)) * np.float32(gain)
    return scale_together(balanced)


def scale_together(stems):
    peak = max([float(np.max(np.abs(s))) for s in stems.values()]
               + [float(np.max(np.abs(sum(stems.values()))))])
    factor = np.float32(PEAK / peak) if peak > 0 else np.float32(1.0)
    return {name: samples * factor for name, samples in stems.items()}


# --- texture: vinyl and overlays ----------------------------------------------------------------

def vinyl_noise(num_frames, sample_rate, rng, amount):
    """Procedural vinyl crackle and tape hiss, [2, frames]: hiss at -49 dBFS RMS for amount 0.5
    (-54 + 10 x amount), the level it has under music at the master's -16 dBFS.

    Crackle: clicks at random times (Poisson, ~30 a second at amount 1) with heavy-tailed sizes, each a
    fraction of a millisecond of bright noise, plus a rarer louder pop; hiss: noise with its top end
    rolled off, independent per channel.
    """
    if amount <= 0:
        return np.zeros((2, num_frames), np.float32)
    seconds = num_frames / float(sample_rate)
    crackle = np.zeros((2, num_frames), np.float64)
    for rate, size in ((30.0 * amount, 0.02), (0.6 * amount, 0.12)):
        count = rng.poisson(rate * seconds)
        starts = rng.integers(0, num_frames, count)
        sizes = size * np.minimum(rng.pareto(2.5, count) + 0.2, 5.0)
        for start, amplitude in zip(starts, sizes):
            length = int(rng.integers(max(2, sample_rate // 8000), max(3, sample_rate // 1500)))
            click = rng.standard_normal(length) * np.exp(-np.arange(length) / (length / 3.0)) * amplitude
            end = min(num_frames, start + length)
            side = rng.uniform(0.6, 1.0, 2)  # a click is louder on one side
            crackle[:, start:end] += side[:, np.newaxis] * click[:end - start]
    hiss = rng.standard_normal((2, num_frames))
    # One-pole low-pass: tape hiss is darker than white noise.
    coefficient = np.exp(-2 * np.pi * 6000.0 / sample_rate)
    from scipy.signal import lfilter

    hiss = lfilter([1.0 - coefficient], [1.0, -coefficient], hiss, axis=1)
    hiss *= db_to_gain(-54.0 + 10.0 * amount) / max(rms(hiss), 1e-12)
    return (crackle * amount + hiss).astype(np.float32)


def read_overlay(path, sample_rate):
    """A user's sound file (WAV, FLAC, MP3, OGG...) as float32 [2, frames] at `sample_rate`;
    ValueError in one line when it cannot be read."""
    from pedalboard.io import AudioFile

    try:
        with AudioFile(path).resampled_to(sample_rate) as handle:
            samples = handle.read(handle.frames)
    except Exception as error:  # unreadable or unsupported: one line for the user
        detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ValueError(f"cannot read overlay {path}: {detail}") from None
    if samples.size == 0 or not np.any(samples):
        raise ValueError(f"overlay {path} is silent or empty")
    return to_stereo(samples)


def _crossfade_join(first, second, fade):
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    joint = first[:, -fade:] * ramp[::-1] + second[:, :fade] * ramp
    return np.concatenate([first[:, :-fade], joint, second[:, fade:]], axis=1)


def loop_overlay(samples, num_frames, sample_rate):
    """`samples` repeated (or cut) to exactly one loop; every seam, the loop's own included, is
    cross-faded over 50 ms so nothing clicks."""
    fade = min(int(_CROSSFADE_SECONDS * sample_rate), samples.shape[1] // 4, num_frames // 4)
    if fade < 1:
        return np.tile(samples, (1, num_frames // samples.shape[1] + 1))[:, :num_frames]
    stream = samples
    while stream.shape[1] < num_frames + fade:
        stream = _crossfade_join(stream, samples, fade)
    loop = stream[:, :num_frames].copy()
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    # What would follow the loop's end fades into its start.
    loop[:, :fade] = loop[:, :fade] * ramp + stream[:, num_frames:num_frames + fade] * ramp[::-1]
    return loop


def level_match(samples, reference, db):
    """`samples` scaled to `db` dB relative to the RMS of `reference`."""
    level = rms(samples)
    return samples * np.float32(db_to_gain(db) * rms(reference) / level) if level > 0 else samples


# --- the master chain ---------------------------------------------------------------------------

def master_chain(settings, sample_rate):
    """The pedalboard Pedalboard of the lo-fi chain, without the final gain and limiter."""
    import pedalboard

    effects = []
    if settings.bit_depth:
        effects.append(pedalboard.Bitcrush(bit_depth=float(settings.bit_depth)))
    if settings.downsample_hz and settings.downsample_hz < sample_rate:
        effects.append(pedalboard.Resample(target_sample_rate=float(settings.downsample_hz),
                                           quality=pedalboard.Resample.Quality.ZeroOrderHold))
    if settings.wow > 0:
        effects.append(pedalboard.Chorus(rate_hz=0.5, depth=0.2 * settings.wow, centre_delay_ms=6.0,
                                         feedback=0.0, mix=1.0))
    effects += [
        pedalboard.LadderFilter(mode=pedalboard.LadderFilter.Mode.LPF24,
                                cutoff_hz=float(min(settings.lowpass_hz, 0.45 * sample_rate)),
                                resonance=0.05, drive=1.0),
        pedalboard.HighpassFilter(cutoff_frequency_hz=35.0),
        pedalboard.Compressor(threshold_db=-22.0, ratio=2.5, attack_ms=15.0, release_ms=180.0),
        pedalboard.Reverb(room_size=0.35, damping=0.6, wet_level=settings.reverb_wet, dry_level=1.0,
                          width=0.8),
    ]
    return pedalboard.Pedalboard(effects)


def master(premaster, settings, sample_rate):
    """The finished mix of one loop: the chain run over the loop played twice (so reverb and
    compressor start in their steady state and the tail wraps), the second pass kept."""
    import pedalboard

    num_frames = premaster.shape[1]
    twice = np.concatenate([premaster, premaster], axis=1).astype(np.float32)
    processed = master_chain(settings, sample_rate)(twice, sample_rate)
    loop = np.asarray(processed[:, num_frames:2 * num_frames], np.float32)
    gain = db_to_gain(settings.target_rms_dbfs) / max(rms(loop), 1e-9)
    # A fast, hard compressor as the limiter (pedalboard's Limiter adds make-up gain of its own),
    # then a plain scale down to the ceiling for what gets past its attack.
    limiter = pedalboard.Pedalboard([pedalboard.Compressor(threshold_db=-4.0, ratio=20.0, attack_ms=0.5,
                                                           release_ms=120.0)])
    limited = limiter(np.concatenate([loop, loop], axis=1) * np.float32(gain), sample_rate)
    result = np.asarray(limited[:, num_frames:], np.float32)
    peak = float(np.max(np.abs(result)))
    return result * np.float32(min(1.0, PEAK / peak)) if peak > 0 else result
