"""The held-out figures of a packaged model (scripts/train_packaged_models.py computes and documents them).

    figures = held_out_figures(recipe, config, model)    # dict, JSON-ready

For every model: the training loop's eval metrics (loss, KL) and the reconstruction accuracy from mu
(teacher-forced, and greedy: the argmax fed back) on the recipe's held-out files, whole tunes never
trained on. Then, by kind:
  - 2-bar melodies: prior samples at temperature 0.5 against the held-out examples, the Yang & Lerch
    features `music_vae_evaluate` reports (overlap area >= 0.8 is the target) and note density;
  - 16-bar melodies: prior samples at temperature 0.5 beside the held-out 16-bar examples, key
    consistency, bar self-similarity, notes per example and pitch range (metrics.melody_structure);
  - chord-conditioned: samples over the held-out chord progressions, how often their notes are chord
    tones, beside the same figure for the held-out and training examples, and each against shuffled
    chords (another example's) as a control.
"""

import numpy as np

SAMPLE_TEMPERATURE = 0.5


def _mean(values):
    values = np.asarray(values, np.float64)
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def _loop_metrics(config, model, paths):
    from musicvae_tf import data
    from musicvae_tf.training.eval_loop import Evaluator

    dataset = data.get_dataset(config, is_training=False, examples_path=paths)
    evaluator = Evaluator(config, train_dir=None, eval_dir=None, model=model)
    return evaluator.evaluate_dataset(dataset)


def _reconstruction(config, model, examples):
    from musicvae_tf.metrics import reconstruction

    result = reconstruction.reconstruction_accuracy(model, examples, temperature=reconstruction.GREEDY_TEMPERATURE,
                                                    seed=0, batch_size=int(config.hparams.batch_size))
    reliance = reconstruction.latent_reliance(model, examples, batch_size=int(config.hparams.batch_size))
    return {"examples": result["num_examples"], "teacher_forced": result["teacher_forced_accuracy"],
            "greedy": result["sampled_accuracy"], "most_frequent_class": result["majority_class_accuracy"],
            "teacher_forced_other_z": reliance["other"], "teacher_forced_zero_z": reliance["zero"]}


def _sequence_stats(sequences):
    from musicvae_tf.metrics import melody_structure, note_features

    return {"notes_per_example": _mean([len(s.notes) for s in sequences]),
            "pitch_range": _mean([note_features.pitch_range(s) for s in sequences]),
            "distinct_pitches": _mean([note_features.pitch_count(s) for s in sequences]),
            "lowest_pitch": int(min((n.pitch for s in sequences for n in s.notes), default=0)),
            "highest_pitch": int(max((n.pitch for s in sequences for n in s.notes), default=0)),
            "key_consistency": _mean([melody_structure.key_consistency(s) for s in sequences]),
            "bar_self_similarity": _mean([melody_structure.bar_self_similarity(s) for s in sequences]),
            "empty_examples": int(sum(1 for s in sequences if not s.notes))}


def _two_bar_samples(config, model, examples, num_samples):
    from musicvae_tf.metrics import compare_samples_with_held_out, examples_to_note_sequences

    report = compare_samples_with_held_out(model, config, examples, num_samples=num_samples,
                                           temperature=SAMPLE_TEMPERATURE, seed=0,
                                           batch_size=int(config.hparams.batch_size))
    reference = examples_to_note_sequences(config, examples)
    samples = report["generated_sequences"]
    density = _mean([len(s.notes) for s in samples]) / _mean([len(s.notes) for s in reference])
    return {"temperature": SAMPLE_TEMPERATURE, "num_samples": len(samples), "num_reference": len(reference),
            "yang_lerch": report["features"], "note_density_ratio": density,
            "samples": _sequence_stats(samples), "held_out": _sequence_stats(reference)}, samples


def _sixteen_bar_samples(config, model, examples, num_samples):
    from musicvae_tf.metrics import examples_to_note_sequences, sample_prior
    from musicvae_tf.metrics.held_out_examples import tensors_to_note_sequences

    tensors, _ = sample_prior(model, num_samples, temperature=SAMPLE_TEMPERATURE, seed=0,
                              batch_size=int(config.hparams.batch_size))
    lengths = np.full([len(tensors)], tensors.shape[1], np.int32)
    samples = tensors_to_note_sequences(config, tensors, lengths)
    reference = examples_to_note_sequences(config, examples)
    return {"temperature": SAMPLE_TEMPERATURE, "num_samples": len(samples), "num_reference": len(reference),
            "samples": _sequence_stats(samples), "held_out": _sequence_stats(reference)}, samples


def _chord_figures(sequences, seed=0):
    from musicvae_tf.metrics import melody_structure

    shuffled = [sequences[i] for i in melody_structure.derangement(len(sequences), seed)]
    return {"chord_tones": melody_structure.chord_tone_fraction(sequences),
            "chord_tones_shuffled_chords": melody_structure.chord_tone_fraction(sequences, chords_from=shuffled)}


def _chord_samples(config, model, examples, train_examples, num_samples):
    from musicvae_tf.metrics import examples_to_note_sequences, sample_prior
    from musicvae_tf.metrics.held_out_examples import tensors_to_note_sequences

    num_samples = min(num_samples, len(examples.lengths))
    tensors, controls = sample_prior(model, num_samples, temperature=SAMPLE_TEMPERATURE, seed=0,
                                     batch_size=int(config.hparams.batch_size), controls=examples.controls)
    lengths = np.full([len(tensors)], tensors.shape[1], np.int32)
    samples = tensors_to_note_sequences(config, tensors, lengths, controls)
    reference = examples_to_note_sequences(config, examples)
    training = examples_to_note_sequences(config, train_examples)
    return {"temperature": SAMPLE_TEMPERATURE, "num_samples": len(samples),
            "samples": {**_chord_figures(samples), **_sequence_stats(samples)},
            "held_out": {**_chord_figures(reference), **_sequence_stats(reference)},
            "training": {**_chord_figures(training), "examples": len(training)}}, samples


def held_out_figures(recipe, config, model, data_paths, num_samples=320, max_examples=None):
    """Every figure of the module docstring for `model` (a MusicVAE of `config`) as a dict."""
    from musicvae_tf.metrics import load_examples

    held_out = data_paths(recipe["held_out"])
    examples = load_examples(config, held_out, max_examples=max_examples)
    figures = {"held_out_files": list(recipe["held_out"]),
               "eval_metrics": _loop_metrics(config, model, held_out),
               "reconstruction": _reconstruction(config, model, examples)}
    if recipe.get("extra_held_out"):
        extra = load_examples(config, data_paths(recipe["extra_held_out"]), max_examples=max_examples)
        figures["extra_held_out_files"] = list(recipe["extra_held_out"])
        figures["extra_reconstruction"] = _reconstruction(config, model, extra)
    if model.control_depth:
        train_examples = load_examples(config, data_paths(recipe["train"]), max_examples=512)
        figures["chords"], samples = _chord_samples(config, model, examples, train_examples, num_samples)
    elif int(config.hparams.max_seq_len) > 64:
        figures["samples"], samples = _sixteen_bar_samples(config, model, examples, min(num_samples, 64))
    else:
        figures["samples"], samples = _two_bar_samples(config, model, examples, num_samples)
    return figures, samples
