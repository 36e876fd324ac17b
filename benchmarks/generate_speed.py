"""Generation speed on this machine (CPU): the music_vae_generate CLI and TrainedModel.sample.

    python benchmarks/generate_speed.py [--repeats 3] [--skip_cli] [--skip_hierdec]

Models are full size (the configs' own hparams) with random weights: speed does not depend on
the weight values. Prints one line per measurement.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _time_cli(checkpoint_dir, num_outputs, output_dir):
    script = shutil.which("music_vae_generate") or os.path.join(os.path.dirname(sys.executable),
                                                                "music_vae_generate")
    command = [script, f"--checkpoint_file={checkpoint_dir}", "--config=cat-mel_2bar_small",
               "--mode=sample", f"--num_outputs={num_outputs}", f"--output_dir={output_dir}",
               "--log=WARNING"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"music_vae_generate failed: {result.stderr.strip().splitlines()[-1:]}")
    return elapsed


def time_sample(config_name, batch_size, repeats):
    """TrainedModel.sample at full size, random weights: (build s, first call s, best s, samples/s)."""
    from musicvae_tf import configs
    from musicvae_tf.trained_model import TrainedModel

    config = configs.get_config(config_name)
    start = time.perf_counter()
    model = TrainedModel(config, batch_size=batch_size)
    build = time.perf_counter() - start
    length = config.hparams.max_seq_len
    start = time.perf_counter()
    model.sample(n=batch_size, length=length, temperature=0.5)  # traces the sampling graph
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(n=batch_size, length=length, temperature=0.5)
        times.append(time.perf_counter() - start)
    best = min(times)
    return build, first, best, batch_size / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip_cli", action="store_true")
    parser.add_argument("--skip_hierdec", action="store_true")
    args = parser.parse_args()

    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    workdir = tempfile.mkdtemp(prefix="musicvae_bench_")
    try:
        if not args.skip_cli:
            from musicvae_tf import checkpoints
            from musicvae_tf.model import build_model

            checkpoint_dir = os.path.join(workdir, "cat-mel_2bar_small")
            checkpoints.save_model(build_model("cat-mel_2bar_small", config_name="cat-mel_2bar_small"),
                                   checkpoint_dir)
            for num_outputs in (64,):
                wall = _time_cli(checkpoint_dir, num_outputs, os.path.join(workdir, f"out{num_outputs}"))
                print(f"music_vae_generate cat-mel_2bar_small --num_outputs={num_outputs} "
                      f"(--max_batch_size=8): {wall:.1f} s wall, process start to exit")
        cases = [("cat-mel_2bar_small", 64)]
        if not args.skip_hierdec:
            cases.append(("hierdec-mel_16bar", 8))
        for config_name, batch_size in cases:
            build, first, best, rate = time_sample(config_name, batch_size, args.repeats)
            print(f"TrainedModel.sample {config_name} batch {batch_size}: build {build:.1f} s, "
                  f"first call (tracing) {first:.1f} s, then {best:.2f} s per batch = "
                  f"{rate:.1f} samples/s (best of {args.repeats})")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
