"""Makes the Magenta parity fixtures (tests/data/magenta_parity) with Magenta's ORIGINAL code.

    PY=/path/to/magenta_venv/bin/python     # a venv as in benchmarks/magenta_reference.py
    $PY tools/magenta_parity/make_fixtures.py --magenta_path ~/magenta --out /tmp/parity \\
        --cases groovae_2bar_humanize,hierdec-mel_16bar --sources tests/data/magenta_parity
    $PY tools/magenta_parity/make_fixtures.py ... --trim tests/data/magenta_parity   # + the trimmed copy

Run it with Magenta's venv (see benchmarks/magenta_reference.py: TF 2.21, tf-keras, tf-slim,
tensorflow-probability, note-seq 0.0.5); it imports nothing of musicvae_tf, so what it writes is
Magenta's own output. tools/magenta_parity/README.md says what each file holds. Stages per case,
each writing into <out>/<case>/ (`--stages`, default converter,reference):

  checkpoint  Magenta's training graph (its loss, clipping and Adam) for --steps steps at batch
              --batch_size on the examples Magenta's converter makes of the source NoteSequences
              (train mode, no augmentation), then the model variables (no optimizer slots, as in
              Magenta's published checkpoints) written to checkpoint/model.ckpt-<steps>.
              Random initial weights: a rebuilt checkpoint is a new checkpoint.
  converter   the config's converter in eval mode over the source NoteSequences: converter.npz
              (one row per example, in order) and converter_decoded.tfrecord (from_tensors of
              every row's outputs, cut to its length).
  reference   the converter in infer mode over the source NoteSequences (first --num_examples
              examples, padded to max_seq_len; or, with --reference_inputs, the examples of the
              existing reference.npz), the model restored from the case's checkpoint:
              reference.npz with mu, sigma, the teacher-forced logits and r_loss for z = mu, and
              greedy samples (temperature 1e-4) from mu with their logits.
`--trim DIR` then writes the small copy the tests use (tests/data/magenta_parity: first 4
reference rows, 2 for 16-bar cases; 0/1 arrays as bool or uint8; np.savez_compressed).

Each case needs case.json (config name, hparams overrides, source file); `--sources DIR` reads
the case.json, checkpoint and source NoteSequences of existing fixtures (a case folder's
converter_source.tfrecord, else DIR/sources/<source>_source.tfrecord), so their tensors can be
remade from the same inputs. Not run in CI (needs a Magenta checkout).
"""

import argparse
import importlib.util
import json
import os
import shutil
import sys
import types

import numpy as np

GREEDY_TEMPERATURE = 1e-4
# Which stored source file holds each case's NoteSequences (tests/data/magenta_parity/sources).
CASE_SOURCES = {
    "cat-mel_2bar_small": "folk_melody", "hier-mel_16bar": "folk_melody", "hierdec-mel_16bar": "folk_melody",
    "cat-mel_2bar_med_chords": "trio", "hierdec-trio_16bar": "trio", "flat-trio_16bar": "trio",
    "cat-drums_2bar_small": "drums", "nade-drums_2bar_reduced": "drums", "groovae_2bar_humanize": "drums",
}


