"""The command-line tools, one module each; `common` is their shared start-up.

    music_vae_train       cli/train.py       train or evaluate a MusicVAE (Magenta's flags)
    music_vae_generate    cli/generate.py    sample and interpolate, written as MIDI (+ PNG, WAV)
    music_vae_evaluate    cli/evaluate.py    reconstruction accuracy and feature distributions
    music_vae_convert     cli/convert.py     MIDI / MusicXML / ABC folder -> NoteSequence TFRecord
    music_vae_quickstart  cli/quickstart.py  samples, an interpolation, a 16-bar tune and a chord loop
                                             from the packaged models
    music_vae_export      cli/export.py      magenta.js folder, SavedModel or TFLite decoder
    music_vae_web         cli/web.py         static web player (magenta.js) with exported models
    music_vae_lofi        cli/lofi.py        a lo-fi loop (melody over chords, keys, bass, drums) as WAV stems
    music_vae_preprocess  cli/preprocess.py  NoteSequences -> a config's training examples (Apache Beam)
    music_vae_personalize cli/personalize.py a small latent model (MidiMe) fitted on a few of your files

Each tool module imports only absl at import time, so `--help` answers without TensorFlow.
"""
