"""Trains one of the models packaged in musicvae_tf/pretrained/, evaluates it on held-out tunes, exports it.

    python scripts/train_packaged_models.py --model=cat-mel_2bar_small        # the packaged settings
    python scripts/train_packaged_models.py --model=hierdec-mel_16bar --run_dir=/tmp/hd --max_train_minutes=5
    python scripts/train_packaged_models.py --model=cat-mel_2bar_small --eval_only   # figures of a run

Each model (RECIPES) is a config of musicvae_tf.configs with documented smaller sizes, its training
files (packaged data, see docs/data.md) and its held-out files (whole tunes chosen when the data was
built; never trained on). A seeded 5% of the training tunes is set aside as a validation set
(written to run_dir/data/) that the progress lines report on, so runs can be compared and
stopped early without looking at the held-out tunes. Training uses the loop of `music_vae_train`
(musicvae_tf.training.loop.Trainer) with a fixed seed; rerunning with the same --run_dir resumes
from its latest checkpoint; a wall-clock budget (--max_train_minutes) stops it cleanly. Then the
model is evaluated on the held-out files (run_dir/held_out_metrics.json) and exported
(--export_dir).
"""

import datetime
import json
import os
import random
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DATA = os.path.join(_REPO, "musicvae_tf", "data")

# name -> (config, hparams merged into it, training files, held-out files, steps, transposition,
# windows per tune and epoch (None: every 2-bar window, cached), why). `phases` (optional):
# (last step, hparams) pairs merged over `hparams` in turn, e.g. a learning-rate schedule that
# changes when a run was continued (each phase resumes the previous one's checkpoint).
RECIPES = {
    "cat-mel_2bar_small": dict(
        config="cat-mel_2bar_small",
        hparams=("batch_size=32,z_size=128,enc_rnn_size=[256],dec_rnn_size=[256,256],free_bits=48,"
                 "max_beta=0.2,beta_rate=0.999,sampling_schedule=constant,sampling_rate=0.0"),
        # 4000 steps as first packaged, then continued with a slower decay from the same
        # learning rate at step 4000 (0.003 * 0.9997^4000 = 0.000903, 0.00134 * 0.9999^4000 = 0.000898),
        # then from step 20000 with a slower decay again, from the same rate (0.000190); the last
        # phase was continued from step 36000 to 60000 (2026-12-02). From step 60000 the tunes are
        # transposed (-5..+5 semitones, a new transposition per tune and epoch, as Magenta's
        # config does) at a learning rate raised to 0.000199 (its decay had brought it to 0.000025):
        # validation 0.915 / 0.795 (teacher-forced / greedy) at step 60000, 0.952 / 0.847 at 108000.
        phases=((4000, "learning_rate=0.003,decay_rate=0.9997"),
                (20000, "learning_rate=0.00134,decay_rate=0.9999"),
                (60000, "learning_rate=0.000499,decay_rate=0.99995"),
                (110000, "learning_rate=0.004,decay_rate=0.99995",
                 {"transpose_range": (-5, 5), "fresh_windows": True})),
        rate_changes=(60000,),
        train=("folk/folk_train.tfrecord", "folk/folk_more_train.tfrecord.gz"),
        held_out=("folk/folk_eval.tfrecord",),
        extra_held_out=("folk/folk_more_eval.tfrecord.gz",),
        num_steps=110000, transpose_range=None, windows_per_tune=None),
    "hierdec-mel_16bar": dict(
        config="hierdec-mel_16bar",
        hparams=("batch_size=16,z_size=128,enc_rnn_size=[128],dec_rnn_size=[128,128],free_bits=256,"
                 "max_beta=0.2,beta_rate=0.999,sampling_schedule=constant,sampling_rate=0.0,"
                 "learning_rate=0.003,decay_rate=0.9995"),
        # 4400 steps as first packaged (validation teacher-forced ~0.60, hardly above the
        # most-frequent-class answer), then the rate raised again (its decay had brought it to
        # 0.000341) and decayed more slowly, then lowered with scheduled sampling switched on
        # (Magenta's constant schedule: half the fed-back inputs are the model's own samples), chosen
        # over word dropout (word_dropout_rate=0.3) by validation greedy reconstruction (0.55 vs 0.54).
        phases=((4400, "learning_rate=0.003,decay_rate=0.9995"),
                (7501, "learning_rate=0.00125,decay_rate=0.99995"),
                (10810, "learning_rate=0.000727,decay_rate=0.99995,sampling_schedule=constant,sampling_rate=0.5")),
        rate_changes=(4400, 7501),  # steps where the learning rate is changed on purpose
        train=("folk/folk_train.tfrecord", "folk/folk_more_train.tfrecord.gz"),
        held_out=("folk/folk_eval.tfrecord",),
        extra_held_out=("folk/folk_more_eval.tfrecord.gz",),
        num_steps=10810, transpose_range=None, windows_per_tune=5),
    "cat-mel_2bar_med_chords": dict(
        config="cat-mel_2bar_med_chords",
        hparams=("batch_size=32,z_size=128,enc_rnn_size=[256],dec_rnn_size=[256,256],free_bits=48,"
                 "max_beta=0.2,beta_rate=0.999,sampling_schedule=constant,sampling_rate=0.0,"
                 "learning_rate=0.003,decay_rate=0.9995"),
        train=("chorales/chorales_train.tfrecord.gz", "folk/folk_chords_train.tfrecord.gz"),
        held_out=("chorales/chorales_eval.tfrecord.gz",),
        extra_held_out=("folk/folk_chords_eval.tfrecord.gz",),
        num_steps=4000, transpose_range=(-5, 5), windows_per_tune=None),
}

