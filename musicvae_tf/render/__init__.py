"""Turning generated NoteSequences into things to look at, listen to and drop into a DAW.

- `plot_piano_roll` / `plot_piano_roll_strip` (piano_roll.py): PNG piano rolls.
- `render_wav` (audio.py): audio through FluidSynth with a General MIDI soundfont.
- `loop_for_daw` (daw_loop.py): set the tempo and repeat a loop a number of times.
"""

from musicvae_tf.render.audio import (DEFAULT_SOUNDFONTS, INSTALL_HINT, RenderError, find_soundfont,
                                      fluidsynth_available, render_wav)
from musicvae_tf.render.daw_loop import loop_for_daw
from musicvae_tf.render.piano_roll import plot_piano_roll, plot_piano_roll_strip

__all__ = ["DEFAULT_SOUNDFONTS", "INSTALL_HINT", "RenderError", "find_soundfont", "fluidsynth_available",
           "loop_for_daw", "plot_piano_roll", "plot_piano_roll_strip", "render_wav"]
