"""Piano-roll PNGs, WAVs (FluidSynth and the built-in synth) and DAW loops (musicvae_tf.render)."""
import shutil
import wave

import note_seq
import numpy as np
import pytest

from kit import melody
from musicvae_tf import render


def test_piano_roll_png_opens(tmp_path):
    import matplotlib.image

    path = render.plot_piano_roll(melody([60, 64, 67, 72]), str(tmp_path / "roll.png"), title="t")
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 0 and image.shape[1] > 0
    # Not a blank canvas: the note bars add colour.
    assert np.unique(image.reshape(-1, image.shape[-1]), axis=0).shape[0] > 10


def test_piano_roll_strip_is_wider_than_single(tmp_path):
    import matplotlib.image

    sequences = [melody([60 + i, 62 + i, 64 + i]) for i in range(5)]
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
    tune = melody([60, 62, 64, 65], step=0.5)  # 4 quarters at 120 qpm, 2 s
    looped = render.loop_for_daw(tune, repeats=3, qpm=60.0, loop_quarters=8)
    assert looped.tempos[0].qpm == pytest.approx(60.0)
    assert len(looped.notes) == 12
    # At 60 qpm a quarter lasts 1 s; the loop is 8 quarters, so repeats start 8 s apart.
    starts = sorted(note.start_time for note in looped.notes)
    assert starts[:4] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert starts[4:8] == pytest.approx([8.0, 9.0, 10.0, 11.0])
    assert starts[8:] == pytest.approx([16.0, 17.0, 18.0, 19.0])


def test_loop_without_length_rounds_to_whole_bars():
    tune = melody([60, 62, 64], step=0.5)  # 1.5 s at 120 qpm: rounds up to one 2 s bar
    looped = render.loop_for_daw(tune, repeats=2)
    assert sorted(n.start_time for n in looped.notes)[3] == pytest.approx(2.0)
    with pytest.raises(ValueError):
        render.loop_for_daw(tune, repeats=0)
    with pytest.raises(ValueError):
        render.loop_for_daw(tune, qpm=-1)


def test_missing_soundfont_is_a_clear_error(tmp_path):
    with pytest.raises(render.RenderError, match="soundfont not found"):
        render.find_soundfont(str(tmp_path / "nope.sf2"))


needs_fluidsynth_program = pytest.mark.skipif(
    shutil.which("fluidsynth") is None,
    reason="the fluidsynth program is not installed (apt-get install fluidsynth); the built-in synth is tested")


def _wav_figures(path):
    with wave.open(path, "rb") as handle:
        rate, width, channels = handle.getframerate(), handle.getsampwidth(), handle.getnchannels()
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2").astype(np.float64)
    return rate, width, channels, samples.reshape(-1, channels)


@needs_fluidsynth_program
def test_auto_renders_with_fluidsynth_when_installed(tmp_path):
    renderer = render.choose_renderer("auto")
    assert renderer.name == "fluidsynth"
    assert renderer.describe().startswith("fluidsynth (") and renderer.describe().endswith(".sf2)")
    path = render.render_wav(melody([60, 64, 67, 72], velocity=90), str(tmp_path / "a.wav"), sample_rate=22050)
    rate, width, channels, samples = _wav_figures(path)
    assert (rate, width, channels) == (22050, 2, 2)
    assert len(samples) > 22050 * 0.9  # the melody's second of audio
    assert np.sqrt(np.mean(samples ** 2)) > 100.0


def test_without_fluidsynth_auto_falls_back_to_the_builtin_synth(monkeypatch, tmp_path):
    from musicvae_tf.render import audio

    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
    monkeypatch.setattr(audio, "_have_pyfluidsynth", lambda: False)
    renderer = render.choose_renderer("auto")
    assert renderer.name == "builtin"
    assert renderer.describe() == "built-in synth (FluidSynth is not installed)"
    with pytest.raises(render.RenderError, match="fluidsynth program is not installed"):
        render.choose_renderer("fluidsynth")
    path = render.render_wav(melody([60, 64, 67, 72], velocity=90), str(tmp_path / "b.wav"), sample_rate=16000)
    rate, _, channels, samples = _wav_figures(path)
    assert (rate, channels) == (16000, 1)
    assert np.sqrt(np.mean(samples[:16000] ** 2)) > 300.0  # audible during the melody's second


def test_builtin_synth_plays_each_note_at_its_pitch(tmp_path):
    """The built-in synth (forced, FluidSynth present or not): one note per half second, each one's
    strongest frequency is its fundamental, and the written WAV lasts the notes plus the tail."""
    pitches = [48, 57, 64, 72]
    sequence = melody(pitches, step=0.5, velocity=90)
    for note in sequence.notes:
        note.program = 4  # electric piano: nearly a sine
    path = render.choose_renderer("builtin").write_wav(sequence, str(tmp_path / "c.wav"), sample_rate=16000)
    rate, _, _, samples = _wav_figures(path)
    assert 2.0 * rate <= len(samples) <= 4.5 * rate
    assert np.max(np.abs(samples)) == pytest.approx(0.89 * 32767, rel=1e-3)  # brought to -1 dBFS
    for i, pitch in enumerate(pitches):
        window = samples[int((i * 0.5 + 0.05) * rate):int((i * 0.5 + 0.45) * rate), 0]
        spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
        peak_hz = np.fft.rfftfreq(len(window), 1.0 / rate)[np.argmax(spectrum)]
        assert peak_hz == pytest.approx(440.0 * 2 ** ((pitch - 69) / 12.0), rel=0.03), pitch


def test_builtin_synth_voices_programs_and_drums_differently():
    from musicvae_tf.render import synth

    def brightness(program=0, is_drum=False, pitch=60):
        sequence = note_seq.NoteSequence()
        sequence.tempos.add(qpm=120)
        sequence.notes.add(pitch=pitch, start_time=0.0, end_time=0.5, velocity=100, program=program,
                           is_drum=is_drum)
        sequence.total_time = 0.5
        audio = synth.synthesize(sequence, 16000)[:8000]
        assert np.sqrt(np.mean(audio ** 2)) > 0.01  # audible, drums included
        spectrum = np.abs(np.fft.rfft(audio)) ** 2
        frequencies = np.fft.rfftfreq(len(audio), 1.0 / 16000)
        return float(np.sum(frequencies * spectrum) / np.sum(spectrum))  # spectral centroid

    electric_piano, strings = brightness(program=4), brightness(program=48)
    assert strings > 1.5 * electric_piano  # a sawtooth-like string is brighter than a tine piano
    kick, hat = brightness(is_drum=True, pitch=36), brightness(is_drum=True, pitch=42)
    assert kick < 400 < 3000 < hat


def test_soundfont_search_ends_at_the_one_pretty_midi_ships(monkeypatch):
    from musicvae_tf.render import audio

    monkeypatch.setattr(audio, "DEFAULT_SOUNDFONTS", ())
    assert audio.find_soundfont().endswith("TimGM6mb.sf2")


def test_unknown_renderer_and_missing_soundfont_are_errors(tmp_path):
    with pytest.raises(render.RenderError, match="unknown renderer 'timidity'"):
        render.choose_renderer("timidity")
    with pytest.raises(render.RenderError, match="soundfont not found"):
        render.choose_renderer("builtin", soundfont=str(tmp_path / "nope.sf2"))
