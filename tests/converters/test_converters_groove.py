"""GrooveConverter: Magenta parity (groovae_2bar_humanize) and every option on hand-built drums."""
import copy

import note_seq
import numpy as np
import pytest

from conftest import PARITY_DIR, SHARED_PARITY_DIR
from musicvae_tf.converters.base import REDUCED_DRUM_PITCH_CLASSES, ROLAND_DRUM_PITCH_CLASSES
from musicvae_tf.converters.groove import GrooveConverter
from kit import read_tfrecord_sequences

CASE_DIR = PARITY_DIR / "groovae_2bar_humanize"
DRUMS_SOURCE = PARITY_DIR / "sources" / "drums_source.tfrecord"




def _config_converter(name):
    """A private copy of CONFIG_MAP[name].data_converter, in eval mode."""
    from musicvae_tf import configs
    converter = copy.deepcopy(configs.CONFIG_MAP[name].data_converter)
    converter.set_mode("eval")
    return converter


# ---------------------------------------------------------------------------------------
# Parity with Magenta's converter.
# ---------------------------------------------------------------------------------------
def test_groovae_2bar_humanize_matches_magenta():
    expected = np.load(CASE_DIR / "converter.npz")
    num_sources = int(expected["seq_index"].max()) + 1
    sources = read_tfrecord_sequences(DRUMS_SOURCE, num_sources)
    assert len(sources) == num_sources

    converter = _config_converter("groovae_2bar_humanize")
    assert converter.input_depth == int(expected["input_depth"]) == 27
    assert converter.output_depth == int(expected["output_depth"])
    assert converter.control_depth == int(expected["control_depth"])

    seq_index, inputs, outputs, controls, lengths = [], [], [], [], []
    for index, sequence in enumerate(sources):
        tensors = converter.to_padded_arrays(sequence)
        seq_index += [index] * len(tensors.lengths)
        inputs.append(tensors.inputs)
        outputs.append(tensors.outputs)
        controls.append(tensors.controls)
        lengths.append(tensors.lengths)
    assert np.array_equal(seq_index, expected["seq_index"])
    assert np.array_equal(np.concatenate(lengths), expected["lengths"])
    assert np.array_equal(np.concatenate(inputs), expected["inputs"])
    assert np.array_equal(np.concatenate(outputs), expected["outputs"])
    assert np.concatenate(controls).shape == expected["controls"].shape


def test_groovae_2bar_humanize_decoding_matches_magenta():
    expected_arrays = np.load(CASE_DIR / "converter.npz")
    expected_sequences = read_tfrecord_sequences(CASE_DIR / "converter_decoded.tfrecord")
    converter = _config_converter("groovae_2bar_humanize")
    samples = [out[:length] for out, length in zip(expected_arrays["outputs"], expected_arrays["lengths"])]
    decoded = converter.from_tensors(samples)
    assert len(decoded) == len(expected_sequences) == len(samples)
    max_time_diff = 0.0
    for ours, theirs in zip(decoded, expected_sequences):
        assert [(n.pitch, n.velocity, n.is_drum, n.instrument) for n in ours.notes] == [
            (n.pitch, n.velocity, n.is_drum, n.instrument) for n in theirs.notes]
        for a, b in zip(ours.notes, theirs.notes):
            max_time_diff = max(max_time_diff, abs(a.start_time - b.start_time), abs(a.end_time - b.end_time))
        assert [t.qpm for t in ours.tempos] == [t.qpm for t in theirs.tempos]
    assert max_time_diff <= 1e-6


def test_groovae_2bar_humanize_full_shared_fixture():
    """All 40 source sequences (360 examples), when the full shared fixtures are present."""
    shared = SHARED_PARITY_DIR / "groovae_2bar_humanize"
    if not (shared / "converter.npz").exists():
        pytest.skip("full shared fixtures not present")
    expected = np.load(shared / "converter.npz")
    converter = _config_converter("groovae_2bar_humanize")
    sources = read_tfrecord_sequences(shared / "converter_source.tfrecord")
    produced = [converter.to_padded_arrays(sequence) for sequence in sources]
    seq_index = np.concatenate([[i] * len(t.lengths) for i, t in enumerate(produced)])
    assert np.array_equal(seq_index, expected["seq_index"])
    assert np.array_equal(np.concatenate([t.inputs for t in produced]), expected["inputs"])
    assert np.array_equal(np.concatenate([t.outputs for t in produced]), expected["outputs"])
    decoded = converter.from_tensors(
        [out[:length] for out, length in zip(expected["outputs"], expected["lengths"])])
    expected_decoded = read_tfrecord_sequences(shared / "converter_decoded.tfrecord")
    assert len(decoded) == len(expected_decoded)
    for ours, theirs in zip(decoded, expected_decoded):
        assert [(n.pitch, n.velocity) for n in ours.notes] == [(n.pitch, n.velocity) for n in theirs.notes]
        np.testing.assert_allclose([n.start_time for n in ours.notes],
                                   [n.start_time for n in theirs.notes], atol=1e-6, rtol=0)


