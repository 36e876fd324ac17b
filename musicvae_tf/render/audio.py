"""Listening to NoteSequences: WAV files through FluidSynth.

`render_wav` uses either the `fluidsynth` program or the pyfluidsynth module, with a General
MIDI soundfont (Debian's fluid-soundfont-gm by default, see `find_soundfont`).
"""

import os
import shutil
import subprocess
import tempfile
import wave

import note_seq
import numpy as np

DEFAULT_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = "install it with `apt-get install -y fluidsynth fluid-soundfont-gm`"


class RenderError(Exception):
    """Rendering is impossible here (missing synthesizer or soundfont, or it failed)."""


def find_soundfont(soundfont=None):
    """The soundfont to use: `soundfont` if given (must exist), else the first installed default."""
    if soundfont:
        if not os.path.isfile(soundfont):
            raise RenderError(f"soundfont not found: {soundfont}")
        return soundfont
    for candidate in DEFAULT_SOUNDFONTS:
        if os.path.isfile(candidate):
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


def _write_wav(samples, path, sample_rate):
    samples = np.asarray(samples, dtype=np.float64)
    peak = np.max(np.abs(samples)) if samples.size else 0.0
    if peak > 1.0:
        samples = samples / peak
    pcm = (samples * 32767).astype("<i2")
    with wave.open(path, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(sample_rate)
        handle.writeframes(pcm.tobytes())


def render_wav(sequence, path, soundfont=None, sample_rate=44100):
    """Synthesizes `sequence` to a 16-bit WAV file at `path` with FluidSynth."""
    sf2 = find_soundfont(soundfont)
    program = shutil.which("fluidsynth")
    if program:
        with tempfile.TemporaryDirectory() as tmp:
            midi_path = os.path.join(tmp, "render.mid")
            note_seq.sequence_proto_to_midi_file(sequence, midi_path)
            command = [program, "-ni", "-q", "-g", "1.0", "-r", str(sample_rate), "-T", "wav",
                       "-F", path, sf2, midi_path]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not os.path.isfile(path):
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise RenderError("fluidsynth failed: " + (detail[-1] if detail else f"exit {result.returncode}"))
        return path
    if _have_pyfluidsynth():
        samples = note_seq.midi_synth.fluidsynth(sequence, sample_rate, sf2_path=sf2)
        _write_wav(samples, path, sample_rate)
        return path
    raise RenderError(f"FluidSynth is not installed; {INSTALL_HINT}")
