"""Beam's output against the single-process path's on the packaged folk tunes: equal or not, with counts.

    python benchmarks/beam_equality.py [--workers=2] [--preprocess_split=eval] [--json=out.json]

Conversion: the packaged folk tunes (train and eval splits) written as MIDI files, plus three
files no reader can read, converted by music_vae_convert's single-process path and by Beam's
DirectRunner with --workers processes; the NoteSequences (sorted by id) and the skipped-file
lines must be equal. Preprocessing (cat-mel_2bar_small): folk_<split>.tfrecord through the
single-process steps (ExampleExtractor, merge_duplicates, split_of) and through
music_vae_preprocess's pipeline on DirectRunner with --workers processes; every written example
(split, tensors, source ids, decoded NoteSequence) must be equal. Exit status 1 when anything differs.
The tests do the same on a small corpus (tests/pipelines/test_beam_vs_single_process.py).
"""

import argparse
import collections
import json
import os
import shutil
import tempfile
import time

import note_seq


def _records(pattern):
    import tensorflow as tf

    out = []
    for filename in sorted(tf.io.gfile.glob(pattern)):
        compression = "GZIP" if filename.endswith(".gz") else ""
        out.extend(tf.data.TFRecordDataset(filename, compression_type=compression).as_numpy_iterator())
    return out


def _midi_corpus(folder):
    from musicvae_tf import data

    count = 0
    for split in ("train", "eval"):
        for record in _records(data.default_examples_path(split)):
            sequence = note_seq.NoteSequence.FromString(record)
            note_seq.sequence_proto_to_midi_file(sequence, os.path.join(folder, f"{split}_{count:04d}.mid"))
            count += 1
    with open(os.path.join(folder, "empty.mid"), "wb"):
        pass
    with open(os.path.join(folder, "garbage.mid"), "wb") as handle:
        handle.write(b"MThd\x00\x00\x00\x06not a midi file")
    with open(os.path.join(folder, "broken.abc"), "w") as handle:
        handle.write("X:1\nT:broken\nM:4/4\nK:Zz\nG((]\n")
    return count


def _sorted_sequences(path):
    return sorted((note_seq.NoteSequence.FromString(r) for r in _records(path)), key=lambda s: s.id)


def compare_convert(work, workers):
    from musicvae_tf.cli import convert
    from musicvae_tf.pipelines import beam_runner, convert as beam_convert

    corpus = os.path.join(work, "folk")
    os.makedirs(corpus)
    tunes = _midi_corpus(corpus)
    single, beamed = os.path.join(work, "single.tfrecord"), os.path.join(work, "beam.tfrecord")
    start = time.time()
    _, _, single_errors = convert.convert_directory(corpus, single, progress=False)
    single_seconds = time.time() - start
    options = beam_runner.make_options("DirectRunner", extra_args=[
        f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"])
    start = time.time()
    _, _, beam_errors = beam_convert.convert_directory_beam(corpus, beamed, options)
    beam_seconds = time.time() - start
    a, b = _sorted_sequences(single), _sorted_sequences(beamed)
    return {"files": tunes + 3, "note_sequences_single": len(a), "note_sequences_beam": len(b),
            "skipped_single": len(single_errors), "skipped_beam": len(beam_errors),
            "equal_note_sequences": a == b, "equal_skipped": single_errors == beam_errors,
            "seconds_single": round(single_seconds, 1), "seconds_beam": round(beam_seconds, 1)}


def _written_examples(output_dir):
    from musicvae_tf.data import example_records
    from musicvae_tf.pipelines import preprocess

    written = {}
    for split in preprocess.SPLITS:
        for record in _records(os.path.join(output_dir, f"{split}-*{preprocess.FILE_SUFFIX}")):
            example = example_records.decode_example(record)
            key = example_records.example_key(example["inputs"], example["outputs"], example["controls"],
                                              example["lengths"][0])
            written[key] = (split, record)
    return written


def compare_preprocess(work, workers, split_name, eval_fraction=0.1):
    from musicvae_tf import configs, data
    from musicvae_tf.pipelines import beam_runner, preprocess

    path = data.default_examples_path(split_name)
    converter = configs.get_config("cat-mel_2bar_small").data_converter
    start = time.time()
    extractor = preprocess.ExampleExtractor(converter)
    by_key = collections.defaultdict(list)
    for record in _records(path):
        source = preprocess.source_id_of(record)
        for key, payload in extractor(record):
            by_key[key].append((payload, source))
    expected = {}
    for key, payloads in by_key.items():
        example, ids = preprocess.merge_duplicates(payloads)
        expected[key] = (preprocess.split_of(ids, eval_fraction), example)
    single_seconds = time.time() - start
    output = os.path.join(work, "examples")
    options = beam_runner.make_options("DirectRunner", extra_args=[
        f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"])
    start = time.time()
    preprocess.preprocess("cat-mel_2bar_small", path, output, options, eval_fraction=eval_fraction)
    beam_seconds = time.time() - start
    written = _written_examples(output)
    splits = collections.Counter(split for split, _ in written.values())
    return {"input": os.path.basename(path), "unique_examples_single": len(expected),
            "examples_beam": len(written), "train_beam": splits["train"], "eval_beam": splits["eval"],
            "equal_examples": written == expected,
            "seconds_single": round(single_seconds, 1), "seconds_beam": round(beam_seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--preprocess_split", default="eval", choices=["train", "eval"])
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="beam_equality_")
    try:
        results = {"workers": args.workers, "convert": compare_convert(os.path.join(work, "c"), args.workers),
                   "preprocess": compare_preprocess(os.path.join(work, "p"), args.workers, args.preprocess_split)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    equal = (results["convert"]["equal_note_sequences"] and results["convert"]["equal_skipped"]
             and results["preprocess"]["equal_examples"])
    return 0 if equal else 1


if __name__ == "__main__":
    raise SystemExit(main())
