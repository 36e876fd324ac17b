#!/usr/bin/env python
"""Every throughput figure of the port in one Markdown table (see docs/benchmarks.md).

    python benchmarks/run_all.py                     # default cases, about 8-10 min on 2 idle cores
    python benchmarks/run_all.py --quick             # fewer steps, about 5 min
    python benchmarks/run_all.py --json out.json --magenta_json magenta_here.json
    python benchmarks/run_all.py --cases train:cat-mel_2bar_small:64:3+10 sample:hierdec-mel_16bar:8:1+2

A case is KIND:CONFIG[:BATCH[:WARMUP+TIMED]], KIND one of
  matmul   float32 matmul GFLOP/s (2048 x 2048, distinct operands per product; train_speed.matmul_gflops)
  convert  converter to_tensors in train mode on the packaged folk tunes (converter_throughput.converter_rate)
  train    training loop steps, full size, random in-memory batches (train_speed.run_case)
  eval     the eval job's per-batch evaluation (training.eval_loop.Evaluator.evaluate_dataset),
           same random batches
  sample   TrainedModel.sample at full size (generate_speed.time_sample); WARMUP is the traced first
           call, TIMED the repeats (best one counts)
  wall     seconds for a whole short training run (Trainer built and traced, then TIMED steps; WARMUP
           is ignored), the measure the fixture README gives for Magenta at batch 32 and 30 steps;
           hierdec configs at the README's tiny sizes (WALL_HPARAMS), others at full size
Each case runs in its own subprocess, so its peak RSS is its own; cases with a FLOP count
(benchmarks/model_flops.py) also measure the matmul GFLOP/s in that subprocess right after timing,
and the "of matmul" column is achieved GFLOP/s over that figure. Progress goes to stderr, the table
to stdout.

--magenta_json FILE: Magenta's original measured on this machine, shown in its own column: either
the --json output of benchmarks/magenta_reference.py, or {"KIND:CONFIG:BATCH": rate or
{"rate": r, "peak_rss_mb": m}, ...} in the row's units. benchmarks/magenta_this_machine.json holds
the figures benchmarks/magenta_reference.py measured on the 2-core machine of docs/benchmarks.md
(2026-11-23, quiet machine; hierdec training: 1 warm-up + 2 timed steps).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

DEFAULT_CASES = [
    "matmul",
    "convert:cat-mel_2bar_small",
    "convert:hierdec-mel_16bar",
    "train:cat-mel_2bar_small:64:3+10",
    "train:hierdec-mel_16bar:16:1+2",
    "eval:cat-mel_2bar_small:64:2+10",
    "eval:hierdec-mel_16bar:16:1+2",
    "sample:cat-mel_2bar_small:64:1+3",
    "sample:hierdec-mel_16bar:8:1+2",
    "wall:cat-mel_2bar_small:32:0+30",
    "wall:hierdec-mel_16bar:32:0+30",
    "wall:hierdec-trio_16bar:32:0+30",
]
# The sizes the fixture README's 30-step walls of the hierarchical configs were measured at.
WALL_HPARAMS = {"hierdec-mel_16bar": "z_size=24,enc_rnn_size=[40,40],dec_rnn_size=[24,24]",
                "hierdec-trio_16bar": "z_size=24,enc_rnn_size=[40,40],dec_rnn_size=[24,24]"}
# Magenta's 30-step walls (seconds, batch 32, graph building included) from the fixture README.
MAGENTA_README_WALLS = {"wall:cat-mel_2bar_small:32": 26.0, "wall:hierdec-mel_16bar:32": 82.0,
                        "wall:hierdec-trio_16bar:32": 189.0}
QUICK_STEPS = {"train:cat-mel_2bar_small": "1+3", "train:hierdec-mel_16bar": "1+1",
               "eval:cat-mel_2bar_small": "1+3", "eval:hierdec-mel_16bar": "1+1",
               "sample:cat-mel_2bar_small": "1+1", "sample:hierdec-mel_16bar": "1+1",
               "wall:cat-mel_2bar_small": "0+10", "wall:hierdec-mel_16bar": "0+10",
               "wall:hierdec-trio_16bar": "0+10"}
UNITS = {"matmul": "GFLOP/s", "convert": "examples/s", "train": "examples/s", "eval": "examples/s",
         "sample": "samples/s", "wall": "s"}
LOWER_IS_BETTER = ("wall",)


def parse_case(text):
    """'train:cat-mel_2bar_small:64:3+10' -> (kind, config, batch or None, warmup, timed)."""
    parts = text.split(":")
    kind = parts[0]
    if kind not in UNITS:
        raise ValueError(f"unknown measurement {kind!r} in case {text!r}; expected one of {sorted(UNITS)}")
    if kind == "matmul":
        return kind, "", None, 0, 0
    if len(parts) < 2 or (kind in ("train", "eval", "sample", "wall") and len(parts) < 3):
        raise ValueError(f"case {text!r} needs KIND:CONFIG:BATCH")
    batch = int(parts[2]) if len(parts) > 2 and parts[2] else None
    warmup, timed = 1, 3
    if len(parts) > 3:
        warmup, timed = (int(n) for n in parts[3].split("+"))
        if kind == "wall":
            warmup = max(warmup, 1)  # (not used)
        if warmup < 1 or timed < 1:
            raise ValueError(f"case {text!r}: warmup and timed steps must be at least 1")
    return kind, parts[1], batch, warmup, timed


def quick_case(case):
    """The case with --quick's step counts (unchanged when it has none)."""
    parts = case.split(":")
    steps = QUICK_STEPS.get(":".join(parts[:2]))
    return ":".join(parts[:3] + [steps]) if steps else case