# Suffix of each packaged folder name (musicvae_tf/pretrained/<config>.<suffix>): the data it knows.
PACKAGE_SUFFIX = {"cat-mel_2bar_small": "folk", "hierdec-mel_16bar": "folk",
                  "cat-mel_2bar_med_chords": "chorales_folk"}
INFO_FILE = "model_info.json"

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", None, sorted(RECIPES), "Which packaged model to train.")
flags.DEFINE_string("run_dir", None, "Checkpoints, curve and figures (default /tmp/musicvae_packaged/<model>).")
flags.DEFINE_string("export_dir", None, "Where the trained model is written (default run_dir/export).")
flags.DEFINE_string("hparams", "", "Hparams merged over the recipe's (pilot runs).")
flags.DEFINE_integer("num_steps", None, "Training steps (default: the recipe's).")
flags.DEFINE_float("max_train_minutes", None, "Stop training (with a checkpoint) after this wall time.")
flags.DEFINE_integer("seed", 20261201, "Seed of the weights, the training noise and the validation split.")
flags.DEFINE_float("validation_fraction", 0.05, "Share of the training tunes set aside for validation.")
flags.DEFINE_integer("log_every_n_steps", 50, "Steps between progress lines / curve points.")
flags.DEFINE_integer("validate_every_n_steps", 500, "Steps between validation figures (0: never).")
flags.DEFINE_integer("validation_examples", 256, "Validation examples scored each time.")
flags.DEFINE_integer("save_checkpoint_secs", 300, "Seconds between training checkpoints.")
flags.DEFINE_integer("threads", 1, "TensorFlow intra- and inter-op threads (0: TensorFlow's default).")
flags.DEFINE_list("train_data", None, "Training files (relative to musicvae_tf/data/) instead of the recipe's.")
flags.DEFINE_list("transpose_range", None,
                  "Transposition augmentation LOW,HIGH in semitones instead of the recipe's (pilot runs).")
flags.DEFINE_bool("fresh_windows", False,
                  "Convert the training tunes afresh every epoch instead of caching the first pass's "
                  "windows (with transposition: a new transposition per tune and epoch).")
flags.DEFINE_bool("from_packaged", False,
                  "A run_dir without checkpoints starts from the packaged model's weights and step (its curve "
                  "and minutes carried over; Adam's state fresh): a run continued after its directory was lost.")
flags.DEFINE_bool("eval_only", False, "Only export and evaluate the run's latest checkpoint.")
flags.DEFINE_bool("skip_export", False, "Train only: no export, no held-out evaluation.")
flags.DEFINE_bool("write_docs", False, "Only rewrite docs/models.md from the packaged models' model_info.json.")
flags.DEFINE_string("doc_path", os.path.join(_REPO, "docs", "models.md"), "The page --write_docs writes.")


class _OutOfTime(Exception):
    pass


