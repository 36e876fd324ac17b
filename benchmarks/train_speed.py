"""Training speed on this machine: examples/s and peak RSS of the training loop, next to the
float32 matmul throughput measured in the same run.

    python benchmarks/train_speed.py                      # both default cases
    python benchmarks/train_speed.py --cases cat-mel_2bar_small:64 --steps 20

Each case (config:batch_size, full-size hparams) runs in its own subprocess, so its peak RSS is
its own. Batches are random one-hot sequences of the config's shapes kept in memory (like
Magenta's reference figure, which was fed pre-padded examples), so data conversion is not
timed. Seconds per step = (time of warmup + timed steps - time of warmup steps) / timed steps,
so tracing and the first step cancel out.

Magenta's figures for cat-mel_2bar_small, full size, batch 64 (about 0.70 GFLOP per example forward
+ backward; benchmarks/model_flops.py counts it): 112 examples/s in the parity fixtures' README
(a 2-core machine of the same kind, but faster: 112 x 0.70 = 79 GFLOP/s is above this machine's
whole matmul rate), and 40.6 examples/s measured on this machine by benchmarks/magenta_reference.py
(benchmarks/magenta_this_machine.json). Both are printed; the second is the fair comparison.
benchmarks/run_all.py reuses `random_dataset`, `matmul_gflops` and `run_case`.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine_load import peak_rss_mb  # noqa: E402
from model_flops import gflop_per_item  # noqa: E402

MAGENTA_EXAMPLES_PER_SEC = {"cat-mel_2bar_small:64": 112.0}  # the fixture README's machine


def magenta_here(case):
    """Magenta's training examples/s on this machine from magenta_this_machine.json, or None."""
    from run_all import load_magenta_figures  # the one reader of Magenta figure files

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "magenta_this_machine.json")
    try:
        return load_magenta_figures(path).get(f"train:{case}", {}).get("rate")
    except (OSError, ValueError):
        return None
DEFAULT_CASES = ["cat-mel_2bar_small:64", "hierdec-mel_16bar:16"]


def matmul_gflops(size=2048, products=6, repeats=3):
    """Sustained float32 matmul GFLOP/s: best of `repeats` runs of `products` size x size products.

    Every product has its own operands (a chain a <- a @ b_i with distinct b_i), so TF can neither
    merge identical products nor skip any.
    """
    import tensorflow as tf

    a = tf.random.normal([size, size], seed=1)
    bs = [tf.random.normal([size, size], seed=2 + i) / size ** 0.5 for i in range(products)]

    @tf.function
    def chain(a, bs):
        for b in bs:
            a = tf.matmul(a, b)
        return a

    chain(a, bs).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        chain(a, bs).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 * products / best / 1e9


def random_dataset(config, batch_size, num_batches=4):
    """An endless tf.data.Dataset of `num_batches` distinct batches of random one-hot examples
    shaped like `config`'s converter output (full length), kept in memory."""
    import numpy as np
    import tensorflow as tf

    converter = config.data_converter
    rng = np.random.default_rng(0)
    length = config.hparams.max_seq_len
    examples = int(batch_size) * num_batches

    def one_hot(depth):
        return np.eye(depth, dtype=np.float32)[rng.integers(0, depth, size=(examples, length))] if depth else \
            np.zeros((examples, length, 0), np.float32)

    outputs = one_hot(converter.output_depth)
    inputs = outputs if converter.input_depth == converter.output_depth else one_hot(converter.input_depth)
    controls = one_hot(converter.control_depth)
    lengths = np.full([examples, *converter.length_shape], length, np.int32)
    return tf.data.Dataset.from_tensor_slices((inputs, outputs, controls, lengths)) \
        .batch(int(batch_size), drop_remainder=True).repeat()


