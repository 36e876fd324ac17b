"""Writing a NoteSequence as a MIDI file that is either complete or not there at all.

note_seq's `sequence_proto_to_midi_file` hands pretty_midi a file object it never closes, so a
write that fails when the file is closed (a full disk) is lost and a 0-byte .mid stays behind.
Here the file is closed explicitly, its size checked, and a failed write removes what it began.
"""

import os


def write_midi_file(sequence, path):
    """Writes `sequence` to `path` as a Standard MIDI File; raises OSError, leaving no file, on failure."""
    import note_seq

    midi = note_seq.note_sequence_to_pretty_midi(sequence)
    try:
        with open(path, "wb") as handle:
            midi.write(handle)
        if os.path.getsize(path) == 0:
            raise OSError(f"{path} is empty after writing")
    except BaseException:
        if os.path.exists(path):
            os.remove(path)
        raise
    return path