def case_key(kind, config, batch):
    return ":".join(str(part) for part in (kind, config, batch) if part)


# -- the measurements, each run in a subprocess ------------------------------------------------

def _progress(text):
    print(f"  {text}", file=sys.stderr, flush=True)


def _with_matmul(result, config, kind, rate):
    import train_speed
    from model_flops import gflop_per_item

    result["peak_rss_mb"] = train_speed.peak_rss_mb()  # before the matmul's own operands
    gflop = gflop_per_item(config, kind)
    if gflop is not None:
        result["matmul_gflops"] = train_speed.matmul_gflops()
        result["gflop_per_item"] = gflop
        result["achieved_gflops"] = rate * gflop
        result["fraction_of_matmul"] = rate * gflop / result["matmul_gflops"]
    return result


def measure_matmul():
    import train_speed

    gflops = train_speed.matmul_gflops()
    return {"rate": gflops, "matmul_gflops": gflops, "peak_rss_mb": train_speed.peak_rss_mb()}


def measure_convert(config_name, seconds):
    import converter_throughput
    import train_speed
    from musicvae_tf import configs

    _, sequences = converter_throughput.load_folk_sequences("train")
    converter = configs.get_config(config_name).data_converter
    sequence_rate, example_rate = converter_throughput.converter_rate(converter, sequences, seconds)
    return {"rate": example_rate, "sequences_per_sec": sequence_rate, "num_sequences": len(sequences),
            "peak_rss_mb": train_speed.peak_rss_mb()}


def measure_train(config_name, batch, warmup, timed):
    import train_speed

    result = train_speed.run_case(f"{config_name}:{batch}", warmup, timed)
    return {"rate": result["examples_per_sec"], "seconds_per_step": result["seconds_per_step"],
            "first_step_seconds": result["first_step_seconds"], "parameters": result["parameters"],
            "peak_rss_mb": result["peak_rss_mb"], "matmul_gflops": result["matmul_gflops"],
            "gflop_per_item": result.get("gflop_per_example"),
            "achieved_gflops": result.get("achieved_gflops"),
            "fraction_of_matmul": result.get("fraction_of_matmul")}


def measure_eval(config_name, batch, warmup, timed):
    import train_speed
    from musicvae_tf import configs
    from musicvae_tf.training.eval_loop import Evaluator

    config = configs.get_config(config_name, f"batch_size={batch}")
    dataset = train_speed.random_dataset(config, batch)
    evaluator = Evaluator(config, train_dir=None, eval_dir=None, config_name=config_name)
    start = time.perf_counter()
    evaluator.evaluate_dataset(dataset.take(warmup))  # traces the eval step
    first = time.perf_counter() - start
    _progress(f"eval {config_name} b{batch}: {warmup} warmup batch(es) {first:.1f} s")
    start = time.perf_counter()
    evaluator.evaluate_dataset(dataset.take(timed))
    seconds = (time.perf_counter() - start) / timed
    _progress(f"eval {config_name} b{batch}: {seconds:.2f} s per batch over {timed}")
    rate = batch / seconds
    return _with_matmul({"rate": rate, "seconds_per_batch": seconds, "warmup_seconds": first},
                        config, "eval", rate)


def measure_sample(config_name, batch, warmup, timed):
    import generate_speed
    from musicvae_tf import configs

    if warmup != 1:
        _progress("sample: the warmup is the one traced first call (WARMUP is taken as 1)")
    build, first, best, rate = generate_speed.time_sample(config_name, batch, timed)
    _progress(f"sample {config_name} b{batch}: build {build:.1f} s, first call {first:.1f} s, "
              f"best {best:.2f} s of {timed}")
    return _with_matmul({"rate": rate, "seconds_per_batch": best, "first_call_seconds": first},
                        configs.get_config(config_name), "sample", rate)