def recipe_phases(recipe, num_steps):
    """[(last step, hparams of the phase, data options of the phase)] up to `num_steps` (one
    phase without `phases`); the last phase goes on when `num_steps` is beyond it. A phase's data
    options (its optional third element, e.g. {"transpose_range": (-5, 5), "fresh_windows": True})
    override the recipe's for that phase."""
    result = []
    for phase in recipe.get("phases") or ((num_steps, ""),):
        end, hparams, options = (tuple(phase) + ({},))[:3]
        result.append((min(end, num_steps), hparams, dict(options)))
        if end >= num_steps:
            break
    result[-1] = (num_steps,) + result[-1][1:]
    return result


def phase_options_info(options):
    """A phase's data options as run_info.json records them (lists, not tuples)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in options.items()}


def phase_recipe(recipe, options):
    """The recipe as one phase trains it: its data options over the recipe's, then the flags'."""
    recipe = dict(recipe)
    recipe.setdefault("fresh_windows", False)
    recipe.update(options)
    if FLAGS.transpose_range:
        low, high = (int(value) for value in FLAGS.transpose_range)
        recipe["transpose_range"] = (low, high)
    if FLAGS.fresh_windows:
        recipe["fresh_windows"] = True
    return recipe


def join_hparams(*parts):
    """Hparams strings merged left to right (a name set again takes the later value), empty ones
    left out."""
    from musicvae_tf.hparams import parse_hparams_string

    merged = {}
    for part in parts:
        merged.update(parse_hparams_string(part))
    return ",".join(f"{name}=[{','.join(value)}]" if isinstance(value, list) else f"{name}={value}"
                    for name, value in merged.items())


def recipe_config(recipe, extra_hparams=""):
    """The Config a recipe trains: its config with the recipe's hparams, augmentation and windows."""
    from musicvae_tf import configs
    from musicvae_tf.converters.augment import NoteSequenceAugmenter

    config = configs.get_config(recipe["config"], recipe["hparams"])
    if extra_hparams:
        config.hparams.parse(extra_hparams)
    transpose = recipe["transpose_range"]
    return config._replace(
        note_sequence_augmenter=NoteSequenceAugmenter(transpose_range=tuple(transpose)) if transpose else None)


def data_paths(names):
    return [os.path.join(_DATA, name) for name in names]


def split_validation(paths, run_dir, fraction, seed):
    """run_dir/data/{train,validation}.tfrecord: the training tunes, a seeded `fraction` set aside."""
    import tensorflow as tf

    from musicvae_tf.data.note_sequences import read_serialized

    out = os.path.join(run_dir, "data")
    train_path, val_path = os.path.join(out, "train.tfrecord"), os.path.join(out, "validation.tfrecord")
    if os.path.exists(train_path) and os.path.exists(val_path):
        return train_path, val_path
    os.makedirs(out, exist_ok=True)
    records = list(read_serialized(paths))
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    held = set(order[:max(1, round(len(records) * fraction))])
    for path, keep in ((train_path, lambda i: i not in held), (val_path, lambda i: i in held)):
        with tf.io.TFRecordWriter(path + ".tmp") as writer:
            for i, record in enumerate(records):
                if keep(i):
                    writer.write(record)
        os.replace(path + ".tmp", path)
    print(f"[train] {len(records) - len(held)} training tunes, {len(held)} validation tunes", flush=True)
    return train_path, val_path


def training_dataset(config, recipe, train_path):
    """Batches for training: every window of every tune cached, or a few random ones per epoch."""
    import copy

    from musicvae_tf import data

    config = copy.deepcopy(config)
    windows = recipe["windows_per_tune"]
    config.data_converter.max_tensors_per_notesequence = windows
    # Every window, converted once and cached (then augmentation is fixed per tune); or a few random
    # windows per tune, converted afresh (new windows, new transposition) every epoch.
    return data.get_dataset(config, is_training=True, examples_path=train_path,
                            cache_dataset=windows is None and not recipe.get("fresh_windows"))


def quick_figures(model, config, examples):
    """Teacher-forced and greedy (argmax fed back) reconstruction accuracy from mu."""
    from musicvae_tf.metrics import reconstruction

    result = reconstruction.reconstruction_accuracy(model, examples, temperature=reconstruction.GREEDY_TEMPERATURE,
                                                    seed=0, batch_size=int(config.hparams.batch_size))
    return {"teacher_forced": result["teacher_forced_accuracy"], "greedy": result["sampled_accuracy"]}