# ---------------------------------------------------------------------------------------
# Options, on a hand-built two-bar groove (120 qpm: a 16th-note step lasts 0.125 s).
# ---------------------------------------------------------------------------------------
STEP = 0.125
# (pitch, start_time, velocity): Roland classes kick 0, snare 1, closed hat 2, crash 7.
GROOVE_NOTES = [
    (36, 0.00, 127),   # step 0, kick, on the grid
    (38, 0.26, 64),    # step 2, snare, 0.01 s late -> offset (0.25 - 0.26) / 0.125 * 2 = -0.16
    (42, 0.49, 100),   # step 4, closed hat, 0.01 s early -> offset +0.16
    (44, 0.50, 50),    # step 4, closed hat again (quieter: ignored)
    (49, 1.00, 30),    # step 8, crash
    (36, 2.00, 90),    # step 16 (bar 2), kick
]
# step -> {class: (velocity, offset)} of the notes that count.
EXPECTED_HITS = {0: {0: (127, 0.0)}, 2: {1: (64, -0.16)}, 4: {2: (100, 0.16)}, 8: {7: (30, 0.0)},
                 16: {0: (90, 0.0)}}


def _groove_sequence(notes=GROOVE_NOTES, numerator=4):
    ns = note_seq.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120)
    ns.time_signatures.add(numerator=numerator, denominator=4)
    for pitch, start, velocity in notes:
        ns.notes.add(pitch=pitch, start_time=start, end_time=start + 0.1, velocity=velocity,
                     is_drum=True, instrument=9)
    ns.total_time = max([start + 0.1 for _, start, _ in notes], default=0.0)
    return ns


def _expected_grids(num_steps=32, num_drums=9):
    hits = np.zeros((num_steps, num_drums))
    velocities = np.zeros((num_steps, num_drums))
    offsets = np.zeros((num_steps, num_drums))
    for step, by_drum in EXPECTED_HITS.items():
        for drum, (velocity, offset) in by_drum.items():
            hits[step, drum] = 1
            velocities[step, drum] = velocity / 127
            offsets[step, drum] = offset
    return hits, velocities, offsets


def _converter(**kwargs):
    kwargs.setdefault("split_bars", 2)
    converter = GrooveConverter(pitch_classes=ROLAND_DRUM_PITCH_CLASSES,
                                inference_pitch_classes=REDUCED_DRUM_PITCH_CLASSES, **kwargs)
    converter.set_mode("eval")
    return converter


def _single(tensors):
    assert len(tensors.inputs) == 1
    return tensors.inputs[0], tensors.outputs[0], tensors.controls[0]


def test_default_outputs_hand_computed():
    inputs, outputs, controls = _single(_converter().to_tensors(_groove_sequence()))
    hits, velocities, offsets = _expected_grids()
    expected = np.concatenate([hits, velocities, offsets], axis=1)
    assert outputs.shape == (32, 27) and controls.shape == (32, 0)
    np.testing.assert_allclose(outputs, expected, atol=1e-6)
    np.testing.assert_array_equal(inputs, outputs)


def test_humanize_keeps_only_hits():
    inputs, outputs, _ = _single(_converter(humanize=True).to_tensors(_groove_sequence()))
    hits, _, _ = _expected_grids()
    np.testing.assert_array_equal(inputs[:, :9], hits)
    assert not inputs[:, 9:].any()
    np.testing.assert_allclose(outputs, np.concatenate(_expected_grids(), axis=1), atol=1e-6)


