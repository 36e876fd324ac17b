"""music_vae_evaluate: reconstruction accuracy and feature distributions of a trained MusicVAE.

    music_vae_evaluate --config=cat-mel_2bar_small --checkpoint_file=/tmp/folk/train \\
        --examples_path=held_out.tfrecord --max_examples=320 --num_samples=320 --output_json=eval.json

On a held-out NoteSequence TFRecord (default: the packaged folk eval tunes) it reports
  * teacher-forced and sampled reconstruction accuracy, as in the MusicVAE paper's Table 1
    (musicvae_tf.metrics.reconstruction documents exactly what is scored);
  * for --num_samples prior samples vs the held-out examples, Yang & Lerch's (2020) per-feature
    overlapping area and KL divergence of the intra-set and inter-set distance distributions
    (musicvae_tf.metrics.distribution_overlap).
Without --checkpoint_file or --run_dir, a config with a packaged model uses it. Results are
printed as tables and, with --output_json, written as JSON. Everything is reproducible from --seed.
Errors are reported as one line on stderr with exit code 1 (see musicvae_tf.cli.common).
"""

import json
import math
import os

from absl import flags, logging

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

PROGRAM = "music_vae_evaluate"

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)

_define("string", "config", None, "The name of the config (see musicvae_tf.configs.CONFIG_MAP).")
_define("string", "checkpoint_file", None,
        "A checkpoint: a training run's train/ folder or ckpt-N prefix, a Magenta checkpoint "
        "directory, model.ckpt-N prefix or .tar bundle, or a model exported by musicvae_tf. "
        "Default: the packaged model of --config, if there is one.")
_define("string", "run_dir", None, "Training run directory (its train/ folder is used); overrides --checkpoint_file.")
_define("string", "examples_path", None,
        "Held-out NoteSequence TFRecord (file, glob or comma-separated list). Default: the "
        "packaged folk eval tunes.")
_define("integer", "max_examples", 0, "Use the first N held-out examples (0: all).")
_define("integer", "num_samples", 0, "Prior samples compared with the held-out examples (0: as many as examples).")
_define("float", "temperature", 1.0,
        "Softmax temperature of the sampled reconstructions and the prior samples (the paper: 1.0).")
_define("integer", "seed", 0, "Seed of every random draw (z of the prior samples, sampling, KDE subsampling).")
_define("boolean", "posterior_sample", False,
        "Reconstruct from one draw z = mu + sigma * eps instead of the posterior mean mu.")
_define("string", "features", "pitch_count,pitch_class_histogram,note_length_histogram,inter_onset_interval",
        "Comma-separated Yang & Lerch features; also available: note_count, pitch_range.")
_define("integer", "batch_size", 64, "Examples run through the model at once.")
_define("string", "output_json", None, "Also write the results to this JSON file.")
_define("string", "hparams", None,
        "Comma-separated hparam overrides for checkpoints trained with non-default sizes "
        "(checkpoints saved by musicvae_tf carry their own hparams).")
