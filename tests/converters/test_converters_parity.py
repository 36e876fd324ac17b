"""Converters against Magenta's own converter output (tests/data/magenta_parity).

For each case, the config's data converter (eval mode) turns the fixture's source
NoteSequences into exactly the examples Magenta produced (same count, order, seq_index and
values), and `from_tensors` of those examples' outputs gives exactly the NoteSequences
Magenta decoded. The chord-conditioned case is compared per NoteSequence as multisets
with max_tensors_per_notesequence=None (Magenta's order there depends on string hashing).
"""

import collections
import copy
import json

import note_seq
import numpy as np
import pytest

from conftest import PARITY_DIR, SHARED_PARITY_DIR
from kit import read_tfrecord_sequences

SOURCES_DIR = PARITY_DIR / "sources"

# case -> (folder holding converter.npz / converter_decoded.tfrecord, source name)
CASES = {
    "cat-mel_2bar_small": ("cat-mel_2bar_small", "folk_melody"),
    "hier-mel_16bar": ("hier-mel_16bar", "folk_melody"),
    # Same converter as hier-mel_16bar; Magenta's files for both are byte-identical.
    "hierdec-mel_16bar": ("hier-mel_16bar", "folk_melody"),
    "cat-mel_2bar_med_chords": ("cat-mel_2bar_med_chords", "trio"),
    "cat-drums_2bar_small": ("cat-drums_2bar_small", "drums"),
    "nade-drums_2bar_reduced": ("nade-drums_2bar_reduced", "drums"),
    "hierdec-trio_16bar": ("hierdec-trio_16bar", "trio"),
}
UNORDERED_CASES = {"cat-mel_2bar_med_chords"}


def load_sources(source_name):
    """{original record index: NoteSequence} for a stored (trimmed) source file."""
    sequences = read_tfrecord_sequences(SOURCES_DIR / f"{source_name}_source.tfrecord")
    index_file = SOURCES_DIR / f"{source_name}_source.json"
    if index_file.exists():
        indices = json.loads(index_file.read_text())["original_indices"]
    else:  # a prefix of the original file
        indices = list(range(len(sequences)))
    assert len(indices) == len(sequences)
    return dict(zip(indices, sequences))


def make_converter(config_name):
    from musicvae_tf import configs

    converter = copy.deepcopy(configs.CONFIG_MAP[config_name].data_converter)
    converter.set_mode("eval")
    return converter


def convert_all(converter, sources):
    """Rows (seq_index, input, output, control, length) over the sources in order."""
    rows = []
    for index in sorted(sources):
        tensors = converter.to_tensors(sources[index])
        for inp, out, ctl, length in zip(*tensors):
            rows.append((index, np.asarray(inp), np.asarray(out), np.asarray(ctl), length))
    return rows


def fixture_rows(expected):
    """Rows of a converter.npz, cut to each example's length."""
    rows = []
    for r, length in enumerate(expected["lengths"]):
        rows.append((int(expected["seq_index"][r]), expected["inputs"][r][:length],
                     expected["outputs"][r][:length], expected["controls"][r][:length],
                     int(length)))
    return rows


def row_key(row):
    index, inp, out, ctl, length = row
    return (index, inp.astype(bool).tobytes(), inp.shape, out.astype(bool).tobytes(), out.shape,
            ctl.astype(bool).tobytes(), ctl.shape, int(length))


def note_tuples(sequence):
    return [(n.pitch, n.velocity, n.start_time, n.end_time, n.instrument, n.program, n.is_drum)
            for n in sequence.notes]


def annotation_tuples(sequence):
    return [(a.time, a.text, a.annotation_type) for a in sequence.text_annotations]


def check_converter_rows(converter, sources, expected, ordered):
    mine = convert_all(converter, sources)
    theirs = fixture_rows(expected)
    assert len(mine) == len(theirs)
    if not ordered:
        assert collections.Counter(map(row_key, mine)) == collections.Counter(map(row_key, theirs))
        return
    for r, (got, want) in enumerate(zip(mine, theirs)):
        assert got[0] == want[0], f"row {r}: seq_index"
        assert got[4] == want[4], f"row {r}: length"
        for field, name in ((1, "inputs"), (2, "outputs"), (3, "controls")):
            assert got[field].shape == want[field].shape, f"row {r}: {name} shape"
            assert np.array_equal(got[field], want[field]), f"row {r}: {name}"
        assert got[1].dtype == got[2].dtype == bool, f"row {r}: one-hot dtype"


def check_decoded(converter, expected, decoded):
    rows = fixture_rows(expected)
    controls = [row[3] for row in rows] if expected["controls"].shape[-1] else None
    mine = converter.from_tensors([row[2] for row in rows], controls)
    assert len(mine) == len(decoded) == len(rows)
    for r, (got, want) in enumerate(zip(mine, decoded)):
        assert note_tuples(got) == note_tuples(want), f"decoded example {r}: notes"
        assert got.total_time == want.total_time, f"decoded example {r}: total_time"
        assert annotation_tuples(got) == annotation_tuples(want), f"decoded example {r}: chords"


@pytest.mark.parametrize("case", sorted(CASES))
def test_to_tensors_matches_magenta(case):
    folder, source_name = CASES[case]
    converter = make_converter(case)
    expected = dict(np.load(PARITY_DIR / folder / "converter.npz"))
    assert (converter.input_depth, converter.output_depth, converter.control_depth) == (
        expected["input_depth"], expected["output_depth"], expected["control_depth"])
    if case in UNORDERED_CASES:
        converter.max_tensors_per_notesequence = None
    check_converter_rows(converter, load_sources(source_name), expected,
                         ordered=case not in UNORDERED_CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_from_tensors_matches_magenta(case):
    folder, _ = CASES[case]
    converter = make_converter(case)
    expected = dict(np.load(PARITY_DIR / folder / "converter.npz"))
    decoded = read_tfrecord_sequences(PARITY_DIR / folder / "converter_decoded.tfrecord")
    check_decoded(converter, expected, decoded)


def test_fixture_keeps_examples_of_every_kept_source():
    # Guard against trimming that would leave a case without examples to compare.
    for case, (folder, source_name) in CASES.items():
        expected = np.load(PARITY_DIR / folder / "converter.npz")
        assert len(expected["lengths"]) >= 12, case
        assert set(expected["seq_index"].tolist()) <= set(load_sources(source_name)), case


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_full_shared_fixtures(case):
    """The untrimmed fixtures, when /work/shared is next to the checkout."""
    case_dir = SHARED_PARITY_DIR / case
    if not (case_dir / "converter.npz").exists():
        pytest.skip("full shared fixtures not available")
    converter = make_converter(case)
    if case in UNORDERED_CASES:
        converter.max_tensors_per_notesequence = None
    sequences = read_tfrecord_sequences(case_dir / "converter_source.tfrecord")
    expected = dict(np.load(case_dir / "converter.npz"))
    check_converter_rows(converter, dict(enumerate(sequences)), expected,
                         ordered=case not in UNORDERED_CASES)
    decoded = read_tfrecord_sequences(case_dir / "converter_decoded.tfrecord")
    check_decoded(converter, expected, decoded)