def test_tapify_and_fixed_velocities():
    tap = _converter(tapify=True)
    inputs, outputs, _ = _single(tap.to_tensors(_groove_sequence()))
    # Every step with hits becomes one hit on class 3 with the loudest hit's values.
    tap_hits = np.zeros(32)
    tap_velocities = np.zeros(32)
    tap_offsets = np.zeros(32)
    for step, by_drum in EXPECTED_HITS.items():
        velocity, offset = max(by_drum.values())
        tap_hits[step], tap_velocities[step], tap_offsets[step] = 1, velocity / 127, offset
    other = [c for c in range(27) if c not in (3, 12, 21)]
    assert not inputs[:, other].any()
    np.testing.assert_array_equal(inputs[:, 3], tap_hits)
    np.testing.assert_allclose(inputs[:, 12], tap_velocities, atol=1e-6)
    np.testing.assert_allclose(inputs[:, 21], tap_offsets, atol=1e-6)
    np.testing.assert_allclose(outputs, np.concatenate(_expected_grids(), axis=1), atol=1e-6)

    # Loudest of simultaneous hits: kick 40 + snare 100 -> the snare's velocity and offset.
    one_bar_tap = _converter(tapify=True, split_bars=None)
    inputs, _, _ = _single(one_bar_tap.to_tensors(_groove_sequence([(36, 0.0, 40), (38, 0.01, 100)])))
    assert inputs.shape == (16, 27)
    assert (inputs[0, 3], inputs[0, 12], inputs[0, 21]) == pytest.approx((1, 100 / 127, -0.16))

    fixed = _converter(tapify=True, fixed_velocities=True)
    inputs, _, _ = _single(fixed.to_tensors(_groove_sequence()))
    np.testing.assert_array_equal(inputs[:, 3], tap_hits)
    assert not inputs[:, 9:18].any()
    np.testing.assert_allclose(inputs[:, 21], tap_offsets, atol=1e-6)


def test_add_instruments_removes_classes_from_inputs_only():
    inputs, outputs, _ = _single(_converter(add_instruments=[2]).to_tensors(_groove_sequence()))
    expected = np.concatenate(_expected_grids(), axis=1)
    np.testing.assert_allclose(outputs, expected, atol=1e-6)
    expected[:, [2, 11, 20]] = 0
    np.testing.assert_allclose(inputs, expected, atol=1e-6)
    assert outputs[4, 2] == 1 and inputs[4, 2] == 0


def test_hits_as_controls():
    converter = _converter(hits_as_controls=True)
    assert converter.control_depth == 9
    _, _, controls = _single(converter.to_tensors(_groove_sequence()))
    assert controls.dtype == bool
    np.testing.assert_array_equal(controls, _expected_grids()[0].astype(bool))


def test_note_dropout_seeded():
    sequence = _groove_sequence()
    converter = _converter(max_note_dropout_probability=0.8)
    np.random.seed(123)
    inputs, outputs, _ = _single(converter.to_tensors(sequence))
    np.random.seed(123)
    again, _, _ = _single(converter.to_tensors(sequence))
    np.testing.assert_array_equal(inputs, again)

    # The draws, by hand: p ~ U(0, 0.8); a hit of velocity v is dropped with probability
    # p * max(0.2, 1 - v) (every grid cell gets a draw, empty cells have v = 0).
    hits, velocities, offsets = _expected_grids()
    np.random.seed(123)
    p = np.random.uniform(0.0, 0.8)
    keep = 1 - np.random.binomial(1, np.maximum(0.2, 1 - velocities) * p)
    np.testing.assert_allclose(inputs, np.concatenate([hits * keep, velocities * keep, offsets * keep], 1),
                               atol=1e-6)
    np.testing.assert_allclose(outputs, np.concatenate([hits, velocities, offsets], 1), atol=1e-6)

    # Over many seeds some hits are dropped and some kept; dropped hits lose all 3 values.
    dropped_counts = []
    for seed in range(40):
        np.random.seed(seed)
        inputs, _, _ = _single(converter.to_tensors(sequence))
        assert set(np.flatnonzero(inputs[:, :9])) <= set(np.flatnonzero(hits))
        dropped = (hits == 1) & (inputs[:, :9] == 0)
        assert not inputs[:, 9:18][dropped].any() and not inputs[:, 18:][dropped].any()
        dropped_counts.append(int(dropped.sum()))
    assert 0 < np.mean(dropped_counts) < 5
    # A zero maximum drops nothing.
    inputs, outputs, _ = _single(_converter(max_note_dropout_probability=0.0).to_tensors(sequence))
    np.testing.assert_array_equal(inputs, outputs)


