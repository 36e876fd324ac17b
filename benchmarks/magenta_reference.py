"""Speed of Magenta's ORIGINAL MusicVAE on this machine, to compare with benchmarks/train_speed.py
and benchmarks/generate_speed.py on the same hardware.

    python benchmarks/magenta_reference.py --magenta_path /path/to/magenta-checkout
    python benchmarks/magenta_reference.py --magenta_path ... --only train-2bar sample-2bar

--magenta_path is a checkout of github.com/magenta/magenta (the folder that holds
magenta/models/music_vae); it is put on sys.path at run time. Nothing of Magenta is in this repo.

Environment. Magenta itself cannot be pip-installed on a current Python (its pinned
dependencies have no wheels for it), but its MusicVAE code runs on TF 2.21 in TF1 compat mode with
legacy Keras. Use a separate venv, not the project's:

    python -m venv magenta_venv
    magenta_venv/bin/pip install "tensorflow==2.21.*" "tf-keras==2.21.*" "tf-slim==1.1.0" \\
        "tensorflow-probability==0.25.*" "note-seq==0.0.5" absl-py
    magenta_venv/bin/python benchmarks/magenta_reference.py --magenta_path ...

This script sets TF_USE_LEGACY_KERAS=1 (Magenta's RNN cells need tf.keras 2) and, when
tensorflow_datasets is not installed, registers an empty stand-in module for it (Magenta's data.py
imports it at module level; nothing here loads a TFDS dataset). It calls
tf.compat.v1.disable_v2_behavior() as Magenta's training script does.

Cases (each runs in its own subprocess, so peak RSS is that case's own):
- matmul: sustained float32 matmul GFLOP/s (1024 x 1024, chained), to compare machines.
- train-2bar: cat-mel_2bar_small, full size, batch 64, through Magenta's music_vae_train.train.
  Seconds per step two ways: (wall of a warmup+timed-step run - wall of a warmup-step run) / timed
  steps, and the mean session.run time of the timed steps inside the longer run.
- train-hierdec: hierdec-mel_16bar, full size, batch 16: 1 warm-up step then 1 timed step; a step
  that does not finish within --step_limit seconds is reported as a lower bound. Heavy: on a 2-core
  machine each step took ~6.5 minutes and the process peaked near 20 GB RSS.
- wall-hierdec, wall-2bar: wall of a 30-step train() call at batch 32 including graph building:
  hierdec-mel_16bar at z_size=24, enc_rnn_size=[40,40], dec_rnn_size=[24,24]; cat-mel_2bar_small
  full size.
- sample-2bar: Magenta's TrainedModel.sample(n=64, length=32, temperature=0.5) for
  cat-mel_2bar_small, full size, batch 64 (returns NoteSequences, as Magenta's API does), from a
  checkpoint of a short training run (random data, so random-ish weights; speed does not depend on
  them). Best of --repeats calls after a first, untimed one.

Measured on the project's 2-core dev machine (AMD EPYC, AVX2/FMA, no AVX-512; float32 matmul
65-70 GFLOP/s), quiet: train-2bar 1.58 s/step = 40.6 examples/s, peak RSS 1.4 GB; train-hierdec
388 s/step (first step 403 s), peak RSS 19.6 GB; wall-2bar 49.8 s; wall-hierdec 81.1 s;
sample-2bar 391 samples/s.

benchmarks/compare_magenta.py runs these children from the port's venv (`child_command` /
`run_child` with `python=` Magenta's venv interpreter), alternating with the port's own runs; it
also uses the `generate` child: Magenta's music_vae_generate (its run() behind its own flags) on a
checkpoint, timed from process start to exit.

Training data: random one-hot sequences of the config's shapes at full length, in memory through
tf.data (Magenta's reference figures were fed pre-padded examples), so data conversion is not
timed. The per-step timer is a SessionRunHook handed to tf_slim's train as a chief-only hook (it
runs before Magenta's checkpoint/summary hooks), so a step's session.run time excludes checkpoint
writing; the interval between steps (which includes it) is printed as well.
"""

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_load import busy_cores, cpu_jiffies, load_note, peak_rss_mb, wait_until_quiet  # noqa: E402,F401

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

TINY_HIERDEC = "z_size=24,enc_rnn_size=[40,40],dec_rnn_size=[24,24]"

