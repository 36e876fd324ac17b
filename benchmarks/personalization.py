"""How much closer to a style MidiMe's samples are than the MusicVAE's prior samples.

    python benchmarks/personalization.py [--checkpoint=...] [--num_samples=200] [--json=out.json]

For each folk collection of the packaged held-out tunes (folk_eval.tfrecord, which the packaged
demo model never trained on): a personal model is fitted on the collection's first --fit_tunes
tunes (file order), and the collection's other tunes are the test set. Against the test set's
examples (every 2-bar window) we compare --num_samples personal samples and as many prior samples
(z ~ N(0, I)), both decoded at --temperature:
  latent distance   each sample is re-encoded by the base model; the mean Euclidean distance from a
                    sample's code to the nearest test code (lower: closer to the style)
  feature overlap   Yang & Lerch's overlapping area of each musicvae_tf.metrics feature between the
                    test examples and the samples, and their mean (higher: closer; 1 = as close as
                    the test examples are among themselves)
The fitted tunes themselves are listed as a yardstick (their distance to the test set).
"""

import argparse
import json
import os
import sys
import time

import numpy as np


def nearest_distance(codes, reference):
    """Mean over `codes` of the Euclidean distance to the nearest row of `reference`."""
    squared = (np.sum(codes**2, 1)[:, None] + np.sum(reference**2, 1)[None, :] - 2 * codes @ reference.T)
    return float(np.mean(np.sqrt(np.maximum(squared.min(axis=1), 0.0))))


def example_sequences(config, sequences):
    """Every example of the sequences, decoded back by the converter (like-for-like with samples)."""
    import copy

    converter = copy.deepcopy(config.data_converter)
    converter.set_mode("eval")
    converter.max_tensors_per_notesequence = None
    outputs = []
    for sequence in sequences:
        outputs.extend(converter.to_tensors(sequence).outputs)
    return converter.from_tensors(outputs)


def feature_overlap(reference_sequences, generated_sequences, seed=0):
    from musicvae_tf import metrics

    reference = metrics.extract_features(reference_sequences)
    generated = metrics.extract_features(generated_sequences)
    report = metrics.compare_sets(reference, generated, seed=seed)
    areas = {name: float(figures["overlap_area"]) for name, figures in report.items()}
    return areas, float(np.mean(list(areas.values())))


def measure(checkpoint, config_name, num_samples, fit_tunes, temperature, steps, seed):
    import note_seq
    import tensorflow as tf

    from musicvae_tf import data, personalize

    _, base = personalize.load_base_model(checkpoint, config_name)
    records = tf.data.TFRecordDataset(data.default_examples_path("eval")).as_numpy_iterator()
    sequences = [note_seq.NoteSequence.FromString(r) for r in records]
    collections = sorted({s.collection_name for s in sequences})
    results = {}
    for collection in collections:
        tunes = [s for s in sequences if s.collection_name == collection]
        fit, test = tunes[:fit_tunes], tunes[fit_tunes:]
        test_codes = personalize.encode_pieces(base, test)
        if len(test) < 2 or not len(test_codes):
            continue
        start = time.time()
        personal = personalize.personalize(checkpoint, fit, base_model=base, config_name=config_name,
                                           steps=steps, seed=seed)
        fit_seconds = time.time() - start
        np.random.seed(seed)
        tf.random.set_seed(seed)
        prior_samples = base.sample(n=num_samples, length=base.config.hparams.max_seq_len,
                                    temperature=temperature)
        personal_samples = personal.sample(num_samples, temperature=temperature, seed=seed + 1)
        test_examples = example_sequences(base.config, test)
        row = {"fit_tunes": len(fit), "fit_examples": personal.info["fit"]["examples"],
               "test_tunes": len(test), "test_examples": len(test_codes),
               "fit_seconds": round(fit_seconds, 1)}
        row["fit_codes_nn_distance"] = nearest_distance(personalize.encode_pieces(base, fit), test_codes)
        for name, samples in (("prior", prior_samples), ("personal", personal_samples)):
            codes = personalize.encode_pieces(base, samples)
            row[f"{name}_nn_distance"] = nearest_distance(codes, test_codes)
            areas, mean_area = feature_overlap(test_examples, samples, seed)
            row[f"{name}_overlap"] = areas
            row[f"{name}_mean_overlap"] = mean_area
        results[collection] = row
        print(f"{collection}: nearest-code distance prior {row['prior_nn_distance']:.3f} -> personal "
              f"{row['personal_nn_distance']:.3f} (fitted tunes {row['fit_codes_nn_distance']:.3f}); "
              f"mean feature overlap prior {row['prior_mean_overlap']:.3f} -> personal "
              f"{row['personal_mean_overlap']:.3f}  [{len(fit)} tunes / {row['fit_examples']} examples fitted "
              f"in {fit_seconds:.1f} s, {len(test)} test tunes / {len(test_codes)} examples]", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="base model (default: the packaged demo model)")
    parser.add_argument("--config", default="cat-mel_2bar_small")
    parser.add_argument("--num_samples", type=int, default=200)
    parser.add_argument("--fit_tunes", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    checkpoint = args.checkpoint
    if checkpoint is None:
        from musicvae_tf import checkpoints

        checkpoint = checkpoints.find_pretrained(args.config)
        if not checkpoint:
            sys.exit(f"no packaged model for {args.config}; pass --checkpoint")
    results = measure(checkpoint, args.config, args.num_samples, args.fit_tunes, args.temperature,
                      args.steps, args.seed)
    report = {"checkpoint": os.path.abspath(checkpoint), "settings": vars(args), "collections": results}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
