"""Random samples of a MusicVAE against held-out data, feature by feature (Yang & Lerch, 2020).

    report = compare_samples_with_held_out(model, config, examples, num_samples=320, seed=0)
    report["features"]["pitch_count"]["overlap_area"]

The generated set is `num_samples` decodings of z ~ N(0, I) (drawn from `seed`) at `temperature`,
all max_seq_len steps long, decoded to NoteSequences by the config's converter. The reference set
is the held-out examples decoded by the same converter (their target tensors), so both sets have
the same length and quantisation. Configs conditioned on controls (chords) decode sample i on the
controls of held-out example i (cycling through them). Features: `note_features`; comparison:
`distribution_overlap`.
"""

import numpy as np

from musicvae_tf.metrics import distribution_overlap, note_features
from musicvae_tf.metrics.held_out_examples import examples_to_note_sequences, tensors_to_note_sequences
from musicvae_tf.metrics.reconstruction import Decoding


def sample_prior(model, num_samples, temperature=1.0, seed=0, batch_size=64, controls=None, length=None):
    """Samples [num_samples, length, output_depth] of z ~ N(0, I); reproducible from `seed`."""
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    length = int(length or model.hparams.max_seq_len)
    z = np.random.default_rng(seed).standard_normal([num_samples, model.z_size]).astype(np.float32)
    if model.control_depth:
        if controls is None or not len(controls):
            raise ValueError("this model is conditioned on controls: pass held-out controls")
        controls = np.asarray(controls)[np.arange(num_samples) % len(controls)]
    else:
        controls = None
    samples, _ = Decoding(model, batch_size).free_decode(z, length, temperature, seed + 1, controls)
    return samples, controls


def compare_samples_with_held_out(model, config, examples, num_samples, temperature=1.0, seed=0,
                                  batch_size=64, features=note_features.DEFAULT_FEATURES,
                                  grid_size=distribution_overlap.DEFAULT_GRID_SIZE,
                                  max_pairs=distribution_overlap.DEFAULT_MAX_PAIRS):
    """{"features": {name: compare_feature figures}, "reference_means": ..., "generated_means": ...}.

    The *_means entries hold each feature's mean over a set (NaN members left out) for a quick
    look at what differs (e.g. a lower pitch_count in the samples).
    """
    reference_sequences = examples_to_note_sequences(config, examples)
    samples, controls = sample_prior(model, num_samples, temperature, seed, batch_size, examples.controls)
    lengths = np.full([len(samples)], samples.shape[1], np.int32)
    generated_sequences = tensors_to_note_sequences(config, samples, lengths, controls)
    reference = note_features.extract_features(reference_sequences, features)
    generated = note_features.extract_features(generated_sequences, features)
    return {
        "features": distribution_overlap.compare_sets(reference, generated, seed=seed, grid_size=grid_size,
                                                      max_pairs=max_pairs),
        "reference_means": {name: _mean(values) for name, values in reference.items()},
        "generated_means": {name: _mean(values) for name, values in generated.items()},
        "num_reference": len(reference_sequences),
        "num_generated": len(generated_sequences),
        "generated_sequences": generated_sequences,
    }


def _mean(values):
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        finite = values[~np.isnan(values)]
        return float(finite.mean()) if len(finite) else float("nan")
    return [float(v) for v in values.mean(axis=0)] if len(values) else []
