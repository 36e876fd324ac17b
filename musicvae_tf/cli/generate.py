"""music_vae_generate: sample from or interpolate with a trained MusicVAE, written as MIDI files.

Same flags and output names as Magenta's script, e.g.

    music_vae_generate --config=cat-mel_2bar_small --checkpoint_file=cat-mel_2bar_small.tar \\
        --mode=sample --num_outputs=5 --output_dir=/tmp/music_vae/generated
    music_vae_generate --config=cat-mel_2bar_small --checkpoint_file=... --mode=interpolate \\
        --input_midi_1=a.mid --input_midi_2=b.mid --num_outputs=5 --output_dir=/tmp/out

Chord-conditioned configs (cat-mel_2bar_med_chords) play over --chord_progression="C G Am F"
(one chord per bar, or per --steps_per_chord steps, looped; default C G Am F).

Beyond Magenta: a WAV beside every MIDI file by default (FluidSynth when installed, else the built-in
synthesizer; --norender_wav for MIDI only, as Magenta), and opt-in --plot (piano-roll PNGs),
--qpm / --loop_bars (tempo and repeated loops for a DAW), --attribute / --attribute_scale.
Errors are reported as one line on stderr with exit code 1 (see musicvae_tf.cli.common).
"""

import math
import os
import time

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)

_define("string", "run_dir", None,
        "Training run directory; the latest checkpoint in its `train` folder is used. "
        "Takes priority over --checkpoint_file.")
_define("string", "checkpoint_file", None,
        "A checkpoint: a directory (latest checkpoint inside), a model.ckpt-N prefix, "
        "a .tar bundle of Magenta, or a checkpoint saved by musicvae_tf.")
_define("string", "output_dir", "/tmp/music_vae/generated", "Where the MIDI files are written.")
_define("string", "config", None, "The name of the config (see musicvae_tf.configs.CONFIG_MAP).")
_define("string", "mode", "sample", "`sample` or `interpolate`.")
_define("string", "personal_model", None,
        "Sample through a personal model made by music_vae_personalize (its folder); the base model is "
        "the one it records (--checkpoint_file: where that model is now, if it moved).")
_define("string", "input_midi_1", None,
        "Interpolation start MIDI file; in sample mode with --attribute, a MIDI file to "
        "re-decode with the attribute applied.")
_define("string", "input_midi_2", None, "Interpolation end MIDI file.")
_define("integer", "num_outputs", 5,
        "Sample mode: how many samples. Interpolate mode: how many steps, endpoints "
        "included.")
_define("integer", "max_batch_size", 8, "The largest batch run through the model at once.")
_define("float", "temperature", 0.5, "The randomness of decoding.")
_define("integer", "seed", None,
        "Seed of the sampling noise: the same seed, model and flags write the same notes (default: random).")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.")
_define("string", "hparams", None,
        "Comma-separated hparam overrides (e.g. `z_size=64,dec_rnn_size=[128,128]`) for "
        "Magenta checkpoints trained with non-default sizes. Checkpoints saved by musicvae_tf "
        "carry their own hparams: there --hparams may only repeat them or change training-only "
        "ones (batch_size, learning rate, ...; max_seq_len for non-hierarchical models); "
        "any other difference is an error.")
_define("boolean", "plot", False,
        "Also write a piano-roll PNG per output (interpolation: one strip of all steps).")
_define("boolean", "render_wav", True, "Also write a WAV per output (--norender_wav: MIDI only).")
_define("string", "renderer", "auto", "WAV renderer: auto (FluidSynth if installed, else built in), "
        "fluidsynth, pyfluidsynth or builtin.")
_define("string", "soundfont", None,
        "General MIDI soundfont for FluidSynth (default: an installed one, e.g. fluid-soundfont-gm).")
_define("float", "qpm", None, "Tempo of the written files in quarter notes per minute.")
_define("integer", "loop_bars", None,
        "Repeat each output loop this many times back to back (for a DAW).")