def measure_wall(config_name, batch, steps):
    import train_speed
    from musicvae_tf import configs
    from musicvae_tf.training import loop

    hparams = f"batch_size={batch}"
    if config_name in WALL_HPARAMS:
        hparams += "," + WALL_HPARAMS[config_name]
    config = configs.get_config(config_name, hparams)
    dataset = train_speed.random_dataset(config, batch)
    start = time.perf_counter()
    trainer = loop.Trainer(config, noise_seed=1)
    trainer.train(dataset, num_steps=steps, save_checkpoint_secs=None, log_every_n_steps=10 ** 9)
    seconds = time.perf_counter() - start
    _progress(f"wall {config_name} b{batch}: {steps} steps in {seconds:.1f} s ({hparams})")
    return {"rate": seconds, "hparams": hparams, "peak_rss_mb": train_speed.peak_rss_mb()}


def run_one(case, converter_seconds):
    import tensorflow as tf

    kind, config, batch, warmup, timed = parse_case(case)
    if kind == "matmul":
        result = measure_matmul()
    elif kind == "convert":
        result = measure_convert(config, converter_seconds)
    elif kind == "train":
        result = measure_train(config, batch, warmup, timed)
    elif kind == "eval":
        result = measure_eval(config, batch, warmup, timed)
    elif kind == "wall":
        result = measure_wall(config, batch, timed)
    else:
        result = measure_sample(config, batch, warmup, timed)
    # 1-minute load average: about 2 while a case runs alone on 2 cores, more when others compete.
    result.update(case=case, kind=kind, config=config, batch=batch, unit=UNITS[kind],
                  load_average=os.getloadavg()[0],
                  steps=(f"{warmup}+{timed}" if kind in ("train", "eval", "sample")
                         else str(timed) if kind == "wall" else ""),
                  tf_version=tf.__version__)
    return result


# -- the table ---------------------------------------------------------------------------------

def magenta_readme_figures():
    """Magenta's figures quoted in the parity fixtures' README (train_speed keeps them)."""
    import train_speed

    figures = {f"train:{case}": rate for case, rate in train_speed.MAGENTA_EXAMPLES_PER_SEC.items()}
    figures.update(MAGENTA_README_WALLS)
    return figures


# magenta_reference.py case name -> (run_all key, the figure that is the row's rate)
MAGENTA_REFERENCE_CASES = {
    "matmul": ("matmul", ("matmul_gflops",)),
    "train-2bar": ("train:cat-mel_2bar_small:64", ("examples_per_sec_two_run", "examples_per_sec_in_run")),
    "train-hierdec": ("train:hierdec-mel_16bar:16", ("examples_per_sec_in_run",)),
    "sample-2bar": ("sample:cat-mel_2bar_small:64", ("samples_per_sec",)),
    "wall-2bar": ("wall:cat-mel_2bar_small:32", ("train_wall_seconds",)),
    "wall-hierdec": ("wall:hierdec-mel_16bar:32", ("train_wall_seconds",)),
}


def load_magenta_figures(path):
    """{KIND:CONFIG:BATCH: {"rate": ..., "peak_rss_mb": ..., "note": ...}} from a --magenta_json file."""
    with open(path) as handle:
        values = json.load(handle)
    figures = {}
    if isinstance(values, dict):
        for key, value in values.items():
            figures[key] = dict(value) if isinstance(value, dict) else {"rate": float(value)}
        return figures
    for result in values:  # magenta_reference.py --json: a list of results
        if result.get("case") not in MAGENTA_REFERENCE_CASES:
            continue
        key, names = MAGENTA_REFERENCE_CASES[result["case"]]
        rate = next((result[name] for name in names if result.get(name) is not None), None)
        figure = {"rate": rate, "peak_rss_mb": result.get("peak_rss_mb")}
        if result["case"] == "matmul":
            figure["note"] = "1024x1024 chain"
        if result.get("failed"):
            figure["note"] = f"{result['failed']} after {result.get('steps_done', 0)} steps"
        figures[key] = figure
    return figures


def _number(value, digits=3):
    if value is None:
        return ""
    if value >= 10 ** digits:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def _speedup(row, magenta_rate):
    """How many times faster the port is than Magenta on this machine ('' without a figure)."""
    if not magenta_rate or row["kind"] == "matmul":
        return ""
    ratio = magenta_rate / row["rate"] if row["kind"] in LOWER_IS_BETTER else row["rate"] / magenta_rate
    return f"x{ratio:.2f}"


