"""music_vae_quickstart: hear what MusicVAE does in a minute, with the packaged folk demo model.

    music_vae_quickstart                        # writes ./musicvae_quickstart_<date>/
    music_vae_quickstart --num_samples=8 --temperature=0.8 --seed=1

It loads the small demo model shipped in musicvae_tf/pretrained/ (trained on the packaged folk
tunes by scripts/train_demo_model.py), then
  1. samples --num_samples random 2-bar melodies from the prior,
  2. interpolates between two real 2-bar folk excerpts of the held-out tunes (5 steps, slerp),
and writes MIDI files, piano-roll PNGs and WAVs (FluidSynth with a General MIDI soundfont when
installed, else the built-in synthesizer; the summary says which).
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
        "(default: the packaged demo model).")
_define("integer", "interpolation_steps", 5, "Steps of the interpolation, both ends included.", lower_bound=2)
_define("string", "soundfont", None, "SF2 soundfont for the WAVs (default: an installed General MIDI one).")
_define("string", "renderer", "auto", "WAV renderer: auto (FluidSynth if installed, else the built-in "
        "synthesizer), fluidsynth, pyfluidsynth or builtin.")

DEMO_MODEL_NAME = "cat-mel_2bar_small.folk_demo"
PROGRAM = "music_vae_quickstart"


def default_model_dir():
    from musicvae_tf.checkpoints.resolver import PRETRAINED_DIR

    return os.path.join(PRETRAINED_DIR, DEMO_MODEL_NAME)


def new_output_dir(requested=None, now=None):
    """A new folder: `requested` (or ./musicvae_quickstart_<date>), else _2, _3, ... (common.new_output_dir)."""
    return common.new_output_dir(requested, "musicvae_quickstart", now)


def load_demo_model(model_dir, batch_size):
    """TrainedModel for the port-format model in `model_dir`; UsageError if it is missing."""
    from musicvae_tf import checkpoints, configs
    from musicvae_tf.trained_model import TrainedModel

    if not checkpoints.is_port_checkpoint(model_dir):
        raise UsageError(f"demo model not found in {model_dir}; train it with "
                              "`python scripts/train_demo_model.py` or pass --model_dir")
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


def run():
    """Runs the quickstart with the parsed flags; returns {kind: [paths]} of the files written."""
    started = time.time()
    import note_seq
    import numpy as np
    import tensorflow as tf

    from musicvae_tf import render
    from musicvae_tf.interpolation import slerp_path

    if not math.isfinite(FLAGS.temperature):
        raise UsageError(f"--temperature must be a positive number, not {FLAGS.temperature:g}")
    renderer = common.renderer_from_flags(FLAGS.renderer, FLAGS.soundfont)
    model_dir = os.path.abspath(os.path.expanduser(FLAGS.model_dir or default_model_dir()))
    seed = FLAGS.seed if FLAGS.seed is not None else int(np.random.default_rng().integers(0, 2**31 - 1))
    np.random.seed(seed)
    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)

    model = load_demo_model(model_dir, batch_size=max(FLAGS.num_samples, FLAGS.interpolation_steps, 2))
    output_dir = new_output_dir(FLAGS.output_dir)
    files = {}
    print(f"{PROGRAM}: model {model_dir}, seed {seed}, temperature {FLAGS.temperature}", flush=True)

    # 1. Random melodies from the prior.
    samples = model.sample(n=FLAGS.num_samples, length=model.config.hparams.max_seq_len,
                           temperature=FLAGS.temperature)
    to_render = []
    for i, sequence in enumerate(samples, start=1):
        stem = os.path.join(output_dir, f"sample_{i:02d}")
        render.write_midi_file(sequence, _write("MIDI", files, stem + ".mid"))
        render.plot_piano_roll(sequence, _write("PNG", files, stem + ".png"), title=f"sample {i}")
        to_render.append((sequence, stem + ".wav"))

    # 2. Interpolation between two real folk excerpts.
    converter = model.config.data_converter
    (inputs_a, length_a, title_a), (inputs_b, length_b, title_b) = pick_folk_excerpts(converter, rng)
    _, mu, _ = model.encode_tensors([inputs_a, inputs_b], [length_a, length_b])
    z = slerp_path(mu[0], mu[1], FLAGS.interpolation_steps)
    steps = model.decode(z, length=model.config.hparams.max_seq_len, temperature=FLAGS.temperature)
    excerpt_a, excerpt_b = converter.from_tensors([inputs_a, inputs_b])
    for name, sequence in (("excerpt_a", excerpt_a), ("excerpt_b", excerpt_b)):
        path = os.path.join(output_dir, name + ".mid")
        render.write_midi_file(sequence, _write("MIDI", files, path))
    joined = note_seq.sequences_lib.concatenate_sequences(list(steps))
    interpolation_midi = os.path.join(output_dir, "interpolation.mid")
    render.write_midi_file(joined, _write("MIDI", files, interpolation_midi))
    titles = ([f"A: {title_a}"[:24]] + [f"step {i + 1}" for i in range(len(steps))] + [f"B: {title_b}"[:24]])
    render.plot_piano_roll_strip([excerpt_a] + list(steps) + [excerpt_b],
                                 _write("PNG", files, os.path.join(output_dir, "interpolation.png")),
                                 titles=titles)
    to_render.append((joined, os.path.join(output_dir, "interpolation.wav")))

    wav_note = _render_wavs(to_render, files, renderer)

    elapsed = time.time() - started
    print(f"{PROGRAM}: done in {elapsed:.0f} s; everything is in {output_dir}")
    print(f"  MIDI : {len(files['MIDI'])} files: sample_*.mid ({FLAGS.num_samples} random 2-bar melodies), "
          f"interpolation.mid ({len(steps)} steps from excerpt_a.mid to excerpt_b.mid)")
    print(f"  PNG  : {len(files['PNG'])} piano rolls: sample_*.png, interpolation.png (A, steps, B)")
    if wav_note:
        print(f"  WAV  : {wav_note}")
    else:
        print(f"  WAV  : {len(files['WAV'])} files: sample_*.wav, interpolation.wav; renderer: "
              f"{renderer.describe()}")
    wav_example = files.get("WAV", [None])[0]
    if wav_example:
        print(f"Listen: aplay {wav_example}  (or open the .wav/.mid files in any player or DAW)")
    else:
        print(f"Listen: open the .mid files in a MIDI player or DAW, e.g. timidity {interpolation_midi}")
    return files


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError, OSError), log_flag=None,
                   verbosity=logging.WARNING)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
