"""music_vae_quickstart: hear what MusicVAE does in a minute, with the three packaged models.

    music_vae_quickstart                        # writes ./musicvae_quickstart_<date>/
    music_vae_quickstart --num_samples=8 --temperature=0.8 --seed=1 --chord_progression="Am F C G"

It loads the models shipped in musicvae_tf/pretrained/ (docs/models.md), then
  1. cat-mel_2bar_small: samples --num_samples random 2-bar melodies from the prior, and
     interpolates between two real 2-bar folk excerpts of the held-out tunes (5 steps, slerp);
  2. hierdec-mel_16bar: a 16-bar tune from the prior;
  3. cat-mel_2bar_med_chords: a 4-bar melody over --chord_progression (one chord per bar, the same
     latent code for both 2-bar halves), with the chords played under it, repeated twice as a loop;
and writes MIDI files, piano-roll PNGs and WAVs (FluidSynth with a General MIDI soundfont when
installed, else the built-in synthesizer; the summary says which).
A packaged model that is missing is skipped with a note.
An existing --output_dir is never overwritten: a new folder name is chosen. Errors are reported
as one line on stderr with exit code 1 (see musicvae_tf.cli.common).
"""

import math
import os
import time

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "output_dir", None, "Folder for the results (default ./musicvae_quickstart_<date>); "
        "if it exists, <output_dir>_2, _3, ... is used instead.")
_define("integer", "num_samples", 4, "Number of random 2-bar melodies.", lower_bound=1)
_define("float", "temperature", 0.5, "Sampling temperature (lower: safer, higher: wilder).", lower_bound=1e-4)
_define("integer", "seed", None, "Seed for reproducible results (default: random).")
_define("string", "model_dir", None, "Model saved by musicvae_tf.checkpoints.save_model "
        "(default: the packaged model).")
_define("integer", "interpolation_steps", 5, "Steps of the interpolation, both ends included.", lower_bound=2)
_define("string", "soundfont", None, "SF2 soundfont for the WAVs (default: an installed General MIDI one).")
_define("string", "renderer", "auto", "WAV renderer: auto (FluidSynth if installed, else the built-in "
        "synthesizer), fluidsynth, pyfluidsynth or builtin.")
_define("string", "chord_progression", "C G Am F", "Four chords (one per bar) for the chord-conditioned loop.")

CHORD_LOOP_BARS = 4

PROGRAM = "music_vae_quickstart"


def default_model_dir(config_name="cat-mel_2bar_small"):
    """The packaged model of `config_name` (musicvae_tf/pretrained/<config>.<data>/), else where it would be."""
    from musicvae_tf.checkpoints.resolver import PRETRAINED_DIR, find_pretrained

    return find_pretrained(config_name) or os.path.join(PRETRAINED_DIR, config_name)


def new_output_dir(requested=None, now=None):
    """A new folder: `requested` (or ./musicvae_quickstart_<date>), else _2, _3, ... (common.new_output_dir)."""
    return common.new_output_dir(requested, "musicvae_quickstart", now)


def load_demo_model(model_dir, batch_size):
    """TrainedModel for the port-format model in `model_dir`; UsageError if it is missing."""
    from musicvae_tf import checkpoints, configs
    from musicvae_tf.trained_model import TrainedModel

    if not checkpoints.is_port_checkpoint(model_dir):
        raise UsageError(f"demo model not found in {model_dir}; train it with "
                         "`python scripts/train_packaged_models.py` or pass --model_dir")
    config_name, _ = checkpoints.read_port_metadata(model_dir)
    return TrainedModel(configs.get_config(config_name), batch_size=batch_size,
                        checkpoint_dir_or_path=model_dir)


def pick_folk_excerpts(converter, rng, count=2, min_notes=6):
    """`count` 2-bar excerpts (input tensors, lengths, titles) from different held-out folk tunes."""
    from musicvae_tf import data

    candidates = []
    for sequence in data.read_note_sequences(data.default_examples_path("eval"), limit=200):
        tensors = converter.to_tensors(sequence)
        for inputs, length in zip(tensors.inputs, tensors.lengths):
            notes = converter.from_tensors([inputs])[0].notes
            if len(notes) >= min_notes:
                candidates.append((inputs, length, sequence.sequence_metadata.title or sequence.id))
                break
    if len(candidates) < count:
        raise UsageError("the packaged folk eval data yields too few 2-bar excerpts")
    chosen = rng.choice(len(candidates), size=count, replace=False)
    return [candidates[i] for i in chosen]


def _write(kind, files, path):
    files.setdefault(kind, []).append(path)
    return path