def set_threads(threads):
    import tensorflow as tf

    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def train(recipe, config, run_dir, num_steps, budget_minutes=None):
    import tensorflow as tf

    from musicvae_tf.metrics import load_examples
    from musicvae_tf.training import loop, run_config

    train_files = data_paths(FLAGS.train_data or recipe["train"])
    train_path, val_path = split_validation(train_files, run_dir, FLAGS.validation_fraction,
                                            FLAGS.seed)
    train_dir = os.path.join(run_dir, "train")
    # (a new phase of the recipe changes training hparams only; each change is logged)
    run_config.check_run_config(run_dir, recipe["config"], config.hparams,
                                allow_training_changes=bool(recipe.get("phases")))
    os.makedirs(train_dir, exist_ok=True)
    tf.keras.utils.set_random_seed(FLAGS.seed)
    trainer = loop.Trainer(config, train_dir=train_dir, checkpoints_to_keep=2, noise_seed=FLAGS.seed)
    model = trainer.model
    model.config_name = recipe["config"]
    run_config.save_run_config(run_dir, recipe["config"], model, train_path)
    resumed = trainer.restore_or_initialize()
    curve_path = os.path.join(run_dir, "curve.jsonl")
    started = start_from_packaged(trainer, recipe, curve_path) if not resumed and FLAGS.from_packaged else None
    if int(trainer.step.numpy()) == 0 and os.path.exists(curve_path):
        os.remove(curve_path)
    validation = load_examples(config, val_path, max_examples=FLAGS.validation_examples)
    keys = ("loss", "r_loss", "kl_bits", "accuracy", "beta", "learning_rate")
    window = {"t": time.time(), "n": 0}
    begun = time.time()
    deadline = begun + 60 * budget_minutes if budget_minutes else None

    def on_step(step, metrics):
        window["n"] += 1
        if step % FLAGS.log_every_n_steps and step != num_steps:
            return
        rate = window["n"] * config.hparams.batch_size / max(time.time() - window["t"], 1e-9)
        point = {"step": step, **{k: float(metrics[k]) for k in keys if k in metrics},
                 "examples_per_sec": rate, "wall_minutes": (time.time() - begun) / 60}
        if FLAGS.validate_every_n_steps and (step % FLAGS.validate_every_n_steps == 0 or step == num_steps):
            point.update({f"validation_{k}": v for k, v in quick_figures(model, config, validation).items()})
        with open(curve_path, "a") as handle:
            handle.write(json.dumps(point) + "\n")
        eta = (num_steps - step) * config.hparams.batch_size / max(rate, 1e-9) / 60
        print(f"[train] {FLAGS.model} step {step}/{num_steps} " +
              " ".join(f"{k}={point[k]:.3f}" for k in keys[:4]) +
              "".join(f" {k}={v:.3f}" for k, v in point.items() if k.startswith("validation_")) +
              f" ({rate:.1f} examples/s, {point['wall_minutes']:.1f} min, ~{eta:.0f} min left)", flush=True)
        window["t"], window["n"] = time.time(), 0
        if deadline and time.time() > deadline:
            raise _OutOfTime()

    dataset = training_dataset(config, recipe, train_path)
    try:
        trainer.train(dataset, num_steps=num_steps, save_checkpoint_secs=FLAGS.save_checkpoint_secs,
                      log_every_n_steps=FLAGS.log_every_n_steps, on_step=on_step)
    except _OutOfTime:
        print(f"[train] wall-time budget of {FLAGS.max_train_minutes} min reached at step "
              f"{int(trainer.step.numpy())}", flush=True)
        trainer.save()
    trainer.close()
    return int(trainer.step.numpy()), time.time() - begun, started


def packaged_model_info(recipe):
    """(folder, model_info) of the packaged model of the recipe's config."""
    from musicvae_tf import checkpoints

    packaged = checkpoints.find_pretrained(recipe["config"])
    if not packaged:
        raise app.UsageError(f"--from_packaged: no packaged model for {recipe['config']}")
    with open(os.path.join(packaged, INFO_FILE)) as handle:
        return packaged, json.load(handle)


def carried_run_info(recipe):
    """The run info of the packaged model's run (minutes, date, ...), for a run continuing it."""
    _, packaged_info = packaged_model_info(recipe)
    carried = {k: v for k, v in packaged_info.items() if k not in ("figures", "curve", "weights_bytes")}
    carried["continued_from_packaged"] = {"step": int(packaged_info["steps"]), "date": packaged_info.get("date")}
    return carried


