"""Shared pieces of the NoteSequence <-> tensor converters.

Behaviour follows Magenta's MusicVAE data module: the same constants, the same
`ConverterTensors` defaults, the same sampling rules (random only while training,
otherwise the first N), and the same pre-splitting of sequences at tempo and
time-signature changes. Only numpy and note_seq are imported here.
"""

import abc
import collections
import copy

import note_seq
import numpy as np
from note_seq import drums_encoder_decoder
from note_seq import sequences_lib

# MIDI / piano pitch ranges.
PIANO_MIN_MIDI_PITCH = 21
PIANO_MAX_MIDI_PITCH = 108
MIN_MIDI_PITCH = 0
MAX_MIDI_PITCH = 127
MIDI_PITCHES = 128
MAX_INSTRUMENT_NUMBER = 127

# General MIDI program groups: programs 0-31 (pianos, chromatic percussion, organs,
# guitars) carry melodies; 32-39 are basses.
MEL_PROGRAMS = range(0, 32)
BASS_PROGRAMS = range(32, 40)
ELECTRIC_BASS_PROGRAM = 33

# Nine drum classes (kick, snare, closed hat, open hat, low/mid/high tom, crash, ride),
# note_seq's default grouping.
REDUCED_DRUM_PITCH_CLASSES = drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES

# One class per General MIDI drum pitch (61 classes), ordered so that the pitches of
# each reduced class are contiguous.
_FULL_DRUM_PITCH_ORDER = (
    36, 35, 38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85, 42, 44,
    54, 68, 69, 70, 71, 73, 78, 80, 46, 67, 72, 74, 79, 81, 45, 29, 41, 61, 64,
    84, 48, 47, 60, 63, 77, 86, 87, 50, 30, 43, 62, 76, 83, 49, 55, 57, 58, 51,
    52, 53, 59, 82)
FULL_DRUM_PITCH_CLASSES = [[pitch] for pitch in _FULL_DRUM_PITCH_ORDER]

# Nine classes matching the pads of Roland electronic kits (used by GrooVAE).
ROLAND_DRUM_PITCH_CLASSES = [
    [36],                # kick
    [38, 37, 40],        # snare
    [42, 22, 44],        # closed hi-hat
    [46, 26],            # open hi-hat
    [43, 58],            # low tom
    [47, 45],            # mid tom
    [50, 48],            # high tom
    [49, 52, 55, 57],    # crash
    [51, 53, 59],        # ride
]

# Velocity given to every note decoded from one-hot tensors.
OUTPUT_VELOCITY = 80

CHORD_SYMBOL = note_seq.NoteSequence.TextAnnotation.CHORD_SYMBOL

VALID_MODES = ("train", "eval", "infer")


class ConverterTensors(collections.namedtuple(
        "ConverterTensors", ["inputs", "outputs", "controls", "lengths"])):
    """Lists of per-example arrays produced by a converter's `to_tensors`.

    inputs: encoder inputs, each [length, input_depth].
    outputs: decoder targets, each [length, output_depth].
    controls: conditioning signals, each [length, control_depth]; when none are given
      every example gets an empty [length, 0] array.
    lengths: the length of each example; defaults to len(input).
    """

    def __new__(cls, inputs=None, outputs=None, controls=None, lengths=None):
        inputs = [] if inputs is None else inputs
        outputs = [] if outputs is None else outputs
        if lengths is None:
            lengths = [len(x) for x in inputs]
        # Any empty or missing controls collection means "no conditioning".
        if controls is None or len(controls) == 0:
            controls = [np.zeros([length, 0]) for length in lengths]
        return super().__new__(cls, inputs, outputs, controls, lengths)


def np_onehot(indices, depth, dtype=bool):
    """One-hot [len(indices), depth] array of `dtype` with a 1 at each index."""
    result = np.zeros((len(indices), depth), dtype=dtype)
    result[np.arange(len(indices)), indices] = 1
    return result


def maybe_pad_seqs(seqs, dtype, depth):
    """Stacks 2-D arrays into [N, max_len, depth], zero-padding shorter ones at the end."""
    if len(seqs) == 0:
        return np.zeros((0, 0, depth), dtype)
    max_len = max(len(s) for s in seqs)
    if all(len(s) == max_len for s in seqs):
        return np.array(seqs, dtype)
    return np.array(
        [np.pad(s, [(0, max_len - len(s)), (0, 0)], mode="constant") for s in seqs], dtype)


def extract_instrument(note_sequence, instrument):
    """Shallow copy of `note_sequence` keeping only the notes of one instrument."""
    extracted = copy.copy(note_sequence)
    del extracted.notes[:]
    extracted.notes.extend(n for n in note_sequence.notes if n.instrument == instrument)
    return extracted


def maybe_sample_items(seq, sample_size, randomize):
    """Returns at most `sample_size` items of `seq` (all of them when sample_size is falsy).

    With `randomize`, a random subset, ordered as Python iterates the set of chosen
    indices (Magenta's order); otherwise the first `sample_size` items.
    """
    if not sample_size or len(seq) <= sample_size:
        return seq
    if not randomize:
        return seq[:sample_size]
    chosen = set(np.random.choice(len(seq), size=sample_size, replace=False))
    return [seq[i] for i in chosen]


