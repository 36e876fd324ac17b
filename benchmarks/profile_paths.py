#!/usr/bin/env python
"""Where the time of each path goes: TensorFlow's profiler, op self-times grouped by kind.

    python benchmarks/profile_paths.py                      # train-2bar sample-2bar sample-hierdec
    python benchmarks/profile_paths.py --paths train-hierdec --calls 1

For each path (full-size hparams, random weights and in-memory batches as in run_all.py): a
warm-up call, then --calls profiled calls. Prints, per path, the wall per call and the share of it
spent in each group of ops (host self-time summed over the ops of the group, so with two cores
busy at once the op time can exceed the wall):
  matmul       MatMul / BatchMatMul / Einsum (the products model_flops.py counts)
  elementwise  gate nonlinearities, adds, multiplies, selects, concats and splits, casts
  loop         while-loop bookkeeping: TensorArray / TensorList reads and writes, slices,
               the loop's own control ops
  sampling     random draws (categorical), argmax, one-hot, gathers
  other        everything else (e.g. the optimizer's updates)
as shares of the op time (both cores together), next to the profiler's idle time (a thread
waiting: the step-by-step dependency, Python, dispatch). For the sampling paths the wall of
TrainedModel.sample (XLA path) and of its NoteSequence conversion (`from_tensors`) alone are
measured directly.
The sampling paths are profiled on the graph path (`jit_compile=False`): an XLA call is one
fused op for the profiler; its wall is printed beside it.
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GROUPS = [
    ("matmul", ("MatMul", "BatchMatMul", "Einsum", "FusedMatMul", "_FusedMatMul")),
    ("sampling", ("Multinomial", "StatelessMultinomial", "RandomCategorical", "ArgMax", "OneHot",
                  "GatherV2", "ResourceGather", "StatelessRandom", "RandomUniform")),
    ("loop", ("TensorList", "TensorArray", "While", "StatelessWhile", "StridedSlice", "Slice",
              "Enter", "Exit", "NextIteration", "Merge", "Switch", "LoopCond", "Identity",
              "Less", "LogicalAnd", "LogicalNot", "All", "Const", "Shape", "Pack", "Fill")),
    ("elementwise", ("Sigmoid", "Tanh", "Mul", "AddV2", "Add", "Sub", "BiasAdd", "Select",
                     "ConcatV2", "Concat", "Split", "Cast", "Where", "Neg", "Square", "RealDiv",
                     "Softmax", "Maximum", "Minimum", "Exp", "Log", "Relu", "Transpose",
                     "Reshape", "Pad", "Tile", "ExpandDims", "Sum", "Mean", "Max", "AddN",
                     "ZerosLike", "OnesLike")),
]
PATHS = ("train-2bar", "train-hierdec", "sample-2bar", "sample-hierdec")


def group_of(op_type):
    # oneDNN's rewrites rename ops where TensorFlow turns it on (e.g. Intel CPUs with AVX-512):
    # _MklMatMul, _MklEinsum, _MklNativeFusedMatMul, _MklBatchMatMulV2, _MklTranspose, ...
    for prefix in ("_MklNative", "_Mkl"):
        if op_type.startswith(prefix):
            op_type = op_type[len(prefix):]
            break
    for name, prefixes in GROUPS:
        if any(op_type == p or op_type.startswith(p) for p in prefixes):
            return name
    return "other"


def op_self_times(xplane_path):
    """{op type: host self-time in s} from a profiler trace (the profiler's framework op stats)."""
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin as plugin

    data, ok = plugin.xspace_to_tools_data([xplane_path], "framework_op_stats", {})
    if not ok:
        raise RuntimeError("the profiler could not read its trace")
    table = json.loads(data)[0]
    columns = [c["id"] for c in table["cols"]]
    kind, self_time = columns.index("type"), columns.index("total_self_time")
    times = {}
    for row in table["rows"]:
        cells = [c.get("v") if c else None for c in row["c"]]
        if cells[columns.index("host_or_device")] != "Host":
            continue
        times[cells[kind]] = times.get(cells[kind], 0.0) + cells[self_time] / 1e6
    return times


def profile(function, calls, trace_dir):
    """Wall per call and {op type: self-time per call} over `calls` profiled calls."""
    import tensorflow as tf

    function()  # tracing / compiling outside the profile
    tf.profiler.experimental.start(trace_dir)
    start = time.perf_counter()
    for _ in range(calls):
        function()
    wall = (time.perf_counter() - start) / calls
    tf.profiler.experimental.stop()
    path = sorted(glob.glob(os.path.join(trace_dir, "**", "*.xplane.pb"), recursive=True))[-1]
    return wall, {k: v / calls for k, v in op_self_times(path).items()}


def path_function(path):
    """(function running one call of `path`, its description, extra timings function or None)."""
    import numpy as np
    import tensorflow as tf

    import train_speed
    from musicvae_tf import configs

    name = {"2bar": "cat-mel_2bar_small", "hierdec": "hierdec-mel_16bar"}[path.split("-")[1]]
    if path.startswith("train"):
        from musicvae_tf.training import loop

        batch = 64 if path == "train-2bar" else 16
        config = configs.get_config(name, f"batch_size={batch}")
        trainer = loop.Trainer(config, noise_seed=1)
        iterator = iter(trainer.distribute(train_speed.random_dataset(config, batch)))
        step = trainer.step_function(trainer.distribute(train_speed.random_dataset(config, batch)))

        def call():
            tensors, _ = step(next(iterator), tf.constant(0.0))
            float(tensors["loss"])

        return call, f"{name} training step, batch {batch}", None
    from musicvae_tf.trained_model import TrainedModel

    batch = 64 if path == "sample-2bar" else 8
    config = configs.get_config(name)
    model = TrainedModel(config, batch_size=batch)
    length = config.hparams.max_seq_len
    z = tf.constant(np.random.default_rng(0).normal(size=(batch, config.hparams.z_size)), tf.float32)

    def call():
        model.model.sample(n=batch, length=length, z=z, temperature=0.5, jit_compile=False).samples.numpy()

    def extra():
        """Wall of TrainedModel.sample (XLA path), and of its NoteSequence conversion alone."""
        model.sample(n=batch, length=length, temperature=0.5)
        start = time.perf_counter()
        model.sample(n=batch, length=length, temperature=0.5)
        wall = time.perf_counter() - start
        samples = list(model.model.sample(n=batch, length=length, z=z, temperature=0.5).samples.numpy())
        start = time.perf_counter()
        model._from_tensors(samples, model._c_input_array(None))
        return {"TrainedModel.sample wall (XLA)": wall, "tensor -> NoteSequence": time.perf_counter() - start}

    return call, f"{name} decoder sampling loop (graph path), batch {batch}, {length} steps", extra


def report(path, description, wall, times, extra):
    idle = times.pop("IDLE", 0.0)  # the profiler's record of a thread waiting for work
    groups = {}
    for op_type, seconds in times.items():
        groups[group_of(op_type)] = groups.get(group_of(op_type), 0.0) + seconds
    busy = sum(groups.values()) or 1e-12
    lines = [f"{path}: {description}: {wall * 1e3:.1f} ms per call; op time {busy * 1e3:.0f} ms "
             f"(both cores), idle {idle * 1e3:.0f} ms"]
    for name in ("matmul", "elementwise", "loop", "sampling", "other"):
        if name in groups:
            lines.append(f"  {name:12s} {groups[name] * 1e3:9.1f} ms  {100 * groups[name] / busy:5.1f}% of op time")
    top = sorted(times.items(), key=lambda item: -item[1])[:8]
    lines.append("  top ops: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in top))
    for name, seconds in (extra or {}).items():
        lines.append(f"  {name}: {seconds * 1e3:.1f} ms")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=["train-2bar", "sample-2bar", "sample-hierdec"])
    parser.add_argument("--calls", type=int, default=3, help="profiled calls per path")
    args = parser.parse_args()
    trace_root = tempfile.mkdtemp(prefix="profile_paths_")
    try:
        for path in args.paths:
            function, description, extra = path_function(path)
            wall, times = profile(function, args.calls, os.path.join(trace_root, path))
            print(report(path, description, wall, times, extra() if extra else None), flush=True)
    finally:
        shutil.rmtree(trace_root, ignore_errors=True)


if __name__ == "__main__":
    main()
