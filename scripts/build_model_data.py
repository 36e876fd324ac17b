#!/usr/bin/env python
"""Build the extra training / held-out data of the packaged models from music21's corpus.

Two sets, written as GZIP-compressed NoteSequence TFRecords beside the packaged folk tunes
(which stay as they are: folk_train / folk_eval, see scripts/build_folk_data.py):

- musicvae_tf/data/folk/folk_more_{train,eval}.tfrecord.gz: every other tune of the same four ABC
  collections (Aird, O'Neill, Ryan, Nottingham) whose bars hold four quarter notes (4/4, C, 2/2,
  C|) or two (2/4; re-barred as 4/4, two 2/4 bars to a 4/4 bar, so Magenta's 16-steps-per-bar
  melody converters take them). Tunes already packaged (same id or same notes) are skipped, so
  folk_eval stays held out; the meter is read from the ABC header before anything is parsed.
- musicvae_tf/data/chorales/chorales_{train,eval}.tfrecord.gz: Bach's four-part chorales (the 371
  of music21's `corpus.chorales.Iterator`) in 4/4: the soprano line as the melody, and chord
  symbols inferred from all four voices by note_seq's chord inference (two chords per bar), stored
  as CHORD_SYMBOL text annotations, which the chord converters read instead of inferring chords
  from the melody alone.

Held-out tunes are chosen here, by a seeded shuffle, before any training (eval_fraction of each
set). The build is deterministic (chunks converted in order, whatever the worker timing).

    python scripts/build_model_data.py                 # ~20 min of one core, progress on stderr
    python scripts/build_model_data.py --only=chorales --num_workers=1
"""
import argparse
import collections
import json
import multiprocessing
import os
import pathlib
import random
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import build_folk_data as folk  # noqa: E402  (one implementation of listing/converting ABC tunes)

DATA_DIR = folk.REPO_ROOT / "musicvae_tf" / "data"
# Meters whose tunes the melody converters can use: four quarters per bar, or two (re-barred).
TWO_QUARTER_METERS = frozenset({"2/4"})
CHORALE_COLLECTION = "bach-chorales"
CHORDS_PER_BAR = 2
# Folk tunes for the chord model: chords inferred from the melody alone, one per bar. Inference
# costs ~1-2 s per tune, so a seeded share of the training tunes is annotated, not all.
FOLK_CHORDS_PER_BAR = 1
FOLK_CHORD_TUNES = 600


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", default=str(DATA_DIR))
    parser.add_argument("--only", choices=("folk", "folk_stats", "chorales", "folk_chords"), default=None)
    parser.add_argument("--eval_fraction", type=float, default=0.08)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--num_workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--limit", type=int, default=None, help="at most this many candidates (trials)")
    parser.add_argument("--max_folk_tunes", type=int, default=700,
                        help="folk tunes converted, in a seeded order (music21 needs ~0.5-2 s of CPU each)")
    return parser.parse_args(argv)


# -- folk tunes -------------------------------------------------------------------------------
def _rebar_two_four(serialized):
    """2/4 time signatures become 4/4 (two bars in one); other signatures are kept."""
    from note_seq.protobuf import music_pb2

    sequence = music_pb2.NoteSequence.FromString(serialized)
    for signature in sequence.time_signatures:
        if (signature.numerator, signature.denominator) == (2, 4):
            signature.numerator = 4
    return sequence.SerializeToString()


def _convert_folk_tune(tune):
    record, error = folk._convert_tune(tune)
    if record is not None and tune["meter"] in TWO_QUARTER_METERS:
        record = _rebar_two_four(record)
    return record, error


def _packaged_folk(data_dir):
    """ids and note-content keys of the tunes already in folk_train / folk_eval."""
    from note_seq.protobuf import music_pb2

    ids, keys = set(), set()
    for name in (folk.TRAIN_FILE, folk.EVAL_FILE):
        for record in folk._read_records(pathlib.Path(data_dir) / "folk" / name):
            ids.add(music_pb2.NoteSequence.FromString(record).id)
            keys.add(folk._content_key(record))
    return ids, keys


def folk_candidates(packaged_ids):
    """Unpackaged tunes in a usable meter, in corpus order."""
    from musicvae_tf.data.music_files import generate_note_sequence_id

    usable = folk.FOUR_QUARTER_METERS | TWO_QUARTER_METERS
    candidates = []
    for tune in folk.list_tunes(folk.COLLECTIONS):
        tune_id = generate_note_sequence_id(f"{tune['file']}_{tune['number']}", tune["collection"], "abc")
        if tune["meter"] in usable and tune_id not in packaged_ids:
            candidates.append(tune)
    return candidates


