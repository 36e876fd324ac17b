"""Chord progressions as text -> chord controls (musicvae_tf.converters.chords)."""
import copy

import note_seq
import numpy as np
import pytest

from musicvae_tf import configs
from musicvae_tf.converters import chords


@pytest.fixture(scope="module")
def chord_converter():
    return copy.deepcopy(configs.CONFIG_MAP["cat-mel_2bar_med_chords"].data_converter)


def test_parse_splits_on_spaces_and_commas():
    assert chords.parse_chord_progression("Am7 Fmaj7 C G") == ["Am7", "Fmaj7", "C", "G"]
    assert chords.parse_chord_progression(" C,G ,  Am\tF ") == ["C", "G", "Am", "F"]
    assert chords.parse_chord_progression("C N.C. nc G") == ["C", note_seq.NO_CHORD, note_seq.NO_CHORD, "G"]


@pytest.mark.parametrize("text, bad", [("C G Xm7 F", "Xm7"), ("C H", "H"), ("Am7 C#m7b5 Q9", "Q9")])
def test_parse_unknown_symbol_is_one_line_naming_it(text, bad):
    with pytest.raises(ValueError) as caught:
        chords.parse_chord_progression(text)
    message = str(caught.value)
    assert "\n" not in message and repr(bad) in message


@pytest.mark.parametrize("text", ["", "  ,, ", None])
def test_parse_empty_progression(text):
    with pytest.raises(ValueError, match="empty"):
        chords.parse_chord_progression(text)


def test_controls_one_chord_per_bar_looped(chord_converter):
    symbols = chords.parse_chord_progression("Am7 Fmaj7 C G")
    controls = chords.chord_controls(chord_converter, symbols, num_steps=80)
    assert controls.shape == (80, 49) and controls.dtype == np.float32
    assert np.array_equal(controls.sum(axis=1), np.ones(80))
    # TriadChordOneHotEncoding: 1-12 major (C=1), 13-24 minor (C=13); sevenths become triads.
    expected = [22] * 16 + [6] * 16 + [1] * 16 + [8] * 16 + [22] * 16
    assert np.argmax(controls, axis=1).tolist() == expected
    assert chords.chords_of_controls(chord_converter, controls)[::16] == ["Am", "F", "C", "G", "Am"]


def test_controls_per_step_group_and_no_chord(chord_converter):
    controls = chords.chord_controls(chord_converter, ["C", note_seq.NO_CHORD, "Bdim"], num_steps=10,
                                     steps_per_chord=4)
    assert np.argmax(controls, axis=1).tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 48, 48]


def test_controls_match_the_converter_on_a_chord_annotated_tune(chord_converter):
    """The controls equal what the converter itself makes from the same chords in a NoteSequence."""
    sequence = note_seq.NoteSequence(ticks_per_quarter=220)
    sequence.tempos.add(qpm=120)
    sequence.time_signatures.add(numerator=4, denominator=4)
    for bar, symbol in enumerate(["Dm7", "G7"]):
        annotation = sequence.text_annotations.add(time=bar * 2.0, text=symbol)
        annotation.annotation_type = note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL
        for beat, pitch in enumerate([62, 65, 69, 72] if bar == 0 else [67, 71, 74, 77]):
            start = bar * 2.0 + beat * 0.5
            sequence.notes.add(pitch=pitch, velocity=80, start_time=start, end_time=start + 0.5)
    sequence.total_time = 4.0
    chord_converter.set_mode("eval")
    tensors = chord_converter.to_tensors(sequence)
    assert len(tensors.controls) == 1
    ours = chords.chord_controls(chord_converter, ["Dm7", "G7"], num_steps=32)
    np.testing.assert_array_equal(ours, np.asarray(tensors.controls[0], np.float32))


def test_controls_reject_what_the_model_cannot_take(chord_converter):
    with pytest.raises(ValueError, match="'Csus4' is not a major, minor"):
        chords.chord_controls(chord_converter, ["C", "Csus4"], num_steps=32)
    with pytest.raises(ValueError, match="not conditioned on chords"):
        chords.chord_controls(configs.CONFIG_MAP["cat-mel_2bar_small"].data_converter, ["C"], 32)
    with pytest.raises(ValueError, match="num_steps"):
        chords.chord_controls(chord_converter, ["C"], 0)
    with pytest.raises(ValueError, match="steps_per_chord"):
        chords.chord_controls(chord_converter, ["C"], 8, steps_per_chord=0)


def test_trained_model_samples_follow_the_controls(chord_converter):
    """TrainedModel.sample / decode take the controls and write the chords back as annotations."""
    from musicvae_tf import TrainedModel

    config = configs.get_config("cat-mel_2bar_med_chords",
                                "z_size=4,enc_rnn_size=[8],dec_rnn_size=[8]")
    model = TrainedModel(config, batch_size=2)
    c_input = chords.chord_controls(model.config.data_converter, ["F", "Am"], num_steps=32)
    for sequence in model.sample(n=3, length=32, temperature=0.5, c_input=c_input):
        annotated = [(round(a.time, 3), a.text) for a in sequence.text_annotations
                     if a.annotation_type == note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL]
        assert annotated and annotated[0][1] == "F"
        assert {text for _, text in annotated} <= {"F", "Am"}
    decoded = model.decode(np.zeros([1, 4], np.float32), length=32, c_input=c_input)
    assert len(decoded) == 1


def test_chord_converter_keeps_the_same_examples_whatever_the_hash_seed(tmp_path):
    """Slices deduped with chord symbols (strings) come out in one order in every process, so a
    converter with max_tensors_per_notesequence keeps the same examples (Magenta's set order,
    and so its examples, changed with PYTHONHASHSEED)."""
    import os
    import pathlib
    import subprocess
    import sys

    source = pathlib.Path(__file__).parents[1] / "data" / "magenta_parity" / "sources" / "trio_source.tfrecord"
    script = (
        "import sys, hashlib, note_seq, tensorflow as tf\n"
        "from musicvae_tf import configs\n"
        "c = configs.CONFIG_MAP['cat-mel_2bar_med_chords'].data_converter\n"
        "c.set_mode('eval')\n"
        "h = hashlib.sha256(); n = 0\n"
        f"for r in tf.data.TFRecordDataset({str(source)!r}).as_numpy_iterator():\n"
        "    t = c.to_tensors(note_seq.NoteSequence.FromString(r))\n"
        "    n += len(t.outputs)\n"
        "    for x in list(t.outputs) + list(t.controls): h.update(x.tobytes())\n"
        "print(n, h.hexdigest())\n")
    results = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, TF_CPP_MIN_LOG_LEVEL="3")
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                             timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        results.add(out.stdout.split("\n")[-2])
    assert len(results) == 1, results
    count = int(next(iter(results)).split()[0])
    assert count > 4  # several sequences' examples, capped at 5 each, or the test could not fail
