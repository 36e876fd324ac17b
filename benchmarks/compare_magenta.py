#!/usr/bin/env python
"""The port against Magenta's original MusicVAE, side by side on this machine, in one run.

    python benchmarks/compare_magenta.py --magenta_path /path/to/magenta \\
        --magenta_python /path/to/magenta_venv/bin/python
    python benchmarks/compare_magenta.py ... --cases train-2bar sample-2bar --rounds 5

Run it from the port's venv. Magenta's side runs in its own venv (a checkout plus the packages
benchmarks/magenta_reference.py's docstring lists) through magenta_reference.py's child runs; the
port's side through benchmarks/run_all.py's cases and the port's own `music_vae_generate`. Every
measurement is its own subprocess (so its peak RSS is its own), and each case alternates the two
sides round by round: Magenta, port, Magenta, port, ... so that a drift of the machine's speed hits
both. A pair is one round's two figures; its ratio says how many times faster the port is
(port rate / Magenta rate, or Magenta seconds / port seconds).

Cases (full-size hparams everywhere):
  train-2bar     cat-mel_2bar_small, batch 64: mean seconds per step over the timed steps (Magenta:
                 session.run of its train op in music_vae_train.train; port: the training loop
                 of music_vae_train), random one-hot batches held in memory
  train-hierdec  hierdec-mel_16bar, batch 16 (Magenta: ~20 GB and minutes per step; few rounds)
  sample-2bar    TrainedModel.sample(n=64, length=32, temperature=0.5), NoteSequences out, best of
                 --repeats calls after a first one
  sample-hierdec likewise, hierdec-mel_16bar, n=8, length=256
  generate-2bar, generate-hierdec
                 wall of `music_vae_generate --mode=sample --num_outputs=64` (default
                 --max_batch_size=8), process start to exit, MIDI files written and nothing else
                 (the port with --norender_wav: its default also writes WAVs); each side
                 samples its own checkpoint of a 1-step training run at the same sizes
  matmul         float32 GFLOP/s of a 2048 x 2048 product chain (train_speed.matmul_gflops),
                 once per round in the port's venv; the port's training and sampling cases also
                 measure it right after timing, and "of matmul" is their FLOP rate
                 (benchmarks/model_flops.py) over it
Peak memory is each subprocess's maximum RSS (ru_maxrss through wait4 for the CLI runs).

Where TensorFlow turns oneDNN on by default (Intel CPUs with AVX-512), Magenta's full-size
hierdec-mel_16bar training graph needs more than 24 GB even at batch 1 and is killed for memory.
A Magenta training run that fails before its first timed step is then run once more with
TF_ENABLE_ONEDNN_OPTS=0 (as TensorFlow runs on CPUs where oneDNN is off by default), and its
figures are marked "oneDNN off" in the report; the checkpoints Magenta's sampling and generate
cases read (untimed 1-step runs; the weights' values do not matter for speed) are made the same way.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import magenta_reference  # noqa: E402  (stdlib only at import time)
import run_all  # noqa: E402

# name -> what each side runs. steps = (warmup, timed) for training; n for sampling and generating.
CASES = {
    "matmul": dict(kind="matmul"),
    "train-2bar": dict(kind="train", config="cat-mel_2bar_small", batch=64, warmup=5, timed=20),
    "train-hierdec": dict(kind="train", config="hierdec-mel_16bar", batch=16, warmup=1, timed=1),
    "sample-2bar": dict(kind="sample", config="cat-mel_2bar_small", batch=64),
    "sample-hierdec": dict(kind="sample", config="hierdec-mel_16bar", batch=8),
    "generate-2bar": dict(kind="generate", config="cat-mel_2bar_small", outputs=64),
    "generate-hierdec": dict(kind="generate", config="hierdec-mel_16bar", outputs=64),
}
DEFAULT_CASES = ["matmul", "train-2bar", "sample-2bar", "sample-hierdec", "generate-2bar",
                 "generate-hierdec", "train-hierdec"]
# Rounds per case unless --rounds says otherwise (Magenta's hierdec step takes minutes).
DEFAULT_ROUNDS = {"train-hierdec": 1, "sample-hierdec": 2, "generate-hierdec": 2}
UNITS = {"matmul": "GFLOP/s", "train": "examples/s", "sample": "samples/s", "generate": "s"}
LOWER_IS_BETTER = ("generate",)


# -- pure parts (tests/benchmarks/test_compare_magenta.py) --------------------------------------------------

def spread(values):
    """(min, median, max) of the figures that exist (None entries are runs that failed)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return min(present), statistics.median(present), max(present)


