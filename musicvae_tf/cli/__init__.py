"""The command-line tools, one module each; `common` is their shared start-up.

    music_vae_train       cli/train.py       train or evaluate a MusicVAE (Magenta's flags)
    music_vae_generate    cli/generate.py    sample and interpolate, written as MIDI (+ PNG, WAV)
    music_vae_evaluate    cli/evaluate.py    reconstruction accuracy and feature distributions
    music_vae_convert     cli/convert.py     MIDI / MusicXML / ABC folder -> NoteSequence TFRecord
    music_vae_quickstart  cli/quickstart.py  samples and an interpolation from the demo model
    music_vae_export      cli/export.py      magenta.js folder, SavedModel or TFLite decoder
    music_vae_web         cli/web.py         static web player (magenta.js) with exported models

Each tool module imports only absl at import time, so `--help` answers without TensorFlow.
"""
