"""Yang & Lerch features of hand-made NoteSequences, and their distance-distribution comparison."""

import math

import note_seq
import numpy as np
import pytest

from musicvae_tf.metrics import distribution_overlap as overlap
from musicvae_tf.metrics import note_features as nf

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def _sequence(notes, qpm=120.0):
    """notes: (pitch, start, end) in 16th notes, or (pitch, start, end, is_drum)."""
    sequence = note_seq.NoteSequence()
    if qpm:
        sequence.tempos.add(qpm=qpm)
    sixteenth = 60.0 / (qpm or 120.0) / 4
    for pitch, start, end, *drum in notes:
        sequence.notes.add(pitch=pitch, start_time=start * sixteenth, end_time=end * sixteenth, velocity=80,
                           is_drum=bool(drum and drum[0]))
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence


def _scale(qpm=120.0):
    return _sequence([(pitch, 4 * i, 4 * i + 4) for i, pitch in enumerate(C_MAJOR)], qpm)


def test_c_major_scale_in_quarter_notes():
    features = nf.extract_features([_scale()], names=list(nf.FEATURES))
    assert features["pitch_count"].tolist() == [8.0]
    expected_pch = np.zeros(12)
    expected_pch[0] = 2 / 8  # C4 and C5
    for pitch_class in (2, 4, 5, 7, 9, 11):
        expected_pch[pitch_class] = 1 / 8
    np.testing.assert_array_equal(features["pitch_class_histogram"][0], expected_pch)
    quarter = [name for name, _ in nf.NOTE_LENGTH_CLASSES].index("quarter")
    np.testing.assert_array_equal(features["note_length_histogram"][0], np.eye(12)[quarter])
    assert features["inter_onset_interval"].tolist() == [4.0]  # one quarter = 4 sixteenths
    assert features["note_count"].tolist() == [8.0]
    assert features["pitch_range"].tolist() == [12.0]


def test_musical_time_follows_the_tempo():
    slow = nf.extract_features([_scale(qpm=60.0)])
    assert slow["inter_onset_interval"].tolist() == [4.0]
    assert slow["note_length_histogram"][0][2] == 1.0  # still quarter notes
    # No tempo: 120 qpm.
    assert nf.inter_onset_interval(_sequence([(60, 0, 2), (62, 2, 4)], qpm=None)) == 2.0


def test_note_length_classes_and_ties():
    names = [name for name, _ in nf.NOTE_LENGTH_CLASSES]
    # duration in 16ths -> class
    expected = {1: "16th", 2: "8th", 3: "dotted 8th", 4: "quarter", 5: "half triplet", 6: "dotted quarter",
                7: "half",  # 7/4 quarters: as far from a dotted quarter as from a half; the half is listed first
                8: "half", 12: "dotted half", 16: "whole", 32: "whole"}
    for sixteenths, name in expected.items():
        assert names[nf.note_length_class(sixteenths / 4)] == name, sixteenths
    sequence = _sequence([(60, 0, 1), (62, 1, 3), (64, 3, 6), (65, 6, 10)])
    histogram = nf.note_length_histogram(sequence)
    for name in ("16th", "8th", "dotted 8th", "quarter"):
        assert histogram[names.index(name)] == 0.25
    # Onsets 0, 1, 3, 6: gaps 1, 2, 3 sixteenths.
    assert nf.inter_onset_interval(sequence) == 2.0


def test_chords_drums_and_empty_sequences():
    chord = _sequence([(60, 0, 4), (64, 0, 4), (67, 0, 4), (60, 8, 12), (36, 2, 3, True)])
    assert nf.pitch_count(chord) == 3  # the drum note is not a pitch
    assert nf.pitch_range(chord) == 7
    assert nf.pitch_class_histogram(chord)[0] == 0.5  # two of the four pitched notes are Cs
    assert nf.note_count(chord) == 5
    assert nf.inter_onset_interval(chord) == 4.0  # distinct onsets 0, 2, 8
    drums = _sequence([(36, 0, 1, True), (38, 4, 5, True), (42, 8, 9, True), (36, 12, 13, True)])
    assert nf.pitch_count(drums) == 3  # drums only: their instruments count as pitches
    one_note = _sequence([(60, 0, 4)])
    assert math.isnan(nf.inter_onset_interval(one_note))
    empty = note_seq.NoteSequence()
    features = nf.extract_features([empty], names=list(nf.FEATURES))
    assert features["pitch_count"][0] == 0 and features["pitch_range"][0] == 0
    assert not features["pitch_class_histogram"].any() and not features["note_length_histogram"].any()
    with pytest.raises(ValueError, match="unknown feature"):
        nf.extract_features([empty], names=["tempo"])


def test_distances_within_and_between_sets():
    np.testing.assert_allclose(overlap.intra_set_distances([0.0, 1.0, 3.0]), [1.0, 3.0, 2.0])
    np.testing.assert_allclose(overlap.inter_set_distances([0.0, 10.0], [1.0, 4.0]), [1.0, 4.0, 9.0, 6.0])
    vectors = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(overlap.intra_set_distances(vectors), [5.0])
    with pytest.raises(ValueError, match="depths differ"):
        overlap.inter_set_distances(vectors, np.zeros([2, 3]))


