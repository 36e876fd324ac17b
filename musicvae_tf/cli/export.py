"""music_vae_export: a trained MusicVAE for magenta.js, TensorFlow Serving or TFLite.

    music_vae_export --config=cat-mel_2bar_small --checkpoint_file=cat-mel_2bar_small.tar \\
        --format=magenta_js --output_dir=web/cat-mel_2bar_small
    music_vae_export --config=cat-mel_2bar_small --format=saved_model --output_dir=served/
    music_vae_export --config=cat-mel_2bar_small --format=tflite --output_dir=mobile/

--checkpoint_file takes any checkpoint the port loads: Magenta's (directory, model.ckpt-N, .tar),
a music_vae_train run (its folder, train/ or ckpt-N) or an exported/packaged model; without it,
the packaged model of --config. Formats:
  magenta_js   config.json + weights_manifest.json + shards for `new mm.MusicVAE(url)`
               (@magenta/music); --quantize=float16|uint8 makes the weights 2x / 4x smaller.
               Configs magenta.js cannot run (e.g. two-layer encoders: hierdec-*, flat-*_16bar)
               are refused in one line that names the configs that export.
  saved_model  signatures encode, decode (z, temperature, seed) and sample for tf.saved_model.load.
  tflite       the decoder (sampling loop included) in builtin TFLite ops, batch --tflite_batch_size.
The output folder must be new or empty: nothing is overwritten.
"""

import os
import sys

from absl import flags, logging

from musicvae_tf import console

FLAGS = flags.FlagValues()
flags.DEFINE_string("config", None, "Config name (default: the one the checkpoint records).", flag_values=FLAGS)
flags.DEFINE_string("checkpoint_file", None,
                    "Checkpoint to export (default: the packaged model of --config).", flag_values=FLAGS)
flags.DEFINE_string("hparams", "", "Hparam overrides for Magenta checkpoints of non-default sizes.",
                    flag_values=FLAGS)
flags.DEFINE_string("format", "magenta_js", "magenta_js, saved_model or tflite.", flag_values=FLAGS)
flags.DEFINE_string("output_dir", None, "Folder to write (new or empty).", flag_values=FLAGS)
flags.DEFINE_string("quantize", None, "magenta_js only: float16 or uint8 weights.", flag_values=FLAGS)
flags.DEFINE_integer("tflite_batch_size", 1, "tflite only: the fixed batch of the decoder.", flag_values=FLAGS)
flags.DEFINE_string("log", "WARNING", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.",
                    flag_values=FLAGS)

PROGRAM = "music_vae_export"
FORMATS = ("magenta_js", "saved_model", "tflite")


def checkpoint_for(config_name, checkpoint_file):
    """The checkpoint to use: the given one, else the packaged model of `config_name`."""
    from musicvae_tf.export.source import packaged_checkpoints

    if checkpoint_file:
        return checkpoint_file
    packaged = packaged_checkpoints()
    if config_name in packaged:
        return packaged[config_name]
    have = ", ".join(sorted(packaged)) or "none"
    raise console.UsageError(f"--checkpoint_file is required: no packaged model for config "
                             f"{config_name!r} (packaged: {have})")


def _size(directory):
    total = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(directory) for f in files)
    return f"{total / 1e6:.2f} MB"


def run():
    from musicvae_tf.export import magenta_js, saved_model
    from musicvae_tf.export.source import load_for_export

    if FLAGS.format not in FORMATS:
        raise console.UsageError(f"--format must be one of {', '.join(FORMATS)}, not {FLAGS.format!r}")
    if not FLAGS.output_dir:
        raise console.UsageError("--output_dir is required")
    if FLAGS.quantize and FLAGS.format != "magenta_js":
        raise console.UsageError("--quantize applies to --format=magenta_js only")
    if FLAGS.quantize not in (None, "float16", "uint8"):
        raise console.UsageError(f"--quantize must be float16 or uint8, not {FLAGS.quantize!r}")
    if FLAGS.tflite_batch_size < 1:
        raise console.UsageError("--tflite_batch_size must be at least 1")
    if not FLAGS.config and not FLAGS.checkpoint_file:
        raise console.UsageError("--config or --checkpoint_file is required")
    output_dir = os.path.expanduser(FLAGS.output_dir)
    if os.path.isdir(output_dir) and os.listdir(output_dir):
        raise console.UsageError(f"{output_dir} is not empty; choose a new --output_dir (nothing is overwritten)")
    checkpoint = checkpoint_for(FLAGS.config, FLAGS.checkpoint_file)
    name, config, model = load_for_export(checkpoint, FLAGS.config, FLAGS.hparams)
    if FLAGS.format == "magenta_js":
        magenta_js.magenta_js_spec(config, name)  # refuses in one line before writing anything
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
    return 0


def main(argv):
    status = console.run_main(PROGRAM, run, argv, log_level=FLAGS.log,
                              expected_errors=(ValueError, OSError))
    if status:
        sys.exit(status)


def console_entry_point():
    console.run_script(PROGRAM, __doc__, FLAGS, main)


if __name__ == "__main__":
    console_entry_point()
