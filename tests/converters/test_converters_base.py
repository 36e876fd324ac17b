"""Converter behaviour on small hand-built sequences: modes, sampling, bad input, helpers,
end tokens, chords, time-signature handling, and the melody/drum extraction filters."""

import sys

import note_seq
import numpy as np
import pytest

from musicvae_tf import converters as c

SECONDS_PER_STEP = 0.125  # 120 qpm, 4 steps per quarter


def make_sequence(notes, numerator=4, denominator=4, qpm=120.0, chords=()):
    """notes: (pitch, start_step, end_step[, instrument, program, is_drum]) at 120 qpm."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=numerator, denominator=denominator)
    step_seconds = 60.0 / qpm / 4
    for pitch, start, end, *rest in notes:
        instrument, program, is_drum = (list(rest) + [0, 0, False][len(rest):])[:3]
        sequence.notes.add(pitch=pitch, velocity=100, start_time=start * step_seconds,
                           end_time=end * step_seconds, instrument=instrument,
                           program=program, is_drum=is_drum)
    for time_step, text in chords:
        sequence.text_annotations.add(time=time_step * step_seconds, text=text,
                                      annotation_type=c.CHORD_SYMBOL)
    sequence.total_time = max([n.end_time for n in sequence.notes] + [0.0])
    return sequence


def scale_melody(bars=8):
    """A melody walking up and down a C major scale, one quarter note per beat."""
    pitches = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    return make_sequence([(pitches[i % len(pitches)], 4 * i, 4 * i + 4) for i in range(4 * bars)])


ALL_CONVERTERS = [
    lambda: c.OneHotMelodyConverter(slice_bars=2),
    lambda: c.OneHotMelodyConverter(slice_bars=2, chord_encoding=note_seq.TriadChordOneHotEncoding()),
    lambda: c.DrumsConverter(slice_bars=2),
    lambda: c.DrumsConverter(slice_bars=2, roll_input=True, roll_output=True),
    lambda: c.TrioConverter(slice_bars=2),
]


@pytest.mark.parametrize("make", ALL_CONVERTERS)
def test_modes(make):
    converter = make()
    assert not converter.is_training and not converter.is_inferring
    with pytest.raises(ValueError, match="bogus"):
        converter.set_mode("bogus")
    converter.set_mode("train")
    assert converter.is_training and not converter.is_inferring
    converter.set_mode("infer")
    assert converter.is_inferring and not converter.is_training
    converter.set_mode("eval")
    assert converter.mode == "eval"


@pytest.mark.parametrize("make", ALL_CONVERTERS)
def test_empty_sequence_gives_no_examples(make):
    converter = make()
    converter.set_mode("eval")
    for sequence in (note_seq.NoteSequence(), make_sequence([])):
        tensors = converter.to_tensors(sequence)
        assert tensors.inputs == [] and tensors.outputs == [] and tensors.lengths == []


def test_converters_do_not_import_tensorflow():
    import subprocess

    code = "import sys, musicvae_tf.converters; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_helpers():
    np.testing.assert_array_equal(
        c.np_onehot([2, 0], 3), np.array([[0, 0, 1], [1, 0, 0]], bool))
    assert c.np_onehot([1], 2, np.float32).dtype == np.float32
    padded = c.maybe_pad_seqs([np.ones((2, 3)), np.ones((4, 3))], bool, 3)
    assert padded.shape == (2, 4, 3) and padded[0, 2:].sum() == 0 and padded.dtype == bool
    assert c.maybe_pad_seqs([], bool, 5).shape == (0, 0, 5)
    assert c.maybe_sample_items([1, 2, 3], 2, randomize=False) == [1, 2]
    assert c.maybe_sample_items([1, 2, 3], None, randomize=True) == [1, 2, 3]
    np.random.seed(0)
    sampled = c.maybe_sample_items(list(range(10)), 4, randomize=True)
    # Magenta's order: iteration over a set of the chosen indices.
    assert len(set(sampled)) == 4 and sampled == list(set(sampled))

    tensors = c.ConverterTensors(inputs=[np.zeros((3, 2)), np.zeros((5, 2))])
    assert tensors.lengths == [3, 5] and tensors.outputs == []
    assert [x.shape for x in tensors.controls] == [(3, 0), (5, 0)]
    full = c.ConverterTensors(inputs=tensors.inputs, outputs=tensors.inputs)
    combined = c.combine_converter_tensors([full, c.ConverterTensors(), full], 3, False)
    assert list(combined.lengths) == [3, 5, 3]
    assert c.combine_converter_tensors([c.ConverterTensors()]) == c.ConverterTensors()


def test_constants():
    assert list(c.MEL_PROGRAMS) == list(range(32)) and list(c.BASS_PROGRAMS) == list(range(32, 40))
    assert len(c.REDUCED_DRUM_PITCH_CLASSES) == 9 and len(c.ROLAND_DRUM_PITCH_CLASSES) == 9
    assert len(c.FULL_DRUM_PITCH_CLASSES) == 61
    assert sorted(p for cls in c.FULL_DRUM_PITCH_CLASSES for p in cls) == sorted(
        p for cls in c.REDUCED_DRUM_PITCH_CLASSES for p in cls if p not in (22, 26))
    assert c.OUTPUT_VELOCITY == 80
    assert (c.PIANO_MIN_MIDI_PITCH, c.PIANO_MAX_MIDI_PITCH) == (21, 108)


def test_depths():
    assert c.OneHotMelodyConverter().output_depth == 90
    melody_end = c.OneHotMelodyConverter(add_end_token=True)
    assert (melody_end.input_depth, melody_end.end_token) == (91, 90)
    chords = c.OneHotMelodyConverter(chord_encoding=note_seq.TriadChordOneHotEncoding(),
                                     condition_on_key=True)
    assert chords.control_depth == 49 + 12
    assert (c.DrumsConverter().input_depth, c.DrumsConverter().output_depth) == (512, 512)
    roll = c.DrumsConverter(roll_input=True, roll_output=True,
                            pitch_classes=c.FULL_DRUM_PITCH_CLASSES)
    assert (roll.input_depth, roll.output_depth) == (62, 61)
    assert c.TrioConverter(slice_bars=16).output_depth == 692
    with pytest.raises(ValueError):
        c.EventListOneHotConverter(None, None, note_seq.MelodyOneHotEncoding(21, 109))


def test_train_mode_samples_randomly_eval_takes_first():
    melody = scale_melody(bars=8)
    converter = c.OneHotMelodyConverter(slice_bars=1, max_tensors_per_notesequence=None)
    converter.set_mode("eval")
    every = [x.tobytes() for x in converter.to_tensors(melody).outputs]
    assert len(every) >= 6
    converter.max_tensors_per_notesequence = 3
    first = [x.tobytes() for x in converter.to_tensors(melody).outputs]
    assert first == every[:3]
    converter.set_mode("train")
    np.random.seed(1)
    draws = {tuple(x.tobytes() for x in converter.to_tensors(melody).outputs) for _ in range(10)}
    assert all(len(d) == 3 and set(d) <= set(every) for d in draws)
    assert len(draws) > 1


def test_melody_encoding_and_end_token():
    sequence = make_sequence([(60, 0, 4), (62, 8, 16)])
    converter = c.OneHotMelodyConverter(add_end_token=True)
    converter.set_mode("eval")
    tensors = converter.to_tensors(sequence)
    labels = np.argmax(tensors.outputs[0], axis=1).tolist()
    # note-on 60 = 2 + 60 - 21, hold = 0, note-off = 1; one bar padded; then the end token.
    assert labels == [41, 0, 0, 0, 1, 0, 0, 0, 43] + [0] * 7 + [90]
    assert list(tensors.lengths) == [17]
    # Decoding stops at the end token; anything after it is ignored.
    sample = np.concatenate([tensors.outputs[0], c.np_onehot([45, 1], 91)])
    decoded = converter.from_tensors([sample])[0]
    assert [(n.pitch, n.start_time, n.end_time) for n in decoded.notes] == [
        (60, 0.0, 0.5), (62, 1.0, 2.0)]


def test_melody_filters_programs_pitches_and_meter():
    notes = [(60, 0, 4, 0, 0), (64, 4, 8, 0, 0), (110, 8, 12, 0, 0), (50, 0, 16, 1, 40)]
    converter = c.OneHotMelodyConverter(valid_programs=c.MEL_PROGRAMS)
    converter.set_mode("eval")
    sequence = make_sequence(notes)
    tensors = converter.to_tensors(sequence)
    assert len(sequence.notes) == 4  # input untouched
    assert len(tensors.outputs) == 1  # instrument 1 has program 40: not a melody program
    decoded = converter.from_tensors(tensors.outputs)[0]
    assert [n.pitch for n in decoded.notes] == [60, 64]  # 110 is above the piano range
    assert converter.to_tensors(make_sequence(notes, numerator=3)).outputs == []


def test_skip_polyphony():
    chords = make_sequence([(60, 0, 8), (64, 0, 8), (67, 8, 16)])
    highest = c.OneHotMelodyConverter()
    highest.set_mode("eval")
    decoded = highest.from_tensors(highest.to_tensors(chords).outputs)[0]
    assert [n.pitch for n in decoded.notes] == [64, 67]
    skipping = c.OneHotMelodyConverter(skip_polyphony=True)
    skipping.set_mode("eval")
    assert skipping.to_tensors(chords).outputs == []


def test_presplit_on_time_changes():
    melody = scale_melody(bars=2)
    melody.time_signatures.add(time=4.0, numerator=3, denominator=4)  # after two 4/4 bars
    melody.notes.add(pitch=70, velocity=100, start_time=4.0, end_time=5.0)
    melody.total_time = 5.0
    converter = c.OneHotMelodyConverter(slice_bars=2, max_tensors_per_notesequence=None)
    converter.set_mode("eval")
    assert len(converter.to_tensors(melody).outputs) == 1  # the 3/4 part is skipped
    no_split = c.OneHotMelodyConverter(slice_bars=2, presplit_on_time_changes=False)
    no_split.set_mode("eval")
    with pytest.raises(note_seq.MultipleTimeSignatureError):
        no_split.to_tensors(melody)


def test_chord_conditioning_round_trip():
    sequence = make_sequence([(60, 0, 8), (64, 8, 16), (67, 16, 24), (69, 24, 32)],
                             chords=[(0, "C"), (16, "Am")])
    converter = c.OneHotMelodyConverter(slice_bars=2,
                                        chord_encoding=note_seq.TriadChordOneHotEncoding())
    converter.set_mode("eval")
    tensors = converter.to_tensors(sequence)
    assert len(tensors.outputs) == 1 and tensors.controls[0].shape == (32, 49)
    encoding = note_seq.TriadChordOneHotEncoding()
    labels = np.argmax(tensors.controls[0], axis=1)
    assert labels.tolist() == [encoding.encode_event("C")] * 16 + [encoding.encode_event("Am")] * 16
    decoded = converter.from_tensors(tensors.outputs, tensors.controls)[0]
    assert [(a.time, a.text) for a in decoded.text_annotations] == [(0.0, "C"), (2.0, "Am")]
    # Without chord annotations, chords are inferred from the notes.
    inferred = converter.to_tensors(make_sequence([(60, 0, 32), (64, 0, 32), (67, 0, 32)]))
    assert len(inferred.controls) == 1 and inferred.controls[0].any()


def test_extract_melodies_filters():
    # Two phrases separated by two silent bars; the second uses a single pitch.
    sequence = make_sequence([(60, 0, 4), (62, 4, 8), (64, 8, 16), (65, 64, 68), (65, 68, 72)])
    quantized = note_seq.quantize_note_sequence(sequence, 4)
    melodies, stats = c.extract_melodies(quantized, min_bars=1, min_unique_pitches=1,
                                         gap_bars=1, pad_end=True)
    assert [(m.start_step, len(m)) for m in melodies] == [(0, 16), (64, 16)]
    melodies, stats = c.extract_melodies(quantized, min_bars=1, min_unique_pitches=2,
                                         gap_bars=1, pad_end=True)
    assert len(melodies) == 1 and stats["melodies_discarded_too_few_pitches"] == 1
    melodies, stats = c.extract_melodies(quantized, min_bars=2, min_unique_pitches=1,
                                         gap_bars=1)
    assert melodies == [] and stats["melodies_discarded_too_short"] == 2
    long_gap, _ = c.extract_melodies(quantized, min_bars=1, min_unique_pitches=1,
                                     gap_bars=4, pad_end=True)
    assert [(m.start_step, len(m)) for m in long_gap] == [(0, 80)]
    truncated, stats = c.extract_melodies(quantized, min_bars=1, min_unique_pitches=1,
                                          gap_bars=4, pad_end=True, max_steps_truncate=40)
    assert len(truncated[0]) == 32 and stats["melodies_truncated"] == 1


def test_extract_drum_tracks():
    sequence = make_sequence([(36, 0, 1, 9, 0, True), (38, 4, 5, 9, 0, True),
                              (36, 80, 81, 9, 0, True), (60, 2, 3)])
    quantized = note_seq.quantize_note_sequence(sequence, 4)
    tracks, _ = c.extract_drum_tracks(quantized, min_bars=1, gap_bars=1, pad_end=True)
    assert [(t.start_step, len(t)) for t in tracks] == [(0, 16), (80, 16)]
    assert tracks[0][0] == frozenset([36]) and tracks[0][2] == frozenset()


def test_drums_pitch_classes_map_to_first_pitch():
    # 35 (acoustic kick) is in the kick class, decoded as 36; 44 (pedal hat) -> 42.
    sequence = make_sequence([(35, 0, 1, 9, 0, True), (44, 0, 1, 9, 0, True),
                              (60, 4, 5, 0, 0, False)])
    converter = c.DrumsConverter()
    converter.set_mode("eval")
    tensors = converter.to_tensors(sequence)
    decoded = converter.from_tensors(tensors.outputs)[0]
    assert sorted((n.pitch, n.start_time) for n in decoded.notes) == [(36, 0.0), (42, 0.0)]
    assert tensors.outputs[0].shape == (16, 512)
