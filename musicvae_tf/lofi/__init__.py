"""Lo-fi loops from the models (music_vae_lofi): chords, melody, keys, bass and drums, rendered per
stem and mixed through a lo-fi master chain.

- progressions.py: the chord presets and keys;  parts.py: keys voicings, bass line, swing, humanizing;
- melody.py: the melody from a chord-conditioned 2-bar model;  drums.py: boom-bap patterns or a drums model;
- mixing.py: stem balance, vinyl, overlays, the master chain;  analysis.py: loudness and spectrum figures;
- loop.py: `make_loop`, which puts it all together and writes the files.
"""
