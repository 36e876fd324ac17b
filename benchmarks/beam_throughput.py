"""Throughput of the Beam pipelines against the single-process paths, on the packaged folk tunes.

    python benchmarks/beam_throughput.py [--workers=2] [--json=out.json]

Conversion (files/s): the 719 packaged tunes written as MIDI files, converted by
music_vae_convert's single-process path, its --num_workers process pool, and Beam's DirectRunner
(one in-memory worker; --workers processes in multi_processing mode). Preprocessing (examples/s,
cat-mel_2bar_small): folk_train.tfrecord through the same per-record extraction in one Python
loop (no Beam, no dedup or writing), and music_vae_preprocess's pipeline on DirectRunner with one
and with --workers workers. Wall-clock times include each runner's start-up (worker processes
import TensorFlow). The load average before each run is printed: on a shared machine the figures
are only comparable within one run of this script.
"""

import argparse
import json
import os
import shutil
import tempfile
import time


def _load():
    return round(os.getloadavg()[0], 2)


def _midi_corpus(folder):
    import note_seq
    import tensorflow as tf

    from musicvae_tf import data

    count = 0
    for split in ("train", "eval"):
        for record in tf.data.TFRecordDataset(data.default_examples_path(split)).as_numpy_iterator():
            sequence = note_seq.NoteSequence.FromString(record)
            note_seq.sequence_proto_to_midi_file(sequence, os.path.join(folder, f"{split}_{count:04d}.mid"))
            count += 1
    return count


def _timed(label, function, results, unit_count, unit):
    load = _load()
    start = time.time()
    function()
    seconds = time.time() - start
    results[label] = {"seconds": round(seconds, 2), f"{unit}_per_s": round(unit_count / seconds, 2),
                      "load_before": load}
    print(f"{label:48s} {seconds:7.1f} s  {unit_count / seconds:8.1f} {unit}/s  (load {load})", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)

    import tensorflow as tf

    from musicvae_tf import configs, data
    from musicvae_tf.cli import convert
    from musicvae_tf.pipelines import beam_runner, convert as beam_convert, preprocess

    work = tempfile.mkdtemp(prefix="beam_throughput_")
    results = {"workers": args.workers, "cpus": os.cpu_count()}
    try:
        corpus = os.path.join(work, "folk")
        os.makedirs(corpus)
        files = _midi_corpus(corpus)
        out = os.path.join(work, "notes.tfrecord")
        multi = [f"--direct_num_workers={args.workers}", "--direct_running_mode=multi_processing"]
        _timed("convert: single process", lambda: convert.convert_directory(
            corpus, out, overwrite=True, progress=False), results, files, "files")
        _timed(f"convert: process pool, {args.workers} workers", lambda: convert.convert_directory(
            corpus, out, num_workers=args.workers, overwrite=True, progress=False), results, files, "files")
        _timed("convert: Beam DirectRunner, 1 worker", lambda: beam_convert.convert_directory_beam(
            corpus, out, beam_runner.make_options("DirectRunner"), overwrite=True), results, files, "files")
        _timed(f"convert: Beam DirectRunner, {args.workers} workers", lambda: beam_convert.convert_directory_beam(
            corpus, out, beam_runner.make_options("DirectRunner", extra_args=multi), overwrite=True),
               results, files, "files")

        train = data.default_examples_path("train")
        config = configs.get_config("cat-mel_2bar_small")
        records = list(tf.data.TFRecordDataset(train).as_numpy_iterator())
        extractor = preprocess.ExampleExtractor(config.data_converter)
        extractor(records[0])  # imports and first-call set-up outside the timing
        total = sum(len(extractor(r)) for r in records)  # the count every run below produces
        _timed("preprocess: one Python loop (extraction only)",
               lambda: [extractor(r) for r in records], results, total, "examples")
        for label, extra in (("preprocess: Beam DirectRunner, 1 worker", []),
                             (f"preprocess: Beam DirectRunner, {args.workers} workers", multi)):
            target = os.path.join(work, label.split(",")[-1].strip().replace(" ", "_"))
            _timed(label, lambda: preprocess.preprocess(
                "cat-mel_2bar_small", train, target, beam_runner.make_options("DirectRunner", extra_args=extra)),
                   results, total, "examples")
        results["examples"], results["files"] = total, files
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