def test_velocity_and_offset_bins():
    converter = _converter(num_velocity_bins=4, num_offset_bins=3)
    assert converter.output_depth == 9 * (1 + 4 + 3)
    _, outputs, _ = _single(converter.to_tensors(_groove_sequence()))
    assert outputs.shape == (32, 72)
    # Velocity bin edges [0, 0.3334, 0.6667, 1.0001] (a value v goes to the first edge >= v):
    # 0 -> 0, 30/127 -> 1, 64/127 -> 2, 90/127, 100/127, 127/127 -> 3.
    # Offset edges [-1, 0.00005, 1.0001]: -0.16 and 0 -> 1, +0.16 -> 2.
    velocity_bins = {0: 0, 30: 1, 64: 2, 90: 3, 100: 3, 127: 3}
    for step in range(32):
        np.testing.assert_array_equal(outputs[step, :9], _expected_grids()[0][step])
        velocity_block = outputs[step, 9:45].reshape(9, 4)
        offset_block = outputs[step, 45:].reshape(9, 3)
        for drum in range(9):
            velocity, offset = EXPECTED_HITS.get(step, {}).get(drum, (0, 0.0))
            assert np.argmax(velocity_block[drum]) == velocity_bins[velocity]
            assert np.argmax(offset_block[drum]) == (2 if offset > 0.01 else 1)
            assert velocity_block[drum].sum() == 1 and offset_block[drum].sum() == 1

    decoded = converter.from_tensors([outputs])[0]
    # Bins decode to int(bin / bins * 127) and bin / bins - 0.5.
    expected = [(36, 0, 95, -1 / 3 + 0.5), (38, 2, 63, -1 / 3 + 0.5), (42, 4, 95, -2 / 3 + 0.5),
                (49, 8, 31, -1 / 3 + 0.5), (36, 16, 95, -1 / 3 + 0.5)]
    assert [n.pitch for n in decoded.notes] == [e[0] for e in expected]
    assert [n.velocity for n in decoded.notes] == [e[2] for e in expected]
    for note, (_, step, _, shift) in zip(decoded.notes, expected):
        assert note.start_time == pytest.approx((step + shift) * STEP)
        assert note.end_time == pytest.approx(note.start_time + STEP)


def test_split_instruments_with_hit_controls_round_trip():
    converter = _converter(split_instruments=True, hits_as_controls=True)
    assert (converter.output_depth, converter.control_depth) == (3, 10)
    inputs, outputs, controls = _single(converter.to_tensors(_groove_sequence()))
    hits, velocities, offsets = _expected_grids()
    assert outputs.shape == (32 * 9, 3)
    np.testing.assert_allclose(
        outputs, np.stack([hits.ravel(), velocities.ravel(), offsets.ravel()], axis=1), atol=1e-6)
    np.testing.assert_array_equal(controls[:, 0], hits.ravel().astype(bool))
    np.testing.assert_array_equal(controls[:, 1:], np.tile(np.eye(9, dtype=bool), (32, 1)))
    decoded = converter.from_tensors([outputs])[0]
    _check_decoded(decoded, ROLAND_DRUM_PITCH_CLASSES)

    binned = _converter(split_instruments=True, num_velocity_bins=4, num_offset_bins=3)
    _, outputs, controls = _single(binned.to_tensors(_groove_sequence()))
    assert outputs.shape == (32 * 9, 8) and controls.shape == (32 * 9, 9)
    decoded = binned.from_tensors([outputs])[0]
    assert [n.pitch for n in decoded.notes] == [36, 38, 42, 49, 36]
    assert [n.velocity for n in decoded.notes] == [95, 63, 95, 31, 95]


def _check_decoded(decoded, classes):
    expected = []
    for step in sorted(EXPECTED_HITS):
        for drum, (velocity, offset) in sorted(EXPECTED_HITS[step].items()):
            expected.append((classes[drum][0], velocity, (step - offset / 2) * STEP))
    assert [(n.pitch, n.velocity) for n in decoded.notes] == [(p, v) for p, v, _ in expected]
    for note, (_, _, start) in zip(decoded.notes, expected):
        assert note.start_time == pytest.approx(start)
        assert note.end_time == pytest.approx(start + STEP)
        assert note.is_drum and note.instrument == 9
    assert decoded.tempos[0].qpm == 120


