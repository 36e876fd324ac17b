"""Per-sequence musical features of Yang & Lerch (2020), computed from NoteSequences.

Li-Chia Yang and Alexander Lerch, "On the evaluation of generative models in music", Neural
Computing and Applications 32 (2020). Each feature maps one NoteSequence to a number or a vector;
`distribution_overlap` then compares how these features are distributed over two sets.

    features = extract_features(note_sequences)     # {name: array [n] or [n, d]}

Features (a name in FEATURES -> what it holds):
  pitch_count            number of distinct MIDI pitches (their "PC").
  pitch_class_histogram  12 values: share of the notes on each pitch class C, C#, ..., B ("PCH";
                         counted per note, not weighted by duration); all zero without notes.
  note_length_histogram  12 values: share of the notes in each of Yang & Lerch's note-length classes
                         ("NLH", see NOTE_LENGTH_CLASSES); all zero without notes.
  inter_onset_interval   mean time between consecutive distinct note onsets, in 16th notes ("IOI",
                         the average inter-onset interval); NaN with fewer than two onsets.
  note_count             number of notes ("NC").
  pitch_range            highest minus lowest pitch in semitones ("PR"); 0 without notes.

Conventions:
  * Pitch features (pitch_count, pitch_class_histogram, pitch_range) use the pitched notes only;
    a sequence of drum notes only uses its drum notes (there "pitch" means drum instrument).
    Timing features (note lengths, onsets, note count) use every note.
  * Musical time comes from the first tempo of the sequence (120 qpm when it has none): a
    quarter note lasts 60 / qpm seconds and a 16th note a quarter of that. The sequences written by
    the converters (`data_converter.from_tensors`) are unquantized at 120 qpm, which this reads
    exactly. Times are rounded to 1e-6 quarter notes so that float noise does not split onsets.
"""

import numpy as np

# Yang & Lerch's note-length classes, in quarter notes, in the order of their toolbox's histogram:
# whole, half, quarter, 8th, 16th, dotted half, dotted quarter, dotted 8th, dotted 16th,
# half-note triplet, quarter-note triplet, 8th-note triplet. A note counts in the class nearest to
# its duration; on a tie (e.g. 7 sixteenths, between a dotted quarter and a half) the class listed
# first wins. Notes longer than a whole note count as whole notes.
NOTE_LENGTH_CLASSES = (
    ("whole", 4.0), ("half", 2.0), ("quarter", 1.0), ("8th", 0.5), ("16th", 0.25),
    ("dotted half", 3.0), ("dotted quarter", 1.5), ("dotted 8th", 0.75), ("dotted 16th", 0.375),
    ("half triplet", 4.0 / 3.0), ("quarter triplet", 2.0 / 3.0), ("8th triplet", 1.0 / 3.0),
)
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

_DEFAULT_QPM = 120.0
_TIME_DECIMALS = 6


def _quarters_per_second(note_sequence):
    qpm = note_sequence.tempos[0].qpm if len(note_sequence.tempos) else _DEFAULT_QPM
    if not qpm or qpm <= 0:
        qpm = _DEFAULT_QPM
    return qpm / 60.0


def _pitched_notes(note_sequence):
    notes = list(note_sequence.notes)
    pitched = [note for note in notes if not note.is_drum]
    return pitched if pitched else notes


def pitch_count(note_sequence):
    """Number of distinct pitches (see the module docstring for drums)."""
    return float(len({note.pitch for note in _pitched_notes(note_sequence)}))


def pitch_range(note_sequence):
    """Highest minus lowest pitch, in semitones (0 without notes)."""
    pitches = [note.pitch for note in _pitched_notes(note_sequence)]
    return float(max(pitches) - min(pitches)) if pitches else 0.0


def note_count(note_sequence):
    return float(len(note_sequence.notes))


def pitch_class_histogram(note_sequence):
    """[12] share of the notes on each pitch class (zeros without notes)."""
    histogram = np.zeros(12)
    for note in _pitched_notes(note_sequence):
        histogram[note.pitch % 12] += 1
    total = histogram.sum()
    return histogram / total if total else histogram


def note_length_class(quarters):
    """Index into NOTE_LENGTH_CLASSES of the class nearest to a duration in quarter notes."""
    lengths = np.array([length for _, length in NOTE_LENGTH_CLASSES])
    return int(np.argmin(np.abs(lengths - quarters)))  # argmin: the first of equal distances


def note_length_histogram(note_sequence):
    """[12] share of the notes in each note-length class (zeros without notes)."""
    histogram = np.zeros(len(NOTE_LENGTH_CLASSES))
    scale = _quarters_per_second(note_sequence)
    for note in note_sequence.notes:
        quarters = round((note.end_time - note.start_time) * scale, _TIME_DECIMALS)
        histogram[note_length_class(quarters)] += 1
    total = histogram.sum()
    return histogram / total if total else histogram


def inter_onset_interval(note_sequence):
    """Mean gap between consecutive distinct onsets in 16th notes (NaN with < 2 onsets)."""
    scale = _quarters_per_second(note_sequence)
    onsets = sorted({round(note.start_time * scale, _TIME_DECIMALS) for note in note_sequence.notes})
    if len(onsets) < 2:
        return float("nan")
    return float(np.mean(np.diff(onsets)) * 4.0)


# name -> (function of one NoteSequence, short description for tables)
FEATURES = {
    "pitch_count": (pitch_count, "distinct pitches"),
    "pitch_class_histogram": (pitch_class_histogram, "12-bin pitch-class histogram"),
    "note_length_histogram": (note_length_histogram, "12-class note-length histogram"),
    "inter_onset_interval": (inter_onset_interval, "mean inter-onset interval (16ths)"),
    "note_count": (note_count, "number of notes"),
    "pitch_range": (pitch_range, "pitch range (semitones)"),
}
# The four features the project reports by default (the others are available by name).
DEFAULT_FEATURES = ("pitch_count", "pitch_class_histogram", "note_length_histogram", "inter_onset_interval")


def extract_features(note_sequences, names=DEFAULT_FEATURES):
    """{name: float array [n] (scalar features) or [n, d] (histograms)} for the sequences."""
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    note_sequences = list(note_sequences)
    result = {}
    for name in names:
        function = FEATURES[name][0]
        values = [function(sequence) for sequence in note_sequences]
        result[name] = np.asarray(values, dtype=np.float64)
    return result