# -- chorales ---------------------------------------------------------------------------------
def _convert_chorale(corpus_path):
    """music21 chorale -> soprano NoteSequence with chords inferred from all voices; (bytes, error)."""
    warnings.simplefilter("ignore")
    import music21
    import note_seq
    from note_seq import sequences_lib

    from musicvae_tf.data.music_files import generate_note_sequence_id

    try:
        score = music21.corpus.parse(corpus_path)
        midi_bytes = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
        full = note_seq.midi_to_note_sequence(midi_bytes)
    except Exception as error:  # music21 raises many kinds of errors on odd files
        return None, f"{type(error).__name__}: {str(error)[:120]}"
    signatures = {(ts.numerator, ts.denominator) for ts in full.time_signatures}
    if signatures != {(4, 4)}:
        return None, "meter " + "+".join(f"{n}/{d}" for n, d in sorted(signatures))
    soprano = [info.instrument for info in full.instrument_infos if info.name.lower().startswith("soprano")]
    if not soprano:
        return None, "no soprano part"
    from musicvae_tf.converters.chords import install_chord_inference_cache

    install_chord_inference_cache()
    try:
        quantized = sequences_lib.quantize_note_sequence(full, steps_per_quarter=4)
        note_seq.infer_chords_for_sequence(quantized, chords_per_bar=CHORDS_PER_BAR)
    except Exception as error:  # quantization / chord inference errors of note_seq
        return None, f"{type(error).__name__}: {str(error)[:120]}"
    melody = note_seq.NoteSequence()
    melody.CopyFrom(full)
    del melody.notes[:]
    melody.notes.extend(n for n in full.notes if n.instrument == soprano[0])
    del melody.instrument_infos[:]
    melody.instrument_infos.extend(i for i in full.instrument_infos if i.instrument == soprano[0])
    chord_type = note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL
    for annotation in quantized.text_annotations:
        if annotation.annotation_type == chord_type:
            melody.text_annotations.add(time=annotation.time, text=annotation.text,
                                        annotation_type=chord_type)
    filename = corpus_path + ".mxl" if not corpus_path.endswith(".mxl") else corpus_path
    melody.collection_name = CHORALE_COLLECTION
    melody.filename = filename
    melody.id = generate_note_sequence_id(filename, CHORALE_COLLECTION, "musicxml")
    title = score.metadata.title if score.metadata and score.metadata.title else ""
    if title:
        melody.sequence_metadata.title = title
    melody.sequence_metadata.composers.append("J. S. Bach")
    return melody.SerializeToString(), None


def chorale_candidates():
    from music21 import corpus

    return [str(path) for path in corpus.chorales.Iterator(returnType="filename")]


# -- folk tunes with chords (for the chord-conditioned model) --------------------------------
def _add_melody_chords(record):
    """The tune with chord symbols inferred from its melody, one per bar, in each 4/4 or 2/2 stretch."""
    warnings.simplefilter("ignore")
    import note_seq
    from note_seq import sequences_lib
    from note_seq.protobuf import music_pb2

    from musicvae_tf.converters.chords import install_chord_inference_cache

    install_chord_inference_cache()
    sequence = music_pb2.NoteSequence.FromString(record)
    chord_type = music_pb2.NoteSequence.TextAnnotation.CHORD_SYMBOL
    added = 0
    for segment in sequences_lib.split_note_sequence_on_time_changes(sequence):
        signature = segment.time_signatures[0] if segment.time_signatures else None
        if signature is None or (signature.numerator, signature.denominator) not in ((4, 4), (2, 2)) \
                or not segment.notes:
            continue
        try:
            quantized = sequences_lib.quantize_note_sequence(segment, steps_per_quarter=4)
            note_seq.infer_chords_for_sequence(quantized, chords_per_bar=FOLK_CHORDS_PER_BAR)
        except Exception as error:  # quantization / chord inference errors of note_seq
            return None, f"{type(error).__name__}: {str(error)[:120]}"
        offset = segment.subsequence_info.start_time_offset
        for annotation in quantized.text_annotations:
            if annotation.annotation_type == chord_type:
                sequence.text_annotations.add(time=annotation.time + offset, text=annotation.text,
                                              annotation_type=chord_type)
                added += 1
    if not added:
        return None, "no 4/4 or 2/2 stretch"
    return sequence.SerializeToString(), None