def test_round_trip_recovers_times_and_velocities():
    converter = _converter()
    _, outputs, _ = _single(converter.to_tensors(_groove_sequence()))
    decoded = converter.from_tensors([outputs])[0]
    _check_decoded(decoded, ROLAND_DRUM_PITCH_CLASSES)
    # The snare was played at 0.26 s and the hat at 0.49 s: the offsets bring them back.
    assert decoded.notes[1].start_time == pytest.approx(0.26)
    assert decoded.notes[2].start_time == pytest.approx(0.49)


def test_infer_mode_uses_inference_pitch_classes():
    converter = _converter(split_bars=None)
    converter.set_mode("infer")
    # Pitch 45 is a mid tom (class 5) for Roland kits but a low tom (class 4) in the reduced set.
    _, outputs, _ = _single(converter.to_tensors(_groove_sequence([(45, 0.0, 100)])))
    assert outputs[0, 4] == 1 and outputs[0, 5] == 0
    decoded = converter.from_tensors([outputs])[0]
    assert [n.pitch for n in decoded.notes] == [REDUCED_DRUM_PITCH_CLASSES[4][0]]
    converter.set_mode("eval")
    _, outputs, _ = _single(converter.to_tensors(_groove_sequence([(45, 0.0, 100)])))
    assert outputs[0, 5] == 1


def test_windows_and_hop_size():
    sequence = _groove_sequence()
    one_bar = _converter(split_bars=1).to_tensors(sequence)
    assert len(one_bar.outputs) == 2 and one_bar.lengths == [16, 16]
    whole = _converter().to_tensors(sequence).outputs[0]
    np.testing.assert_array_equal(np.concatenate(one_bar.outputs), whole)

    hopped = _converter(split_bars=1, hop_size=8).to_tensors(sequence)
    assert len(hopped.outputs) == 3
    for i, window in enumerate(hopped.outputs):
        np.testing.assert_array_equal(window, whole[8 * i:8 * i + 16])

    # Too short for a 4-bar window: nothing; no split: the whole (bar-padded) sequence.
    assert _converter(split_bars=4).to_tensors(sequence).inputs == []
    unsplit = _converter(split_bars=None).to_tensors(_groove_sequence(GROOVE_NOTES[:3]))
    assert [len(x) for x in unsplit.outputs] == [16]

    # Like Magenta, max_tensors_per_notesequence does not cap the number of windows.
    many = _converter(split_bars=1, hop_size=1, max_tensors_per_notesequence=2).to_tensors(sequence)
    assert len(many.outputs) == 17


def test_rejected_and_ignored_input():
    assert _converter().to_tensors(_groove_sequence(numerator=3)).inputs == []
    assert _converter().to_tensors(_groove_sequence([])).inputs == []
    # Pitch 39 (hand clap) is in no Roland class: ignored.
    with_clap = _groove_sequence(GROOVE_NOTES + [(39, 0.5, 100)])
    np.testing.assert_array_equal(_converter().to_tensors(with_clap).outputs[0],
                                  _converter().to_tensors(_groove_sequence()).outputs[0])


def test_constructor_errors():
    with pytest.raises(ValueError, match="num_velocity_bins"):
        GrooveConverter(num_velocity_bins=4)
    with pytest.raises(ValueError, match="hop_size"):
        GrooveConverter(hop_size=4)
    with pytest.raises(ValueError, match="same number"):
        GrooveConverter(pitch_classes=ROLAND_DRUM_PITCH_CLASSES, inference_pitch_classes=[[36]])


# ---------------------------------------------------------------------------------------
# The GrooVAE configs' converters, on the hand-built groove.
# ---------------------------------------------------------------------------------------
def _tap_grids():
    hits, velocities, offsets = (np.zeros((32, 9)) for _ in range(3))
    for step, by_drum in EXPECTED_HITS.items():
        velocity, offset = max(by_drum.values())
        hits[step, 3], velocities[step, 3], offsets[step, 3] = 1, velocity / 127, offset
    return hits, velocities, offsets


