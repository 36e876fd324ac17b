"""Turning generated NoteSequences into things to look at, listen to and drop into a DAW.

- `plot_piano_roll` / `plot_piano_roll_strip` / `plot_piano_roll_parts` (piano_roll.py): PNG piano rolls.
- `choose_renderer` / `render_wav` (audio.py): WAV files through FluidSynth with a General MIDI
  soundfont, or the built-in synthesizer (synth.py) when FluidSynth is not installed.
- `loop_for_daw` (daw_loop.py): set the tempo and repeat a loop a number of times.
- `write_midi_file` (midi_file.py): a MIDI file that is complete or not written (a full disk).
- `whole_file` (whole_file.py): the temporary-name-then-rename that every file written here goes through.
"""

from musicvae_tf.render.audio import (DEFAULT_SOUNDFONTS, INSTALL_HINT, RENDERERS, Renderer, RenderError,
                                      choose_renderer, find_soundfont, fluidsynth_available, read_wav,
                                      render_wav, write_wav)
from musicvae_tf.render.daw_loop import loop_for_daw
from musicvae_tf.render.midi_file import write_midi_file
from musicvae_tf.render.piano_roll import plot_piano_roll, plot_piano_roll_parts, plot_piano_roll_strip
from musicvae_tf.render.whole_file import whole_file

__all__ = ["DEFAULT_SOUNDFONTS", "INSTALL_HINT", "RENDERERS", "Renderer", "RenderError", "choose_renderer",
           "find_soundfont", "fluidsynth_available", "loop_for_daw", "plot_piano_roll",
           "plot_piano_roll_parts", "plot_piano_roll_strip", "read_wav", "render_wav", "whole_file",
           "write_midi_file", "write_wav"]