def build_folk_chords(args):
    from note_seq.protobuf import music_pb2

    folk_dir = pathlib.Path(args.data_dir) / "folk"
    sets = {"train": [folk_dir / folk.TRAIN_FILE, folk_dir / "folk_more_train.tfrecord.gz"],
            "eval": [folk_dir / folk.EVAL_FILE]}
    from musicvae_tf.data.note_sequences import read_serialized

    stats = {"source": "folk_train + folk_more_train (train) and folk_eval (eval), chords inferred from "
                       f"the melody by note_seq.infer_chords_for_sequence, {FOLK_CHORDS_PER_BAR} per bar",
             "seed": args.seed + 2, "tunes": {}, "bytes": {}}
    for split, paths in sets.items():
        records = [r for r in read_serialized([str(p) for p in paths])
                   if {(ts.numerator, ts.denominator) for ts in music_pb2.NoteSequence.FromString(r).time_signatures}
                   & {(4, 4), (2, 2)}]
        if split == "train":
            random.Random(args.seed + 2).shuffle(records)
            records = records[:args.limit or FOLK_CHORD_TUNES]
        kept, failures, _ = convert_all(records, _add_melody_chords, f"folk chords ({split})", args.num_workers)
        name = f"folk_chords_{split}.tfrecord.gz"
        stats["bytes"][name] = write_gzip_records(folk_dir / name, [r for _, r in kept])
        stats["tunes"][split] = len(kept)
        stats.setdefault("skipped", {})[split] = failures
    stats["most_common_chords"] = _chord_stats(list(read_serialized(str(folk_dir / "folk_chords_train.tfrecord.gz"))))
    stats["examples_eval_mode"] = count_examples([folk_dir / name for name in stats["bytes"]],
                                                 ("cat-mel_2bar_med_chords",))
    (folk_dir / "folk_chords_stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {folk_dir}: folk chords {stats['tunes']}\n")


# -- shared -----------------------------------------------------------------------------------
def convert_all(items, convert_fn, label, num_workers, skip_keys=()):
    """Converts every item (fixed-size chunks, in order); unique results as (item, record)."""
    kept, seen = [], set(skip_keys)
    failures, duplicates = collections.Counter(), 0
    context = multiprocessing.get_context("spawn")
    chunk = 8 * num_workers
    progress = folk.Progress(len(items), label)
    with context.Pool(num_workers) as pool:
        for begin in range(0, len(items), chunk):
            batch = items[begin:begin + chunk]
            for item, (record, error) in zip(batch, pool.map(convert_fn, batch)):
                if record is None:
                    failures[error.split(":")[0]] += 1
                    continue
                key = folk._content_key(record)
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                kept.append((item, record))
            progress.update(min(begin + chunk, len(items)),
                            f"kept {len(kept)}, failed {sum(failures.values())}, duplicates {duplicates}")
    progress.close()
    return kept, dict(failures), duplicates


def split_held_out(records, eval_fraction, seed):
    """(train, eval) lists of records; eval = a seeded eval_fraction of them (whole tunes)."""
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    held_out = set(order[:max(1, round(len(records) * eval_fraction))])
    train = [r for i, r in enumerate(records) if i not in held_out]
    evaluation = [r for i, r in enumerate(records) if i in held_out]
    return train, evaluation


def write_gzip_records(path, records):
    """A GZIP-compressed TFRecord file, written to a temporary name and renamed when complete."""
    import tensorflow as tf

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = f"{path}.tmp"
    with tf.io.TFRecordWriter(tmp_path, options=tf.io.TFRecordOptions(compression_type="GZIP")) as writer:
        for record in records:
            writer.write(record)
    # TF's gzip stream stores no timestamp, so equal records give equal bytes.
    os.replace(tmp_path, path)
    return path.stat().st_size


def count_examples(paths, config_names):
    """Examples per config (converters in eval mode: at most 5 per tune) in each file."""
    from musicvae_tf import configs
    from musicvae_tf.data import count_examples as count

    table = {}
    for name in config_names:
        converter = configs.CONFIG_MAP[name].data_converter
        converter.set_mode("eval")
        table[name] = {pathlib.Path(p).name: count(str(p), converter) for p in paths}
    return table


def _chord_stats(records):
    from note_seq.protobuf import music_pb2

    chords = collections.Counter()
    for record in records:
        for annotation in music_pb2.NoteSequence.FromString(record).text_annotations:
            chords[annotation.text] += 1
    return dict(chords.most_common(20))