CASES = {
    "matmul": dict(kind="matmul"),
    "train-2bar": dict(kind="train", config="cat-mel_2bar_small", batch=64, warmup=5, timed=20,
                       two_run=True),
    "train-hierdec": dict(kind="train", config="hierdec-mel_16bar", batch=16, warmup=1, timed=1,
                          two_run=False),
    "wall-hierdec": dict(kind="wall", config="hierdec-mel_16bar", batch=32, steps=30, hparams=TINY_HIERDEC),
    "wall-2bar": dict(kind="wall", config="cat-mel_2bar_small", batch=32, steps=30),
    "sample-2bar": dict(kind="sample", config="cat-mel_2bar_small", batch=64),
}


# ----------------------------------------------------------------------------------------------
# Child side: runs inside one subprocess per measurement.


def import_magenta(magenta_path, modules=("configs", "music_vae_train", "trained_model")):
    """Imports TF in compat mode and Magenta's music_vae `modules` from `magenta_path`.

    Returns (tf, *modules). (music_vae_train and music_vae_generate define the same absl flags, so
    a process imports one of them.)"""
    sys.path.insert(0, os.path.abspath(magenta_path))
    if importlib.util.find_spec("tensorflow_datasets") is None:
        stand_in = types.ModuleType("tensorflow_datasets")

        def unavailable(*args, **kwargs):
            raise ImportError("tensorflow_datasets is not installed (stand-in module)")

        stand_in.load = stand_in.as_numpy = unavailable
        stand_in.Split = types.SimpleNamespace(TRAIN="train", VALIDATION="validation", TEST="test")
        sys.modules["tensorflow_datasets"] = stand_in
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    return (tf,) + tuple(importlib.import_module(f"magenta.models.music_vae.{name}") for name in modules)


def make_config(configs, name, batch_size, hparams):
    # train() writes the examples path into a summary, so it must be set (as --examples_path does).
    config = configs.update_config(configs.CONFIG_MAP[name], {"train_examples_path": "random-one-hot-in-memory"})
    config.hparams.parse(f"batch_size={batch_size}" + (f",{hparams}" if hparams else ""))
    return config


def random_dataset_fn(tf, config, seed=0):
    """A dataset_fn for music_vae_train.train: random full-length one-hot examples, repeated."""
    import numpy as np

    converter = config.data_converter
    batch_size = config.hparams.batch_size
    length = config.hparams.max_seq_len
    count = 2 * batch_size
    rng = np.random.default_rng(seed)

    def one_hot(depth, dtype):
        if not depth:
            return np.zeros([count, length, 0], dtype)
        return np.eye(depth, dtype=dtype)[rng.integers(0, depth, size=(count, length))]

    outputs = one_hot(converter.output_depth, converter.output_dtype)
    inputs = (outputs.astype(converter.input_dtype) if converter.input_depth == converter.output_depth
              else one_hot(converter.input_depth, converter.input_dtype))
    controls = one_hot(converter.control_depth, converter.control_dtype)
    shape = list(converter.length_shape)
    # A length per segment when the converter has a length shape (hierarchical inputs).
    per_item = length // int(np.prod(shape)) if shape else length
    lengths = np.full([count] + shape, per_item, np.int32)

    def dataset_fn():
        return tf.data.Dataset.from_tensor_slices((inputs, outputs, controls, lengths)) \
            .batch(batch_size, drop_remainder=True).repeat()

    return dataset_fn


def make_step_timer(tf, progress_label):
    """A SessionRunHook recording each session.run's duration and the interval between steps."""

    class StepTimer(tf.train.SessionRunHook):
        def __init__(self):
            self.run_seconds = []
            self.intervals = []
            self.parameters = 0
            self._last_end = None

        def begin(self):
            self.parameters = int(sum(v.shape.num_elements() for v in tf.trainable_variables()))

        def after_create_session(self, session, coord):
            self._last_end = time.perf_counter()

        def before_run(self, run_context):
            self._start = time.perf_counter()

        def after_run(self, run_context, run_values):
            end = time.perf_counter()
            self.run_seconds.append(end - self._start)
            self.intervals.append(end - self._last_end)
            self._last_end = end
            print(f"STEP {progress_label} {len(self.run_seconds)} run {self.run_seconds[-1]:.3f} s, "
                  f"interval {self.intervals[-1]:.3f} s, peak RSS {peak_rss_mb():.0f} MB", flush=True)

    return StepTimer()