def combine_converter_tensors(converter_tensors, max_num_tensors=None, randomize_sample=True):
    """Concatenates several `ConverterTensors` example-wise, then samples if too many."""
    examples = []
    for tensors in converter_tensors:
        examples.extend(zip(*tensors))
    examples = maybe_sample_items(examples, max_num_tensors, randomize_sample)
    if not examples:
        return ConverterTensors()
    return ConverterTensors(*zip(*examples))


def split_process_and_combine(note_sequence, split, sample_size, randomize, to_tensors_fn):
    """Optionally splits on time changes, converts each piece, samples and combines."""
    if split:
        pieces = sequences_lib.split_note_sequence_on_time_changes(note_sequence)
    else:
        pieces = [note_sequence]
    per_piece = []
    for piece in pieces:
        examples = maybe_sample_items(list(zip(*to_tensors_fn(piece))), sample_size, randomize)
        per_piece.append(ConverterTensors(*zip(*examples)) if examples else ConverterTensors())
    return combine_converter_tensors(per_piece, sample_size, randomize)


class BaseNoteSequenceConverter(abc.ABC):
    """Converts NoteSequences to example tensors and model samples back to NoteSequences.

    Subclasses implement `_to_tensors_fn(note_sequence) -> ConverterTensors` (one
    sequence, already split on time changes when `presplit_on_time_changes`) and
    `from_tensors(samples, controls=None) -> list of NoteSequence`.
    """

    def __init__(self, input_depth, input_dtype, output_depth, output_dtype,
                 control_depth=0, control_dtype=bool, end_token=None,
                 max_tensors_per_notesequence=None, length_shape=(),
                 presplit_on_time_changes=True):
        self._input_depth = input_depth
        self._input_dtype = input_dtype
        self._output_depth = output_depth
        self._output_dtype = output_dtype
        self._control_depth = control_depth
        self._control_dtype = control_dtype
        self._end_token = end_token
        self._max_tensors_per_input = max_tensors_per_notesequence
        self._str_to_item_fn = note_seq.NoteSequence.FromString
        self._mode = None
        self._length_shape = length_shape
        self._presplit_on_time_changes = presplit_on_time_changes

    # -- mode ---------------------------------------------------------------------------
    def set_mode(self, mode):
        """Sets 'train' (random sampling), 'eval' or 'infer'."""
        if mode not in VALID_MODES:
            raise ValueError(f"Invalid mode: {mode!r}; expected one of {', '.join(VALID_MODES)}")
        self._mode = mode

    @property
    def mode(self):
        return self._mode

    @property
    def is_training(self):
        return self._mode == "train"

    @property
    def is_inferring(self):
        return self._mode == "infer"

    # -- description --------------------------------------------------------------------
    @property
    def chord_encoding(self):
        """The note_seq chord encoding of the controls, or None without chord conditioning."""
        return getattr(self, "_chord_encoding", None)

    @property
    def str_to_item_fn(self):
        return self._str_to_item_fn

    @property
    def max_tensors_per_notesequence(self):
        return self._max_tensors_per_input

    @max_tensors_per_notesequence.setter
    def max_tensors_per_notesequence(self, value):
        self._max_tensors_per_input = value

    @property
    def presplit_on_time_changes(self):
        return self._presplit_on_time_changes

    @property
    def end_token(self):
        """Index of the end token in the output depth, or None."""
        return self._end_token

    @property
    def input_depth(self):
        return self._input_depth

    @property
    def input_dtype(self):
        return self._input_dtype

    @property
    def output_depth(self):
        return self._output_depth

    @property
    def output_dtype(self):
        return self._output_dtype

    @property
    def control_depth(self):
        return self._control_depth

    @property
    def control_dtype(self):
        return self._control_dtype

    @property
    def length_shape(self):
        return self._length_shape

    # -- conversion ---------------------------------------------------------------------
    def to_tensors(self, note_sequence):
        """Converts one NoteSequence into a `ConverterTensors` of zero or more examples."""
        return split_process_and_combine(
            note_sequence, self._presplit_on_time_changes, self.max_tensors_per_notesequence,
            self.is_training, self._to_tensors_fn)

    @abc.abstractmethod
    def _to_tensors_fn(self, note_sequence):
        """Converts one (already split) NoteSequence into `ConverterTensors`."""

    @abc.abstractmethod
    def from_tensors(self, samples, controls=None):
        """Decodes model samples (and optional controls) into a list of NoteSequences."""

    def to_padded_arrays(self, note_sequence):
        """`to_tensors` with each field stacked into a zero-padded numpy array."""
        tensors = self.to_tensors(note_sequence)
        return ConverterTensors._make([
            maybe_pad_seqs(tensors.inputs, self.input_dtype, self.input_depth),
            maybe_pad_seqs(tensors.outputs, self.output_dtype, self.output_depth),
            maybe_pad_seqs(tensors.controls, self.control_dtype, self.control_depth),
            np.array(tensors.lengths, np.int32)])