_define("string", "chord_progression", None,
        "Chord symbols, space or comma separated (e.g. \"Am7 Fmaj7 C G\"), for chord-conditioned "
        "configs: one chord per bar (or per --steps_per_chord steps), looped. Sevenths are reduced "
        "to the triads the model knows. Default for those configs: " + "C G Am F" + ".")
_define("integer", "steps_per_chord", None,
        "Steps each chord of --chord_progression lasts (default: one bar, 16 steps).")
_define("string", "attribute", None,
        "Shift the latent codes along this attribute vector: note_density, mean_pitch "
        "or syncopation.")
_define("float", "attribute_scale", 1.0, "How far to move along the attribute vector (alpha).")
_define("string", "attribute_vectors", None,
        ".npz of attribute vectors: read if it exists, else computed from "
        "--attribute_examples_path and written here.")
_define("string", "attribute_examples_path", None,
        "TFRecord of NoteSequences used to compute the attribute vector.")

PROGRAM = "music_vae_generate"
_MODES = ("sample", "interpolate")
DEFAULT_CHORD_PROGRESSION = "C G Am F"


# --- inputs -----------------------------------------------------------------------------------

def read_midi(path):
    import note_seq

    if not os.path.isfile(path):
        raise UsageError(f"input MIDI file not found: {path}")
    try:
        return note_seq.midi_file_to_note_sequence(path)
    except Exception as error:
        raise UsageError(f"cannot read MIDI file {path}: {type(error).__name__}: "
                            f"{(str(error).splitlines() or [''])[0]}")


def check_single_example(config, config_name, sequence, path, input_number, date_and_time):
    """Exits with guidance unless the converter extracts exactly one example from `sequence`."""
    tensors = config.data_converter.to_tensors(sequence)
    count = len(tensors.outputs)
    if count == 0:
        from musicvae_tf.converters.diagnosis import why_no_examples

        reason = why_no_examples(config.data_converter, sequence).text
        raise UsageError(f"no valid input for config {config_name} could be extracted from {path}: "
                         f"{reason}; try another MIDI file")
    if count > 1:
        decoded = (config.data_converter.from_tensors(tensors.outputs, tensors.controls)
                   if config.data_converter.control_depth else
                   config.data_converter.from_tensors(tensors.outputs))
        pattern = os.path.join(FLAGS.output_dir, f"{config_name}_input{input_number}-extractions_"
                                                 f"{date_and_time}-*-of-{count:03d}.mid")
        try:
            written = [write_midi(ns, pattern.replace("*", f"{i:03d}")) for i, ns in enumerate(decoded)]
        except OSError as error:  # a full or read-only --output_dir
            raise UsageError(f"{count} valid inputs extracted from {path}, and they cannot be written to "
                             f"--output_dir {FLAGS.output_dir}: {error.strerror or error}") from None
        raise UsageError(f"{count} valid inputs extracted from {path}; wrote them as "
                            f"{os.path.dirname(written[0])}/{os.path.basename(pattern)}; call again "
                            f"with one of these as --input_midi_{input_number}")


# --- outputs ----------------------------------------------------------------------------------

def unique_path(path):
    """`path`, or `<stem>_2<ext>`, `<stem>_3<ext>`, ... when a file of that name exists."""
    if not os.path.exists(path):
        return path
    stem, ext = os.path.splitext(path)
    k = 2
    while os.path.exists(f"{stem}_{k}{ext}"):
        k += 1
    return f"{stem}_{k}{ext}"


def write_midi(sequence, path):
    """Writes a MIDI file under a name not taken yet; raises OSError (nothing left) when it fails."""
    from musicvae_tf.render.midi_file import write_midi_file

    return write_midi_file(sequence, unique_path(path))


def _loop_quarters(config):
    """The model's output length in quarter notes, when its converter works on a metric grid."""
    converter = config.data_converter
    steps_per_quarter = getattr(converter, "_steps_per_quarter", None)
    if not steps_per_quarter or "Performance" in type(converter).__name__:
        return None
    return config.hparams.max_seq_len / float(steps_per_quarter)


