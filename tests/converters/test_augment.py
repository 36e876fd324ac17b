"""NoteSequenceAugmenter: transposition, stretching, reproducibility, tf.data use."""
import random

import note_seq
import numpy as np
import pytest

from musicvae_tf.converters.augment import NoteSequenceAugmenter


def _sequence():
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120)
    for pitch, start, end, is_drum in [
            (60, 0.0, 0.5, False), (64, 0.5, 1.0, False), (67, 1.0, 2.0, False),
            (2, 1.5, 2.0, False),  # goes below 0 when transposed down by more than 2
            (125, 2.0, 2.5, False),  # goes above 127 when transposed up by more than 2
            (36, 0.0, 0.1, True), (42, 0.25, 0.35, True)]:
        ns.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=90, is_drum=is_drum,
                     instrument=9 if is_drum else 0)
    ns.total_time = 2.5
    return ns


def _pitched(ns):
    return [(n.start_time, n.pitch) for n in ns.notes if not n.is_drum]


def test_transpose_moves_every_pitched_note_by_the_same_amount():
    augmenter = NoteSequenceAugmenter(transpose_range=(-5, 5))
    original = _sequence()
    before = original.SerializeToString()
    random.seed(0)
    seen_amounts = set()
    for _ in range(60):
        augmented = augmenter.augment(original)
        assert original.SerializeToString() == before  # input untouched
        # Drums keep their pitch.
        assert [(n.pitch, n.start_time) for n in augmented.notes if n.is_drum] == [(36, 0.0), (42, 0.25)]
        by_start = dict(_pitched(original))
        shifts = {pitch - by_start[start] for start, pitch in _pitched(augmented)}
        assert len(shifts) == 1
        shift = shifts.pop()
        assert -5 <= shift <= 5
        seen_amounts.add(shift)
        # Out-of-range notes are deleted, the others kept.
        expected = [(s, p + shift) for s, p in _pitched(original) if 0 <= p + shift <= 127]
        assert _pitched(augmented) == expected
        assert all(0 <= n.pitch <= 127 for n in augmented.notes)
    assert seen_amounts == set(range(-5, 6))


def test_stretch_scales_all_times():
    augmenter = NoteSequenceAugmenter(stretch_range=(0.5, 1.5))
    original = _sequence()
    random.seed(3)
    factors = []
    for _ in range(20):
        augmented = augmenter.augment(original)
        factor = augmented.total_time / original.total_time
        assert 0.5 <= factor <= 1.5
        factors.append(factor)
        assert [n.pitch for n in augmented.notes] == [n.pitch for n in original.notes]
        for a, o in zip(augmented.notes, original.notes):
            assert a.start_time == pytest.approx(o.start_time * factor, abs=1e-9)
            assert a.end_time == pytest.approx(o.end_time * factor, abs=1e-9)
        # Stretching time by f divides the tempo by f.
        assert augmented.tempos[0].qpm == pytest.approx(120 / factor)
    assert len(set(factors)) == 20


def test_no_ranges_is_identity():
    original = _sequence()
    assert NoteSequenceAugmenter().augment(original) == original


def test_seeded_runs_are_reproducible():
    augmenter = NoteSequenceAugmenter(transpose_range=(-3, 3), stretch_range=(0.9, 1.1))
    original = _sequence()

    def run(seed):
        random.seed(seed)
        np.random.seed(seed)
        return [augmenter.augment(original).SerializeToString() for _ in range(10)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_bad_range_raises():
    with pytest.raises(ValueError, match="transpose_range"):
        NoteSequenceAugmenter(transpose_range=(3, -3))
    with pytest.raises(ValueError, match="stretch_range"):
        NoteSequenceAugmenter(stretch_range=(1.2, 0.8))


def test_tf_augment_in_dataset():
    tf = pytest.importorskip("tensorflow")
    augmenter = NoteSequenceAugmenter(transpose_range=(2, 2))
    original = _sequence()
    dataset = tf.data.Dataset.from_tensor_slices([original.SerializeToString()] * 2)
    dataset = dataset.map(augmenter.tf_augment)
    assert dataset.element_spec.shape == ()
    results = [note_seq.NoteSequence.FromString(x.numpy()) for x in dataset]
    assert len(results) == 2
    for result in results:
        assert [n.pitch for n in result.notes] == [62, 66, 69, 4, 127, 36, 42]
