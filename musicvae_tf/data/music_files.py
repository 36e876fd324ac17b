"""MIDI, MusicXML and ABC files -> NoteSequences: the per-file step of music_vae_convert, also used
by its Beam pipeline (musicvae_tf.pipelines.convert) and by personal models (musicvae_tf.personalize).

    files, ignored = list_input_files("midi/", recursive=True)    # [(relative path, kind)], [...]
    records, errors, fits = convert_file(("midi/", files[0][0], files[0][1]))

The NoteSequences are Magenta's convert_dir_to_note_sequences': the input folder's name as
collection_name, the path relative to it as filename, and the id
'/id/<midi|musicxml|abc>/<collection>/<sha1 of filename>' (ABC tunes: of '<filename>_<X number>').
A file that cannot be read gives an error line instead of NoteSequences.
"""
import functools
import hashlib
import os
import warnings

MIDI_EXTENSIONS = (".mid", ".midi")
MUSICXML_EXTENSIONS = (".xml", ".mxl", ".musicxml")
ABC_EXTENSIONS = (".abc",)


def generate_note_sequence_id(filename, collection_name, source_type):
    """Magenta's NoteSequence id: '/id/<source type>/<collection>/<sha1 of the filename>'."""
    digest = hashlib.sha1(filename.encode("utf-8")).hexdigest()
    return f"/id/{source_type.lower()}/{collection_name}/{digest}"


def source_type_of(path):
    """'midi', 'musicxml', 'abc', or None for files no converter reads."""
    lower = path.lower()
    if lower.endswith(MIDI_EXTENSIONS):
        return "midi"
    if lower.endswith(MUSICXML_EXTENSIONS):
        return "musicxml"
    if lower.endswith(ABC_EXTENSIONS):
        return "abc"
    return None


def list_input_files(root_dir, recursive):
    """(relative path, source type) of the convertible files, sorted; plus ignored entries."""
    found, ignored = [], []
    for current, dirs, files in os.walk(root_dir):
        dirs.sort()
        relative_dir = os.path.relpath(current, root_dir)
        relative_dir = "" if relative_dir == "." else relative_dir
        if not recursive:
            ignored.extend(os.path.join(relative_dir, d) + os.sep for d in dirs)
            dirs[:] = []
        for name in sorted(files):
            relative = os.path.join(relative_dir, name)
            kind = source_type_of(name)
            if kind is None:
                ignored.append(relative)
            else:
                found.append((relative, kind))
    return found, ignored


def printable_name(name):
    """`name` (a path from the file system) as valid UTF-8: bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def _interrupted(error):
    """True when `error` was raised while handling a KeyboardInterrupt (note_seq's MIDI reader turns
    every exception, Ctrl-C included, into MIDIConversionError)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _error_text(error):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _import_note_seq():
    # note_seq pulls in pydub, which warns about a missing ffmpeg that conversion never uses.
    warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)
    import note_seq
    from note_seq import abc_parser, musicxml_reader

    return note_seq, abc_parser, musicxml_reader


@functools.lru_cache(maxsize=None)
def config_converter(config_name):
    """The data converter of the named config (cached); ValueError for an unknown name."""
    from musicvae_tf import configs

    return configs.get_config(config_name).data_converter


def _fits(sequences, relative, config_name):
    """Per sequence, None when it gives examples for the config, else (name, diagnosis.Reason)."""
    if not config_name:
        return []
    from musicvae_tf.converters.diagnosis import why_no_examples

    converter = config_converter(config_name)
    fits = []
    for number, sequence in sequences:
        name = f"{relative} (tune {number})" if number else relative
        fits.append(None if converter.to_tensors(sequence).outputs else
                    (name, why_no_examples(converter, sequence)))
    return fits


def convert_file(task):
    """Worker: (root_dir, relative path, kind[, config name]) -> (serialized NoteSequences, errors, fits).

    `errors` lists one message per part that could not be read (the whole file, or single
    tunes of an ABC file); `fits` (with a config name) holds one entry per NoteSequence: None when
    it gives training examples for the config, else (name, diagnosis.Reason).
    """
    root_dir, file_name, kind = task[:3]
    config_name = task[3] if len(task) > 3 else None
    note_seq, abc_parser, musicxml_reader = _import_note_seq()

    full_path = os.path.join(root_dir, file_name)
    # Names are recorded and shown as UTF-8 (a NoteSequence's strings must be); the file is read by its own name.
    relative = printable_name(file_name)
    collection = printable_name(os.path.basename(os.path.normpath(os.path.abspath(root_dir))))
    try:
        if os.path.getsize(full_path) == 0:
            return [], [f"{relative}: empty file"], []
        if kind == "midi":
            with open(full_path, "rb") as f:
                sequences = [("", note_seq.midi_to_note_sequence(f.read()))]
        elif kind == "musicxml":
            sequences = [("", musicxml_reader.musicxml_file_to_sequence_proto(full_path))]
        else:
            with open(full_path, "rb") as f:
                tunes, tune_errors = abc_parser.parse_abc_tunebook(f.read().decode("latin-1"))
            if not tunes and not tune_errors:
                return [], [f"{relative}: no ABC tunes found"], []
            sequences = [(str(number), tune) for number, tune in sorted(tunes.items())]
            errors = [f"{relative}: tune skipped: {_error_text(e)}" for e in tune_errors]
            return _finish(sequences, relative, collection, kind), errors, _fits(sequences, relative, config_name)
    except Exception as error:  # every reader error means "skip this file", but Ctrl-C stops the run
        if _interrupted(error):
            raise KeyboardInterrupt from None
        return [], [f"{relative}: {_error_text(error)}"], []
    return _finish(sequences, relative, collection, kind), [], _fits(sequences, relative, config_name)


def _finish(sequences, relative, collection, kind):
    serialized = []
    for number, sequence in sequences:
        sequence.collection_name = collection
        sequence.filename = relative
        id_source = f"{relative}_{number}" if kind == "abc" else relative
        sequence.id = generate_note_sequence_id(id_source, collection, kind)
        serialized.append(sequence.SerializeToString())
    return serialized