def _attribute_vector(model, config, config_name):
    from musicvae_tf import attributes
    from musicvae_tf.data.note_sequences import read_note_sequences

    attributes.attribute_fn(FLAGS.attribute)  # validates the name
    path = FLAGS.attribute_vectors
    if path and os.path.exists(path):
        vectors, stored_config = attributes.load_attribute_vectors(path)
        if stored_config and stored_config != config_name:
            raise UsageError(f"attribute vectors in {path} were computed for {stored_config}, "
                                f"not {config_name}")
        if FLAGS.attribute not in vectors:
            raise UsageError(f"{path} has no vector for attribute {FLAGS.attribute!r} "
                                f"(it has: {', '.join(sorted(vectors)) or 'none'})")
        return vectors[FLAGS.attribute]
    if not FLAGS.attribute_examples_path:
        raise UsageError("--attribute needs --attribute_vectors (an existing .npz) or "
                            "--attribute_examples_path (a TFRecord of NoteSequences)")
    sequences = list(read_note_sequences(FLAGS.attribute_examples_path))
    vectors = attributes.compute_attribute_vectors(model, sequences, [FLAGS.attribute])
    save_to = path or unique_path(os.path.join(FLAGS.output_dir, f"{config_name}_attribute_vectors.npz"))
    attributes.save_attribute_vectors(save_to, vectors, config_name=config_name)
    logging.info("Attribute vectors saved to %s", save_to)
    return vectors[FLAGS.attribute]


def _chord_controls(config, config_name):
    """The chord controls [max_seq_len, depth] for a chord-conditioned config, else None."""
    from musicvae_tf.converters import chords

    converter = config.data_converter
    if chords.chord_encoding_of(converter) is None:
        if FLAGS.chord_progression:
            raise UsageError(f"config {config_name} is not conditioned on chords; --chord_progression "
                             "needs a chord config such as cat-mel_2bar_med_chords")
        if converter.control_depth > 0:
            raise UsageError(f"config {config_name} is conditioned on controls (hits or keys), "
                             "which music_vae_generate does not supply")
        return None
    text = FLAGS.chord_progression or DEFAULT_CHORD_PROGRESSION
    if not FLAGS.chord_progression:
        logging.info("No --chord_progression given: playing over %s", text)
    try:
        symbols = chords.parse_chord_progression(text)
        return chords.chord_controls(converter, symbols, config.hparams.max_seq_len, FLAGS.steps_per_chord)
    except ValueError as error:
        raise UsageError(f"--chord_progression: {error}")


# Flags naming files or folders: `~` is expanded once, before anything reads them.
_PATH_FLAGS = ("run_dir", "checkpoint_file", "output_dir", "personal_model", "input_midi_1", "input_midi_2",
               "soundfont", "attribute_vectors", "attribute_examples_path")


