"""music_vae_export: a trained MusicVAE for magenta.js, TensorFlow Serving or TFLite.

    music_vae_export --config=cat-mel_2bar_small --checkpoint_file=cat-mel_2bar_small.tar \\
        --format=magenta_js --output_dir=web/cat-mel_2bar_small
    music_vae_export --config=cat-mel_2bar_small --format=saved_model --output_dir=served/
    music_vae_export --config=cat-mel_2bar_small --format=tflite --output_dir=mobile/

--checkpoint_file takes any checkpoint the port loads: Magenta's (directory, model.ckpt-N, .tar),
a music_vae_train run's train/ or ckpt-N (or --run_dir) or an exported/packaged model; without
it, the packaged model of --config. Formats:
  magenta_js   config.json + weights_manifest.json + shards for `new mm.MusicVAE(url)`
               (@magenta/music); --quantize=float16|uint8 makes the weights 2x / 4x smaller.
               Configs magenta.js cannot run (e.g. two-layer encoders: hierdec-*, flat-*_16bar)
               are refused in one line that names the configs that export.
  saved_model  signatures encode, decode (z, temperature, seed) and sample for tf.saved_model.load.
  tflite       the decoder (sampling loop included) in builtin TFLite ops, batch --tflite_batch_size.
The output folder must be new or empty: nothing is overwritten.
"""

import os
import shutil

from absl import flags

from musicvae_tf import output_folders
from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "config", None, "Config name (default: the one the checkpoint records).")
_define("string", "run_dir", None, "A music_vae_train run directory (its latest checkpoint).")
_define("string", "checkpoint_file", None, "Checkpoint to export (default: the packaged model of --config).")
_define("string", "hparams", "", "Hparam overrides for Magenta checkpoints of non-default sizes.")
_define("string", "format", "magenta_js", "magenta_js, saved_model or tflite.")
_define("string", "output_dir", None, "Folder to write (new or empty).")
_define("string", "quantize", None, "magenta_js only: float16 or uint8 weights.")
_define("integer", "tflite_batch_size", 1, "tflite only: the fixed batch of the decoder.")
_define("string", "log", "WARNING", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.")

PROGRAM = "music_vae_export"
FORMATS = ("magenta_js", "saved_model", "tflite")


def load_model(checkpoint_file=None, config_name=None, hparams_string="", run_dir=None):
    """(config name, Config, Keras MusicVAE) of a checkpoint, chosen as every tool chooses it.

    Any checkpoint the port loads: Magenta's, a music_vae_train run (`run_dir`), the port's
    exported or packaged models (the packaged one of `config_name` when no checkpoint is given).
    Raises UsageError (one line).
    """
    path, name, config, overrides = common.checkpoint_from_flags(run_dir, checkpoint_file, config_name,
                                                                 hparams_string or "")
    trained = common.load_trained_model(config, name, path, 1, overrides)
    model = trained.model
    model.config_name = model.config_name or name
    return name, trained.config, model


def _size(directory):
    total = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(directory) for f in files)
    return f"{total / 1e6:.2f} MB"


def run():
    import tensorflow as tf

    from musicvae_tf.export import magenta_js
    from musicvae_tf.training import loop

    if FLAGS.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {FLAGS.format!r}")
    if not FLAGS.output_dir:
        raise UsageError("--output_dir is required")
    if FLAGS.quantize and FLAGS.format != "magenta_js":
        raise UsageError("--quantize applies to --format=magenta_js only")
    if FLAGS.quantize not in (None, "float16", "uint8"):
        raise UsageError(f"--quantize must be float16 or uint8, not {FLAGS.quantize!r}")
    if FLAGS.tflite_batch_size < 1:
        raise UsageError("--tflite_batch_size must be at least 1")
    if not (FLAGS.config or FLAGS.checkpoint_file or FLAGS.run_dir):
        raise UsageError("--config, --checkpoint_file or --run_dir is required")
    output_dir = os.path.expanduser(FLAGS.output_dir)
    output_folders.check_new_or_empty(output_dir, error=UsageError)
    name, config, model = load_model(FLAGS.checkpoint_file, FLAGS.config, FLAGS.hparams, FLAGS.run_dir)
    if FLAGS.format == "magenta_js":
        magenta_js.magenta_js_spec(config, name)  # refuses in one line before writing anything
    made = not os.path.exists(output_dir)
    try:
        _export(name, config, model, output_dir)
    except (OSError, tf.errors.OpError) as error:  # a full or read-only disk: no half export stays
        _remove_export(output_dir, made)
        detail = loop.write_failure_text(error)
        raise UsageError(f"cannot write the export to --output_dir {output_dir}: {detail}; nothing written") from None
    return 0


def _remove_export(output_dir, made):
    """Removes what a failed export wrote: `output_dir` was new (`made`) or empty, so all of it is ours."""
    if made:
        shutil.rmtree(output_dir, ignore_errors=True)
    elif os.path.isdir(output_dir):
        for entry in os.listdir(output_dir):
            path = os.path.join(output_dir, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.remove(path)


def _export(name, config, model, output_dir):
    from musicvae_tf.export import magenta_js, saved_model

    if FLAGS.format == "magenta_js":
        files = magenta_js.export(model, config, output_dir, quantization=FLAGS.quantize, config_name=name)
        print(f"Wrote {name} for magenta.js to {output_dir} ({len(files)} files, {_size(output_dir)}, "
              f"{FLAGS.quantize or 'float32'} weights); in a page: new mm.MusicVAE('<url of that folder>')")
    elif FLAGS.format == "saved_model":
        saved_model.export_saved_model(model, output_dir)
        print(f"Wrote the SavedModel of {name} to {output_dir} ({_size(output_dir)}; signatures encode, "
              "decode, sample); load it with tf.saved_model.load")
    else:
        path = saved_model.export_tflite(model, output_dir, batch_size=FLAGS.tflite_batch_size)
        print(f"Wrote the TFLite decoder of {name} to {path} ({_size(output_dir)}; inputs z "
              f"[{FLAGS.tflite_batch_size}, {model.z_size}] and temperature, builtin ops only)")


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError, OSError), fast_exit=True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point


if __name__ == "__main__":
    console_entry_point()
