#!/usr/bin/env python
"""Build the folk-tune NoteSequences that musicvae_tf ships as its default training data.

The tunes come from public-domain ABC collections bundled with music21's corpus (Aird's Airs,
O'Neill's Music of Ireland, Ryan's Mammoth Collection, two tunes of the Nottingham dataset).
The Essen folk song collection is also in music21's corpus but is left out by default: its
license note says its legal status is unclear and allows only non-commercial distribution
(add it for your own use with --collections). Each tune is parsed by music21, written
to MIDI by music21 and read back with note_seq.midi_to_note_sequence.

The build is deterministic: tunes are visited in corpus order, deduplicated by their notes,
selected under a byte budget and split into train/eval with a fixed seed. Run it again with
the same music21 version and you get the same files, byte for byte.

    python scripts/build_folk_data.py                # full rebuild (several minutes)
    python scripts/build_folk_data.py --stats_only   # recount examples per config only
"""
import argparse
import collections
import hashlib
import json
import multiprocessing
import os
import pathlib
import random
import re
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT_DIR = REPO_ROOT / "musicvae_tf" / "data" / "folk"

# Collection folders of music21's corpus, in the order they are visited. Public domain only
# (essenFolksong: unclear legal status, non-commercial permission; not included by default).
COLLECTIONS = ("airdsAirs", "nottingham-dataset", "oneills1850", "ryansMammoth")
# Meters whose bars hold four quarter notes: the only ones Magenta's melody converters accept
# (steps per bar must be 16 at 4 steps per quarter).
FOUR_QUARTER_METERS = frozenset({"4/4", "C", "2/2", "C|"})
# Config families whose example counts go into folk_stats.json.
STATS_CONFIGS = ("cat-mel_2bar_small", "hierdec-mel_16bar", "cat-drums_2bar_small",
                 "hierdec-trio_16bar")

TRAIN_FILE = "folk_train.tfrecord"
EVAL_FILE = "folk_eval.tfrecord"
STATS_FILE = "folk_stats.json"


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", default=str(DEFAULT_OUTPUT_DIR))
    parser.add_argument("--collections", default=",".join(COLLECTIONS),
                        help="comma-separated music21 corpus collections to draw tunes from")
    parser.add_argument("--max_bytes", type=int, default=3_700_000,
                        help="budget for both TFRecord files together")
    parser.add_argument("--other_meter_share", type=float, default=0.04,
                        help="share of the budget for tunes in other meters (they yield no "
                             "melody examples but show the converters skipping them)")
    parser.add_argument("--eval_fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=20181112)
    parser.add_argument("--num_workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--stats_only", action="store_true",
                        help="keep the TFRecords, recompute folk_stats.json")
    return parser.parse_args(argv)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total, label):
        self.total, self.label, self.start = total, label, time.time()
        self._last = 0.0

    def update(self, done, extra="", force=False):
        now = time.time()
        if not force and now - self._last < 0.5 and done < self.total:
            return
        self._last = now
        width = 30
        filled = int(width * done / max(self.total, 1))
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{done}/{self.total} {extra} ({rate:.1f}/s)   ")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()


def _header_field(text, field):
    match = re.search(rf"(?m)^{field}:\s*(.*?)\s*$", text)
    return match.group(1) if match else ""


def list_tunes(collections_=COLLECTIONS):
    """Every tune of the collections as a dict (text, collection, file, number, title, meter)."""
    from music21 import corpus

    tunes = []
    for collection in collections_:
        if not corpus.getComposer(collection):
            raise SystemExit(f"build_folk_data: no collection {collection!r} in music21's corpus")
        for path in sorted(corpus.getComposer(collection), key=str):
            path = pathlib.Path(path)
            text = path.read_text(encoding="latin-1")
            blocks = re.split(r"(?m)^(?=X:)", text)
            file_header, blocks = blocks[0], blocks[1:]
            default_meter = _header_field(file_header, "M")
            for block in blocks:
                body_header = block.split("\nK:", 1)[0]
                meter = (_header_field(body_header, "M") or default_meter).replace(" ", "")
                tunes.append({
                    "text": file_header + block,
                    "collection": collection,
                    "file": f"{collection}/{path.name}",
                    "number": _header_field(block, "X"),
                    "title": _header_field(block, "T"),
                    "meter": meter,
                })
    return tunes