def test_overlap_area_and_kl_divergence():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, 3000)
    area, kl = overlap.overlap_and_kl(a, a)
    assert area == pytest.approx(1.0, abs=1e-3)
    assert kl == pytest.approx(0.0, abs=1e-12)
    # Disjoint sets: no overlap, large divergence.
    area, kl = overlap.overlap_and_kl(a, rng.normal(100.0, 1.0, 3000))
    assert area < 1e-6 and kl > 10
    # Two unit Gaussians one standard deviation apart overlap by 2 * Phi(-1/2) = 0.617.
    area, kl = overlap.overlap_and_kl(a, rng.normal(1.0, 1.0, 3000))
    assert area == pytest.approx(0.617, abs=0.03)
    assert kl == pytest.approx(0.5, abs=0.1)  # KL(N(0,1) || N(1,1)) = 1/2, widened a little by the KDE
    for _ in range(5):
        assert overlap.overlap_and_kl(rng.exponential(1.0, 50), rng.exponential(2.0, 70))[1] >= 0.0
    # All distances equal: a narrow fallback kernel, still a density.
    area, _ = overlap.overlap_and_kl(np.zeros(10), np.zeros(10))
    assert area == pytest.approx(1.0, abs=1e-3)
    assert math.isnan(overlap.overlap_and_kl([1.0], [1.0, 2.0])[0])


def test_compare_feature_on_alike_and_unlike_sets():
    rng = np.random.default_rng(1)
    reference = rng.normal(0.0, 1.0, [120, 3])
    alike = overlap.compare_feature(reference, rng.normal(0.0, 1.0, [100, 3]), seed=0)
    unlike = overlap.compare_feature(reference, rng.normal(3.0, 1.0, [100, 3]), seed=0)
    assert alike["overlap_area"] > 0.9 and alike["kl_divergence"] < 0.05
    assert unlike["overlap_area"] < 0.2 and unlike["kl_divergence"] > 1.0
    assert alike["intra_reference_mean"] == pytest.approx(np.mean(overlap.intra_set_distances(reference)))
    assert (alike["num_reference"], alike["num_generated"]) == (120, 100)
    # Deterministic given the seed, also when the distances are subsampled.
    generated = rng.normal(0.0, 1.0, [100, 3])
    first = overlap.compare_feature(reference, generated, seed=4, max_pairs=500)
    assert overlap.compare_feature(reference, generated, seed=4, max_pairs=500) == first
    assert overlap.compare_feature(reference, generated, seed=5, max_pairs=500) != first
    full = overlap.compare_feature(reference, generated, seed=4)  # mean/std use all distances
    assert first["inter_mean"] == full["inter_mean"] and first["overlap_area"] != full["overlap_area"]
    # NaN members (an undefined inter-onset interval) are left out and counted.
    with_nan = overlap.compare_feature([1.0, 2.0, np.nan, 3.0], [1.5, 2.5, 3.5], seed=0)
    assert (with_nan["num_reference"], with_nan["dropped_reference"]) == (3, 1)
    with pytest.raises(ValueError, match="feature sets differ"):
        overlap.compare_sets({"pitch_count": [1.0]}, {"note_count": [1.0]})


def test_prior_samples_against_held_out_examples_of_a_chord_conditioned_model():
    """The comparison end to end on a tiny model conditioned on chords (samples take the held-out
    examples' chords in turn); reproducible from the seed."""
    from conftest import PARITY_DIR
    from musicvae_tf import configs
    from musicvae_tf.metrics import compare_samples_with_held_out, load_examples, sample_prior
    from musicvae_tf.model import build_model

    config = configs.get_config("cat-mel_2bar_med_chords", "z_size=8,enc_rnn_size=[16],dec_rnn_size=[16]")
    model = build_model(config)
    examples = load_examples(config, str(PARITY_DIR / "sources" / "folk_melody_source.tfrecord"), max_examples=3)
    report = compare_samples_with_held_out(model, config, examples, num_samples=4, seed=2, batch_size=4,
                                           features=list(nf.FEATURES))
    assert (report["num_reference"], report["num_generated"]) == (3, 4)
    assert list(report["features"]) == list(nf.FEATURES)
    reference = report["reference_means"]
    assert reference["note_count"] > 0 and len(reference["pitch_class_histogram"]) == 12
    assert sum(reference["pitch_class_histogram"]) == pytest.approx(1.0)
    for figures in report["features"].values():
        assert figures["num_reference"] + figures["dropped_reference"] == 3
    samples, controls = sample_prior(model, 4, seed=2, batch_size=4, controls=examples.controls)
    np.testing.assert_array_equal(controls[3], examples.controls[0])  # the chords cycle
    again, _ = sample_prior(model, 4, seed=2, batch_size=4, controls=examples.controls)
    np.testing.assert_array_equal(again, samples)
    with pytest.raises(ValueError, match="conditioned on controls"):
        sample_prior(model, 2, controls=None)