def child_train(args):
    """One music_vae_train.train call of `args.steps` steps; prints a RESULT line."""
    tf, configs, music_vae_train, _ = import_magenta(args.magenta_path)
    import tf_slim

    config = make_config(configs, args.config, args.batch, args.hparams)
    timer = make_step_timer(tf, f"{args.config}:{args.batch}")
    original_train = tf_slim.training.train

    def train_with_timer(*positional, **keywords):
        keywords["chief_only_hooks"] = list(keywords.get("chief_only_hooks") or []) + [timer]
        return original_train(*positional, **keywords)

    tf_slim.training.train = train_with_timer
    start = time.perf_counter()
    music_vae_train.train(args.train_dir, config=config, dataset_fn=random_dataset_fn(tf, config),
                          num_steps=args.steps)
    wall = time.perf_counter() - start
    return {"train_wall_seconds": wall, "process_seconds": time.perf_counter() - PROCESS_START,
            "run_seconds": timer.run_seconds, "intervals": timer.intervals,
            "parameters": timer.parameters, "peak_rss_mb": peak_rss_mb()}


def child_sample(args):
    tf, configs, _, trained_model = import_magenta(args.magenta_path)
    config = make_config(configs, args.config, args.batch, args.hparams)
    start = time.perf_counter()
    model = trained_model.TrainedModel(config, batch_size=args.batch, checkpoint_dir_or_path=args.train_dir)
    build = time.perf_counter() - start
    length = config.hparams.max_seq_len
    start = time.perf_counter()
    model.sample(n=args.batch, length=length, temperature=0.5)
    first = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        samples = model.sample(n=args.batch, length=length, temperature=0.5)
        times.append(time.perf_counter() - start)
    return {"build_seconds": build, "first_call_seconds": first, "call_seconds": times,
            "samples": len(samples), "samples_per_sec": args.batch / min(times), "peak_rss_mb": peak_rss_mb()}


def child_generate(args):
    """Magenta's own music_vae_generate (its run() behind its absl flags): --num_outputs=args.steps
    samples of args.config from the checkpoint in args.train_dir, MIDI files into args.output_dir."""
    _, configs, generate = import_magenta(args.magenta_path, ("configs", "music_vae_generate"))
    generate.FLAGS([sys.argv[0], f"--config={args.config}", f"--checkpoint_file={args.train_dir}",
                    "--mode=sample", f"--num_outputs={args.steps}", f"--output_dir={args.output_dir}",
                    "--log=WARN"])
    generate.run(configs.CONFIG_MAP)
    return {"midi_files": len(os.listdir(args.output_dir)), "peak_rss_mb": peak_rss_mb()}


