"""Attribute measures and attribute vectors (musicvae_tf.attributes)."""
import note_seq
import numpy as np
import pytest

from kit import TINY, seeded
from musicvae_tf import attributes


def _sequence(onsets_in_16ths, pitches=None, qpm=120.0, total_steps=32):
    """A melody with notes starting at the given 16th-note steps, one step long each."""
    step = 60.0 / qpm / 4
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    pitches = pitches or [60] * len(onsets_in_16ths)
    for onset, pitch in zip(onsets_in_16ths, pitches):
        sequence.notes.add(pitch=pitch, start_time=onset * step, end_time=(onset + 1) * step,
                           velocity=80)
    sequence.total_time = total_steps * step
    return sequence


def test_note_density_counts_onsets_per_step():
    sequence = _sequence([0, 4, 8, 12])
    assert attributes.note_density(sequence, num_steps=32) == pytest.approx(4 / 32)
    assert attributes.note_density(sequence) == pytest.approx(4 / 32)  # over the total time
    assert attributes.note_density(note_seq.NoteSequence(), num_steps=32) == 0.0


def test_mean_pitch_ignores_drums():
    sequence = _sequence([0, 4], pitches=[60, 70])
    sequence.notes.add(pitch=36, start_time=0.0, end_time=0.1, is_drum=True)
    assert attributes.mean_pitch(sequence) == pytest.approx(65.0)
    assert attributes.mean_pitch(note_seq.NoteSequence()) is None


def test_syncopation_is_fraction_of_offbeat_onsets():
    assert attributes.syncopation(_sequence([0, 4, 8, 12])) == 0.0
    assert attributes.syncopation(_sequence([2, 6, 8, 12])) == pytest.approx(0.5)
    assert attributes.syncopation(_sequence([1, 3, 5, 7])) == 1.0
    assert attributes.syncopation(note_seq.NoteSequence()) is None


def test_unknown_attribute_name():
    with pytest.raises(ValueError, match="unknown attribute"):
        attributes.attribute_fn("loudness")


def test_vector_is_top_mean_minus_bottom_mean():
    codes = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0], [3.0, 5.0]])
    values = [0.1, 0.2, 0.3, 0.9]
    # fraction 0.25 of 4 examples: one each side.
    vector = attributes.attribute_vector_from_codes(codes, values, fraction=0.25)
    np.testing.assert_allclose(vector, [3.0, 4.0])
    vector = attributes.attribute_vector_from_codes(codes, values, fraction=0.5)
    np.testing.assert_allclose(vector, [(2 + 3) / 2 - (0 + 1) / 2, 3.0 - 1.0])
    with pytest.raises(ValueError, match="does not vary"):
        attributes.attribute_vector_from_codes(codes, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="at least 2"):
        attributes.attribute_vector_from_codes(codes[:1], [1.0])


def test_apply_and_npz_round_trip(tmp_path):
    vector = np.array([1.0, -2.0, 0.5], np.float32)
    z = np.zeros([4, 3], np.float32)
    np.testing.assert_allclose(attributes.apply_attribute_vector(z, vector, 2.0), np.tile([2, -4, 1], (4, 1)))
    with pytest.raises(ValueError, match="size"):
        attributes.apply_attribute_vector(np.zeros([2, 5]), vector, 1.0)
    path = str(tmp_path / "vectors.npz")
    attributes.save_attribute_vectors(path, {"note_density": vector, "mean_pitch": -vector},
                                      config_name="cat-mel_2bar_small")
    loaded, config_name = attributes.load_attribute_vectors(path)
    assert config_name == "cat-mel_2bar_small"
    assert set(loaded) == {"note_density", "mean_pitch"}
    np.testing.assert_array_equal(loaded["mean_pitch"], -vector)
    with pytest.raises(ValueError, match="not found"):
        attributes.load_attribute_vectors(str(tmp_path / "missing.npz"))


# --- with a tiny model --------------------------------------------------------------------------

def _two_bar_melody(num_notes, base_pitch):
    """`num_notes` evenly spread notes over 2 bars of 4/4 at 120 qpm (32 16th-note steps)."""
    step = 32 // num_notes
    return _sequence([i * step for i in range(num_notes)],
                     pitches=[base_pitch + (i % 5) for i in range(num_notes)])


@pytest.fixture(scope="module")
def tiny_model():
    from musicvae_tf import configs
    from musicvae_tf.trained_model import TrainedModel

    return seeded(TrainedModel(configs.get_config("cat-mel_2bar_small", TINY), batch_size=4), seed=3)


def test_compute_attribute_vectors_matches_manual_encoding(tiny_model):
    densities = [2, 4, 8, 16, 32, 4, 8, 16]
    pitches = [50, 60, 70, 55, 65, 75, 58, 68]
    sequences = [_two_bar_melody(d, p) for d, p in zip(densities, pitches)]
    vectors = attributes.compute_attribute_vectors(tiny_model, sequences,
                                                   ["note_density", "mean_pitch"], fraction=0.25)
    _, mu, _ = tiny_model.encode(sequences)
    # 8 examples, fraction 0.25: the two highest minus the two lowest.
    order = np.argsort([d / 32 for d in densities], kind="stable")
    expected = mu[order[-2:]].mean(0) - mu[order[:2]].mean(0)
    np.testing.assert_allclose(vectors["note_density"], expected, atol=1e-5)
    mean_pitches = [attributes.mean_pitch(s) for s in sequences]
    order = np.argsort(mean_pitches, kind="stable")
    expected = mu[order[-2:]].mean(0) - mu[order[:2]].mean(0)
    np.testing.assert_allclose(vectors["mean_pitch"], expected, atol=1e-5)
    assert vectors["note_density"].shape == (8,)


def test_compute_needs_examples(tiny_model):
    with pytest.raises(ValueError, match="need at least 2"):
        attributes.compute_attribute_vectors(tiny_model, [note_seq.NoteSequence()], ["note_density"])
