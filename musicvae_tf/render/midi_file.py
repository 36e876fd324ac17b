"""Writing a NoteSequence as a MIDI file that is either complete or not there at all.

note_seq's `sequence_proto_to_midi_file` hands pretty_midi a file object it never closes, so a
write that fails when the file is closed (a full disk) is lost and a 0-byte .mid stays behind.
Here the file is closed explicitly and its size checked, and it is written whole or not at all
(whole_file.py).
"""

import os

from musicvae_tf.render.whole_file import whole_file


def write_midi_file(sequence, path):
    """Writes `sequence` to `path` as a Standard MIDI File; raises OSError, leaving no file, on failure."""
    import note_seq

    midi = note_seq.note_sequence_to_pretty_midi(sequence)
    with whole_file(path) as temporary:
        with open(temporary, "wb") as handle:
            midi.write(handle)
        if os.path.getsize(temporary) == 0:
            raise OSError(f"{path} is empty after writing")
    return path
