"""Piano-roll PNGs, FluidSynth WAVs and DAW loops (musicvae_tf.render)."""
import wave

import note_seq
import numpy as np
import pytest

from musicvae_tf import render


def _melody(pitches, step=0.25, qpm=120.0):
    sequence = note_seq.NoteSequence()
    sequence.tempos.add(qpm=qpm)
    for i, pitch in enumerate(pitches):
        sequence.notes.add(pitch=pitch, start_time=i * step, end_time=(i + 1) * step, velocity=90)
    sequence.total_time = len(pitches) * step
    return sequence


def test_piano_roll_png_opens(tmp_path):
    import matplotlib.image

    path = render.plot_piano_roll(_melody([60, 64, 67, 72]), str(tmp_path / "roll.png"), title="t")
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 0 and image.shape[1] > 0
    # Not a blank canvas: the note bars add colour.
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 10


def test_piano_roll_strip_is_wider_than_single(tmp_path):
    import matplotlib.image

    sequences = [_melody([60 + i, 62 + i, 64 + i]) for i in range(5)]
    single = matplotlib.image.imread(render.plot_piano_roll(sequences[0], str(tmp_path / "one.png")))
    strip = matplotlib.image.imread(render.plot_piano_roll_strip(sequences, str(tmp_path / "strip.png")))
    assert strip.shape[1] > single.shape[1]
    with pytest.raises(ValueError):
        render.plot_piano_roll_strip([], str(tmp_path / "empty.png"))


def test_empty_sequence_plots(tmp_path):
    import matplotlib.image

    path = render.plot_piano_roll(note_seq.NoteSequence(), str(tmp_path / "empty.png"))
    assert matplotlib.image.imread(path).size > 0


def test_loop_for_daw_sets_tempo_and_repeats():
    melody = _melody([60, 62, 64, 65], step=0.5)  # 4 quarters at 120 qpm, 2 s
    looped = render.loop_for_daw(melody, repeats=3, qpm=60.0, loop_quarters=8)
    assert looped.tempos[0].qpm == pytest.approx(60.0)
    assert len(looped.notes) == 12
    # At 60 qpm a quarter lasts 1 s; the loop is 8 quarters, so repeats start 8 s apart.
    starts = sorted(note.start_time for note in looped.notes)
    assert starts[:4] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert starts[4:8] == pytest.approx([8.0, 9.0, 10.0, 11.0])
    assert starts[8:] == pytest.approx([16.0, 17.0, 18.0, 19.0])


def test_loop_without_length_rounds_to_whole_bars():
    melody = _melody([60, 62, 64], step=0.5)  # 1.5 s at 120 qpm: rounds up to one 2 s bar
    looped = render.loop_for_daw(melody, repeats=2)
    assert sorted(n.start_time for n in looped.notes)[3] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        render.loop_for_daw(melody, repeats=0)
    with pytest.raises(ValueError):
        render.loop_for_daw(melody, qpm=-1)


def test_missing_soundfont_is_a_clear_error(tmp_path):
    with pytest.raises(render.RenderError, match="soundfont not found"):
        render.find_soundfont(str(tmp_path / "nope.sf2"))


@pytest.mark.skipif(not render.fluidsynth_available(), reason="FluidSynth not installed")
def test_render_wav_is_valid_and_not_silent(tmp_path):
    try:
        render.find_soundfont()
    except render.RenderError:
        pytest.skip("no General MIDI soundfont installed")
    path = render.render_wav(_melody([60, 64, 67, 72]), str(tmp_path / "a.wav"), sample_rate=22050)
    with wave.open(path, "rb") as handle:
        assert handle.getframerate() == 22050
        assert handle.getsampwidth() == 2
        frames = handle.readframes(handle.getnframes())
        assert handle.getnframes() > 22050 * 0.5  # at least the melody's second of audio
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    assert np.sqrt(np.mean(samples ** 2)) > 10.0