def import_magenta(magenta_path):
    """TF in TF1 compat mode and Magenta's music_vae modules from the checkout at `magenta_path`."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    sys.path.insert(0, os.path.abspath(magenta_path))
    if importlib.util.find_spec("tensorflow_datasets") is None:
        # Magenta's data.py imports it at module level; no fixture reads a TFDS dataset.
        sys.modules["tensorflow_datasets"] = types.ModuleType("tensorflow_datasets")
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    tf.logging.set_verbosity(tf.logging.ERROR)
    from magenta.models.music_vae import configs, data, music_vae_train

    return tf, configs, data, music_vae_train


def read_sequences(tf, path):
    import note_seq

    return [note_seq.NoteSequence.FromString(r) for r in tf.io.tf_record_iterator(path)]


def write_sequences(tf, path, sequences):
    with tf.io.TFRecordWriter(path) as writer:
        for sequence in sequences:
            writer.write(sequence.SerializeToString())


def case_config(configs, case):
    config = configs.CONFIG_MAP[case["config"]]
    config.hparams.parse(case["hparams"])
    return config


def _pad(rows, total, depth, dtype=np.float32):
    out = np.zeros([len(rows), total, depth], dtype)
    for i, row in enumerate(rows):
        row = np.asarray(row)[:total]
        out[i, :len(row)] = row
    return out


# --- stages -------------------------------------------------------------------------------------

def make_converter_files(tf, configs, case, sequences, folder, indices=None):
    """converter.npz and converter_decoded.tfrecord: Magenta's converter in eval mode.

    `indices`: the record number of each sequence in the case's full data (seq_index); default
    0, 1, 2, ...
    """
    converter = case_config(configs, case).data_converter
    converter.set_mode("eval")
    rows = []
    for index, sequence in zip(indices or range(len(sequences)), sequences):
        tensors = converter.to_tensors(sequence)
        rows += [(index,) + example for example in zip(tensors.inputs, tensors.outputs, tensors.controls,
                                                        tensors.lengths)]
    longest = max(len(r[2]) for r in rows)
    arrays = {"seq_index": np.array([r[0] for r in rows], np.int32),
              "inputs": _pad([r[1] for r in rows], longest, converter.input_depth),
              "outputs": _pad([r[2] for r in rows], longest, converter.output_depth),
              "controls": _pad([r[3] for r in rows], longest, converter.control_depth),
              "lengths": np.array([r[4] for r in rows]),
              "input_depth": np.array(converter.input_depth), "output_depth": np.array(converter.output_depth),
              "control_depth": np.array(converter.control_depth)}
    np.savez(os.path.join(folder, "converter.npz"), **arrays)
    cut = [np.asarray(r[2])[:r[4]] if np.ndim(r[4]) == 0 else np.asarray(r[2]) for r in rows]
    controls = [np.asarray(r[3]) for r in rows] if converter.control_depth else None
    decoded = converter.from_tensors(cut, controls) if controls else converter.from_tensors(cut)
    write_sequences(tf, os.path.join(folder, "converter_decoded.tfrecord"), decoded)
    return arrays


def padded_examples(config, sequences, mode, count=None):
    """The first `count` (None: all) examples of `sequences` in converter mode `mode`, padded to
    max_seq_len: {inputs, outputs, controls, lengths}."""
    converter = config.data_converter
    converter.set_mode(mode)
    rows = []
    for sequence in sequences:
        tensors = converter.to_tensors(sequence)
        rows += list(zip(tensors.inputs, tensors.outputs, tensors.controls, tensors.lengths))
        if count and len(rows) >= count:
            break
    rows = rows[:count]
    total = config.hparams.max_seq_len
    return {"inputs": _pad([r[0] for r in rows], total, converter.input_depth),
            "outputs": _pad([r[1] for r in rows], total, converter.output_depth),
            "controls": _pad([r[2] for r in rows], total, converter.control_depth),
            "lengths": np.array([r[3] for r in rows], np.int32)}


def make_reference(tf, configs, case, checkpoint_prefix, examples_or_sequences, count, folder):
    """reference.npz: Magenta's model from the checkpoint on the reference examples."""
    config = case_config(configs, case)
    examples = examples_or_sequences
    if not isinstance(examples, dict):
        examples = padded_examples(config, examples, "infer", count)
    hparams = config.hparams
    n, total = examples["outputs"].shape[:2]
    hparams.batch_size = n
    control_depth = examples["controls"].shape[-1]
    with tf.Graph().as_default():
        model = config.model
        model.build(hparams, config.data_converter.output_depth, is_training=False)
        decoder = model.decoder
        if hasattr(getattr(decoder, "_core_decoder", None), "_core_decoders"):
            # A SplitMultiOutLstmDecoder under a hierarchy (hierdec-trio) asserts that each decode
            # it merges is max_seq_len steps long, but the hierarchy decodes one bar at a time, so
            # the assertion fails on evaluation (training never fetches the tensor it guards). Once
            # built, nothing else read here uses max_seq_len: set it to the bar length it sees.
            hparams.max_seq_len = decoder._level_lengths[-1]
        inputs = tf.constant(examples["inputs"])
        outputs = tf.constant(examples["outputs"])
        controls = tf.constant(examples["controls"]) if control_depth else None
        lengths = tf.constant(examples["lengths"])
        posterior = model.encode(inputs, lengths, controls)
        mu, sigma = posterior.loc, posterior.stddev()
        x_input = tf.pad(outputs[:, :-1], [(0, 0), (1, 0), (0, 0)])
        r_loss, _, decoded = model.decoder.reconstruction_loss(x_input, outputs, lengths, mu, controls)
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):  # the same decoder weights
            samples, sampled = model.sample(n, max_length=total, z=mu,
                                            c_input=controls[0] if control_depth else None,
                                            temperature=GREEDY_TEMPERATURE)
        with tf.Session() as session:
            tf.train.Saver([v for v in tf.global_variables() if v.name != "global_step:0"]).restore(
                session, checkpoint_prefix)
            values = session.run({"mu": mu, "sigma": sigma, "tf_logits": decoded.rnn_output, "r_loss": r_loss,
                                  "greedy_samples_from_mu": samples, "greedy_logits_from_mu": sampled.rnn_output})
    reference = dict(examples, **values)
    np.savez(os.path.join(folder, "reference.npz"), **reference)
    return reference


