"""Evaluation metrics worth publishing for a trained MusicVAE (the `music_vae_evaluate` command).

    from musicvae_tf.metrics import (load_examples, reconstruction_accuracy,
                                     compare_samples_with_held_out)
    examples = load_examples(config, "held_out.tfrecord", max_examples=320)
    accuracy = reconstruction_accuracy(model, examples, temperature=1.0, seed=0)
    features = compare_samples_with_held_out(model, config, examples, num_samples=320, seed=0)

Modules:
  held_out_examples        a config's converter applied to a NoteSequence TFRecord (eval mode)
  reconstruction           teacher-forced and sampled accuracy (MusicVAE paper, Table 1)
  note_features            Yang & Lerch (2020) per-sequence features of NoteSequences
  distribution_overlap     their intra/inter-set distance KDEs, overlapping area and KL divergence
  feature_comparison       prior samples vs held-out data, feature by feature

`musicvae_tf.training.eval_loop` is a different thing: the loop of `music_vae_train --mode=eval`.
"""

from musicvae_tf.metrics.distribution_overlap import compare_feature, compare_sets, overlap_and_kl
from musicvae_tf.metrics.feature_comparison import compare_samples_with_held_out, sample_prior
from musicvae_tf.metrics.held_out_examples import HeldOutExamples, examples_to_note_sequences, load_examples
from musicvae_tf.metrics.note_features import DEFAULT_FEATURES, FEATURES, extract_features
from musicvae_tf.metrics.reconstruction import (UnsupportedDecoderError, output_groups,
                                                         reconstruction_accuracy)

__all__ = ["DEFAULT_FEATURES", "FEATURES", "HeldOutExamples", "UnsupportedDecoderError", "compare_feature",
           "compare_samples_with_held_out", "compare_sets", "examples_to_note_sequences", "extract_features",
           "load_examples", "output_groups", "overlap_and_kl", "reconstruction_accuracy", "sample_prior"]