def _convert_tune(tune):
    """ABC text -> music21 -> MIDI bytes -> NoteSequence bytes; (bytes or None, error)."""
    warnings.simplefilter("ignore")
    import music21
    import note_seq

    try:
        score = music21.converter.parse(tune["text"], format="abc")
        midi_bytes = music21.midi.translate.music21ObjectToMidiFile(score).writestr()
        sequence = note_seq.midi_to_note_sequence(midi_bytes)
    except Exception as error:  # music21 raises many kinds of errors on odd tunes
        return None, f"{type(error).__name__}: {str(error)[:120]}"
    if not sequence.notes:
        return None, "no notes"
    from musicvae_tf.data.music_files import generate_note_sequence_id

    sequence.collection_name = tune["collection"]
    sequence.filename = tune["file"]
    sequence.id = generate_note_sequence_id(f"{tune['file']}_{tune['number']}",
                                            tune["collection"], "abc")
    if tune["number"].isdigit():
        sequence.reference_number = int(tune["number"])
    if tune["title"]:
        sequence.sequence_metadata.title = tune["title"]
    return sequence.SerializeToString(), None


def _content_key(serialized):
    from note_seq.protobuf import music_pb2

    sequence = music_pb2.NoteSequence.FromString(serialized)
    notes = sorted((n.pitch, round(n.start_time * 1000), round(n.end_time * 1000))
                   for n in sequence.notes)
    return hashlib.sha1(repr(notes).encode()).hexdigest()


def _round_robin(queues):
    """Interleave the queues: one item of each in turn until all are empty."""
    queues = [list(q) for q in queues]
    while any(queues):
        for queue in queues:
            if queue:
                yield queue.pop(0)


def candidate_order(tunes, seed, collections_=COLLECTIONS):
    """Tunes in the order they are tried: four-quarter meters first, collections interleaved."""
    rng = random.Random(seed)
    phases = []
    for is_four in (True, False):
        queues = []
        for collection in collections_:
            group = [t for t in tunes if t["collection"] == collection
                     and (t["meter"] in FOUR_QUARTER_METERS) == is_four]
            rng.shuffle(group)
            queues.append(group)
        phases.append(list(_round_robin(queues)))
    return phases


def convert_within_budget(phases, budgets, num_workers):
    """Convert tunes in order, keeping unique ones until each phase's byte budget is spent.

    Returns the kept (tune, record) pairs and counters of failures and duplicates. Work is
    done in fixed-size chunks so that the outcome does not depend on worker timing.
    """
    kept, seen, used = [], set(), 0
    failures, duplicates = collections.Counter(), collections.Counter()
    context = multiprocessing.get_context("spawn")
    chunk = 16 * num_workers
    with context.Pool(num_workers) as pool:
        for phase, (candidates, budget) in enumerate(zip(phases, budgets), start=1):
            progress = Progress(budget, f"phase {phase}/{len(phases)} bytes")
            full = False
            for begin in range(0, len(candidates), chunk):
                batch = candidates[begin:begin + chunk]
                for tune, (record, _) in zip(batch, pool.map(_convert_tune, batch)):
                    if record is None:
                        failures[tune["collection"]] += 1
                        continue
                    key = _content_key(record)
                    if key in seen:
                        duplicates[tune["collection"]] += 1
                        continue
                    if used + len(record) + 16 > budget:  # 16: TFRecord length and CRCs
                        full = True
                        break
                    seen.add(key)
                    kept.append((tune, record))
                    used += len(record) + 16
                progress.update(used, f"{len(kept)} tunes, failed {sum(failures.values())}")
                if full:
                    break
            progress.update(used, f"{len(kept)} tunes", force=True)
            progress.close()
    return kept, failures, duplicates


def _write_records(path, records):
    import tensorflow as tf

    tmp_path = f"{path}.tmp"
    with tf.io.TFRecordWriter(tmp_path) as writer:
        for record in records:
            writer.write(record)
    os.replace(tmp_path, path)


def count_config_examples(output_dir):
    """Examples per config family and split (converter in eval mode), or the reason why not."""
    try:
        from musicvae_tf import configs
        from musicvae_tf.data import count_examples
    except Exception as error:  # converters or configs missing in this checkout
        return {"unavailable": f"{type(error).__name__}: {error}"}
    counts = {}
    for name in STATS_CONFIGS:
        if name not in configs.CONFIG_MAP:
            continue
        converter = configs.CONFIG_MAP[name].data_converter
        converter.set_mode("eval")
        counts[name] = {}
        for split, filename in (("train", TRAIN_FILE), ("eval", EVAL_FILE)):
            counts[name][split] = count_examples(str(pathlib.Path(output_dir) / filename),
                                                 converter)
        sys.stderr.write(f"  {name}: {counts[name]}\n")
    return counts


