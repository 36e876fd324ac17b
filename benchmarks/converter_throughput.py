#!/usr/bin/env python
"""Throughput of the data side: converters alone, and the tf.data pipeline that wraps them.

For cat-mel_2bar_small (the packaged folk tunes) and hierdec-trio_16bar (synthetic seeded
trios, since folk tunes have one instrument), prints
  - to_tensors in 'train' mode: NoteSequences/s and examples/s (one Python thread);
  - get_dataset(is_training=True): batches pulled for --seconds, without cache (every
    example converted, augmentation included) and with cache (after the first pass).

    python benchmarks/converter_throughput.py --seconds 10
"""
import argparse
import copy
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import note_seq  # noqa: E402

from musicvae_tf import configs, data  # noqa: E402

DRUM_PATTERN = {0: 36, 4: 42, 8: 38, 12: 42, 2: 42, 6: 42, 10: 42, 14: 42}  # 16th steps


def synthetic_trio(rng, bars=24, qpm=120.0):
    """A NoteSequence with melody (program 0), bass (program 33) and drums, in 4/4."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    step = 60.0 / qpm / 4
    root = int(rng.integers(55, 67))
    for bar in range(bars):
        start = bar * 16
        t = 0
        while t < 16:  # melody: random durations of 1-4 steps around the root
            length = int(rng.integers(1, 5))
            pitch = root + int(rng.choice([0, 2, 4, 5, 7, 9, 11, 12]))
            sequence.notes.add(pitch=pitch, velocity=90, instrument=0, program=0,
                               start_time=(start + t) * step,
                               end_time=(start + min(t + length, 16)) * step)
            t += length
        for beat in range(4):  # bass: one note per beat
            sequence.notes.add(pitch=root - 24 + int(rng.choice([0, 7])), velocity=80,
                               instrument=1, program=33, start_time=(start + 4 * beat) * step,
                               end_time=(start + 4 * beat + 3) * step)
        for offset, pitch in DRUM_PATTERN.items():
            sequence.notes.add(pitch=pitch, velocity=100, instrument=9, is_drum=True,
                               start_time=(start + offset) * step,
                               end_time=(start + offset + 1) * step)
    sequence.total_time = bars * 16 * step
    return sequence


def load_folk_sequences(split="train"):
    """(path, NoteSequences) of the packaged folk tunes' `split`."""
    path = data.default_examples_path(split)
    return path, [note_seq.NoteSequence.FromString(r)
                  for r in tf.data.TFRecordDataset(path).as_numpy_iterator()]


def converter_rate(converter, sequences, min_seconds):
    """(NoteSequences/s, examples/s) of `converter.to_tensors` in train mode, over whole passes
    through `sequences` until `min_seconds` have passed."""
    converter = copy.deepcopy(converter)
    converter.set_mode("train")
    done = examples = 0
    start = time.perf_counter()
    while True:
        for sequence in sequences:
            examples += len(converter.to_tensors(sequence).lengths)
            done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed, examples / elapsed


def pipeline_rate(config, path, seconds, cache):
    dataset = data.get_dataset(config, is_training=True, cache_dataset=cache, examples_path=path)
    iterator = iter(dataset)
    warmup = 1  # build and start the pipeline before timing
    if cache:  # time the cached passes only: first finish one pass over the data
        converter = copy.deepcopy(config.data_converter)
        converter.set_mode("train")
        warmup += data.count_examples(path, converter) // config.hparams.batch_size + 1
    for _ in range(warmup):
        next(iterator)
    batches = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        next(iterator)
        batches += 1
    elapsed = time.perf_counter() - start
    return batches / elapsed, batches * config.hparams.batch_size / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--mel_batch_size", type=int, default=64)
    parser.add_argument("--trio_batch_size", type=int, default=32)
    parser.add_argument("--num_trios", type=int, default=48)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="musicvae_bench_")
    rng = np.random.default_rng(0)
    trio_path = os.path.join(workdir, "trios.tfrecord")
    trios = [synthetic_trio(rng) for _ in range(args.num_trios)]
    with tf.io.TFRecordWriter(trio_path) as writer:
        for sequence in trios:
            writer.write(sequence.SerializeToString())
    folk_path, folk = load_folk_sequences("train")

    cases = (("cat-mel_2bar_small", folk, folk_path, args.mel_batch_size),
             ("hierdec-trio_16bar", trios, trio_path, args.trio_batch_size))
    print(f"tf {tf.__version__}, {os.cpu_count()} CPU cores, {args.seconds:.0f} s per figure")
    for name, sequences, path, batch_size in cases:
        config = configs.CONFIG_MAP[name]
        hparams = copy.deepcopy(config.hparams)
        hparams.parse(f"batch_size={batch_size}")
        config = config._replace(hparams=hparams,
                                 data_converter=copy.deepcopy(config.data_converter))
        ns_rate, ex_rate = converter_rate(config.data_converter, sequences, args.seconds)
        print(f"{name}: converter to_tensors (train mode, {len(sequences)} NoteSequences): "
              f"{ns_rate:.1f} NoteSequences/s, {ex_rate:.1f} examples/s")
        for cache in (False, True):
            batch_rate, example_rate = pipeline_rate(config, path, args.seconds, cache)
            print(f"{name}: get_dataset(is_training=True, cache_dataset={cache}), "
                  f"batch {batch_size}: {batch_rate:.2f} batches/s, {example_rate:.1f} examples/s")


if __name__ == "__main__":
    main()
