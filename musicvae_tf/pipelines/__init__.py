"""Apache Beam pipelines (optional extra: pip install "musicvae-tf[beam]").

    music_vae_preprocess --config=cat-mel_2bar_small --input=notes*.tfrecord --output_dir=examples/
    music_vae_convert --input_dir=midi/ --output_file=notes.tfrecord --runner=DirectRunner

Modules:
  beam_runner   Pipeline options from --runner and pass-through flags, running and counting
  preprocess    NoteSequences -> a config's deduplicated examples, split train/eval by a stable hash
                (written as `data.example_records`, read by music_vae_train --examples_path)
  convert       the MIDI/MusicXML/ABC -> NoteSequence step of music_vae_convert on Beam

The same code runs on DirectRunner (several local workers with --direct_num_workers=N
--direct_running_mode=multi_processing) and, by pipeline options alone, on Dataflow, Flink or
Spark (see docs/beam.md). The per-record functions are plain Python and need no Beam.
"""