def _check_flags():
    """Checks the flags that need no model; returns the WAV renderer (None with --norender_wav)."""
    for name in _PATH_FLAGS:
        if getattr(FLAGS, name):
            setattr(FLAGS, name, os.path.expanduser(getattr(FLAGS, name)))
    if FLAGS.mode not in _MODES:
        raise UsageError(f"invalid --mode {FLAGS.mode!r}; use `sample` or `interpolate`")
    if FLAGS.num_outputs < 1:
        raise UsageError("--num_outputs must be at least 1")
    if FLAGS.seed is not None and not 0 <= FLAGS.seed < 2 ** 32:
        raise UsageError(f"--seed must be between 0 and 2**32 - 1, not {FLAGS.seed}")
    if FLAGS.max_batch_size < 1:
        raise UsageError("--max_batch_size must be at least 1")
    if FLAGS.loop_bars is not None and FLAGS.loop_bars < 1:
        raise UsageError("--loop_bars must be at least 1")
    if FLAGS.qpm is not None and not (math.isfinite(FLAGS.qpm) and FLAGS.qpm > 0):
        raise UsageError("--qpm must be a positive number")
    if not (math.isfinite(FLAGS.temperature) and FLAGS.temperature > 0):
        raise UsageError(f"--temperature must be a positive number, not {FLAGS.temperature:g} (0.5 is usual; "
                         "0.01 is nearly greedy, 1.0 samples the model's own distribution)")
    if not math.isfinite(FLAGS.attribute_scale):
        raise UsageError(f"--attribute_scale must be a number, not {FLAGS.attribute_scale:g}")
    if FLAGS.steps_per_chord is not None and FLAGS.steps_per_chord < 1:
        raise UsageError("--steps_per_chord must be at least 1")
    if FLAGS.mode == "interpolate" and (not FLAGS.input_midi_1 or not FLAGS.input_midi_2):
        raise UsageError("--input_midi_1 and --input_midi_2 are required in interpolate mode")
    if FLAGS.attribute:
        from musicvae_tf import attributes

        try:
            attributes.attribute_fn(FLAGS.attribute)
        except ValueError as error:
            raise UsageError(str(error))
        have_vectors = FLAGS.attribute_vectors and os.path.exists(FLAGS.attribute_vectors)
        if not have_vectors and not FLAGS.attribute_examples_path:
            raise UsageError("--attribute needs --attribute_vectors (an existing .npz) or "
                                "--attribute_examples_path (a TFRecord of NoteSequences)")
        if not have_vectors and not os.path.isfile(FLAGS.attribute_examples_path):
            raise UsageError(f"--attribute_examples_path not found: {FLAGS.attribute_examples_path}")
    return common.renderer_from_flags(FLAGS.renderer, FLAGS.soundfont) if FLAGS.render_wav else None


def _load_personal_model(batch_size):
    from musicvae_tf import personalize

    if FLAGS.mode != "sample":
        raise UsageError("--personal_model samples; use --mode=sample")
    if FLAGS.run_dir or FLAGS.hparams or FLAGS.config:
        raise UsageError("--personal_model records its base model; leave out --run_dir, --config and --hparams")
    return personalize.PersonalModel.load(FLAGS.personal_model, checkpoint_file=FLAGS.checkpoint_file,
                                          batch_size=batch_size)


