"""Trains the "folk demo" model shipped in musicvae_tf/pretrained/ and exports it.

    python scripts/train_demo_model.py                      # the shipped settings
    python scripts/train_demo_model.py --num_steps=50 --run_dir=/tmp/demo_try --output_dir=/tmp/demo_out

The demo model is cat-mel_2bar_small with smaller layers (DEMO_HPARAMS below), trained on the folk
tunes packaged with musicvae_tf by the same training loop as `music_vae_train`
(musicvae_tf.training.loop.Trainer) with a fixed seed. Rerunning with the same --run_dir resumes
from its latest checkpoint. At the end the model is evaluated on the packaged held-out tunes
(folk_eval) and written in the port's format (musicvae_tf.checkpoints.save_model) to
--output_dir, next to demo_info.json (config, hparams, steps, training curve, final metrics).
"""

import datetime
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

CONFIG_NAME = "cat-mel_2bar_small"
DEMO_NAME = "cat-mel_2bar_small.folk_demo"
# Smaller than Magenta's cat-mel_2bar_small (z 256, encoder 512, decoder 2x256, batch 512) so the
# weights stay a few MB and training fits in ~25 minutes of a 2-core CPU. beta_rate is faster
# than Magenta's 0.99999 so the KL weight actually grows during such a short run (otherwise the
# prior samples the quickstart draws would be meaningless).
DEMO_HPARAMS = ("batch_size=64,z_size=64,enc_rnn_size=[192],dec_rnn_size=[192,192],"
                "beta_rate=0.999,max_beta=0.2,free_bits=0")
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", "/tmp/musicvae_folk_demo_run", "Training checkpoints go to run_dir/train.")
flags.DEFINE_string("output_dir", os.path.join(_REPO, "musicvae_tf", "pretrained", DEMO_NAME),
                    "Where the exported model goes.")
flags.DEFINE_string("hparams", DEMO_HPARAMS, "Hparams merged into cat-mel_2bar_small's.")
flags.DEFINE_integer("num_steps", 2500, "Training steps.")
flags.DEFINE_integer("seed", 20261123, "Seed of the weight initialisation and the training noise.")
flags.DEFINE_integer("log_every_n_steps", 50, "Steps between progress lines / curve points.")
flags.DEFINE_integer("save_checkpoint_secs", 120, "Seconds between training checkpoints.")
flags.DEFINE_string("doc_path", os.path.join(_REPO, "docs", "demo_model.md"),
                    "Markdown page describing the exported model and its training curve ('' to skip).")


KEEP_MARKER = "<!-- Sections below are written by hand; scripts/train_demo_model.py keeps them. -->"


