"""Why nothing fits: `converters.diagnosis.why_no_examples` for each way a tune can miss a config,
and music_vae_convert --config's per-reason counts (music_vae_generate's one line is tested in
test_generate_cli.test_unusable_inputs_one_line)."""

import subprocess

import note_seq
import pytest

from conftest import console_command
from musicvae_tf import configs
from musicvae_tf.converters import OneHotMelodyConverter, diagnosis

QUARTER = 0.5  # seconds at 120 qpm


def sequence(notes, meter=(4, 4), tempos=((0.0, 120.0),)):
    """A NoteSequence of (pitch, start, end, extra note fields) with one meter and the tempos."""
    result = note_seq.NoteSequence(ticks_per_quarter=220)
    result.time_signatures.add(numerator=meter[0], denominator=meter[1])
    for time, qpm in tempos:
        result.tempos.add(time=time, qpm=qpm)
    for pitch, start, end, fields in notes:
        result.notes.add(pitch=pitch, start_time=start, end_time=end, velocity=80, **fields)
    result.total_time = max([note.end_time for note in result.notes] or [0.0])
    return result


def line(bars, offset=0.0, pitch=60, **fields):
    """Quarter notes over `bars` 4/4 bars (pitches cycling over 5 values), starting at `offset` s."""
    return [(pitch + i % 5, offset + i * QUARTER, offset + (i + 1) * QUARTER, fields) for i in range(int(bars * 4))]


DRUM = dict(is_drum=True, instrument=9)
MEL = "cat-mel_2bar_small"
CASES = {
    "empty": (MEL, sequence([]), "it has no notes"),
    "waltz_3_4": (MEL, sequence(line(8), meter=(3, 4)),
                  "it is in 3/4 time; the config needs 4/4 (bars of 4 quarter notes)"),
    "jig_6_8": (MEL, sequence(line(8), meter=(6, 8)),
                "it is in 6/8 time; the config needs 4/4 (bars of 4 quarter notes)"),
    "drums_only": (MEL, sequence(line(8, pitch=36, **DRUM)),
                   "it has only drums (MIDI channel 10); the config models melodies"),
    "bass_only": (MEL, sequence(line(8, program=33)), "none of its instruments is a melody instrument the "
                  "config reads (General MIDI programs 0-31: pianos, organs, guitars, ...)"),
    "below_piano_range": (MEL, sequence(line(8, pitch=10)), "all its notes lie outside the pitch range 21-108"),
    "one_bar": (MEL, sequence(line(1)), "it is 1 bar long; the config needs 2 bars"),
    "eight_bars_for_16": ("hierdec-mel_16bar", sequence(line(8)), "it is 8 bars long; the config needs 16 bars"),
    "phrases_split_by_silence": (MEL, sequence(line(1) + line(1, offset=6.0)),
                                 "its longest phrase (a silent bar ends one) is 1 bar long; the config needs 2 bars"),
    "tempo_change_every_bar": (MEL, sequence(line(8), tempos=[(2.0 * i, 120.0 + i % 2) for i in range(8)]),
                               "its tempo or time-signature changes split it into 8 pieces of at most 1 bar; "
                               "the config needs 2 bars without a change"),
    "no_drums": ("cat-drums_2bar_small", sequence(line(8)),
                 "it has no drums (MIDI channel 10); the config models drum patterns"),
    "drums_off_the_kit": ("cat-drums_2bar_small", sequence(line(8, pitch=1, **DRUM)),
                          "none of its drum notes is a pitch of the config's drum kit"),
    "drums_one_bar": ("cat-drums_2bar_small", sequence(line(1, pitch=36, **DRUM)),
                      "it is 1 bar long; the config needs 2 bars"),
    "trio_without_bass": ("hierdec-trio_16bar", sequence(line(16) + line(16, pitch=36, **DRUM)),
                          "it has no bass (programs 32-39); the config needs melody, bass and drums together"),
    "trio_too_short": ("hierdec-trio_16bar",
                       sequence(line(4) + line(4, pitch=36, program=33, instrument=1) + line(4, pitch=36, **DRUM)),
                       "it is 4 bars long; the config needs 16 bars"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reason_names_what_does_not_fit(case):
    config_name, tune, expected = CASES[case]
    converter = configs.get_config(config_name).data_converter
    assert converter.to_tensors(tune).outputs == []
    reason = diagnosis.why_no_examples(converter, tune)
    assert reason.text == expected
    assert reason.code in diagnosis.LABELS


def test_polyphonic_tracks_when_the_converter_skips_them():
    converter = OneHotMelodyConverter(skip_polyphony=True, slice_bars=2, max_bars=100)
    chords = sequence(line(8) + line(8, pitch=67))
    assert converter.to_tensors(chords).outputs == []
    assert diagnosis.why_no_examples(converter, chords) == (
        "polyphonic", "every track plays several notes at once; the config needs one line at a time")
    # The shipped melody configs keep the top line of a polyphonic track instead.
    assert configs.get_config(MEL).data_converter.to_tensors(chords).outputs


def test_count_reasons_most_frequent_first():
    reasons = [diagnosis.Reason("too_short", ""), diagnosis.Reason("time_signature", ""),
               diagnosis.Reason("time_signature", "")]
    assert diagnosis.count_reasons(reasons) == "2 other time signature, 1 too short"


def test_convert_summary_counts_reasons_per_config(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    files = {"good.mid": sequence(line(8)), "waltz.mid": sequence(line(8), meter=(3, 4)),
             "waltz2.mid": sequence(line(6), meter=(3, 4)), "jig.mid": sequence(line(8), meter=(6, 8)),
             "beat.mid": sequence(line(8, pitch=36, **DRUM)), "short.mid": sequence(line(1)),
             "silence.mid": sequence([])}
    for name, tune in files.items():
        note_seq.sequence_proto_to_midi_file(tune, str(folder / name))
    result = subprocess.run(console_command("music_vae_convert") + [
        f"--input_dir={folder}", f"--output_file={tmp_path / 'notes.tfrecord'}", f"--config={MEL}", "--log=WARNING"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [text for text in result.stderr.splitlines() if not text.startswith("\r[") and "files," not in text]
    start = lines.index(f"For config {MEL}: 1 of 7 NoteSequences give training examples; 6 give none:")
    assert lines[start + 1:] == [
        "  3 other time signature: e.g. jig.mid: it is in 6/8 time; the config needs 4/4 (bars of 4 quarter "
        "notes) (and 2 more)",
        "  1 only drums: e.g. beat.mid: it has only drums (MIDI channel 10); the config models melodies",
        "  1 too short: e.g. short.mid: it is 1 bar long; the config needs 2 bars",
        "  1 no notes: e.g. silence.mid: it has no notes",
    ]
    assert "Traceback" not in result.stderr


def test_convert_unknown_config_is_one_line(tmp_path):
    (tmp_path / "tunes").mkdir()
    result = subprocess.run(console_command("music_vae_convert") + [
        f"--input_dir={tmp_path / 'tunes'}", f"--output_file={tmp_path / 'notes.tfrecord'}",
        "--config=cat-mel_2bar_smal"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "music_vae_convert: error: " + result.stderr.split("music_vae_convert: error: ")[1].strip()]
    assert "unknown config 'cat-mel_2bar_smal'" in result.stderr
    assert not (tmp_path / "notes.tfrecord").exists()
