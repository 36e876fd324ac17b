"""music_vae_lofi: a lo-fi loop from the models, as WAVs (mix and stems), MIDI and a piano roll.

    music_vae_lofi                                        # 8 bars, ./musicvae_lofi_<date>/mix.wav
    music_vae_lofi --chord_progression="Am7 Fmaj7 C G" --qpm=76 --seed=3 --overlay=rain.wav
    music_vae_lofi --progression=ii-V-I --key=Eb --drums_checkpoint=cat-drums_2bar_small.tar

Chords: --chord_progression (one chord per bar, repeated), or one of the presets of --progression in
--key (the seed picks whatever is not given): ii-V-I, I-vi-ii-V, IV-iii-ii-I, Imaj7-IVmaj7,
vi-IV-I-V, i-iv-VII-III, i-VI-iv-v (see musicvae_tf/lofi/progressions.py). The keys play every
chord in full (sevenths, ninths); the melody model is conditioned on their triads.
Parts: melody from the chord-conditioned model (--checkpoint_file/--config, default the packaged
cat-mel_2bar_med_chords model), keys, a bass line on the chord roots, drums from
--drums_checkpoint or a boom-bap pattern (--drum_pattern: boom_bap, lazy, dusty, half_time).
Sound: FluidSynth with a General MIDI soundfont when installed, else the built-in synthesizer
(--renderer); then a lo-fi master (bit-crush, sample-rate reduction, wow, low-pass, compression,
reverb), vinyl crackle and tape hiss (--vinyl), and your own sounds (--overlay, looped, level-matched).
Output, in a new folder (an existing one is never written into): mix.wav, one WAV per stem
(melody, keys, bass, drums, texture; they add up to the mix before the master), melody.mid, keys.mid,
bass.mid, drums.mid, loop.mid (all parts), loop.png (piano roll) and loop.json (settings, figures).
"""

import math
import os

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)

PROGRAM = "music_vae_lofi"
DEFAULT_CONFIG = "cat-mel_2bar_med_chords"
FALLBACK_MELODY_CONFIG = "cat-mel_2bar_small"  # packaged, but not conditioned on chords
DEFAULT_DRUMS_CONFIG = "cat-drums_2bar_small"

_define("integer", "num_bars", 8, "Length of the loop in 4/4 bars.")
_define("float", "qpm", 80.0, "Tempo in quarter notes per minute.")
_define("integer", "seed", None, "Seed: the same seed and flags give the same loop (default: random).")
_define("string", "output_dir", None, "Folder for the results (default ./musicvae_lofi_<date>); if it "
        "exists, <output_dir>_2, _3, ... is used instead.")
_define("string", "chord_progression", None,
        "Chord symbols, one per bar, repeated to fill the loop, e.g. \"Am7 Fmaj7 C G\".")
_define("string", "progression", None, "A preset progression (instead of --chord_progression): "
        "ii-V-I, I-vi-ii-V, IV-iii-ii-I, Imaj7-IVmaj7, vi-IV-I-V, i-iv-VII-III, i-VI-iv-v.")
_define("string", "key", None, "Key of the preset progression, e.g. C, F#, Bb (default: picked by the seed).")
_define("float", "swing", 0.58, "Swing of the sixteenths: 0.5 straight, 0.67 triplet feel.")
_define("float", "humanize", 1.0, "How much timing and velocity vary as if played (0: on the grid).")
_define("float", "temperature", 0.5, "Randomness of the models' sampling.")
_define("string", "checkpoint_file", None, "Melody model checkpoint (default: the packaged model of --config).")
_define("string", "config", DEFAULT_CONFIG, "Config of the melody model: a 2-bar melody config.")
_define("string", "hparams", None, "Hparams of a Magenta melody checkpoint, e.g. z_size=256.")
_define("string", "drums_checkpoint", None, "Drums model checkpoint, e.g. Magenta's cat-drums_2bar_small "
        "(default: a boom-bap pattern, --drum_pattern).")
_define("string", "drums_config", DEFAULT_DRUMS_CONFIG, "Config of --drums_checkpoint: a 2-bar drums config.")
_define("string", "drums_hparams", None, "Hparams of a Magenta drums checkpoint.")
_define("string", "drum_pattern", None, "Boom-bap pattern when no --drums_checkpoint: boom_bap, lazy, "
        "dusty, half_time (default: picked by the seed).")
_define("integer", "melody_program", 11, "General MIDI program of the melody (11: vibraphone).")
_define("integer", "keys_program", 4, "General MIDI program of the keys (4: electric piano).")
_define("integer", "bass_program", 33, "General MIDI program of the bass (33: electric bass).")
_define("string", "renderer", "auto", "auto (FluidSynth if installed, else built in), fluidsynth, "
        "pyfluidsynth or builtin.")