def folk_stats_only(args, build_figures=None):
    """folk_more_stats.json from the written files (--only=folk_stats: recount them), with the build's figures."""
    import music21
    from note_seq.protobuf import music_pb2

    from musicvae_tf.data.note_sequences import read_serialized

    out = pathlib.Path(args.data_dir) / "folk"
    names = ("folk_more_train.tfrecord.gz", "folk_more_eval.tfrecord.gz")
    meter_of = {(t["file"], int(t["number"])): t["meter"] for t in folk.list_tunes(folk.COLLECTIONS)
                if t["number"].isdigit()}
    tunes, collections_, meters = {}, collections.Counter(), collections.Counter()
    for name in names:
        records = list(read_serialized(str(out / name)))
        tunes[name] = len(records)
        for record in records:
            sequence = music_pb2.NoteSequence.FromString(record)
            collections_[sequence.collection_name] += 1
            meters[meter_of.get((sequence.filename, sequence.reference_number), "?")] += 1
    stats = {
        "source": "music21 corpus, the ABC collections of folk_train/folk_eval (public domain): a seeded "
                  f"{args.max_folk_tunes} of the tunes not packaged there whose meter (ABC header) is 4/4, C, 2/2, "
                  "C| or 2/4 (2/4 re-barred as 4/4)",
        "music21_version": music21.__version__, "seed": args.seed, "eval_fraction": args.eval_fraction,
        "tunes": tunes, "tunes_per_collection": dict(collections_), "tunes_per_header_meter": dict(meters),
        "bytes": {name: (out / name).stat().st_size for name in names},
        # Not the chord config: without chord annotations it infers chords per tune (slow); the chord
        # model reads folk_chords_* instead.
        "examples_eval_mode": count_examples([out / name for name in names],
                                             ("cat-mel_2bar_small", "hierdec-mel_16bar")),
    }
    path = out / "folk_more_stats.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    for key in ("conversion_failures", "duplicates_removed", "candidates_by_header_meter"):
        if key in previous:
            stats[key] = previous[key]
    stats.update(build_figures or {})
    path.write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {path}: {tunes}\n")


def build_folk(args):
    data_dir = pathlib.Path(args.data_dir)
    packaged_ids, packaged_keys = _packaged_folk(data_dir)
    candidates = folk_candidates(packaged_ids)
    random.Random(args.seed).shuffle(candidates)
    candidates = candidates[:args.limit or args.max_folk_tunes]
    meters = collections.Counter(t["meter"] for t in candidates)
    sys.stderr.write(f"folk: {len(candidates)} unpackaged tunes in usable meters {dict(meters)}\n")
    kept, failures, duplicates = convert_all(candidates, _convert_folk_tune, "folk tunes", args.num_workers,
                                             skip_keys=packaged_keys)
    train, evaluation = split_held_out([r for _, r in kept], args.eval_fraction, args.seed)
    out = data_dir / "folk"
    write_gzip_records(out / "folk_more_train.tfrecord.gz", train)
    write_gzip_records(out / "folk_more_eval.tfrecord.gz", evaluation)
    folk_stats_only(args, {"conversion_failures": failures, "duplicates_removed": duplicates,
                           "candidates_by_header_meter": dict(meters)})


def build_chorales(args):
    import music21

    out = pathlib.Path(args.data_dir) / "chorales"
    candidates = chorale_candidates()[:args.limit]
    kept, failures, duplicates = convert_all(candidates, _convert_chorale, "chorales", args.num_workers)
    records = [r for _, r in kept]
    train, evaluation = split_held_out(records, args.eval_fraction, args.seed + 1)
    sizes = {"chorales_train.tfrecord.gz": write_gzip_records(out / "chorales_train.tfrecord.gz", train),
             "chorales_eval.tfrecord.gz": write_gzip_records(out / "chorales_eval.tfrecord.gz", evaluation)}
    stats = {
        "source": "music21 corpus: J. S. Bach's chorales (corpus.chorales.Iterator), encodings by "
                  "Margaret Greentree distributed with music21; soprano line + chords inferred from "
                  f"all voices (note_seq.infer_chords_for_sequence, {CHORDS_PER_BAR} per bar)",
        "music21_version": music21.__version__, "seed": args.seed + 1, "eval_fraction": args.eval_fraction,
        "chorales_in_corpus": len(candidates), "skipped": failures, "duplicates_removed": duplicates,
        "tunes": {"train": len(train), "eval": len(evaluation)},
        "most_common_chords": _chord_stats(records),
        "bytes": sizes,
    }
    sys.stderr.write("counting examples per config\n")
    stats["examples_eval_mode"] = count_examples([out / name for name in sizes],
                                                 ("cat-mel_2bar_small", "cat-mel_2bar_med_chords"))
    (out / "chorales_stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {out}: {stats['tunes']}, {sizes}\n")


def main(argv=None):
    args = _parse_args(argv)
    if args.only in (None, "folk"):
        build_folk(args)
    if args.only == "folk_stats":
        folk_stats_only(args)
    if args.only in (None, "chorales"):
        build_chorales(args)
    if args.only in (None, "folk_chords"):
        build_folk_chords(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
