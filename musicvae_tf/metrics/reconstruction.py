"""Reconstruction accuracy on held-out data, teacher-forced and sampled (MusicVAE paper, Table 1).

    result = reconstruction_accuracy(model, examples, temperature=1.0, seed=0)
    result["teacher_forced_accuracy"], result["sampled_accuracy"]

Roberts et al. (2018) report, on a held-out set, the share of output steps reconstructed
correctly, once with teacher forcing (next-step prediction) and once with full sampling, sampling
at softmax temperature 1.0; the paper does not spell out every detail (which z, what is scored
while sampling). What is computed here, for each held-out example:
  1. z = mu, the posterior mean of the encoder (or, with posterior_sample=True, one draw
     z = mu + sigma * eps, as Magenta's eval job uses);
  2. teacher forcing: the decoder reads the true previous step at every step;
     teacher_forced_accuracy = share of the valid steps where the argmax of the logits is the
     target class;
  3. free sampling: the decoder reads its own previous sample at every step (drawn from
     softmax(logits / temperature); no end token, all max_seq_len steps), from the same z;
     sampled_accuracy = share of the valid steps where the SAMPLE is the target class (the
     literal "full sampling" accuracy), and
     sampled_argmax_accuracy = share where the argmax of the free-running logits is the target
     (Magenta's eval `accuracy`, which feeds back samples but scores the argmax).
Steps are pooled over all examples (a step-weighted mean, as Magenta's streaming metric). For
decoders with several categorical outputs per step (trio: melody, bass, drums) each output is
scored on its own (`.../output_<i>`) and the accuracy is their mean. majority_class_accuracy is
the score of always predicting each output's most frequent held-out class (a baseline).

Supported decoders: CategoricalLstmDecoder (melody, drums, performance event configs),
MultiOutCategoricalLstmDecoder and SplitMultiOutLstmDecoder over categorical cores (trios), and
HierarchicalLstmDecoder over any of these (hierdec-/hier- configs). Unsupported (raise
UnsupportedDecoderError): MultiLabelRnnNadeDecoder (nade-drums: multi-label steps) and
GrooveLstmDecoder (groovae: continuous velocities and offsets), which have no per-step class.
"""

import numpy as np
import tensorflow as tf

from musicvae_tf.fixed_batches import run_in_batches
from musicvae_tf.layers.decoders.categorical import CategoricalLstmDecoder
from musicvae_tf.layers.decoders.hierarchical import HierarchicalLstmDecoder
from musicvae_tf.layers.decoders.multi_out import MultiOutCategoricalLstmDecoder, SplitMultiOutLstmDecoder
from musicvae_tf.metrics.held_out_examples import step_mask


# Free decoding at this temperature feeds back the argmax of the logits: greedy decoding (the
# logits' gaps divided by it dwarf any sampling noise), so sampled_accuracy is greedy accuracy.
GREEDY_TEMPERATURE = 1e-4


class UnsupportedDecoderError(ValueError):
    """The decoder has no per-step categorical output to score."""


def output_groups(decoder):
    """Depths of the categorical outputs side by side in one decoder step, e.g. [90, 90, 512]."""
    if isinstance(decoder, HierarchicalLstmDecoder):
        return output_groups(decoder.core_decoder)
    if isinstance(decoder, MultiOutCategoricalLstmDecoder):
        return list(decoder.output_depths)
    if isinstance(decoder, SplitMultiOutLstmDecoder):
        return [depth for core in decoder.core_decoders for depth in output_groups(core)]
    if isinstance(decoder, CategoricalLstmDecoder):
        return [int(decoder.output_depth)]
    raise UnsupportedDecoderError(
        f"reconstruction accuracy needs categorical outputs; {type(decoder).__name__} is not supported")


def _group_argmax(values, groups):
    """[n, T, sum(groups)] -> [n, T, len(groups)] class index within each group."""
    parts = np.split(np.asarray(values), np.cumsum(groups)[:-1], axis=-1)
    return np.stack([np.argmax(part, axis=-1) for part in parts], axis=-1)


class Decoding:
    """Compiled teacher forcing and free decoding of a MusicVAE in fixed-size batches."""

    def __init__(self, model, batch_size=64):
        self.model = model
        self.batch_size = int(batch_size)
        self._teacher_force = None

    def encode(self, inputs, lengths, controls):
        """(mu, sigma) of each example."""
        def encode(index, inputs, lengths, controls):
            return self.model.encode_compiled(tf.constant(inputs), tf.constant(lengths),
                                              tf.constant(controls) if self.model.control_depth else None)

        return run_in_batches(encode, [inputs, lengths, controls], self.batch_size, pad=False)

    def teacher_forced_logits(self, inputs, outputs, lengths, controls, z):
        """Logits [n, T, P] of teacher forcing from z."""
        if self._teacher_force is None:
            model = self.model

            def run(inputs, outputs, lengths, controls, z):
                return model.reconstruct(inputs, outputs, lengths,
                                         controls if model.control_depth else None, z=z).rnn_output

            self._teacher_force = tf.function(run, autograph=False, reduce_retracing=True)
        return run_in_batches(
            lambda index, *batch: self._teacher_force(*[tf.constant(part) for part in batch]),
            [inputs, outputs, lengths, controls, np.asarray(z, np.float32)], self.batch_size, pad=False)

    def free_decode(self, z, length, temperature, seed, controls=None):
        """(samples [n, length, depth], logits [n, length, P]) decoding each z freely.

        Batches are padded to `batch_size` (one compiled function for all). With `controls`
        [n, T, control_depth] each row is decoded on its own controls, one at a time.
        `seed` (an int) makes the draws reproducible: batch i uses stateless seed [seed, i].
        """
        z = np.asarray(z, np.float32)
        if self.model.control_depth:
            if controls is None:
                raise ValueError("this model is conditioned on controls: pass controls")

            def decode_one(index, z_row, control_row):
                result = self.model.sample(n=1, length=length, z=z_row, temperature=temperature,
                                           c_input=np.asarray(control_row[0], np.float32)[:length],
                                           seed=[seed, index])
                return result.samples, result.rnn_output

            return run_in_batches(decode_one, [z, controls], 1)

        def decode(index, z_batch):
            result = self.model.sample(n=self.batch_size, length=length, z=z_batch, temperature=temperature,
                                       seed=[seed, index])
            return result.samples, result.rnn_output

        return run_in_batches(decode, [z], self.batch_size)


