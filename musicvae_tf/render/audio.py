"""Listening to NoteSequences: WAV files from whichever synthesizer this machine has.

`choose_renderer` picks, in this order (renderer "auto"):
  1. the `fluidsynth` program with a General MIDI soundfont (`find_soundfont`: --soundfont, else an
     installed one such as Debian's fluid-soundfont-gm, else the TimGM6mb.sf2 that pretty_midi ships);
  2. the pyfluidsynth module (needs the libfluidsynth library) with the same soundfont;
  3. the built-in synthesizer (`synth.py`), which needs nothing beyond the package's own dependencies.
So a WAV can always be written; `Renderer.describe()` says which one made it. Every note keeps its
General MIDI program (per-track instruments); drums play on the drum kit.
"""

import os
import shutil
import subprocess
import tempfile
import wave

import note_seq
import numpy as np

from musicvae_tf.render.midi_file import write_midi_file
from musicvae_tf.render.whole_file import whole_file

DEFAULT_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = "install it with `apt-get install -y fluidsynth fluid-soundfont-gm`"
RENDERERS = ("auto", "fluidsynth", "pyfluidsynth", "builtin")
# FluidSynth's master gain: 1.0 clips on dense chords, its default 0.2 is very quiet.
FLUIDSYNTH_GAIN = 0.6
PEAK = 0.89  # -1 dBFS: the peak of a WAV written by Renderer.write_wav


class RenderError(Exception):
    """Rendering is impossible here (missing synthesizer or soundfont, or it failed)."""


def _bundled_soundfont():
    """The General MIDI soundfont pretty_midi (a note-seq dependency) ships, if present."""
    try:
        import pretty_midi
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    return path if os.path.isfile(path) else None


def find_soundfont(soundfont=None):
    """The soundfont to use: `soundfont` if given (must exist), else the first installed default,
    else the one bundled with pretty_midi."""
    if soundfont:
        if not os.path.isfile(soundfont):
            raise RenderError(f"soundfont not found: {soundfont}")
        return soundfont
    for candidate in DEFAULT_SOUNDFONTS + (_bundled_soundfont(),):
        if candidate and os.path.isfile(candidate):
            return candidate
    raise RenderError(f"no General MIDI soundfont found (looked for {DEFAULT_SOUNDFONTS[0]}); "
                      f"{INSTALL_HINT}, or pass --soundfont")


def _have_pyfluidsynth():
    try:
        import fluidsynth  # noqa: F401
    except Exception:  # the module may exist but fail to load libfluidsynth
        return False
    return True


def fluidsynth_available():
    """True when either the fluidsynth program or pyfluidsynth can be used."""
    return shutil.which("fluidsynth") is not None or _have_pyfluidsynth()


# --- WAV files ----------------------------------------------------------------------------------

def as_channels(samples):
    """`samples` as float32 [channels, frames] (a 1-D array is one channel)."""
    samples = np.asarray(samples, np.float32)
    return samples[np.newaxis] if samples.ndim == 1 else samples


def write_wav(path, samples, sample_rate):
    """Writes [frames] or [channels, frames] floats in [-1, 1] as a 16-bit WAV (scaled down if louder)."""
    samples = as_channels(samples).astype(np.float64)
    peak = np.max(np.abs(samples)) if samples.size else 0.0
    if peak > 1.0:
        samples = samples / peak
    pcm = np.round(samples.T * 32767).astype("<i2")
    with whole_file(path) as temporary:  # e.g. a full disk: no truncated WAV stays behind
        with wave.open(temporary, "wb") as handle:
            handle.setnchannels(samples.shape[0])
            handle.setsampwidth(2)
            handle.setframerate(int(sample_rate))
            handle.writeframes(pcm.tobytes())
    return path


def read_wav(path):
    """(float32 [channels, frames], sample rate) of a 16-bit PCM WAV file."""
    with wave.open(path, "rb") as handle:
        if handle.getsampwidth() != 2:
            raise RenderError(f"{path}: only 16-bit WAV files are read here")
        frames = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
        channels, rate = handle.getnchannels(), handle.getframerate()
    return (frames.reshape(-1, channels).T.astype(np.float32) / 32767.0), rate


# --- renderers ----------------------------------------------------------------------------------