_define("string", "log", "WARNING", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.")

# --- data ---------------------------------------------------------------------------------------

def _examples_path():
    from musicvae_tf import data

    if FLAGS.examples_path:
        return [path for path in FLAGS.examples_path.split(",") if path]
    return data.default_examples_path("eval")


# --- output -------------------------------------------------------------------------------------

def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    return value


def format_report(report):
    """The results as readable tables (a string)."""
    settings = report["settings"]
    lines = [f"{report['config']} | checkpoint {report['checkpoint']}",
             f"held-out data: {report['examples_path']}", ""]
    accuracy = report["reconstruction"]
    if "unsupported" in accuracy:
        lines.append(f"Reconstruction accuracy: not available ({accuracy['unsupported']})")
    else:
        z_text = "one posterior draw" if settings["posterior_sample"] else "posterior mean"
        lines.append(f"Reconstruction accuracy: {accuracy['num_examples']} held-out examples "
                     f"({accuracy['num_steps']} steps), z = {z_text}, temperature {settings['temperature']}")
        for key, label in (("teacher_forced_accuracy", "teacher-forced (argmax = target)"),
                           ("sampled_accuracy", "sampled (sample = target)"),
                           ("sampled_argmax_accuracy", "sampled (argmax of logits = target)"),
                           ("majority_class_accuracy", "always the most frequent class")):
            lines.append(f"  {label:<38} {accuracy[key]:.4f}")
    comparison = report["feature_distributions"]
    lines += ["", f"Feature distributions (Yang & Lerch 2020): {comparison['num_generated']} prior samples "
              f"(temperature {settings['temperature']}) vs {comparison['num_reference']} held-out examples",
              "distances: mean (std); OA = overlapping area of the held-out intra-set and the inter-set "
              "distance densities (1 = alike), KL = KL(intra held-out || inter)",
              f"  {'feature':<24} {'intra held-out':>15} {'intra samples':>15} {'inter-set':>15} {'OA':>7} {'KL':>7}"]
    for name, figures in comparison["features"].items():
        cells = [f"{figures[k + '_mean']:.3f} ({figures[k + '_std']:.3f})"
                 for k in ("intra_reference", "intra_generated", "inter")]
        lines.append(f"  {name:<24} {cells[0]:>15} {cells[1]:>15} {cells[2]:>15} "
                     f"{figures['overlap_area']:>7.3f} {figures['kl_divergence']:>7.3f}")
    return "\n".join(lines)


# --- run ----------------------------------------------------------------------------------------

def run():
    from musicvae_tf import metrics

    features = [name.strip() for name in FLAGS.features.split(",") if name.strip()]
    unknown = [name for name in features if name not in metrics.FEATURES]
    if unknown or not features:
        raise UsageError(f"unknown --features {', '.join(unknown) or '(none)'}; known: {', '.join(metrics.FEATURES)}")
    for flag in ("max_examples", "num_samples"):
        if getattr(FLAGS, flag) < 0:
            raise UsageError(f"--{flag} must be 0 or more")
    if not (math.isfinite(FLAGS.temperature) and FLAGS.temperature > 0) or FLAGS.batch_size < 1:
        raise UsageError("--temperature must be positive and --batch_size at least 1")
    if FLAGS.output_json and os.path.isdir(os.path.expanduser(FLAGS.output_json)):
        raise UsageError(f"--output_json is a folder: {FLAGS.output_json}")
    if FLAGS.output_json and os.path.lexists(os.path.expanduser(FLAGS.output_json)):
        raise UsageError(f"--output_json {FLAGS.output_json} exists; it is never overwritten: "
                         "remove it or choose another name")
    if FLAGS.config:
        from musicvae_tf import configs

        configs.get_config(FLAGS.config)  # an unknown name fails here, with close matches
    checkpoint_path, name, config, hparams_overrides = common.checkpoint_from_flags(
        FLAGS.run_dir, FLAGS.checkpoint_file, FLAGS.config, FLAGS.hparams)
    examples_path = _examples_path()
    trained = common.load_trained_model(config, name, checkpoint_path, FLAGS.batch_size, hparams_overrides)
    model, config = trained.model, trained.config
    if not model.z_size:
        raise UsageError(f"config {name} has no latent code (z_size 0): nothing to reconstruct or sample")
    examples = metrics.load_examples(config, examples_path, FLAGS.max_examples or None)
    logging.info("Evaluating on %d held-out examples", len(examples.lengths))
    try:
        reconstruction = metrics.reconstruction_accuracy(
            model, examples, temperature=FLAGS.temperature, seed=FLAGS.seed,
            posterior_sample=FLAGS.posterior_sample, batch_size=FLAGS.batch_size)
    except metrics.UnsupportedDecoderError as error:
        logging.warning("No reconstruction accuracy: %s", error)
        reconstruction = {"unsupported": str(error)}
    comparison = metrics.compare_samples_with_held_out(
        model, config, examples, FLAGS.num_samples or len(examples.lengths), temperature=FLAGS.temperature,
        seed=FLAGS.seed, batch_size=FLAGS.batch_size, features=features)
    comparison.pop("generated_sequences")
    report = {
        "config": name,
        "checkpoint": checkpoint_path,
        "examples_path": examples_path if isinstance(examples_path, str) else ",".join(examples_path),
        "settings": {"temperature": FLAGS.temperature, "seed": FLAGS.seed,
                     "posterior_sample": FLAGS.posterior_sample, "max_examples": FLAGS.max_examples,
                     "num_samples": comparison["num_generated"], "hparams": config.hparams.values()},
        "reconstruction": reconstruction,
        "feature_distributions": comparison,
    }
    print(format_report(report))
    if FLAGS.output_json:
        from musicvae_tf.render.whole_file import whole_file

        path = os.path.expanduser(FLAGS.output_json)
        try:
            if os.path.dirname(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
            # Written whole or not at all (a full disk leaves no truncated file), and never over a
            # file that took the name meanwhile.
            with whole_file(path, replace=False) as temporary:
                with open(temporary, "w") as handle:
                    json.dump(_finite_or_none(report), handle, indent=2)
        except OSError as error:  # the results are printed above; say why the file is not there
            raise UsageError(f"cannot write --output_json {FLAGS.output_json}: {error.strerror or error}") from None
        print(f"\nwrote {path}")
    return report


def _expected_errors():
    import tensorflow as tf  # for its error classes (unreadable records)

    return (ValueError, OSError, tf.errors.OpError)


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=_expected_errors, fast_exit=True)
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point

if __name__ == "__main__":
    console_entry_point()
