"""Random transposition and tempo stretching of NoteSequences for training data.

Same behaviour as Magenta's MusicVAE augmenter: both amounts are drawn by
`note_seq.sequences_lib.augment_note_sequence` (Python's `random` module, so
`random.seed(...)` makes a run reproducible), the transposition is an integer drawn
uniformly from the inclusive range, drum notes keep their pitch, and pitched notes
that leave the MIDI range are deleted. Unlike Magenta, `augment` never modifies the
sequence it is given.
"""

import note_seq
from note_seq import sequences_lib


class NoteSequenceAugmenter:
    """Randomly transposes and/or stretches NoteSequences.

    Args:
      transpose_range: inclusive (min, max) integer semitone range, or None for no
        transposition.
      stretch_range: inclusive (min, max) float range of time-stretch factors, or None
        for no stretching. A factor of 2 doubles every time (slower playback).
    """

    def __init__(self, transpose_range=None, stretch_range=None):
        if transpose_range is not None:
            low, high = transpose_range
            if low > high:
                raise ValueError(f"transpose_range must be (min, max) with min <= max, got {transpose_range}")
        if stretch_range is not None:
            low, high = stretch_range
            if low > high:
                raise ValueError(f"stretch_range must be (min, max) with min <= max, got {stretch_range}")
        self._transpose_range = transpose_range
        self._stretch_range = stretch_range

    @property
    def transpose_range(self):
        return self._transpose_range

    @property
    def stretch_range(self):
        return self._stretch_range

    def __repr__(self):
        return (f"NoteSequenceAugmenter(transpose_range={self._transpose_range!r}, "
                f"stretch_range={self._stretch_range!r})")

    def augment(self, note_sequence):
        """Returns a randomly transposed and stretched copy of `note_sequence`."""
        min_transpose, max_transpose = self._transpose_range or (0, 0)
        min_stretch, max_stretch = self._stretch_range or (1.0, 1.0)
        copied = note_seq.NoteSequence()
        copied.CopyFrom(note_sequence)
        return sequences_lib.augment_note_sequence(
            copied, min_stretch, max_stretch, min_transpose, max_transpose,
            delete_out_of_range_notes=True)

    def tf_augment(self, note_sequence_scalar):
        """tf.data map function: serialized NoteSequence (string scalar) -> augmented one."""
        import tensorflow as tf  # Only this method needs TensorFlow.

        def _augment_serialized(serialized):
            sequence = note_seq.NoteSequence.FromString(serialized.numpy())
            return self.augment(sequence).SerializeToString()

        augmented = tf.py_function(
            _augment_serialized, inp=[note_sequence_scalar], Tout=tf.string, name="augment")
        augmented.set_shape(())
        return augmented