def latent_codes(decoding, examples, posterior_sample=False, seed=0):
    """z for each example: mu, or mu + sigma * eps with eps ~ N(0, I) from `seed`."""
    mu, sigma = decoding.encode(examples.inputs, examples.lengths, examples.controls)
    if not posterior_sample:
        return mu
    eps = np.random.default_rng(seed).standard_normal(mu.shape)
    return (mu + sigma * eps).astype(np.float32)


def reconstruct_examples(decoding, examples, temperature=1.0, seed=0, posterior_sample=False):
    """Per-step results: dict of z, teacher_forced_logits, sampled_logits, samples (numpy)."""
    if not decoding.model.z_size:
        raise UnsupportedDecoderError("reconstruction accuracy needs a model with a latent code (z_size > 0)")
    z = latent_codes(decoding, examples, posterior_sample, seed)
    total = examples.outputs.shape[1]
    teacher_forced = decoding.teacher_forced_logits(examples.inputs, examples.outputs, examples.lengths,
                                                    examples.controls, z)
    samples, sampled_logits = decoding.free_decode(z, total, temperature, seed, examples.controls)
    return {"z": z, "teacher_forced_logits": teacher_forced[:, :total],
            "sampled_logits": sampled_logits[:, :total], "samples": samples[:, :total]}


def score(targets, results, lengths, groups):
    """Accuracies (see the module docstring) from `reconstruct_examples` results."""
    mask = step_mask(lengths, targets.shape[1])
    target = _group_argmax(targets, groups)[mask]                 # [steps, groups]
    predictions = {
        "teacher_forced_accuracy": _group_argmax(results["teacher_forced_logits"], groups)[mask],
        "sampled_accuracy": _group_argmax(results["samples"], groups)[mask],
        "sampled_argmax_accuracy": _group_argmax(results["sampled_logits"], groups)[mask],
    }
    steps = int(mask.sum())
    if not steps:
        raise ValueError("the held-out examples have no valid step")
    metrics = {"num_examples": int(len(targets)), "num_steps": steps}
    majority = [np.bincount(target[:, g], minlength=depth).max() / steps for g, depth in enumerate(groups)]
    per_group = {"majority_class_accuracy": np.asarray(majority)}
    for name, predicted in predictions.items():
        per_group[name] = np.mean(predicted == target, axis=0)
    for name in ("teacher_forced_accuracy", "sampled_accuracy", "sampled_argmax_accuracy",
                 "majority_class_accuracy"):
        metrics[name] = float(np.mean(per_group[name]))
        if len(groups) > 1:
            for g, value in enumerate(per_group[name]):
                metrics[f"{name}/output_{g}"] = float(value)
    return metrics


def reconstruction_accuracy(model, examples, temperature=1.0, seed=0, posterior_sample=False, batch_size=64):
    """Teacher-forced and sampled reconstruction accuracy of a MusicVAE on `HeldOutExamples`.

    Returns {teacher_forced_accuracy, sampled_accuracy, sampled_argmax_accuracy,
    majority_class_accuracy, num_examples, num_steps} (+ per-output entries for multi-output
    decoders). Deterministic given `seed`.
    """
    groups = output_groups(model.decoder)
    decoding = Decoding(model, batch_size)
    results = reconstruct_examples(decoding, examples, temperature, seed, posterior_sample)
    return score(examples.outputs, results, examples.lengths, groups)


def latent_reliance(model, examples, batch_size=64):
    """How much the decoder reads z: teacher-forced accuracy from each example's own mu, from
    another example's mu (the next one, cyclically) and from z = 0.

    A decoder that ignores z scores the same three times (its next-step prediction alone does the
    work); the gap own - other is what z adds. Returns {own, other, zero} (shares of the valid
    steps, as teacher_forced_accuracy).
    """
    if not model.z_size:
        raise UnsupportedDecoderError("latent reliance needs a model with a latent code (z_size > 0)")
    if len(examples.inputs) < 2:
        raise ValueError("latent reliance needs at least 2 examples")
    groups = output_groups(model.decoder)
    decoding = Decoding(model, batch_size)
    mu = latent_codes(decoding, examples)
    mask = step_mask(examples.lengths, examples.outputs.shape[1])
    target = _group_argmax(examples.outputs, groups)[mask]
    result = {}
    for name, z in (("own", mu), ("other", np.roll(mu, 1, axis=0)), ("zero", np.zeros_like(mu))):
        logits = decoding.teacher_forced_logits(examples.inputs, examples.outputs, examples.lengths,
                                                examples.controls, z)[:, :examples.outputs.shape[1]]
        result[name] = float(np.mean(_group_argmax(logits, groups)[mask] == target))
    return result