_define("string", "soundfont", None, "SF2 soundfont for FluidSynth (default: an installed General MIDI one).")
_define("integer", "sample_rate", 44100, "Sample rate of the WAVs.")
_define("float", "lowpass_hz", 4500.0, "Cut-off of the master's low-pass filter.")
_define("float", "bit_depth", 12.0, "Bit depth of the master's bit-crusher (0: off).")
_define("float", "wow", 0.5, "Tape wow, 0 (none) to 1.")
_define("float", "vinyl", 0.5, "Vinyl crackle and tape hiss, 0 (none) to 1.")
_define("multi_string", "overlay", [], "A sound file laid over the mix, looped to its length (repeatable).")
_define("float", "overlay_db", -12.0, "Level of each overlay relative to the music, in dB.")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.")


def _check_range(name, value, low, high, low_open=False):
    if value is None or not math.isfinite(value) or value < low or (low_open and value == low) or value > high:
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise UsageError(f"--{name} must be {bound} and at most {high:g}, got {value:g}")


def check_flags():
    """Validates everything that needs no model; returns the (unresolved) LoopSettings."""
    # Plain numbers and files first: their mistakes are reported before anything heavy is imported.
    if FLAGS.num_bars < 1:
        raise UsageError(f"--num_bars must be at least 1, got {FLAGS.num_bars}")
    if FLAGS.num_bars > 256:
        raise UsageError(f"--num_bars must be at most 256, got {FLAGS.num_bars}")
    _check_range("qpm", FLAGS.qpm, 20, 300)
    _check_range("swing", FLAGS.swing, 0.5, 0.75)
    _check_range("humanize", FLAGS.humanize, 0, 4)
    _check_range("temperature", FLAGS.temperature, 0, 10, low_open=True)
    _check_range("vinyl", FLAGS.vinyl, 0, 1)
    _check_range("wow", FLAGS.wow, 0, 1)
    _check_range("bit_depth", FLAGS.bit_depth, 0, 32)
    _check_range("overlay_db", FLAGS.overlay_db, -60, 12)
    if not 8000 <= FLAGS.sample_rate <= 192000:
        raise UsageError(f"--sample_rate must be between 8000 and 192000, got {FLAGS.sample_rate}")
    _check_range("lowpass_hz", FLAGS.lowpass_hz, 100, 0.45 * FLAGS.sample_rate)
    for name in ("melody_program", "keys_program", "bass_program"):
        if not 0 <= getattr(FLAGS, name) <= 127:
            raise UsageError(f"--{name} must be a General MIDI program 0-127, got {getattr(FLAGS, name)}")
    if FLAGS.seed is not None and not 0 <= FLAGS.seed < 2 ** 31:
        raise UsageError(f"--seed must be between 0 and 2147483647, got {FLAGS.seed}")
    for path in FLAGS.overlay:
        if not os.path.isfile(os.path.expanduser(path)):
            raise UsageError(f"overlay not found: {path}")
    from musicvae_tf.lofi import drums, loop, mixing, progressions

    if FLAGS.drum_pattern and FLAGS.drums_checkpoint:
        raise UsageError("give --drum_pattern or --drums_checkpoint, not both")
    if FLAGS.drum_pattern and FLAGS.drum_pattern not in drums.PATTERNS:
        raise UsageError(f"unknown --drum_pattern {FLAGS.drum_pattern!r}; choose one of: "
                         f"{', '.join(drums.PATTERNS)}")
    chords = ()
    if FLAGS.chord_progression is not None:
        if FLAGS.progression or FLAGS.key:
            raise UsageError("--progression and --key choose a preset; with --chord_progression write "
                             "the chords in the key you want")
        from musicvae_tf.converters import chords as chord_lib

        chords = tuple(chord_lib.parse_chord_progression(FLAGS.chord_progression))
    else:
        if FLAGS.progression and FLAGS.progression not in progressions.PRESETS:
            raise UsageError(f"unknown --progression {FLAGS.progression!r}; choose one of: "
                             f"{', '.join(progressions.PRESETS)}")
        if FLAGS.key:
            progressions.key_pitch_class(FLAGS.key)
    seed = FLAGS.seed
    if seed is None:
        import numpy as np

        seed = int(np.random.default_rng().integers(0, 2 ** 31 - 1))
    master = mixing.MasterSettings(lowpass_hz=FLAGS.lowpass_hz, bit_depth=FLAGS.bit_depth, wow=FLAGS.wow)
    return loop.LoopSettings(
        num_bars=FLAGS.num_bars, qpm=FLAGS.qpm, seed=seed, chords=chords, progression=FLAGS.progression,
        key=FLAGS.key, swing=FLAGS.swing, humanize=FLAGS.humanize, temperature=FLAGS.temperature,
        drum_pattern=FLAGS.drum_pattern, melody_program=FLAGS.melody_program,
        keys_program=FLAGS.keys_program, bass_program=FLAGS.bass_program, sample_rate=FLAGS.sample_rate,
        vinyl=FLAGS.vinyl, overlays=tuple(os.path.abspath(os.path.expanduser(p)) for p in FLAGS.overlay),
        overlay_db=FLAGS.overlay_db, master=master)


