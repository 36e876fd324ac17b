"""music_vae_personalize: make a MusicVAE your own from a few pieces (MidiMe), in seconds on a CPU.

    music_vae_personalize --config=cat-mel_2bar_small --checkpoint_file=cat-mel_2bar_small.tar \\
        --input_dir=my_midis/ --output_dir=my_model/
    music_vae_generate --personal_model=my_model/ --num_outputs=8 --output_dir=out/

Every MIDI, MusicXML or ABC file under --input_dir is read (unreadable ones are skipped and
listed), the config's converter cuts it into examples (every 2-bar window for the 2-bar configs),
the model encodes them, and a small VAE (MidiMe, Dinculescu, Engel and Roberts 2019; 4 latent
dimensions) learns where in the model's latent space they lie. --output_dir (new or empty; nothing
is overwritten) gets the small model and a reference to the base model (musicvae_tf.personalize).
Without --checkpoint_file or --run_dir, the packaged model of --config is the base.
Errors are one line on stderr with exit status 1.
"""

import math
import os
import sys

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

PROGRAM = "music_vae_personalize"

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "input_dir", None, "Folder with your MIDI, MusicXML or ABC files (subfolders included).")
_define("string", "output_dir", None, "New (or empty) folder for the personal model.")
_define("string", "checkpoint_file", None, "The base model: any checkpoint music_vae_generate takes.")
_define("string", "run_dir", None, "The base model as a music_vae_train run directory (its train/).")
_define("string", "config", None, "The base model's config (recorded by the port's checkpoints).")
_define("string", "hparams", None, "Hparams of a Magenta checkpoint (sizes), as for music_vae_generate.")
_define("integer", "steps", 300, "Adam steps over all examples at once (magenta.js: 'epochs').")
_define("integer", "latent_size", 4, "Dimensions of the personal model's latent space.")
_define("float", "beta", 1.0, "Weight of the KL term in the personal model's loss.")
_define("integer", "seed", 0, "Seed of the initial weights and of the training noise.")
_define("string", "log", "INFO", "Logging threshold: DEBUG, INFO, WARN, ERROR or FATAL.")


def _run():
    from musicvae_tf import personalize
    from musicvae_tf.personalize import personal_model

    if not FLAGS.input_dir:
        raise UsageError("--input_dir is required")
    if not FLAGS.output_dir:
        raise UsageError("--output_dir is required")
    if FLAGS.steps < 1 or FLAGS.latent_size < 1:
        raise UsageError("--steps and --latent_size must be at least 1")
    if not (math.isfinite(FLAGS.beta) and FLAGS.beta >= 0):
        raise UsageError(f"--beta must be a number of 0 or more, not {FLAGS.beta:g}")
    input_dir = os.path.expanduser(FLAGS.input_dir)
    if not os.path.isdir(input_dir):
        raise UsageError(f"--input_dir is not a directory: {FLAGS.input_dir}")
    output_dir = personal_model.check_output_dir(FLAGS.output_dir)
    ancestor = os.path.dirname(output_dir)
    while not os.path.exists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):  # found before the training, not when saving its result
        raise UsageError(f"cannot create --output_dir {output_dir}: part of its folder path is a file")
    checkpoint, config_name, config, overrides = common.checkpoint_from_flags(
        FLAGS.run_dir, FLAGS.checkpoint_file, FLAGS.config, FLAGS.hparams)
    if config.data_converter.control_depth or not config.hparams.z_size:
        raise UsageError(f"config {config_name} is conditioned on controls or has no latent code; "
                         "personal models need an unconditioned MusicVAE")
    model = common.load_trained_model(config, config_name, checkpoint, 64, overrides)
    records, errors = personal_model.read_pieces(input_dir)
    if not records:
        raise UsageError(f"no readable MIDI, MusicXML or ABC file in {FLAGS.input_dir}"
                         + (f" ({len(errors)} skipped: {errors[0]})" if errors else ""))
    import note_seq

    sequences = [note_seq.NoteSequence.FromString(r) for r in records]
    try:
        personal = personalize.personalize(checkpoint, sequences, output_dir, config_name=config_name,
                                           steps=FLAGS.steps, latent_size=FLAGS.latent_size, beta=FLAGS.beta,
                                           seed=FLAGS.seed, base_model=model, skipped=errors)
    except OSError as error:  # a full or read-only disk: the model is saved whole or not at all
        raise UsageError(f"cannot write the personal model to --output_dir {output_dir}: "
                         f"{error.strerror or error}; nothing written") from None
    fit = personal.info["fit"]
    summary = (f"Wrote the personal model {output_dir}: {fit['examples']} examples of {len(sequences)} pieces "
               f"encoded by {config_name} ({checkpoint}), MidiMe fitted in {fit['seconds']:.1f} s "
               f"(loss {fit['first_loss']:.3f} -> {fit['final_loss']:.3f}); {len(errors)} skipped")
    logging.info(summary)
    sys.stderr.write(summary + (":\n" if errors else "\n"))
    for line in errors:
        sys.stderr.write(f"  {line}\n")
    sys.stderr.write(f"Sample with: music_vae_generate --personal_model={output_dir} --output_dir=...\n")
    return 0


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: _run(), expected_errors=(ValueError, OSError))
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