def training_dataset_fn(tf, config, sequences, batch_size):
    """Magenta's converter (train mode) over `sequences`, padded to max_seq_len, shuffled and repeated.

    The examples are converted in Python and fed from memory: Magenta's own get_dataset crashes
    TF 2.21 (segmentation fault) when it unbatches the zero-depth controls of an unconditioned config.
    """
    examples = padded_examples(config, sequences, "train")
    arrays = tuple(examples[key] for key in ("inputs", "outputs", "controls", "lengths"))

    def dataset_fn():
        dataset = tf.data.Dataset.from_tensor_slices(arrays).shuffle(len(arrays[-1]), seed=0).repeat()
        return dataset.batch(batch_size, drop_remainder=True)

    return dataset_fn


def make_checkpoint(tf, configs, music_vae_train, case, sequences, folder, steps, batch_size):
    """A checkpoint after `steps` steps of Magenta's own training graph, without optimizer slots."""
    import tempfile

    config = case_config(configs, case)
    config.hparams.batch_size = batch_size
    # train() writes the examples path into a summary.
    config = configs.update_config(config, {"train_examples_path": case.get("reference_data", "in memory")})
    run = tempfile.mkdtemp(prefix="magenta_fixture_run_")
    try:
        music_vae_train.train(run, config=config, num_steps=steps, checkpoints_to_keep=1,
                              dataset_fn=training_dataset_fn(tf, config, sequences, batch_size))
        prefix = tf.train.latest_checkpoint(run)
        out = os.path.join(folder, "checkpoint")
        os.makedirs(out, exist_ok=True)
        reader = tf.train.load_checkpoint(prefix)
        with tf.Graph().as_default():
            kept = [tf.Variable(reader.get_tensor(name), name=name)
                    for name in reader.get_variable_to_shape_map() if "/Adam" not in name
                    and not name.startswith("beta")]
            with tf.Session() as session:
                session.run(tf.variables_initializer(kept))
                tf.train.Saver(kept).save(session, os.path.join(out, f"model.ckpt-{steps}"),
                                          write_meta_graph=False)
    finally:
        shutil.rmtree(run, ignore_errors=True)