def _two_bar_model(kind, checkpoint_file, config_name, hparams, seed, stream):
    """(TrainedModel, description) of a 2-bar melody or drums model; UsageError otherwise."""
    from musicvae_tf.converters.drums import DrumsConverter
    from musicvae_tf.converters.melody import OneHotMelodyConverter

    path, name, config, overrides = common.checkpoint_from_flags(None, checkpoint_file, config_name, hparams)
    converter_class = OneHotMelodyConverter if kind == "melody" else DrumsConverter
    if not isinstance(config.data_converter, converter_class) or config.hparams.max_seq_len != 32:
        example = "cat-mel_2bar_med_chords" if kind == "melody" else "cat-drums_2bar_small"
        raise UsageError(f"the {kind} model must be a 2-bar {kind} config such as {example}, not {name}")
    logging.info("Loading the %s model %s (%s)", kind, path, name)
    model = common.load_trained_model(config, name, path, batch_size=3, hparams_overrides=overrides,
                                      seed=[seed, stream])
    return model, f"{name} from {path}"


def melody_config(config_name, checkpoint_file, pretrained_dir=None):
    """The melody model's config name: `config_name`, except that the default chord config without a
    --checkpoint_file and without its packaged model falls back to the packaged cat-mel_2bar_small
    (its melody is then only transposed onto the chords)."""
    from musicvae_tf import checkpoints

    if (checkpoint_file or config_name != DEFAULT_CONFIG
            or checkpoints.find_pretrained(DEFAULT_CONFIG, pretrained_dir)
            or not checkpoints.find_pretrained(FALLBACK_MELODY_CONFIG, pretrained_dir)):
        return config_name
    logging.warning("No packaged %s model here; the melody comes from the packaged %s model, "
                    "which is not conditioned on chords", DEFAULT_CONFIG, FALLBACK_MELODY_CONFIG)
    return FALLBACK_MELODY_CONFIG


def load_melody_model(seed):
    """The melody model of the flags (see `melody_config`)."""
    config_name = melody_config(FLAGS.config, FLAGS.checkpoint_file)
    return _two_bar_model("melody", FLAGS.checkpoint_file, config_name, FLAGS.hparams, seed, 1)


def run():
    """Makes the loop from the flags; returns the LoopResult. UsageError for the user's mistakes."""
    settings = check_flags()
    from musicvae_tf import render
    from musicvae_tf.lofi import loop

    renderer = common.renderer_from_flags(FLAGS.renderer, FLAGS.soundfont)
    melody_model, melody_source = load_melody_model(settings.seed)
    models = {"melody": melody_source}
    drums_model = None
    if FLAGS.drums_checkpoint:
        drums_model, models["drums"] = _two_bar_model("drums", FLAGS.drums_checkpoint, FLAGS.drums_config,
                                                      FLAGS.drums_hparams, settings.seed, 2)
    settings = loop.resolve_choices(settings, drums_from_model=drums_model is not None)
    if not drums_model:
        models["drums"] = f"pattern {settings.drum_pattern}"
    output_dir = common.new_output_dir(FLAGS.output_dir, "musicvae_lofi")
    try:
        result = loop.make_loop(settings, output_dir, renderer, melody_model, drums_model,
                                progress=lambda message: logging.info("%s", message), models=models)
    except render.RenderError as error:
        raise UsageError(str(error)) from None
    except loop.SilentLoopError as error:
        os.rmdir(output_dir)  # made new above, and nothing was written into it
        raise UsageError(str(error)) from None
    except OSError as error:  # a full or read-only disk; every writer removes the file it could not finish
        raise common.output_write_error(output_dir, error) from None
    print(summary_line(result, output_dir), flush=True)
    return result


def summary_line(result, output_dir):
    settings, figures = result.settings, result.figures
    chords = " ".join(settings.chords)
    where = f"{settings.progression} in {settings.key}: " if settings.progression else ""
    return (f"{PROGRAM}: {settings.num_bars} bars of {where}{chords} at {settings.qpm:g} qpm, seed "
            f"{settings.seed} -> {result.files['mix']}: {figures['seconds']:g} s, "
            f"{figures['rms_dbfs']:.1f} dBFS RMS, peak {figures['peak_dbfs']:.1f} dBFS, 99% of the energy "
            f"below {figures['rolloff_99_hz']:.0f} Hz; renderer: {result.renderer}; stems, MIDI and "
            f"loop.png in {output_dir}")


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError, OSError), fast_exit=True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point


if __name__ == "__main__":
    console_entry_point()