def markdown_table(rows, magenta_here):
    readme = magenta_readme_figures()
    header = ["measurement", "config", "batch", "steps", "throughput", "peak RSS MB", "GFLOP/item",
              "GFLOP/s", "matmul GFLOP/s", "of matmul", "load", "Magenta (fixture README)", "Magenta (this machine)",
              "port vs Magenta here"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        key = case_key(row["kind"], row["config"], row["batch"])
        throughput = f"{_number(row['rate'])} {row['unit']}"
        if row["kind"] == "convert":
            throughput += f" ({_number(row['sequences_per_sec'])} NoteSequences/s)"
        if row["kind"] == "matmul":
            throughput = f"{_number(row['rate'])} GFLOP/s (2048x2048 float32)"
        fraction = row.get("fraction_of_matmul")
        here = magenta_here.get(key) or {}
        here_text = f"{_number(here['rate'])} {row['unit']}" if here.get("rate") is not None else ""
        if here.get("peak_rss_mb") and row["kind"] != "matmul":
            here_text += f", {here['peak_rss_mb']:.0f} MB"
        if here.get("note"):
            here_text = ", ".join(t for t in (here_text, here["note"]) if t)
        cells = [row["kind"], row["config"], str(row["batch"] or ""), row["steps"], throughput,
                 f"{row['peak_rss_mb']:.0f}", _number(row.get("gflop_per_item")),
                 _number(row.get("achieved_gflops")) if row["kind"] != "matmul" else "",
                 _number(row.get("matmul_gflops")),
                 f"{100 * fraction:.0f}%" if fraction is not None else "",
                 f"{row['load_average']:.1f}" if "load_average" in row else "",
                 f"{_number(readme[key])} {row['unit']}" if key in readme else "", here_text,
                 _speedup(row, here.get("rate"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_description():
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as handle:
            memory_kb = int(handle.readline().split()[1])
        memory = f", {memory_kb / 1024 ** 2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        memory = ""
    return f"{model}, {os.cpu_count()} cores{memory}"


def git_commit():
    try:
        commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        root = subprocess.run(["git", "-C", HERE, "rev-parse", "--show-toplevel"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "diff", "HEAD", "--name-only", "--", "musicvae_tf", "benchmarks"],
                               capture_output=True, text=True).stdout.split()
        return commit + (f" + uncommitted changes to {', '.join(dirty)}" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", help="KIND:CONFIG[:BATCH[:WARMUP+TIMED]] (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer steps in the default cases")
    parser.add_argument("--converter_seconds", type=float, default=10.0,
                        help="seconds per converter figure (--quick: 3)")
    parser.add_argument("--json", help="also write header and rows to this file")
    parser.add_argument("--magenta_json", help="Magenta measured on this machine, see the docstring")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
    if args.one:
        result = run_one(args.one, args.converter_seconds)
        print("RESULT " + json.dumps(result), flush=True)
        return

    cases = args.cases or list(DEFAULT_CASES)
    converter_seconds = args.converter_seconds
    if args.quick:
        if not args.cases:
            cases = [quick_case(case) for case in cases]
        if converter_seconds == parser.get_default("converter_seconds"):
            converter_seconds = 3.0
    for case in cases:
        parse_case(case)  # fail before running anything
    magenta_here = load_magenta_figures(args.magenta_json) if args.magenta_json else {}

    started = datetime.datetime.now(datetime.timezone.utc)
    wall_start = time.perf_counter()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    rows = []
    for index, case in enumerate(cases):
        print(f"[{index + 1}/{len(cases)}] {case} ...", file=sys.stderr, flush=True)
        case_start = time.perf_counter()
        process = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", case,
                                  "--converter_seconds", str(converter_seconds)],
                                 stdout=subprocess.PIPE, text=True, env=env)
        lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if process.returncode or not lines:
            print(f"[{index + 1}/{len(cases)}] {case}: failed (exit status {process.returncode})",
                  file=sys.stderr, flush=True)
            continue
        row = json.loads(lines[-1][len("RESULT "):])
        row["case_seconds"] = time.perf_counter() - case_start
        rows.append(row)
        print(f"[{index + 1}/{len(cases)}] {case}: {row['rate']:.4g} {row['unit']}, peak RSS "
              f"{row['peak_rss_mb']:.0f} MB ({row['case_seconds']:.0f} s)", file=sys.stderr, flush=True)
    wall = time.perf_counter() - wall_start
    header = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_description(),
              "tf_version": rows[0]["tf_version"] if rows else "", "python": platform.python_version(),
              "commit": git_commit(), "wall_seconds": wall, "load_average_at_end": os.getloadavg()[0]}
    print(f"{header['date']}; {header['machine']}; TensorFlow {header['tf_version']}, Python "
          f"{header['python']}; commit {header['commit']}; run_all.py took {wall / 60:.1f} min "
          f"(load average at the end {header['load_average_at_end']:.1f})\n")
    print(markdown_table(rows, magenta_here))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"header": header, "rows": rows}, handle, indent=2)
    if len(rows) < len(cases):
        sys.exit(1)


if __name__ == "__main__":
    main()
