"""Placeholder, replaced below."""
import hashlib


def generate_note_sequence_id(filename, collection_name, source_type):
    """Magenta's NoteSequence id: '/id/<source type>/<collection>/<sha1 of the filename>'."""
    digest = hashlib.sha1(filename.encode("utf-8")).hexdigest()
    return f"/id/{source_type.lower()}/{collection_name}/{digest}"