class Renderer:
    """Turns NoteSequences into audio. `name`: fluidsynth, pyfluidsynth or builtin."""

    def __init__(self, name, soundfont=None, note=None):
        self.name = name
        self.soundfont = soundfont
        self.note = note  # why this one was chosen, when it is a fallback

    def describe(self):
        """For logs and summaries, e.g. "fluidsynth (TimGM6mb.sf2)", "built-in synth (FluidSynth is not
        installed)"."""
        from musicvae_tf.render import synth

        text = synth.NAME if self.name == "builtin" else (
            f"{self.name} ({os.path.basename(self.soundfont)})")
        return f"{text} ({self.note})" if self.note else text

    def render(self, sequence, sample_rate=44100):
        """float32 [channels, frames] audio of `sequence` (2 channels from FluidSynth, 1 built in)."""
        if self.name == "builtin":
            from musicvae_tf.render import synth

            return as_channels(synth.synthesize(sequence, sample_rate))
        if self.name == "pyfluidsynth":
            return as_channels(note_seq.midi_synth.fluidsynth(sequence, sample_rate, sf2_path=self.soundfont))
        return _fluidsynth_program(sequence, sample_rate, self.soundfont)

    def write_wav(self, sequence, path, sample_rate=44100):
        """Writes `sequence` as a WAV file brought to a peak of -1 dBFS (renderers differ in level)."""
        samples = self.render(sequence, sample_rate)
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        write_wav(path, samples * np.float32(PEAK / peak) if peak > 0 else samples, sample_rate)
        return path


def _fluidsynth_program(sequence, sample_rate, soundfont):
    with tempfile.TemporaryDirectory() as tmp:
        midi_path, wav_path = os.path.join(tmp, "render.mid"), os.path.join(tmp, "render.wav")
        write_midi_file(sequence, midi_path)
        command = [shutil.which("fluidsynth") or "fluidsynth", "-ni", "-q", "-g", str(FLUIDSYNTH_GAIN),
                   "-r", str(sample_rate), "-T", "wav", "-O", "s16", "-F", wav_path, soundfont, midi_path]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not os.path.isfile(wav_path):
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise RenderError("fluidsynth failed: " + (detail[-1] if detail else f"exit {result.returncode}"))
        samples, _ = read_wav(wav_path)
    return samples


def choose_renderer(renderer="auto", soundfont=None):
    """The Renderer to use (see the module doc); RenderError (one line) when the one asked for is missing.

    `renderer`: "auto" (the best available), "fluidsynth" (the program), "pyfluidsynth" or
    "builtin". A --soundfont that does not exist is an error; with no FluidSynth, "auto" falls back
    to the built-in synthesizer and says that the soundfont is not used.
    """
    if renderer not in RENDERERS:
        raise RenderError(f"unknown renderer {renderer!r}; use one of: {', '.join(RENDERERS)}")
    if soundfont and not os.path.isfile(soundfont):
        raise RenderError(f"soundfont not found: {soundfont}")
    if renderer == "builtin":
        return Renderer("builtin")
    program = shutil.which("fluidsynth") is not None
    if renderer == "fluidsynth" and not program:
        raise RenderError(f"the fluidsynth program is not installed; {INSTALL_HINT}")
    if renderer == "pyfluidsynth" and not _have_pyfluidsynth():
        raise RenderError("pyfluidsynth is not usable here (pip install pyfluidsynth, and the "
                          f"libfluidsynth library: {INSTALL_HINT})")
    if renderer == "fluidsynth" or (renderer == "auto" and program):
        return Renderer("fluidsynth", find_soundfont(soundfont))
    if renderer == "pyfluidsynth" or _have_pyfluidsynth():
        return Renderer("pyfluidsynth", find_soundfont(soundfont))
    note = "FluidSynth is not installed" + ("; --soundfont is not used" if soundfont else "")
    return Renderer("builtin", note=note)


def render_wav(sequence, path, soundfont=None, sample_rate=44100, renderer=None):
    """Synthesizes `sequence` to a 16-bit WAV file at `path`; returns `path`.

    `renderer`: a Renderer (e.g. from `choose_renderer`, to render many files with one), or None
    for `choose_renderer("auto", soundfont)`.
    """
    renderer = renderer or choose_renderer("auto", soundfont)
    return renderer.write_wav(sequence, path, sample_rate)