def pair_ratios(magenta, port, lower_is_better=False):
    """Per round: how many times faster the port is (None where either side has no figure)."""
    ratios = []
    for a, b in zip(magenta, port):
        if a is None or b is None or a <= 0 or b <= 0:
            ratios.append(None)
        else:
            ratios.append(a / b if lower_is_better else b / a)
    return ratios


def flop_fraction(rate, gflop_per_item, matmul_gflops):
    """Achieved GFLOP/s (rate x GFLOP per item) over the machine's matmul GFLOP/s."""
    if not rate or not gflop_per_item or not matmul_gflops:
        return None
    return rate * gflop_per_item / matmul_gflops


def rounds_for(case, rounds_flag):
    """--rounds N applies to every case; without it each case has its default."""
    return rounds_flag if rounds_flag else DEFAULT_ROUNDS.get(case, 3)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--magenta_path", required=True, help="checkout holding magenta/models/music_vae")
    parser.add_argument("--magenta_python", required=True, help="python of the venv Magenta runs in")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=DEFAULT_CASES)
    parser.add_argument("--rounds", type=int, default=0,
                        help="rounds (Magenta, port) per case; default 3, train-hierdec 1, the other hierdec cases 2")
    parser.add_argument("--repeats", type=int, default=3, help="timed sample calls per run")
    parser.add_argument("--step_limit", type=float, default=900.0, help="seconds allowed per training step")
    parser.add_argument("--build_limit", type=float, default=600.0, help="seconds allowed for graph building")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument("--port_checkpoint", nargs=2, metavar=("CONFIG", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds < 0 or args.repeats < 1:
        parser.error("--rounds must be at least 0 and --repeats at least 1")
    if args.port_checkpoint:
        return args
    if not os.path.isdir(os.path.join(args.magenta_path, "magenta", "models", "music_vae")):
        parser.error(f"{args.magenta_path} holds no magenta/models/music_vae")
    if not os.access(args.magenta_python, os.X_OK):
        parser.error(f"{args.magenta_python} is not an executable python")
    # magenta_reference's run_child reads these; compare_magenta does not wait for quiet itself
    # (run it in a quiet window).
    args.quiet_below, args.quiet_patience = 0.0, 0.0
    return args


# -- running one side ----------------------------------------------------------------------------

def _progress(text):
    print(f"  {text}", file=sys.stderr, flush=True)


def port_env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    env.pop("TF_USE_LEGACY_KERAS", None)  # magenta_reference sets it for Magenta's side only
    return env


def timed_process(command, env, time_limit=None):
    """Runs `command`; returns (exit status, wall s, peak RSS MB of that process, stderr tail)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               env=env)
    deadline = None if time_limit is None else start + time_limit
    # wait4 gives this child's own rusage; stderr is drained afterwards (kept small by --log).
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if deadline is not None and time.perf_counter() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    tail = process.stderr.read().strip().splitlines()[-3:]
    return process.returncode, wall, usage.ru_maxrss / 1024.0, tail


def port_case(case, spec, repeats):
    """A run_all.py case string for the port's side."""
    if spec["kind"] == "train":
        return f"train:{spec['config']}:{spec['batch']}:{spec['warmup']}+{spec['timed']}"
    if spec["kind"] == "sample":
        return f"sample:{spec['config']}:{spec['batch']}:1+{repeats}"
    return "matmul"


def run_port(args, case, spec):
    """One port measurement through run_all.py --one; -> figure dict or None."""
    command = [sys.executable, os.path.join(HERE, "run_all.py"), "--one", port_case(case, spec, args.repeats)]
    process = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=port_env())
    lines = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
    if process.returncode or not lines:
        _progress(f"port {case}: failed (exit status {process.returncode})")
        return None
    result = json.loads(lines[-1][len("RESULT "):])
    return {"value": result["rate"], "peak_rss_mb": result["peak_rss_mb"],
            "matmul_gflops": result.get("matmul_gflops"), "gflop_per_item": result.get("gflop_per_item"),
            "fraction_of_matmul": result.get("fraction_of_matmul")}


# TensorFlow's switch for its oneDNN graph rewrites; "0" is how it runs where it leaves them off
# by default (the AMD EPYC of docs/benchmarks.md).
ONEDNN_OFF = {"TF_ENABLE_ONEDNN_OPTS": "0"}
# (the exit status is not read here: on the Intel Xeon of docs/benchmarks.md it was the kernel's
# out-of-memory kill, -9, as its log showed)
ONEDNN_OFF_NOTE = "oneDNN off: with TensorFlow's defaults this run ended before its first timed step"


def run_magenta(args, case, spec, work_dir, env=None):
    """One measurement of Magenta's original; -> figure dict or None."""
    python = args.magenta_python
    if spec["kind"] == "train":
        steps = spec["warmup"] + spec["timed"]
        result, step_lines, timed_out = magenta_reference.run_child(
            args, "train", spec["config"], spec["batch"], "", steps,
            tempfile.mkdtemp(dir=work_dir, prefix=case + "-"),
            args.build_limit + args.step_limit * steps, python=python, env=env)
        if result is None and not timed_out and len(step_lines) <= spec["warmup"] and env is None:
            _progress(f"Magenta {case}: failed before its first timed step; once more with oneDNN off")
            figure = run_magenta(args, case, spec, work_dir, env=dict(os.environ, **ONEDNN_OFF))
            if figure is not None:
                figure["note"] = "; ".join(filter(None, [ONEDNN_OFF_NOTE, figure.get("note")]))
            return figure
        if result is None:
            run_seconds = [float(line.split(" run ")[1].split(" s")[0]) for line in step_lines]
            timed = run_seconds[spec["warmup"]:]
            _progress(f"Magenta {case}: {'timed out' if timed_out else 'stopped'} after "
                      f"{len(run_seconds)} steps")
            if not timed:
                return None
            # A stopped run still has its finished steps (e.g. stopped after the last one).
            return {"value": spec["batch"] / statistics.mean(timed), "peak_rss_mb": None,
                    "note": f"stopped after {len(run_seconds)} steps"}
        timed = result["run_seconds"][spec["warmup"]:]
        return {"value": spec["batch"] / statistics.mean(timed), "peak_rss_mb": result["peak_rss_mb"],
                "seconds_per_step": statistics.mean(timed)}
    if spec["kind"] == "sample":
        checkpoint = magenta_checkpoint(args, spec["config"], work_dir)
        if checkpoint is None:
            return None
        result, _, _ = magenta_reference.run_child(args, "sample", spec["config"], spec["batch"], "", 0,
                                                   checkpoint, args.build_limit, python=python)
        if result is None:
            return None
        return {"value": result["samples_per_sec"], "peak_rss_mb": result["peak_rss_mb"]}
    raise ValueError(spec["kind"])


_CHECKPOINTS = {}


def magenta_checkpoint(args, config, work_dir):
    """A checkpoint of Magenta's model from a 1-step training run at batch 1 (made once)."""
    key = ("magenta", config)
    if key not in _CHECKPOINTS:
        directory = os.path.join(work_dir, f"magenta-{config}-checkpoint")
        for env in (None, dict(os.environ, **ONEDNN_OFF)):
            if env is not None:
                _progress(f"Magenta {config}: the checkpoint run failed; once more with oneDNN off")
                shutil.rmtree(directory, ignore_errors=True)
            made, _, _ = magenta_reference.run_child(args, "train", config, 1, "", 1, directory,
                                                     args.build_limit + args.step_limit,
                                                     python=args.magenta_python, env=env)
            if made is not None:
                break
        _CHECKPOINTS[key] = directory if made is not None else None
        if made is None:
            _progress(f"Magenta {config}: could not make a checkpoint")
    return _CHECKPOINTS[key]


def port_checkpoint(config, work_dir):
    """A checkpoint of the port's model from a 1-step music_vae_train-style run at batch 1."""
    key = ("port", config)
    if key not in _CHECKPOINTS:
        directory = os.path.join(work_dir, f"port-{config}-checkpoint")
        process = subprocess.run([sys.executable, os.path.abspath(__file__), "--magenta_path", "",
                                  "--magenta_python", "", "--port_checkpoint", config, directory],
                                 env=port_env())
        _CHECKPOINTS[key] = directory if process.returncode == 0 else None
        if process.returncode:
            _progress(f"port {config}: could not make a checkpoint")
    return _CHECKPOINTS[key]


def make_port_checkpoint(config_name, directory):
    import train_speed
    from musicvae_tf import configs
    from musicvae_tf.training import loop

    config = configs.get_config(config_name, "batch_size=1")
    trainer = loop.Trainer(config, train_dir=directory, noise_seed=1)
    trainer.train(train_speed.random_dataset(config, 1), num_steps=1, save_checkpoint_secs=None)


def run_generate(args, side, spec, work_dir):
    """Wall of one music_vae_generate run of `side` ('magenta' or 'port'); -> figure dict or None."""
    config = spec["config"]
    output_dir = tempfile.mkdtemp(dir=work_dir, prefix=f"{side}-generate-")
    if side == "magenta":
        checkpoint = magenta_checkpoint(args, config, work_dir)
        if checkpoint is None:
            return None
        command = magenta_reference.child_command(args, "generate", config, steps=spec["outputs"],
                                                  train_dir=checkpoint, output_dir=output_dir,
                                                  python=args.magenta_python)
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    else:
        checkpoint = port_checkpoint(config, work_dir)
        if checkpoint is None:
            return None
        command = port_generate_command(checkpoint, config, spec["outputs"], output_dir)
        env = port_env()
    status, wall, rss, tail = timed_process(command, env, args.build_limit)
    midi_files, other_files = written_files(output_dir)
    shutil.rmtree(output_dir, ignore_errors=True)
    if status or midi_files != spec["outputs"] or other_files:
        _progress(f"{side} generate {config}: exit status {status}, {midi_files} MIDI files, other files "
                  f"{other_files[:3]} (both sides must write the MIDI files only); {tail}")
        return None
    return {"value": wall, "peak_rss_mb": rss}


def port_generate_command(checkpoint, config, outputs, output_dir):
    """The port's music_vae_generate writing what Magenta's writes: MIDI files only (its default
    also renders a WAV per output)."""
    script = os.path.join(os.path.dirname(sys.executable), "music_vae_generate")
    return [script, f"--checkpoint_file={checkpoint}", f"--config={config}", "--mode=sample",
            f"--num_outputs={outputs}", f"--output_dir={output_dir}", "--norender_wav", "--log=WARNING"]


def written_files(output_dir):
    """(number of .mid files, sorted names of the other files) in output_dir."""
    names = sorted(os.listdir(output_dir))
    midi = [name for name in names if name.endswith(".mid")]
    return len(midi), [name for name in names if not name.endswith(".mid")]


def measure(args, side, case, spec, work_dir):
    if spec["kind"] == "generate":
        return run_generate(args, side, spec, work_dir)
    if side == "port":
        return run_port(args, case, spec)
    return run_magenta(args, case, spec, work_dir)


# -- report --------------------------------------------------------------------------------------

def _fmt(value):
    if value is None:
        return "-"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _spread_text(values, unit=""):
    s = spread(values)
    if s is None:
        return "-"
    return f"{_fmt(s[0])} / {_fmt(s[1])} / {_fmt(s[2])}{unit}"


def case_report(case, spec, record):
    """Markdown lines for one case: the pairs, then min / median / max of each column."""
    unit = UNITS[spec["kind"]]
    if spec["kind"] == "matmul":
        values = [r["value"] if r else None for r in record["port"]]
        return [f"**matmul** (port venv, 2048x2048 float32 chain), GFLOP/s per round: "
                f"{', '.join(_fmt(v) for v in values)}; min / median / max {_spread_text(values)}"]
    magenta = [r["value"] if r else None for r in record["magenta"]]
    port = [r["value"] if r else None for r in record["port"]]
    ratios = pair_ratios(magenta, port, spec["kind"] in LOWER_IS_BETTER)
    label = {"train": f"batch {spec.get('batch')}, {spec.get('warmup')}+{spec.get('timed')} steps",
             "sample": f"n={spec.get('batch')}, best of the timed calls",
             "generate": f"--num_outputs={spec.get('outputs')}, process wall"}[spec["kind"]]
    lines = [f"**{case}** ({spec['config']}, {label}; {unit}; ratio = times faster than Magenta)", "",
             "| round | Magenta | port | ratio | Magenta peak RSS MB | port peak RSS MB | port of matmul |",
             "|---|---|---|---|---|---|---|"]
    for index, (a, b, ratio) in enumerate(zip(record["magenta"], record["port"], ratios)):
        fraction = (b or {}).get("fraction_of_matmul")
        lines.append(f"| {index + 1} | {_fmt(a and a['value'])} | {_fmt(b and b['value'])} | "
                     f"{'-' if ratio is None else f'x{ratio:.2f}'} | {_fmt(a and a.get('peak_rss_mb'))} | "
                     f"{_fmt(b and b.get('peak_rss_mb'))} | "
                     f"{'-' if fraction is None else f'{100 * fraction:.0f}%'} |")
    fractions = [(b or {}).get("fraction_of_matmul") for b in record["port"]]
    fractions = [100 * f if f is not None else None for f in fractions]
    lines.append(f"| min / median / max | {_spread_text(magenta)} | {_spread_text(port)} | "
                 f"{_spread_text(ratios)} | "
                 f"{_spread_text([(a or {}).get('peak_rss_mb') for a in record['magenta']])} | "
                 f"{_spread_text([(b or {}).get('peak_rss_mb') for b in record['port']])} | "
                 f"{_spread_text(fractions, '%')} |")
    notes = [f"Magenta round {index + 1}: {a['note']}" for index, a in enumerate(record["magenta"])
             if a and a.get("note")]
    return lines + ([""] + notes if notes else [])


def main(argv=None):
    args = parse_args(argv)
    if args.port_checkpoint:
        make_port_checkpoint(*args.port_checkpoint)
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    # A stopped run (SIGTERM, e.g. a time limit) still removes its checkpoints and MIDI files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work_dir = tempfile.mkdtemp(prefix="compare_magenta_")
    records = {}
    try:
        for case in args.cases:
            spec = CASES[case]
            record = records[case] = {"magenta": [], "port": []}
            for index in range(rounds_for(case, args.rounds)):
                sides = ["port"] if spec["kind"] == "matmul" else ["magenta", "port"]
                for side in sides:
                    _progress(f"{case} round {index + 1}: {side} ...")
                    begin = time.perf_counter()
                    figure = measure(args, side, case, spec, work_dir)
                    record[side].append(figure)
                    _progress(f"{case} round {index + 1}: {side} "
                              f"{_fmt(figure and figure['value'])} {UNITS[spec['kind']]} "
                              f"({time.perf_counter() - begin:.0f} s)")
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    header = (f"compare_magenta.py, {started:%Y-%m-%d %H:%M} UTC, {run_all.machine_description()}, "
              f"port at {run_all.git_commit()}, Magenta at {magenta_commit(args.magenta_path)}, took "
              f"{(datetime.datetime.now(datetime.timezone.utc) - started).total_seconds() / 60:.1f} min\n"
              f"port's packages: {package_versions(sys.executable)}; "
              f"Magenta's: {package_versions(args.magenta_python)}")
    print(header + "\n")
    for case in args.cases:
        print("\n".join(case_report(case, CASES[case], records[case])) + "\n")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"header": header, "cases": {c: dict(CASES[c], **records[c]) for c in args.cases}},
                      handle, indent=2)


VERSIONED = ("tensorflow", "keras", "tf-keras", "numpy", "ml_dtypes")


def package_versions(python):
    """'tensorflow 2.21.0, ...' of the packages in VERSIONED that `python`'s environment has
    (read from their metadata: nothing is imported)."""
    code = ("import importlib.metadata as m\n"
            f"for name in {VERSIONED!r}:\n"
            "    try: print(name, m.version(name))\n"
            "    except m.PackageNotFoundError: pass\n")
    try:
        result = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return ", ".join(result.stdout.split("\n")[:-1]) or "unknown"


def magenta_commit(path):
    """The commit a Magenta checkout is at: its git HEAD, or a COMMIT file beside an export."""
    try:
        return subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        try:
            with open(os.path.join(path, "COMMIT")) as handle:
                return handle.read().strip()
        except OSError:
            return "unknown commit"


if __name__ == "__main__":
    main()
