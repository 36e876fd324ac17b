"""NoteSequence <-> tensor converters with Magenta MusicVAE's semantics (numpy + note_seq only)."""

from musicvae_tf.converters.base import (
    BASS_PROGRAMS,
    CHORD_SYMBOL,
    ELECTRIC_BASS_PROGRAM,
    FULL_DRUM_PITCH_CLASSES,
    MAX_INSTRUMENT_NUMBER,
    MAX_MIDI_PITCH,
    MEL_PROGRAMS,
    MIDI_PITCHES,
    MIN_MIDI_PITCH,
    OUTPUT_VELOCITY,
    PIANO_MAX_MIDI_PITCH,
    PIANO_MIN_MIDI_PITCH,
    REDUCED_DRUM_PITCH_CLASSES,
    ROLAND_DRUM_PITCH_CLASSES,
    BaseNoteSequenceConverter,
    ConverterTensors,
    combine_converter_tensors,
    extract_instrument,
    maybe_pad_seqs,
    maybe_sample_items,
    np_onehot,
    split_process_and_combine,
)
from musicvae_tf.converters.extraction import extract_drum_tracks, extract_melodies
from musicvae_tf.converters.melody import EventListOneHotConverter, OneHotMelodyConverter
from musicvae_tf.converters.drums import DrumsConverter
from musicvae_tf.converters.trio import TrioConverter

# Magenta's name for the generic event-list converter.
LegacyEventListOneHotConverter = EventListOneHotConverter

# converters-extra's modules:
from musicvae_tf.converters.augment import NoteSequenceAugmenter
from musicvae_tf.converters.groove import GrooveConverter
from musicvae_tf.converters.performance import MultiInstrumentPerformanceConverter