def _render_wavs(sequences_and_paths, files, renderer):
    from musicvae_tf import render

    try:
        for sequence, path in sequences_and_paths:
            renderer.write_wav(sequence, path)
            _write("WAV", files, path)
    except render.RenderError as error:
        return f"no WAVs: {error}"
    return None


def _save(sequence, stem, title, files, to_render):
    """MIDI + piano-roll PNG of `sequence` at `stem`; its WAV is rendered later."""
    from musicvae_tf import render

    render.write_midi_file(sequence, _write("MIDI", files, stem + ".mid"))
    render.plot_piano_roll(sequence, _write("PNG", files, stem + ".png"), title=title)
    to_render.append((sequence, stem + ".wav"))


def _concatenate_decodes(converter, sequences, steps):
    """Decodes of `steps` steps each, one after another. A decoded NoteSequence ends at its last
    note, so joining by its own length would drop trailing rests and pull what follows early:
    each is first given its full length (render.loop_for_daw, as music_vae_generate's loops)."""
    import note_seq

    from musicvae_tf import render

    quarters = steps / converter.steps_per_quarter
    return note_seq.sequences_lib.concatenate_sequences(
        [render.loop_for_daw(sequence, loop_quarters=quarters) for sequence in sequences])


def _two_bar_part(model, output_dir, rng, files, to_render):
    """Prior samples and an interpolation between two held-out folk excerpts; the strip's steps."""
    from musicvae_tf import render
    from musicvae_tf.interpolation import slerp_path

    samples = model.sample(n=FLAGS.num_samples, length=model.config.hparams.max_seq_len,
                           temperature=FLAGS.temperature)
    for i, sequence in enumerate(samples, start=1):
        _save(sequence, os.path.join(output_dir, f"sample_{i:02d}"), f"sample {i}", files, to_render)
    converter = model.config.data_converter
    (inputs_a, length_a, title_a), (inputs_b, length_b, title_b) = pick_folk_excerpts(converter, rng)
    _, mu, _ = model.encode_tensors([inputs_a, inputs_b], [length_a, length_b])
    z = slerp_path(mu[0], mu[1], FLAGS.interpolation_steps)
    steps = model.decode(z, length=model.config.hparams.max_seq_len, temperature=FLAGS.temperature)
    excerpt_a, excerpt_b = converter.from_tensors([inputs_a, inputs_b])
    for name, sequence in (("excerpt_a", excerpt_a), ("excerpt_b", excerpt_b)):
        render.write_midi_file(sequence, _write("MIDI", files, os.path.join(output_dir, name + ".mid")))
    joined = _concatenate_decodes(converter, steps, model.config.hparams.max_seq_len)
    render.write_midi_file(joined, _write("MIDI", files, os.path.join(output_dir, "interpolation.mid")))
    titles = ([f"A: {title_a}"[:24]] + [f"step {i + 1}" for i in range(len(steps))] + [f"B: {title_b}"[:24]])
    render.plot_piano_roll_strip([excerpt_a] + list(steps) + [excerpt_b],
                                 _write("PNG", files, os.path.join(output_dir, "interpolation.png")), titles=titles)
    to_render.append((joined, os.path.join(output_dir, "interpolation.wav")))
    return len(steps)


def _sixteen_bar_part(model, output_dir, files, to_render):
    (tune,) = model.sample(n=1, length=model.config.hparams.max_seq_len, temperature=FLAGS.temperature)
    _save(tune, os.path.join(output_dir, "tune_16bar"), "16-bar tune (hierdec-mel_16bar)", files, to_render)


def _chord_loop_part(model, output_dir, files, to_render):
    """A 4-bar melody over the progression (two 2-bar decodes of one z), chords played under it, twice."""
    import note_seq
    import numpy as np

    from musicvae_tf.converters import chords

    symbols = chords.parse_chord_progression(FLAGS.chord_progression)
    length = model.config.hparams.max_seq_len
    bars_per_decode = length // chords.steps_per_bar_of(model.config.data_converter)
    z = np.random.randn(1, model.config.hparams.z_size).astype(np.float32)
    halves = []
    for first_bar in range(0, CHORD_LOOP_BARS, bars_per_decode):
        bar_chords = [symbols[(first_bar + k) % len(symbols)] for k in range(bars_per_decode)]
        c_input = chords.chord_controls(model.config.data_converter, bar_chords, num_steps=length)
        halves.extend(model.decode(z, length=length, temperature=FLAGS.temperature, c_input=c_input))
    loop = _concatenate_decodes(model.config.data_converter, halves * 2, length)
    # The chords written by the converter as annotations, played as held piano chords below the melody.
    note_seq.BasicChordRenderer(velocity=56, instrument=1, program=0, octave=4, bass_octave=3).render(loop)
    _save(loop, os.path.join(output_dir, "chord_loop"), f"melody over {' '.join(symbols[:CHORD_LOOP_BARS])} (x2)",
          files, to_render)
    return symbols[:CHORD_LOOP_BARS]