def run():
    """Generates according to the flags; raises UsageError for user-facing problems."""
    import numpy as np

    from musicvae_tf import attributes, render
    from musicvae_tf.interpolation import slerp_path

    date_and_time = time.strftime("%Y-%m-%d_%H%M%S")
    renderer = _check_flags()
    if FLAGS.seed is not None:
        import keras

        keras.utils.set_random_seed(FLAGS.seed)  # numpy's z draws and TensorFlow's sampling ops
    batch_size = min(FLAGS.max_batch_size, FLAGS.num_outputs)
    personal = None
    if FLAGS.personal_model:
        personal = _load_personal_model(batch_size)
        config_name, config = personal.info["base_model"]["config"], personal.base_model.config
    else:
        checkpoint_path, config_name, config, hparams_overrides = common.checkpoint_from_flags(
            FLAGS.run_dir, FLAGS.checkpoint_file, FLAGS.config, FLAGS.hparams)
    c_input = _chord_controls(config, config_name)
    if not config.hparams.z_size:
        raise UsageError(f"config {config_name} has no latent code; it cannot be used here")
    config.data_converter.set_mode("infer")
    try:
        os.makedirs(FLAGS.output_dir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create --output_dir {FLAGS.output_dir}: {error.strerror}")

    inputs = []
    if FLAGS.mode == "sample" and FLAGS.input_midi_1 and not FLAGS.attribute:
        logging.warning("--input_midi_1 is only used in sample mode together with --attribute")
    if FLAGS.mode == "interpolate" or (FLAGS.attribute and FLAGS.input_midi_1):
        paths = [FLAGS.input_midi_1] + ([FLAGS.input_midi_2] if FLAGS.mode == "interpolate" else [])
        inputs = [read_midi(path) for path in paths]
        logging.info("Attempting to extract examples from input MIDIs using config `%s`...",
                     config_name)
        for number, (sequence, path) in enumerate(zip(inputs, paths), start=1):
            check_single_example(config, config_name, sequence, path, number, date_and_time)

    if personal is not None:
        model = personal.base_model
    else:
        logging.info("Loading model...")
        # The graph path, not XLA: a run decodes a few batches, and XLA's compile (~1.2 s for the
        # 2-bar decoder) is not paid back; for hierdec the graph path is faster anyway (MusicVAE.sample).
        model = common.load_trained_model(config, config_name, checkpoint_path, batch_size, hparams_overrides,
                                          jit_compile=False)
    shift = None
    if FLAGS.attribute:
        vector = _attribute_vector(model, config, config_name)
        shift = np.float32(FLAGS.attribute_scale) * vector
        logging.info("Applying attribute %s with scale %g", FLAGS.attribute, FLAGS.attribute_scale)

    length = config.hparams.max_seq_len
    if FLAGS.mode == "interpolate":
        logging.info("Interpolating...")
        _, mu, _ = model.encode(inputs)
        z = slerp_path(mu[0], mu[1], FLAGS.num_outputs)
    elif inputs:
        logging.info("Re-decoding %s with the attribute applied...", FLAGS.input_midi_1)
        _, mu, _ = model.encode(inputs)
        z = np.repeat(mu[:1], FLAGS.num_outputs, axis=0)
    elif personal is not None:
        logging.info("Sampling through the personal model %s...", FLAGS.personal_model)
        z = personal.sample_codes(FLAGS.num_outputs)
    else:
        z = None
        logging.info("Sampling...")
    if shift is not None:
        if z is None:
            z = np.random.randn(FLAGS.num_outputs, config.hparams.z_size).astype(np.float32)
        z = attributes.apply_attribute_vector(z, shift, 1.0)
    if z is None:
        results = model.sample(n=FLAGS.num_outputs, length=length, temperature=FLAGS.temperature,
                               c_input=c_input)
    else:
        results = model.decode(z, length=length, temperature=FLAGS.temperature, c_input=c_input)

    if FLAGS.qpm is not None or FLAGS.loop_bars:
        results = [render.loop_for_daw(ns, repeats=FLAGS.loop_bars or 1, qpm=FLAGS.qpm,
                                       loop_quarters=_loop_quarters(config)) for ns in results]

    pattern = os.path.join(FLAGS.output_dir, f"{config_name}_{FLAGS.mode}_{date_and_time}-*-of-"
                                             f"{FLAGS.num_outputs:03d}.mid")
    logging.info("Outputting %d files as `%s`...", len(results), pattern)
    written = []
    try:
        for i, ns in enumerate(results):
            written.append(write_midi(ns, pattern.replace("*", f"{i:03d}")))
        _write_extras(results, written, pattern, renderer)
    except OSError as error:  # a full or read-only disk: complete files stay, nothing half-written
        raise UsageError(f"cannot write to --output_dir {FLAGS.output_dir}: {error.strerror or error} "
                         f"({len(written)} of {len(results)} MIDI files written)") from None
    logging.info("Done.")
    return written


def _write_extras(results, written, pattern, renderer):
    """The piano-roll PNGs (--plot) and WAV files (--render_wav) of the written MIDI files."""
    from musicvae_tf import render

    if FLAGS.plot:
        if FLAGS.mode == "interpolate":
            strip = unique_path(pattern.replace("-*-of-", "-strip-of-").replace(".mid", ".png"))
            render.plot_piano_roll_strip(results, strip,
                                         titles=[f"step {i + 1}" for i in range(len(results))])
            logging.info("Wrote piano-roll strip %s", strip)
        else:
            for midi_path, ns in zip(written, results):
                render.plot_piano_roll(ns, unique_path(midi_path[:-4] + ".png"),
                                       title=os.path.basename(midi_path))
            logging.info("Wrote %d piano-roll PNGs", len(results))
    if renderer:
        for midi_path, ns in zip(written, results):
            try:
                renderer.write_wav(ns, unique_path(midi_path[:-4] + ".wav"))
            except render.RenderError as error:
                raise UsageError(str(error))
        logging.info("Wrote %d WAV files with %s", len(results), renderer.describe())


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError,), fast_exit=True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