def melody_yield_by_time_signature(records_by_split):
    """Tunes per time signature, and how many of them yield 2-bar melody examples."""
    try:
        from musicvae_tf import configs
    except Exception as error:
        return {"unavailable": f"{type(error).__name__}: {error}"}
    from note_seq.protobuf import music_pb2

    converter = configs.CONFIG_MAP["cat-mel_2bar_small"].data_converter
    converter.set_mode("eval")
    table = collections.defaultdict(lambda: {"tunes": 0, "yielding": 0})
    for records in records_by_split.values():
        for record in records:
            sequence = music_pb2.NoteSequence.FromString(record)
            signatures = {f"{ts.numerator}/{ts.denominator}" for ts in sequence.time_signatures}
            key = "+".join(sorted(signatures)) or "none"
            table[key]["tunes"] += 1
            table[key]["yielding"] += bool(converter.to_tensors(sequence).lengths)
    return dict(sorted(table.items()))


def _read_records(path):
    import tensorflow as tf

    return list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())


def _collection_stats(records_by_split):
    from note_seq.protobuf import music_pb2

    stats = collections.defaultdict(lambda: collections.Counter())
    for split, records in records_by_split.items():
        for record in records:
            sequence = music_pb2.NoteSequence.FromString(record)
            stats[sequence.collection_name][split] += 1
    return {name: dict(counter) for name, counter in sorted(stats.items())}


def main(argv=None):
    args = _parse_args(argv)
    output_dir = pathlib.Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    stats_path = output_dir / STATS_FILE
    stats = json.loads(stats_path.read_text()) if (args.stats_only and stats_path.exists()) else {}

    if not args.stats_only:
        import music21

        chosen = tuple(c.strip() for c in args.collections.split(",") if c.strip())
        all_tunes = list_tunes(chosen)
        by_collection = collections.Counter(t["collection"] for t in all_tunes)
        sys.stderr.write(f"{len(all_tunes)} tunes in music21 {music21.__version__}: "
                         f"{dict(by_collection)}\n")
        phases = candidate_order(all_tunes, args.seed, chosen)
        budgets = (args.max_bytes * (1 - args.other_meter_share), args.max_bytes)
        selected, failures, duplicates = convert_within_budget(phases, budgets,
                                                               args.num_workers)
        selected.sort(key=lambda item: item[0]["file"] + "#" + item[0]["number"].zfill(6))
        rng = random.Random(args.seed)
        order = list(range(len(selected)))
        rng.shuffle(order)
        num_eval = max(1, round(len(selected) * args.eval_fraction))
        eval_indices = set(order[:num_eval])
        train = [selected[i][1] for i in range(len(selected)) if i not in eval_indices]
        evaluation = [selected[i][1] for i in range(len(selected)) if i in eval_indices]
        _write_records(output_dir / TRAIN_FILE, train)
        _write_records(output_dir / EVAL_FILE, evaluation)

        four = collections.Counter(t["collection"] for t, _ in selected
                                   if t["meter"] in FOUR_QUARTER_METERS)
        stats = {
            "source": "music21 corpus (public-domain ABC collections)",
            "collections": list(chosen),
            "music21_version": music21.__version__,
            "seed": args.seed,
            "eval_fraction": args.eval_fraction,
            "tunes_in_corpus": dict(by_collection),
            "conversion_failures": dict(failures),
            "duplicates_removed": dict(duplicates),
            "selected_tunes": len(selected),
            "selected_four_quarter_meter_tunes": dict(four),
            "bytes": {TRAIN_FILE: (output_dir / TRAIN_FILE).stat().st_size,
                      EVAL_FILE: (output_dir / EVAL_FILE).stat().st_size},
        }

    records = {"train": _read_records(output_dir / TRAIN_FILE),
               "eval": _read_records(output_dir / EVAL_FILE)}
    stats["tunes"] = {"train": len(records["train"]), "eval": len(records["eval"])}
    stats["tunes_per_collection"] = _collection_stats(records)
    sys.stderr.write("counting examples per config (converters in eval mode)\n")
    stats["examples_eval_mode"] = count_config_examples(output_dir)
    stats["mel_2bar_yield_by_time_signature"] = melody_yield_by_time_signature(records)
    stats_path.write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n")
    sys.stderr.write(f"wrote {output_dir}: {stats['tunes']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