def start_from_packaged(trainer, recipe, curve_path):
    """Loads the packaged model into a fresh trainer at the step it was packaged at, and saves.

    The step keeps the learning-rate, KL and sampling schedules where the packaged run left them;
    its curve is copied so that the new export documents the whole history.
    """
    from musicvae_tf import checkpoints
    from musicvae_tf.model import build_model
    from musicvae_tf.training.warm_start import warm_start

    packaged, packaged_info = packaged_model_info(recipe)
    try:
        warm_start(trainer, packaged)
        taken = "all weights"
    except checkpoints.CheckpointMismatchError:
        # Another encoder size: the decoder (conductor, bar decoder, z projections) is carried
        # over; the encoder and the latent start fresh.
        source = build_model(checkpoints.resolve(packaged).config, decoder_only=True)
        checkpoints.load_weights(source, packaged)
        for target, value in zip(trainer.model.decoder.weights, source.decoder.weights, strict=True):
            target.assign(value)
        taken = "decoder weights (encoder and latent fresh)"
    trainer.step.assign(int(packaged_info["steps"]))
    with open(curve_path, "w") as handle:
        for point in packaged_info.get("curve", []):
            handle.write(json.dumps(point) + "\n")
    trainer.save()  # later phases and restarts resume from here
    print(f"[train] started from the packaged model {packaged} at step {int(packaged_info['steps'])}: "
          f"{taken} (float16 -> float32), Adam state fresh", flush=True)
    return taken


def packaged_name(recipe_name):
    """Folder name of the packaged model in musicvae_tf/pretrained/ (found by its config name)."""
    return f"{recipe_name}.{PACKAGE_SUFFIX[recipe_name]}"


def load_run_model(recipe, config, run_dir):
    """A model of the recipe with the latest training checkpoint of run_dir; (model, step)."""
    from musicvae_tf import checkpoints
    from musicvae_tf.model import build_model

    model = build_model(config, config_name=recipe["config"])
    step = checkpoints.load_weights(model, os.path.join(run_dir, "train"))
    return model, step


def training_minutes(curve_lines):
    """Wall minutes of every training process of a run (also those cut off) from its curve lines.

    Each process counts its wall time from its own start, so a drop marks a resumed process.
    """
    total, last = 0.0, 0.0
    for point in curve_lines:
        minutes = point.get("wall_minutes", 0.0)
        if minutes < last:
            total += last
        last = minutes
    return total + last