def trim(reference, converter_arrays, rows_kept, is_16bar):
    """The small copies of tests/data: first rows of the reference, converter rows of kept sources."""
    keep = 2 if is_16bar else 4
    small = {}
    for key, value in reference.items():
        value = value[:keep]
        if key in ("inputs", "outputs", "controls", "greedy_samples_from_mu") and np.isin(value, (0, 1)).all():
            value = value.astype(bool)
        small[key] = value
    rows = np.isin(converter_arrays["seq_index"], rows_kept)
    converter_small = {k: (v[rows] if v.ndim and len(v) == len(rows) else v) for k, v in converter_arrays.items()}
    for key in ("inputs", "outputs", "controls"):
        if np.isin(converter_small[key], (0, 1)).all():
            converter_small[key] = converter_small[key].astype(bool)
    return small, converter_small


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--magenta_path", required=True)
    parser.add_argument("--out", required=True, help="folder for the fixtures (one subfolder per case)")
    parser.add_argument("--cases", required=True, help="comma-separated case names")
    parser.add_argument("--sources", help="existing fixture folder: case.json, checkpoints, source NoteSequences")
    parser.add_argument("--stages", default="converter,reference")
    parser.add_argument("--num_examples", type=int, default=0, help="reference rows (0: as many as --sources has)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--reference_inputs", action="store_true",
                        help="reference stage: take the examples (inputs, outputs, controls, lengths) from the "
                             "--sources reference.npz instead of converting the source NoteSequences")
    parser.add_argument("--trim", help="also write the trimmed copy (tests/data/magenta_parity layout) here")
    args = parser.parse_args(argv)
    tf, configs, _, music_vae_train = import_magenta(args.magenta_path)
    stages = set(args.stages.split(","))
    for name in args.cases.split(","):
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        origin = os.path.join(args.sources, name) if args.sources else folder
        case = json.load(open(os.path.join(origin, "case.json")))
        json.dump(case, open(os.path.join(folder, "case.json"), "w"))
        own = os.path.join(origin, "converter_source.tfrecord")
        source_file = own if os.path.exists(own) else os.path.join(
            args.sources or args.out, "sources", f"{CASE_SOURCES[name]}_source.tfrecord")
        sequences = read_sequences(tf, source_file)
        index_file = source_file[:-len(".tfrecord")] + ".json"
        indices = json.load(open(index_file))["original_indices"] if os.path.exists(index_file) else None
        print(f"{name}: {len(sequences)} source NoteSequences from {source_file}", flush=True)
        if "checkpoint" in stages:
            make_checkpoint(tf, configs, music_vae_train, case, sequences, folder, args.steps, args.batch_size)
        elif args.sources and os.path.isdir(os.path.join(origin, "checkpoint")):
            shutil.copytree(os.path.join(origin, "checkpoint"), os.path.join(folder, "checkpoint"),
                            dirs_exist_ok=True)
        converter_arrays = reference = None
        if "converter" in stages:
            converter_arrays = make_converter_files(tf, configs, case, sequences, folder, indices)
        if "reference" in stages:
            count = args.num_examples
            stored = os.path.join(origin, "reference.npz")
            if not count and os.path.exists(stored):
                count = len(np.load(stored)["lengths"])
            prefix = tf.train.latest_checkpoint(os.path.join(folder, "checkpoint")) or os.path.join(
                folder, "checkpoint", f"model.ckpt-{args.steps}")
            examples = sequences
            if args.reference_inputs:
                stored_reference = np.load(stored)
                examples = {key: stored_reference[key].astype(np.float32 if key != "lengths" else np.int32)
                            for key in ("inputs", "outputs", "controls", "lengths")}
            reference = make_reference(tf, configs, case, prefix, examples, count or 4, folder)
        if args.trim and reference is not None and converter_arrays is not None:
            small_folder = os.path.join(args.trim, name)
            os.makedirs(small_folder, exist_ok=True)
            kept = sorted(set(converter_arrays["seq_index"].tolist()))
            small, converter_small = trim(reference, converter_arrays, kept, "16bar" in name)
            np.savez_compressed(os.path.join(small_folder, "reference.npz"), **small)
            np.savez_compressed(os.path.join(small_folder, "converter.npz"), **converter_small)
        print(f"{name}: wrote {sorted(os.listdir(folder))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