def write_doc(info, path):
    """docs/demo_model.md: what the demo model is, how it was trained, its curve and metrics."""
    ev = info["final_eval_metrics"]
    lines = [
        "# The packaged folk demo model",
        "",
        f"`musicvae_tf/pretrained/{info['name']}/` is a small MusicVAE shipped with the package so that "
        "`music_vae_quickstart` and `music_vae_generate --config=cat-mel_2bar_small` work without "
        "downloading anything. It is Magenta's `cat-mel_2bar_small` (2-bar monophonic melodies, "
        "bidirectional LSTM encoder, 2-layer LSTM decoder) with smaller layers, trained only on the "
        "public-domain folk tunes packaged in `musicvae_tf/data/folk/` (see docs/data.md). It is a demo: "
        "expect simple, folk-like 2-bar phrases, not the quality of Magenta's released checkpoints.",
        "",
        "Re-create it (same seed, same data; CPU thread scheduling can still change the last digits):",
        "",
        "    python scripts/train_demo_model.py            # resumable; --num_steps, --run_dir, --output_dir",
        "",
        "## Settings",
        "",
        f"- config: `{info['config_name']}` with hparams `{info['hparams_overrides']}`",
        f"  (Magenta's: z_size=256, enc_rnn_size=[512], dec_rnn_size=[256,256], batch_size=512, "
        "beta_rate=0.99999). The faster beta_rate lets the KL weight reach "
        f"{info['curve'][-1].get('beta', float('nan')):.3f} within the short run "
        "(with Magenta's rate it would stay near 0.005, leaving the prior unregularised).",
        f"- training: {info['steps']} steps of batch {info['hparams']['batch_size']} with the training loop of "
        "`music_vae_train` (musicvae_tf.training.loop.Trainer), Adam, Magenta's learning-rate decay and "
        f"scheduled sampling, seed {info['seed']}, data augmented by transposition (+-5 semitones).",
        f"- speed: median {info['examples_per_sec_median']:.0f} examples/s on a 2-core CPU shared with other jobs.",
        f"- files: `model.weights.h5` ({info['weights_bytes'] / 1e6:.2f} MB, {info['weights_dtype']}; "
        "the port's format stores the variables' dtype, so float16 storage is not available), "
        "`model.json` (config name + hparams, read by `musicvae_tf.checkpoints.load_port_model`), "
        "`demo_info.json` (these figures and the full curve).",
        f"- exported: {info['date']}",
        "",
        "## Final metrics on the held-out folk tunes (folk_eval)",
        "",
        f"Every complete batch of folk_eval ({int(ev['num_batches'])} batches of "
        f"{info['hparams']['batch_size']}), as `music_vae_train --mode=eval` computes them "
        "(Magenta's eval: the decoder is fed its own samples, sampling_probability=1):",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key in ("loss", "r_loss", "kl_bits", "elbo", "accuracy"):
        if key in ev:
            lines.append(f"| {key} | {ev[key]:.4f} |")
    lines += [
        f"| teacher-forced accuracy (decoder sees the true previous step) | {ev['teacher_forced_accuracy']:.4f} |",
        "",
        "Chance is 1/90 = 0.011; always predicting the most frequent class (no event) scores about "
        "its share of the steps. tests/cli/test_quickstart.py checks the teacher-forced accuracy on 32 "
        "held-out examples.",
        "",
        "## Training curve",
        "",
        "Training-batch metrics at the logged steps (r_loss and loss per example, kl_bits per example):",
        "",
        "| step | loss | r_loss | kl_bits | accuracy | beta | examples/s |",
        "|---|---|---|---|---|---|---|",
    ]
    curve = info["curve"]
    stride = max(1, len(curve) // 25)
    shown = curve[::stride] + ([curve[-1]] if (len(curve) - 1) % stride else [])
    for point in shown:
        lines.append(f"| {point['step']} | {point['loss']:.2f} | {point['r_loss']:.2f} | "
                     f"{point['kl_bits']:.1f} | {point['accuracy']:.3f} | {point.get('beta', 0):.3f} | "
                     f"{point['examples_per_sec']:.0f} |")
    lines.append("")
    # Sections written by hand (quickstart, music_vae_evaluate figures) follow a marker line and
    # survive a re-run; only the generated part above it is replaced.
    kept = ""
    if os.path.exists(path):
        with open(path) as handle:
            previous = handle.read()
        if KEEP_MARKER in previous:
            kept = previous[previous.index(KEEP_MARKER):]
    lines.append(kept or KEEP_MARKER + "\n")
    with open(path, "w") as handle:
        handle.write("\n".join(lines))


def _evaluate(model, config, examples_path):
    """Mean metrics of `model` over every complete batch of the held-out folk tunes."""
    import tensorflow as tf

    from musicvae_tf import data
    from musicvae_tf.training.eval_loop import Evaluator

    dataset = data.get_dataset(config, is_training=False, examples_path=examples_path)
    # The training loop's own evaluation (the one `music_vae_train --mode=eval` runs), at the final step.
    evaluator = Evaluator(config, train_dir=None, eval_dir=None, model=model)
    evaluator.step.assign(FLAGS.num_steps)
    metrics = evaluator.evaluate_dataset(dataset)

    # Teacher-forced accuracy (each step sees the true previous note), the figure tests check.
    correct, total = 0.0, 0.0
    for inputs, outputs, controls, lengths in dataset:
        result = model.reconstruct(inputs, outputs, lengths)
        predicted = tf.argmax(result.rnn_output, axis=-1)
        target = tf.argmax(outputs, axis=-1)
        mask = tf.sequence_mask(lengths, tf.shape(outputs)[1], dtype=tf.float32)
        correct += float(tf.reduce_sum(tf.cast(tf.equal(predicted, target), tf.float32) * mask))
        total += float(tf.reduce_sum(mask))
    metrics["teacher_forced_accuracy"] = correct / total
    return metrics


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from musicvae_tf import checkpoints, configs, data
    from musicvae_tf.training import loop, run_config

    tf.keras.utils.set_random_seed(FLAGS.seed)
    config = configs.get_config(CONFIG_NAME, FLAGS.hparams)
    train_path = data.default_examples_path("train")
    eval_path = data.default_examples_path("eval")
    train_dir = os.path.join(FLAGS.run_dir, "train")
    run_config.check_run_config(FLAGS.run_dir, CONFIG_NAME, config.hparams)
    os.makedirs(train_dir, exist_ok=True)
    trainer = loop.Trainer(config, train_dir=train_dir, checkpoints_to_keep=2, noise_seed=FLAGS.seed)
    run_config.save_run_config(FLAGS.run_dir, CONFIG_NAME, trainer.model, train_path)
    trainer.restore_or_initialize()
    model = trainer.model
    model.config_name = CONFIG_NAME
    curve_path = os.path.join(FLAGS.run_dir, "curve.jsonl")
    start_step = int(trainer.step.numpy())
    if start_step == 0 and os.path.exists(curve_path):
        os.remove(curve_path)
    keys = ("loss", "r_loss", "kl_bits", "accuracy", "beta", "sampling_probability", "learning_rate")
    window = {"t": time.time(), "n": 0}
    speeds = []

    def on_step(step, metrics):
        window["n"] += 1
        if step % FLAGS.log_every_n_steps and step != FLAGS.num_steps:
            return
        elapsed = max(time.time() - window["t"], 1e-9)
        rate = window["n"] * config.hparams.batch_size / elapsed
        speeds.append(rate)
        point = {"step": step, **{k: float(metrics[k]) for k in keys if k in metrics},
                 "examples_per_sec": rate}
        with open(curve_path, "a") as handle:
            handle.write(json.dumps(point) + "\n")
        print(f"[demo] step {step}/{FLAGS.num_steps} " +
              " ".join(f"{k}={point[k]:.4f}" for k in keys[:4] if k in point) +
              f" ({rate:.1f} examples/s)", flush=True)
        window["t"], window["n"] = time.time(), 0

    started = time.time()
    dataset = data.get_dataset(config, is_training=True, examples_path=train_path)
    trainer.train(dataset, num_steps=FLAGS.num_steps, save_checkpoint_secs=FLAGS.save_checkpoint_secs,
                  log_every_n_steps=FLAGS.log_every_n_steps, on_step=on_step)
    train_seconds = time.time() - started
    trainer.close()

    print("[demo] evaluating on folk_eval ...", flush=True)
    config.data_converter.set_mode("eval")
    eval_metrics = _evaluate(model, config, eval_path)
    print("[demo] eval: " + ", ".join(f"{k}={v:.4f}" for k, v in sorted(eval_metrics.items())), flush=True)

    checkpoints.save_model(model, FLAGS.output_dir)
    curve = []
    if os.path.exists(curve_path):
        with open(curve_path) as handle:
            curve = [json.loads(line) for line in handle if line.strip()]
    # A run stopped between checkpoints may have logged steps past the one exported.
    steps_done = int(trainer.step.numpy())
    curve = [point for point in curve if point["step"] <= steps_done]
    weights_bytes = os.path.getsize(os.path.join(FLAGS.output_dir, checkpoints.WEIGHTS_FILE))
    info = {
        "name": DEMO_NAME,
        "config_name": CONFIG_NAME,
        "hparams_overrides": FLAGS.hparams,
        "hparams": config.hparams.values(),
        "steps": steps_done,
        "seed": FLAGS.seed,
        "train_examples": "packaged folk tunes (folk_train.tfrecord, transposed +-5 semitones)",
        "eval_examples": "packaged folk tunes (folk_eval.tfrecord)",
        "final_train_metrics": curve[-1] if curve else {},
        "final_eval_metrics": eval_metrics,
        "examples_per_sec_median": float(np.median([p["examples_per_sec"] for p in curve] or speeds or [0])),
        "train_seconds_this_run": train_seconds,
        "weights_dtype": "float32",
        "weights_bytes": weights_bytes,
        "curve": curve,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(os.path.join(FLAGS.output_dir, "demo_info.json"), "w") as handle:
        json.dump(info, handle, indent=1, default=lambda v: v.item() if hasattr(v, "item") else list(v))
    if FLAGS.doc_path:
        write_doc(info, FLAGS.doc_path)
    print(f"[demo] exported to {FLAGS.output_dir} ({weights_bytes / 1e6:.2f} MB of weights)", flush=True)
    logging.info("done")


if __name__ == "__main__":
    app.run(main)
    sys.exit(0)