def export_and_evaluate(recipe, config, run_dir, export_dir, info):
    """Exports the run's latest checkpoint (float16), reloads that export, computes its held-out figures."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import packaged_model_figures

    from musicvae_tf import checkpoints
    from musicvae_tf.render.piano_roll import plot_piano_roll_strip

    model, step = load_run_model(recipe, config, run_dir)
    checkpoints.save_model(model, export_dir, weights_dtype="float16")
    # The figures are those of the packaged (float16) weights, as users load them.
    packaged = checkpoints.load_port_model(export_dir, config)
    print(f"[train] evaluating the exported model (step {step}) on {', '.join(recipe['held_out'])} ...", flush=True)
    figures, samples = packaged_model_figures.held_out_figures(recipe, config, packaged, data_paths)
    info.update({"steps": step, "figures": figures,
                 "weights_bytes": os.path.getsize(os.path.join(export_dir, checkpoints.FLOAT16_WEIGHTS_FILE)),
                 "parameters": int(sum(int(np.prod(v.shape)) for v in packaged.weights))})
    curve_path = os.path.join(run_dir, "curve.jsonl")
    if os.path.exists(curve_path):
        with open(curve_path) as handle:
            lines = [json.loads(line) for line in handle if line.strip()]
        # A resumed run logs again the steps after its last checkpoint: keep the last of each.
        points = {p["step"]: p for p in lines}
        info["curve"] = [points[s] for s in sorted(points) if s <= step]
        info["train_minutes"] = max(info.get("train_minutes", 0), training_minutes(lines))
    with open(os.path.join(export_dir, INFO_FILE), "w") as handle:
        json.dump(info, handle, indent=1, default=_json_value)
    pictures = os.path.join(run_dir, "samples")
    os.makedirs(pictures, exist_ok=True)
    for begin in range(0, min(len(samples), 16), 4):
        plot_piano_roll_strip(samples[begin:begin + 4], os.path.join(pictures, f"samples_{begin // 4}.png"))
    print(f"[train] {FLAGS.model}: " + json.dumps(figures, default=_json_value)[:2000], flush=True)
    print(f"[train] exported to {export_dir}; sample piano rolls in {pictures}", flush=True)


def _json_value(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__}")


def write_docs():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import packaged_models_doc

    from musicvae_tf.checkpoints import PRETRAINED_DIR

    names = [(name, packaged_name(name)) for name in RECIPES]
    infos = packaged_models_doc.load_infos(str(PRETRAINED_DIR), names, INFO_FILE)
    packaged_models_doc.write_doc(infos, FLAGS.doc_path)
    print(f"[train] wrote {FLAGS.doc_path} ({len(infos)} models)", flush=True)


def main(argv):
    del argv
    if FLAGS.write_docs:
        write_docs()
        return
    if FLAGS.model is None:
        raise app.UsageError("--model is required: " + ", ".join(sorted(RECIPES)))
    set_threads(FLAGS.threads)
    recipe = RECIPES[FLAGS.model]
    run_dir = FLAGS.run_dir or os.path.join("/tmp/musicvae_packaged", FLAGS.model)
    export_dir = FLAGS.export_dir or os.path.join(run_dir, "export")
    num_steps = FLAGS.num_steps or recipe["num_steps"]
    phases = recipe_phases(recipe, num_steps)
    # (the last phase's config is the model's: its hparams are what the figures document)
    config = recipe_config(phase_recipe(recipe, phases[-1][2]), join_hparams(phases[-1][1], FLAGS.hparams))
    info_path = os.path.join(run_dir, "run_info.json")
    if os.path.exists(info_path):
        info = json.load(open(info_path))
    else:
        info = carried_run_info(recipe) if FLAGS.from_packaged and not FLAGS.eval_only else {}
    base_data = phase_recipe(recipe, {})
    # What the recipe trains on; also recorded by --eval_only (runs of older copies of this script
    # did not write it).
    info.update({"model": FLAGS.model, "config": recipe["config"],
                 "train_files": info.get("train_files") or list(FLAGS.train_data or recipe["train"]),
                 # (the recipe's data with --transpose_range / --fresh_windows; phases record their own)
                 "transpose_range": base_data["transpose_range"], "fresh_windows": base_data["fresh_windows"],
                 "windows_per_tune": recipe["windows_per_tune"],
                 "batch_size": int(config.hparams.batch_size), "recipe_steps": recipe["num_steps"]})
    info["hparams_overrides"] = join_hparams(recipe["hparams"], phases[-1][1], FLAGS.hparams)
    if recipe.get("phases"):
        info["phases"] = [{"until_step": end, "hparams": hparams, **phase_options_info(options)}
                          for end, hparams, options in phases]
    if FLAGS.eval_only:
        from musicvae_tf.training import run_config

        # The figures are documented with the recipe's settings: they must be the run's.
        run_config.check_run_config(run_dir, recipe["config"], config.hparams)
    else:
        seconds = 0.0
        for end, phase_hparams, options in phases:
            budget = FLAGS.max_train_minutes - seconds / 60 if FLAGS.max_train_minutes else None
            if budget is not None and budget <= 0:
                break
            trained_recipe = phase_recipe(recipe, options)
            phase_config = recipe_config(trained_recipe, join_hparams(phase_hparams, FLAGS.hparams))
            steps, phase_seconds, started = train(trained_recipe, phase_config, run_dir, end, budget)
            seconds += phase_seconds
            if started:
                info.setdefault("continued_from_packaged", {})["taken"] = started
            if steps < end:  # out of time
                break
        info.update({"train_files": list(FLAGS.train_data or recipe["train"]),
                     "seed": FLAGS.seed, "steps": steps, "planned_steps": num_steps,
                     "train_minutes": info.get("train_minutes", 0) + seconds / 60,
                     "threads": FLAGS.threads,
                     "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
        with open(info_path, "w") as handle:
            json.dump(info, handle, indent=1)
        print(f"[train] {FLAGS.model}: {info.get('steps')} steps in {info.get('train_minutes', 0):.1f} min",
              flush=True)
    if not FLAGS.skip_export:
        export_and_evaluate(recipe, config, run_dir, export_dir, info)
    logging.info("done")


if __name__ == "__main__":
    app.run(main)
    sys.exit(0)