def child_matmul(args, size=1024, repeats=20):
    import tensorflow as tf

    a = tf.random.normal([size, size])
    b = tf.random.normal([size, size]) / size ** 0.5

    @tf.function
    def chain(a, b):
        for _ in range(repeats):  # each product feeds the next: nothing can be merged or skipped
            a = tf.matmul(a, b)
        return a

    chain(a, b).numpy()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        chain(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return {"matmul_gflops": 2.0 * size ** 3 * repeats / best / 1e9, "peak_rss_mb": peak_rss_mb()}


# ----------------------------------------------------------------------------------------------
# Parent side: one subprocess per run, progress echoed live, a time limit per run.


def child_command(args, kind, config="", batch=0, hparams="", steps=0, train_dir="", output_dir="",
                  python=None):
    """The command line of one child run (`python`: the interpreter of Magenta's venv)."""
    return [python or sys.executable, os.path.abspath(__file__), "--magenta_path", args.magenta_path,
            "--child", kind, "--config", config, "--batch", str(batch), "--hparams", hparams,
            "--steps", str(steps), "--train_dir", train_dir, "--output_dir", output_dir,
            "--repeats", str(args.repeats)]


def run_child(args, kind, config="", batch=0, hparams="", steps=0, train_dir="", time_limit=None,
              python=None, env=None):
    """Runs one child; returns (result dict or None, list of STEP lines, timed_out)."""
    command = child_command(args, kind, config, batch, hparams, steps, train_dir, python=python)
    wait_until_quiet(args.quiet_below, args.quiet_patience)
    jiffies_before, children_before = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    collected = {"result": None, "steps": []}

    def read_output():
        for line in process.stdout:
            if line.startswith("STEP "):
                collected["steps"].append(line.strip())
                print("  " + line.strip(), file=sys.stderr, flush=True)
            elif line.startswith("RESULT "):
                collected["result"] = json.loads(line[len("RESULT "):])

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        timed_out = True
        process.kill()
    process.wait()
    reader.join()
    wall = time.perf_counter() - started
    result, steps_seen = collected["result"], collected["steps"]
    # CPU the rest of the machine used meanwhile: a contended measurement shows here.
    children_after, jiffies_after = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_jiffies()
    own = (children_after.ru_utime - children_before.ru_utime) + (children_after.ru_stime - children_before.ru_stime)
    if result is not None:
        result["child_cpu_cores"] = own / wall
        if jiffies_before and jiffies_after:
            machine = (jiffies_after[0] - jiffies_before[0]) / os.sysconf("SC_CLK_TCK")
            result["other_processes_cores"] = max(0.0, machine - own) / wall
    if process.returncode and not timed_out:
        print(f"  {kind} {config}: exit status {process.returncode}", file=sys.stderr, flush=True)
    return result, steps_seen, timed_out


def measure_train(args, name, spec, work_dir):
    warmup = spec["warmup"]
    timed = spec["timed"]
    label = f"{spec['config']}:{spec['batch']}"
    train_dir = os.path.join(work_dir, name)
    # Per-step limit: graph building and the first checkpoint come on top of the steps.
    limit = args.build_limit + args.step_limit * (warmup + timed)
    result, step_lines, timed_out = run_child(args, "train", spec["config"], spec["batch"], spec.get("hparams", ""),
                                              warmup + timed, train_dir, limit)
    if result is None:
        # Stopped (time limit, out of memory, killed): report what the finished steps show.
        reason = "timed out" if timed_out else "stopped"
        run_seconds = [float(line.split(" run ")[1].split(" s")[0]) for line in step_lines]
        rss = step_lines[-1].rsplit("peak RSS", 1)[-1].strip() if step_lines else "unknown"
        text = f"{name} {label}: {reason} after {len(run_seconds)} finished steps"
        if len(run_seconds) > warmup:
            after = run_seconds[warmup:]
            mean = sum(after) / len(after)
            text += (f"; {mean:.1f} s/step = {spec['batch'] / mean:.3g} examples/s (mean session.run of steps "
                     f"{warmup + 1}-{len(run_seconds)})")
        elif timed_out:
            text += f"; a step takes more than {args.step_limit:.0f} s (or building did not finish)"
        print(text + f", first step {run_seconds[0] if run_seconds else float('nan'):.1f} s, peak RSS {rss}",
              flush=True)
        return {"case": name, "config": spec["config"], "batch_size": spec["batch"], "stopped": reason,
                "run_seconds": run_seconds, "step_lines": step_lines}
    timed_runs = sorted(result["run_seconds"][warmup:])
    in_run = sum(timed_runs) / timed
    fastest, median = timed_runs[0], timed_runs[len(timed_runs) // 2]
    figures = {"case": name, "config": spec["config"], "batch_size": spec["batch"],
               "hparams": spec.get("hparams", ""), "parameters": result["parameters"],
               "seconds_per_step_in_run": in_run, "examples_per_sec_in_run": spec["batch"] / in_run,
               "fastest_step_seconds": fastest, "median_step_seconds": median,
               "first_step_seconds": result["run_seconds"][0], "run_seconds": result["run_seconds"],
               "intervals": result["intervals"], "train_wall_seconds": result["train_wall_seconds"],
               "peak_rss_mb": result["peak_rss_mb"]}
    text = (f"{name} {label}: {spec['batch'] / in_run:.3g} examples/s ({in_run:.3f} s/step, mean session.run "
            f"of steps {warmup + 1}-{warmup + timed}; median {median:.3f} s, fastest {fastest:.3f} s = "
            f"{spec['batch'] / fastest:.3g} examples/s), first step {result['run_seconds'][0]:.1f} s, "
            f"train() wall {result['train_wall_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB, "
            f"{result['parameters']:,} parameters" + load_note(result))
    figures.update(child_cpu_cores=result.get("child_cpu_cores"),
                   other_processes_cores=result.get("other_processes_cores"))
    if spec.get("two_run"):
        short, _, _ = run_child(args, "train", spec["config"], spec["batch"], spec.get("hparams", ""), warmup,
                                os.path.join(work_dir, name + "-short"), limit)
        if short is not None:
            per_step = (result["train_wall_seconds"] - short["train_wall_seconds"]) / timed
            figures.update(seconds_per_step_two_run=per_step, examples_per_sec_two_run=spec["batch"] / per_step,
                           short_train_wall_seconds=short["train_wall_seconds"])
            text += (f"; two-run method ({warmup + timed}-step wall {result['train_wall_seconds']:.1f} s - "
                     f"{warmup}-step wall {short['train_wall_seconds']:.1f} s) / {timed}: {per_step:.3f} s/step "
                     f"= {spec['batch'] / per_step:.3g} examples/s" + load_note(short))
    print(text, flush=True)
    return figures


def measure_wall(args, name, spec, work_dir):
    label = f"{spec['config']}:{spec['batch']}"
    result, _, timed_out = run_child(args, "train", spec["config"], spec["batch"], spec.get("hparams", ""),
                                     spec["steps"], os.path.join(work_dir, name),
                                     args.build_limit + args.step_limit * spec["steps"])
    if result is None:
        print(f"{name} {label}: {'timed out' if timed_out else 'failed'}", flush=True)
        return {"case": name, "failed": True}
    steady = sum(result["run_seconds"][5:]) / max(1, len(result["run_seconds"]) - 5)
    print(f"{name} {label} [{spec.get('hparams') or 'full size'}]: {spec['steps']} steps, train() wall "
          f"{result['train_wall_seconds']:.1f} s incl. graph building (process {result['process_seconds']:.1f} s), "
          f"{steady:.3f} s/step after 5 steps, peak RSS {result['peak_rss_mb']:.0f} MB" + load_note(result),
          flush=True)
    return {"case": name, "config": spec["config"], "batch_size": spec["batch"], "hparams": spec.get("hparams", ""),
            "steps": spec["steps"], "train_wall_seconds": result["train_wall_seconds"],
            "process_seconds": result["process_seconds"], "seconds_per_step_after_5": steady,
            "peak_rss_mb": result["peak_rss_mb"], "child_cpu_cores": result.get("child_cpu_cores"),
            "other_processes_cores": result.get("other_processes_cores")}


def measure_sample(args, name, spec, work_dir, trained_dirs):
    label = f"{spec['config']}:{spec['batch']}"
    checkpoint_dir = trained_dirs.get(spec["config"])
    if checkpoint_dir is None:  # a short, untimed training run makes the checkpoint
        checkpoint_dir = os.path.join(work_dir, name + "-checkpoint")
        made, _, _ = run_child(args, "train", spec["config"], 8, "", 1, checkpoint_dir)
        if made is None:
            print(f"{name} {label}: could not make a checkpoint", flush=True)
            return {"case": name, "failed": True}
    result, _, _ = run_child(args, "sample", spec["config"], spec["batch"], "", 0, checkpoint_dir)
    if result is None:
        print(f"{name} {label}: failed", flush=True)
        return {"case": name, "failed": True}
    best = min(result["call_seconds"])
    print(f"{name} {label}: {result['samples_per_sec']:.3g} samples/s (TrainedModel.sample, best of "
          f"{len(result['call_seconds'])}: {best:.3f} s per call of {spec['batch']}), first call "
          f"{result['first_call_seconds']:.2f} s, build+restore {result['build_seconds']:.1f} s, "
          f"peak RSS {result['peak_rss_mb']:.0f} MB" + load_note(result), flush=True)
    return dict(result, case=name, config=spec["config"], batch_size=spec["batch"])


PROCESS_START = time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--magenta_path", required=True, help="checkout holding magenta/models/music_vae")
    parser.add_argument("--only", nargs="+", choices=list(CASES), default=list(CASES), help="cases to run")
    parser.add_argument("--repeats", type=int, default=3, help="timed sample calls")
    parser.add_argument("--step_limit", type=float, default=600.0, help="seconds allowed per training step")
    parser.add_argument("--build_limit", type=float, default=600.0, help="seconds allowed for graph building")
    parser.add_argument("--quiet_below", type=float, default=0.3,
                        help="before each run, wait until other processes keep fewer cores busy (0: don't wait)")
    parser.add_argument("--quiet_patience", type=float, default=300.0, help="longest wait for a quiet machine, s")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    for internal in ("--config", "--hparams", "--train_dir", "--output_dir"):
        parser.add_argument(internal, default="", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        handler = {"train": child_train, "sample": child_sample, "matmul": child_matmul,
                   "generate": child_generate}[args.child]
        print("RESULT " + json.dumps(handler(args)), flush=True)
        return

    if not os.path.isdir(os.path.join(args.magenta_path, "magenta", "models", "music_vae")):
        parser.error(f"{args.magenta_path} holds no magenta/models/music_vae")
    work_dir = tempfile.mkdtemp(prefix="magenta_reference_")
    results, trained_dirs = [], {}
    try:
        for name in args.only:
            spec = CASES[name]
            if spec["kind"] == "matmul":
                result, _, _ = run_child(args, "matmul")
                if result:
                    print(f"matmul: {result['matmul_gflops']:.1f} GFLOP/s float32 (1024x1024, chained)"
                          + load_note(result), flush=True)
                    results.append(dict(result, case=name))
            elif spec["kind"] == "train":
                figures = measure_train(args, name, spec, work_dir)
                results.append(figures)
                if "failed" not in figures and not spec.get("hparams"):
                    trained_dirs.setdefault(spec["config"], os.path.join(work_dir, name))
            elif spec["kind"] == "wall":
                results.append(measure_wall(args, name, spec, work_dir))
            else:
                results.append(measure_sample(args, name, spec, work_dir, trained_dirs))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
