"""Turning generated NoteSequences into things to look at and listen to.

- `plot_piano_roll` / `plot_piano_roll_strip`: PNG piano rolls (matplotlib, headless).
- `render_wav`: audio through FluidSynth, either the `fluidsynth` program or the pyfluidsynth
  module, with a General MIDI soundfont (Debian's fluid-soundfont-gm by default).
- `loop_for_daw`: set the tempo and repeat a loop a number of times.
"""

import math
import os
import shutil
import subprocess
import tempfile
import wave

import note_seq
import numpy as np
from note_seq import sequences_lib

DEFAULT_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/soundfonts/default.sf2",
)
INSTALL_HINT = "install it with `apt-get install -y fluidsynth fluid-soundfont-gm`"

# One colour per instrument number, cycling; drums get their own.
_INSTRUMENT_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_DRUM_COLOUR = "#d62728"


class RenderError(Exception):
    """Rendering is impossible here (missing synthesizer or soundfont, or it failed)."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _draw_roll(axes, sequence, title=None, pitch_range=None, end_time=None):
    """Draws one NoteSequence's notes as horizontal bars on `axes`."""
    for note in sequence.notes:
        colour = _DRUM_COLOUR if note.is_drum else _INSTRUMENT_COLOURS[
            note.instrument % len(_INSTRUMENT_COLOURS)]
        alpha = 0.35 + 0.65 * (note.velocity / 127.0 if note.velocity else 0.8)
        axes.add_patch(_rectangle(note.start_time, note.pitch - 0.4,
                                  max(note.end_time - note.start_time, 1e-3), 0.8,
                                  colour, min(alpha, 1.0)))
    low, high = pitch_range or _pitch_range([sequence])
    axes.set_ylim(low - 1, high + 1)
    axes.set_xlim(0, end_time or max(sequence.total_time, 1e-3))
    axes.set_xlabel("time (s)")
    if title:
        axes.set_title(title, fontsize=8)


def _rectangle(x, y, width, height, colour, alpha):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), width, height, facecolor=colour, edgecolor="black",
                     linewidth=0.3, alpha=alpha)


def _pitch_range(sequences):
    pitches = [note.pitch for seq in sequences for note in seq.notes]
    if not pitches:
        return 48, 72
    low, high = min(pitches), max(pitches)
    if high - low < 12:  # keep at least an octave visible
        middle = (low + high) // 2
        low, high = middle - 6, middle + 6
    return low, high


def plot_piano_roll(sequence, path, title=None):
    """Writes a piano-roll PNG of one NoteSequence to `path`."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.5))
    try:
        _draw_roll(axes, sequence, title=title)
        axes.set_ylabel("MIDI pitch")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path


def plot_piano_roll_strip(sequences, path, titles=None):
    """Writes one PNG with the piano rolls of `sequences` side by side (shared pitch axis)."""
    if not sequences:
        raise ValueError("plot_piano_roll_strip needs at least one sequence")
    plt = _pyplot()
    count = len(sequences)
    figure, axes_list = plt.subplots(1, count, figsize=(max(2.2 * count, 4), 3.5),
                                     sharey=True, squeeze=False)
    pitch_range = _pitch_range(sequences)
    end_time = max(max(seq.total_time for seq in sequences), 1e-3)
    try:
        for i, (axes, sequence) in enumerate(zip(axes_list[0], sequences)):
            title = titles[i] if titles else f"{i + 1}/{count}"
            _draw_roll(axes, sequence, title=title, pitch_range=pitch_range, end_time=end_time)
        axes_list[0][0].set_ylabel("MIDI pitch")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    finally:
        plt.close(figure)
    return path


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