def _optional_model(config_name, batch_size, notes):
    directory = default_model_dir(config_name)
    from musicvae_tf import checkpoints

    if not checkpoints.is_port_checkpoint(directory):
        notes.append(f"no packaged {config_name} model in {directory}: skipped")
        return None
    return load_demo_model(directory, batch_size)


def run():
    """Runs the quickstart with the parsed flags; returns {kind: [paths]} of the files written."""
    started = time.time()
    import numpy as np
    import tensorflow as tf

    from musicvae_tf.converters import chords

    if not math.isfinite(FLAGS.temperature):
        raise UsageError(f"--temperature must be a positive number, not {FLAGS.temperature:g}")
    try:
        chords.parse_chord_progression(FLAGS.chord_progression)
    except ValueError as error:
        raise UsageError(f"--chord_progression: {error}")
    renderer = common.renderer_from_flags(FLAGS.renderer, FLAGS.soundfont)
    model_dir = os.path.abspath(os.path.expanduser(FLAGS.model_dir or default_model_dir()))
    seed = FLAGS.seed if FLAGS.seed is not None else int(np.random.default_rng().integers(0, 2**31 - 1))
    np.random.seed(seed)
    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)

    model = load_demo_model(model_dir, batch_size=max(FLAGS.num_samples, FLAGS.interpolation_steps, 2))
    output_dir = new_output_dir(FLAGS.output_dir)
    files, to_render, notes = {}, [], []
    print(f"{PROGRAM}: models in {os.path.dirname(model_dir)}, seed {seed}, temperature {FLAGS.temperature}",
          flush=True)
    print(f"{PROGRAM}: 1/3 2-bar melodies and an interpolation ({os.path.basename(model_dir)})", flush=True)
    try:
        num_steps = _two_bar_part(model, output_dir, rng, files, to_render)
        print(f"{PROGRAM}: 2/3 a 16-bar tune", flush=True)
        tune_model = _optional_model("hierdec-mel_16bar", 1, notes)
        if tune_model is not None:
            _sixteen_bar_part(tune_model, output_dir, files, to_render)
        print(f"{PROGRAM}: 3/3 a melody over chords", flush=True)
        chord_model = _optional_model("cat-mel_2bar_med_chords", 1, notes)
        loop_chords = None
        if chord_model is not None:
            loop_chords = _chord_loop_part(chord_model, output_dir, files, to_render)
        wav_note = _render_wavs(to_render, files, renderer)
    except OSError as error:  # a full or read-only disk; every writer removes the file it could not finish
        raise common.output_write_error(output_dir, error) from None

    elapsed = time.time() - started
    print(f"{PROGRAM}: done in {elapsed:.0f} s; everything is in {output_dir}")
    print(f"  MIDI : {len(files['MIDI'])} files: sample_*.mid ({FLAGS.num_samples} random 2-bar melodies), "
          f"interpolation.mid ({num_steps} steps from excerpt_a.mid to excerpt_b.mid, two held-out folk tunes)"
          + (", tune_16bar.mid (16 bars)" if tune_model is not None else "")
          + (f", chord_loop.mid (4 bars over {' '.join(loop_chords)}, twice; chords on a second track)"
             if loop_chords else ""))
    print(f"  PNG  : {len(files['PNG'])} piano rolls of the same")
    if wav_note:
        print(f"  WAV  : {wav_note}")
    else:
        print(f"  WAV  : {len(files['WAV'])} files, one per MIDI file above (excerpts excepted); renderer: "
              f"{renderer.describe()}")
    for note in notes:
        print(f"  note : {note}")
    print("What to listen for: the samples are 2-bar folk phrases; the interpolation morphs excerpt A into "
          "excerpt B step by step; the 16-bar tune keeps a key but, from this small model, brings back its bars "
          "far less than real tunes do (docs/models.md); the chord loop's "
          "melody leans on the notes of each bar's chord.")
    wav_example = files.get("WAV", [None])[0]
    if wav_example:
        print(f"Listen: aplay {wav_example}  (or open the .wav/.mid files in any player or DAW)")
    else:
        print(f"Listen: open the .mid files in a MIDI player or DAW, e.g. timidity {os.path.join(output_dir, 'interpolation.mid')}")
    print("More: music_vae_generate --config=cat-mel_2bar_med_chords --chord_progression=\"Am F C G\" --plot; "
          "docs/models.md")
    return files


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError, OSError), log_flag=None,
                   verbosity=logging.WARNING, fast_exit=True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