def _expected_config_inputs(name):
    hits, velocities, offsets = _expected_grids()
    if name == "groovae_2bar_humanize":
        return np.concatenate([hits, 0 * velocities, 0 * offsets], axis=1)
    if name == "groovae_2bar_tap_fixed_velocity":
        tap_hits, _, tap_offsets = _tap_grids()
        return np.concatenate([tap_hits, np.zeros((32, 9)), tap_offsets], axis=1)
    if name == "groovae_2bar_add_closed_hh":
        grids = np.concatenate([hits, velocities, offsets], axis=1)
        grids[:, [2, 11, 20]] = 0
        return grids
    return np.concatenate([hits, velocities, offsets], axis=1)


@pytest.mark.parametrize("name", [
    "groovae_2bar_humanize", "groovae_2bar_tap_fixed_velocity", "groovae_2bar_add_closed_hh",
    "groovae_2bar_hits_control_tfds"])
def test_config_converters(name):
    converter = _config_converter(name)
    assert (converter.input_depth, converter.output_depth) == (27, 27)
    tensors = converter.to_tensors(_groove_sequence())
    assert tensors.lengths == [32]
    np.testing.assert_allclose(tensors.outputs[0], np.concatenate(_expected_grids(), axis=1), atol=1e-6)
    np.testing.assert_allclose(tensors.inputs[0], _expected_config_inputs(name), atol=1e-6)
    if name == "groovae_2bar_hits_control_tfds":
        assert converter.control_depth == 9
        np.testing.assert_array_equal(tensors.controls[0], _expected_grids()[0].astype(bool))
    else:
        assert converter.control_depth == 0 and tensors.controls[0].shape == (32, 0)


def test_config_note_dropout_converter():
    converter = _config_converter("groovae_2bar_tap_fixed_velocity_note_dropout")
    sequence = _groove_sequence()
    hits, velocities, offsets = _expected_grids()
    for seed in range(5):
        np.random.seed(seed)
        inputs = converter.to_tensors(sequence).inputs[0]
        # Dropout (p ~ U(0, 0.8)) comes before tapping: the tap hit of a step is the original
        # hit of the loudest class left after dropout (class 0 when all were dropped).
        np.random.seed(seed)
        p = np.random.uniform(0.0, 0.8)
        keep = 1 - np.random.binomial(1, np.maximum(0.2, 1 - velocities) * p)
        loudest = np.argmax(velocities * keep, axis=1)
        rows = np.arange(32)
        np.testing.assert_array_equal(inputs[:, 3], hits[rows, loudest])
        np.testing.assert_allclose(inputs[:, 21], offsets[rows, loudest], atol=1e-6)
        assert not np.delete(inputs, [3, 21], axis=1).any()


def test_config_4bar_windows():
    converter = _config_converter("groovae_4bar")
    notes = GROOVE_NOTES + [(36, 2.0 * bar, 90) for bar in range(2, 5)]
    tensors = converter.to_tensors(_groove_sequence(notes))
    # 5 bars of music: one full 4-bar window (no hop), the 5th bar is dropped.
    assert tensors.lengths == [64]
    assert tensors.outputs[0][[0, 16, 32, 48], 0].tolist() == [1, 1, 1, 1]


def test_tensors_stay_float64_and_decode_to_magentas_times_exactly():
    """As Magenta's: to_tensors keeps numpy's float64, so from_tensors of the port's own tensors gives
    Magenta's decoded NoteSequences to the last bit (float32 tensors land ~1e-8 s off)."""
    expected = read_tfrecord_sequences(CASE_DIR / "converter_decoded.tfrecord")
    num_sources = int(np.load(CASE_DIR / "converter.npz")["seq_index"].max()) + 1
    converter = _config_converter("groovae_2bar_humanize")
    outputs = []
    for sequence in read_tfrecord_sequences(DRUMS_SOURCE, num_sources):
        tensors = converter.to_tensors(sequence)
        assert all(t.dtype == np.float64 for t in tensors.inputs + tensors.outputs)
        outputs += tensors.outputs
    decoded = converter.from_tensors(outputs)
    assert len(decoded) == len(expected) == 72
    for ours, theirs in zip(decoded, expected):
        assert [(n.pitch, n.velocity, n.start_time, n.end_time) for n in ours.notes] == [
            (n.pitch, n.velocity, n.start_time, n.end_time) for n in theirs.notes]
    # The padded arrays of the pipeline keep the converter's declared dtype.
    assert converter.to_padded_arrays(_groove_sequence()).outputs.dtype == np.float32
