"""Teacher-forced and sampled reconstruction accuracy (musicvae_tf.metrics.reconstruction)."""

import os

import numpy as np
import pytest

from musicvae_tf import configs
from musicvae_tf.metrics import held_out_examples, load_examples, reconstruction
from musicvae_tf.model import build_model

from conftest import PARITY_DIR
from kit import DEMO_DIR, needs_demo_model, seeded

SOURCES = PARITY_DIR / "sources"
TINY = "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16,16],batch_size=4"


def _tiny_model(name, hparams=TINY):
    config = configs.get_config(name, hparams)
    return config, seeded(build_model(config))


@pytest.mark.parametrize("name, source, groups", [
    ("cat-mel_2bar_small", "folk_melody", [90]),                   # flat categorical
    ("cat-mel_2bar_med_chords", "folk_melody", [90]),              # controls: decoded one by one
    ("flat-trio_16bar", "trio", [90, 90, 512]),                    # MultiOutCategorical
    ("hierdec-trio_16bar", "trio", [90, 90, 512]),                 # Hierarchical over SplitMultiOut
])
def test_teacher_forcing_on_own_samples_repeats_the_free_decoding(name, source, groups):
    """Exact check of both paths: fed its own samples as targets, teacher forcing sees exactly what
    free decoding saw, so the logits agree at every step (segment starts of hierarchical decoders
    included); the samples then score 1 and both argmax accuracies coincide."""
    config, model = _tiny_model(name)
    assert reconstruction.output_groups(model.decoder) == groups
    examples = load_examples(config, str(SOURCES / f"{source}_source.tfrecord"), max_examples=3)
    assert examples.outputs.shape == (3, config.hparams.max_seq_len, sum(groups))
    decoding = reconstruction.Decoding(model, batch_size=4)
    z = np.random.default_rng(0).standard_normal([3, model.z_size]).astype(np.float32)
    total = examples.outputs.shape[1]
    samples, free_logits = decoding.free_decode(z, total, temperature=1.0, seed=7, controls=examples.controls)
    assert samples.shape == examples.outputs.shape
    lengths = np.full([3], total, np.int32)
    forced_logits = decoding.teacher_forced_logits(samples, samples, lengths, examples.controls, z)
    np.testing.assert_allclose(forced_logits, free_logits, atol=1e-4)
    results = {"teacher_forced_logits": forced_logits, "sampled_logits": free_logits, "samples": samples}
    scores = reconstruction.score(samples, results, lengths, groups)
    assert scores["sampled_accuracy"] == 1.0
    assert scores["teacher_forced_accuracy"] == scores["sampled_argmax_accuracy"] < 1.0
    assert scores["num_steps"] == 3 * total
    # Same seed, same samples.
    again, _ = decoding.free_decode(z, total, temperature=1.0, seed=7, controls=examples.controls)
    np.testing.assert_array_equal(again, samples)

    # The whole metric on held-out examples: bounded, per-output entries, the majority baseline.
    result = reconstruction.reconstruction_accuracy(model, examples, seed=1, batch_size=4)
    mask = held_out_examples.step_mask(examples.lengths, total)
    first = np.argmax(examples.outputs[..., :groups[0]], axis=-1)[mask]
    majority_0 = np.bincount(first).max() / mask.sum()
    key = "majority_class_accuracy/output_0" if len(groups) > 1 else "majority_class_accuracy"
    assert result[key] == pytest.approx(majority_0)
    for name in ("teacher_forced_accuracy", "sampled_accuracy", "sampled_argmax_accuracy"):
        assert 0.0 <= result[name] <= 1.0
        if len(groups) > 1:
            per_output = [result[f"{name}/output_{g}"] for g in range(len(groups))]
            assert result[name] == pytest.approx(np.mean(per_output))


def test_decoders_without_per_step_classes_are_refused():
    for name in ("nade-drums_2bar_reduced", "groovae_2bar_humanize"):
        _, model = _tiny_model(name, "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16],batch_size=4")
        with pytest.raises(reconstruction.UnsupportedDecoderError, match="not supported"):
            reconstruction.output_groups(model.decoder)


def test_step_mask_for_sequence_and_segment_lengths():
    np.testing.assert_array_equal(held_out_examples.step_mask([2, 0], 3), [[1, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(held_out_examples.step_mask([[2, 1]], 6), [[1, 1, 0, 1, 0, 0]])


@pytest.fixture(scope="module")
def demo():
    from musicvae_tf import checkpoints, data

    resolved = checkpoints.resolve(DEMO_DIR)  # the config it records, and its weights
    config = resolved.config
    return resolved.build_model(), load_examples(config, data.default_examples_path("eval"), max_examples=64)


@needs_demo_model
def test_demo_model_on_held_out_folk_tunes(demo):
    model, examples = demo
    decoding = reconstruction.Decoding(model, batch_size=64)
    results = reconstruction.reconstruct_examples(decoding, examples, temperature=1.0, seed=0)
    # Exact: free decoding from z = mu matches teacher forcing until (and including) the first step
    # where its sample departs from the target, in every example.
    target = np.argmax(examples.outputs, axis=-1)
    sampled = np.argmax(results["samples"], axis=-1)
    compared = 0
    for i in range(len(target)):
        mismatches = np.flatnonzero(sampled[i] != target[i])
        last = mismatches[0] if len(mismatches) else target.shape[1] - 1
        np.testing.assert_allclose(results["sampled_logits"][i, :last + 1],
                                   results["teacher_forced_logits"][i, :last + 1], atol=1e-4)
        compared += last + 1
    assert compared > len(target)  # some samples follow their target beyond the first step
    # Fed the free run's own samples, teacher forcing gives the free run's logits at every step.
    forced = decoding.teacher_forced_logits(examples.inputs, results["samples"], examples.lengths,
                                            examples.controls, results["z"])
    np.testing.assert_allclose(forced, results["sampled_logits"], atol=1e-4)

    scores = reconstruction.score(examples.outputs, results, examples.lengths, [90])
    # Measured 0.646 / 0.502 / 0.576 with the most frequent class at 0.563 (64 examples, seed 0).
    assert scores["teacher_forced_accuracy"] > scores["majority_class_accuracy"] + 0.05
    assert scores["teacher_forced_accuracy"] > scores["sampled_argmax_accuracy"] > scores["sampled_accuracy"]
    assert scores["sampled_accuracy"] > 10 / 90
    # Near-greedy sampling: the sample is the argmax, so both sampled accuracies agree.
    greedy = reconstruction.reconstruction_accuracy(model, examples, temperature=1e-4, seed=0)
    assert greedy["sampled_accuracy"] == greedy["sampled_argmax_accuracy"]
    assert greedy["teacher_forced_accuracy"] == scores["teacher_forced_accuracy"]
    posterior = reconstruction.reconstruction_accuracy(model, examples, seed=0, posterior_sample=True)
    assert posterior["teacher_forced_accuracy"] != scores["teacher_forced_accuracy"]
    # Reproducible from the seed.
    assert reconstruction.reconstruction_accuracy(model, examples, seed=0) == scores