def run_case(case, warmup_steps, timed_steps, extra_hparams=""):
    import numpy as np
    import tensorflow as tf

    from musicvae_tf import configs
    from musicvae_tf.training import loop

    name, batch_size = case.split(":")
    config = configs.get_config(name, f"batch_size={int(batch_size)}" + (f",{extra_hparams}" if extra_hparams else ""))
    dataset = random_dataset(config, batch_size)

    build_start = time.perf_counter()
    trainer = loop.Trainer(config, noise_seed=1)
    build_seconds = time.perf_counter() - build_start
    stamps = []

    def on_step(step, metrics):
        stamps.append(time.perf_counter())
        previous = stamps[-2] if len(stamps) > 1 else build_start + build_seconds
        print(f"  {case} step {step}: {stamps[-1] - previous:.2f} s", file=sys.stderr, flush=True)

    trainer.train(dataset, num_steps=warmup_steps + timed_steps, save_checkpoint_secs=None,
                  log_every_n_steps=10 ** 9, on_step=on_step)
    seconds_per_step = (stamps[-1] - stamps[warmup_steps - 1]) / timed_steps
    peak_rss = peak_rss_mb()  # before the matmul measurement allocates its own operands
    gflops = matmul_gflops()
    result = {
        "case": case, "config": name, "batch_size": int(batch_size),
        "parameters": int(sum(np.prod(v.shape) for v in trainer.model.trainable_variables)),
        "build_seconds": build_seconds, "first_step_seconds": stamps[0] - build_start - build_seconds,
        "seconds_per_step": seconds_per_step, "examples_per_sec": int(batch_size) / seconds_per_step,
        "peak_rss_mb": peak_rss, "matmul_gflops": gflops, "tf_version": tf.__version__,
    }
    result["examples_per_sec_per_matmul_gflops"] = result["examples_per_sec"] / gflops
    gflop = gflop_per_item(config, "train")
    if gflop is not None:
        result["gflop_per_example"] = gflop
        result["achieved_gflops"] = result["examples_per_sec"] * gflop
        result["fraction_of_matmul"] = result["achieved_gflops"] / gflops
    if case in MAGENTA_EXAMPLES_PER_SEC and not extra_hparams:
        result["magenta_examples_per_sec"] = MAGENTA_EXAMPLES_PER_SEC[case]
        result["speedup_vs_magenta"] = result["examples_per_sec"] / MAGENTA_EXAMPLES_PER_SEC[case]
    here = magenta_here(case)
    if here and not extra_hparams:
        result["magenta_here_examples_per_sec"] = here
        result["speedup_vs_magenta_here"] = result["examples_per_sec"] / here
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES, help="config:batch_size pairs")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps (tracing, caches)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--hparams", default="", help="extra hparams for every case, e.g. sampling_rate=0")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
    if args.one:
        print("RESULT " + json.dumps(run_case(args.one, args.warmup, args.steps, args.hparams)), flush=True)
        return
    results = []
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    for case in args.cases:
        # The case's per-step progress goes straight to this process's stderr.
        process = subprocess.run([sys.executable, __file__, "--one", case, "--warmup", str(args.warmup),
                                  "--steps", str(args.steps), "--hparams", args.hparams],
                                 stdout=subprocess.PIPE, text=True, env=env)
        lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if process.returncode or not lines:
            print(f"{case}: failed (exit status {process.returncode})", file=sys.stderr)
            continue
        result = json.loads(lines[-1][len("RESULT "):])
        result["extra_hparams"] = args.hparams
        results.append(result)
        text = (f"{case}: {result['examples_per_sec']:.3g} examples/s ({result['seconds_per_step']:.3f} s/step), "
                f"peak RSS {result['peak_rss_mb']:.0f} MB, matmul {result['matmul_gflops']:.1f} GFLOP/s, "
                f"{result['examples_per_sec_per_matmul_gflops']:.3f} examples/s per matmul GFLOP/s")
        if "achieved_gflops" in result:
            text += (f"; {result['achieved_gflops']:.1f} GFLOP/s = "
                     f"{100 * result['fraction_of_matmul']:.0f}% of matmul")
        if "speedup_vs_magenta" in result:
            text += (f", Magenta (fixture README) {result['magenta_examples_per_sec']:.0f} examples/s "
                     f"(x{result['speedup_vs_magenta']:.2f})")
        if "speedup_vs_magenta_here" in result:
            text += (f", Magenta (this machine) {result['magenta_here_examples_per_sec']:.3g} examples/s "
                     f"(x{result['speedup_vs_magenta_here']:.2f})")
        print(text, flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
