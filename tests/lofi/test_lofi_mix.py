"""music_vae_lofi's sound, measured: the master chain's spectrum, overlays, stems and whole loops
from the fixture chord model (short loops at 16 kHz to stay fast)."""

import json
import os
import shutil

import note_seq
import numpy as np
import pytest
from note_seq import chord_symbols_lib

from conftest import PARITY_DIR
from musicvae_tf import render
from musicvae_tf.lofi import analysis, loop, mixing

RATE = 16000
CHORD_CASE = PARITY_DIR / "cat-mel_2bar_med_chords"


def _tone(hz, seconds, rate=RATE, level=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_master_low_pass_removes_the_energy_above_its_cut_off():
    noise = (np.random.default_rng(0).standard_normal((2, 2 * RATE)) * 0.1).astype(np.float32)
    settings = mixing.MasterSettings(lowpass_hz=2000.0, bit_depth=0, downsample_hz=0, wow=0)
    mixed = mixing.master(noise, settings, RATE)
    assert mixed.shape == noise.shape
    before = analysis.energy_fraction_above(noise, RATE, 4000.0)
    after = analysis.energy_fraction_above(mixed, RATE, 4000.0)
    assert before > 0.45  # white noise: half its energy lies above 4 kHz
    assert after < before * 1e-2  # 24 dB/octave: an octave above the cut-off, > 20 dB down
    assert analysis.spectral_rolloff(mixed, RATE) < 3000.0
    assert analysis.rms_dbfs(mixed) == pytest.approx(settings.target_rms_dbfs, abs=1.0)
    assert analysis.peak_dbfs(mixed) <= -0.99


def test_stems_and_wavs_share_the_one_minus_1_dbfs_peak():
    from musicvae_tf.render import audio

    assert mixing.PEAK is audio.PEAK and audio.PEAK == 0.89  # -1 dBFS, defined once (render.audio)
    stems = {"bass": np.stack([_tone(55.0, 0.5, level=0.1)] * 2),
             "keys": np.stack([_tone(220.0, 0.5, level=2.0)] * 2), "drums": np.zeros((2, RATE // 2), np.float32)}
    together = mixing.scale_together(stems)
    loudest = max(float(np.max(np.abs(s))) for s in list(together.values()) + [sum(together.values())])
    assert loudest == pytest.approx(0.89, rel=1e-6)
    assert not together["drums"].any()  # a silent stem stays silent
    ratio = float(np.max(np.abs(together["keys"]))) / float(np.max(np.abs(together["bass"])))
    assert ratio == pytest.approx(20.0, rel=1e-4)  # one factor for all stems


def test_crushing_and_downsampling_stay_below_the_low_pass():
    tone = np.stack([_tone(440.0, 2.0)] * 2)
    settings = mixing.MasterSettings(lowpass_hz=3000.0, bit_depth=6, downsample_hz=8000.0, wow=0.5)
    mixed = mixing.master(tone, settings, RATE)
    # Six bits and zero-order hold add harmonics and images; the low-pass keeps them out.
    assert analysis.energy_fraction_above(mixed, RATE, 5000.0) < 1e-3
    frequencies, power = analysis.power_spectrum(mixed, RATE)
    assert abs(frequencies[np.argmax(power)] - 440.0) < 10.0  # wow wobbles, the note stays


def test_overlay_is_looped_without_clicks_and_level_matched():
    short = np.stack([_tone(500.0, 0.7)] * 2)
    looped = mixing.loop_overlay(short, 3 * RATE, RATE)
    assert looped.shape == (2, 3 * RATE)
    largest_step = 2 * np.pi * 500 / RATE * 0.3  # of the tone itself, sample to sample
    assert np.max(np.abs(np.diff(looped[0]))) < 2 * largest_step  # no click at the seams inside
    # The seam of the loop itself: the last sample leads smoothly into the first.
    assert abs(looped[0, -1] - looped[0, 0]) < 2 * largest_step
    reference = np.stack([_tone(220.0, 3.0, level=0.5)] * 2)
    matched = mixing.level_match(looped, reference, -6.0)
    assert analysis.rms_dbfs(matched) - analysis.rms_dbfs(reference) == pytest.approx(-6.0, abs=0.01)


def test_unreadable_overlay_is_a_one_line_error(tmp_path):
    bad = tmp_path / "rain.wav"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match=r"^cannot read overlay .*rain\.wav: ") as error:
        mixing.read_overlay(str(bad), RATE)
    assert "\n" not in str(error.value)


def test_fold_to_loop_wraps_the_tail_onto_the_start():
    samples = np.arange(10, dtype=np.float32)[np.newaxis]
    assert mixing.fold_to_loop(samples, 4).tolist() == [[0 + 4 + 8, 1 + 5 + 9, 2 + 6, 3 + 7]]


# --- whole loops ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chord_model():
    from musicvae_tf import checkpoints
    from musicvae_tf.trained_model import TrainedModel

    case = json.loads((CHORD_CASE / "case.json").read_text())
    checkpoint = str(PARITY_DIR / case["checkpoint"])
    resolved = checkpoints.resolve(checkpoint, case["config"], case["hparams"])
    return TrainedModel(resolved.config, batch_size=3, checkpoint_dir_or_path=checkpoint,
                        hparams_overrides=resolved.hparams_overrides, seed=[5, 1])


def _overlay_file(path, hz=1500.0, seconds=0.9):
    render.write_wav(str(path), np.stack([_tone(hz, seconds, rate=22050)] * 2), 22050)  # resampled on read
    return str(path)


def _make(tmp_path, name, model, renderer="builtin", **changes):
    settings = dict(num_bars=2, qpm=90.0, seed=5, chords=("Am7", "Fmaj7"), sample_rate=RATE,
                    master=mixing.MasterSettings(lowpass_hz=4000.0))
    settings.update(changes)
    resolved = loop.resolve_choices(loop.LoopSettings(**settings))
    out = tmp_path / name
    out.mkdir()
    return loop.make_loop(resolved, str(out), render.choose_renderer(renderer), melody_model=model)


def test_a_loop_sounds_as_measured(chord_model, tmp_path):
    overlay = _overlay_file(tmp_path / "hum.wav")
    result = _make(tmp_path, "a", chord_model, overlays=(overlay,), overlay_db=-3.0)
    frames = int(round(2 * 4 * 60.0 / 90.0 * RATE))  # bars x 4 beats x 60 / qpm seconds
    out = tmp_path / "a"
    names = sorted(os.listdir(out))
    assert names == sorted(["mix.wav", "melody.wav", "keys.wav", "bass.wav", "drums.wav", "texture.wav",
                            "melody.mid", "keys.mid", "bass.mid", "drums.mid", "loop.mid", "loop.png",
                            "loop.json"])
    stems = {}
    for name in names:
        if name.endswith(".wav"):
            samples, rate = render.read_wav(str(out / name))
            assert rate == RATE and samples.shape == (2, frames), name
            assert analysis.rms_dbfs(samples) > -60.0, name  # not silent
            stems[name[:-4]] = samples
    mix = stems.pop("mix")
    assert analysis.rms_dbfs(mix) == pytest.approx(-16.0, abs=1.0)
    # The stems, as written, add up to the mix before the master (16-bit rounding aside).
    np.testing.assert_allclose(sum(stems.values()), result.premaster, atol=5 * 0.5 / 32767 + 1e-6)
    # The master's low-pass: the pre-master's energy above 8 kHz is gone from the mix.
    assert analysis.energy_fraction_above(mix, RATE, 6000.0) < 0.05 * max(
        analysis.energy_fraction_above(result.premaster, RATE, 6000.0), 1e-4)
    # The overlay (a 1500 Hz hum, -3 dB under the music) stands out at its frequency.
    frequencies, power = analysis.power_spectrum(stems["texture"], RATE)
    assert abs(frequencies[np.argmax(power)] - 1500.0) < 5.0
    assert analysis.rms_dbfs(stems["texture"]) - analysis.rms_dbfs(sum(
        s for n, s in stems.items() if n != "texture")) == pytest.approx(-3.0, abs=0.5)
    band = (frequencies > 1490) & (frequencies < 1510)
    _, mix_power = analysis.power_spectrum(mix, RATE)
    assert mix_power[band].sum() / mix_power.sum() > 0.1
    # The chord progression is in the keys part.
    keys = note_seq.midi_file_to_note_sequence(str(out / "keys.mid"))
    bar = 4 * 60.0 / 90.0
    for index, symbol in enumerate(["Am7", "Fmaj7"]):
        classes = {n.pitch % 12 for n in keys.notes if index * bar <= n.start_time < (index + 1) * bar}
        assert classes == set(chord_symbols_lib.chord_symbol_pitches(symbol))
    record = json.loads((out / "loop.json").read_text())
    assert record["chords_per_bar"] == ["Am7", "Fmaj7"]
    assert record["melody_conditioned_on"] == ["Am7", "Fmaj7"]  # reduced to Am and F by the encoding
    assert record["renderer"] == "built-in synth"
    assert record["figures"]["seconds"] == pytest.approx(frames / RATE, abs=1e-3)


def test_the_seed_makes_a_loop_reproducible(chord_model, tmp_path):
    first = _make(tmp_path, "first", chord_model, vinyl=0.8)
    second = _make(tmp_path, "second", chord_model, vinyl=0.8)
    assert np.array_equal(first.mix, second.mix)
    other = _make(tmp_path, "other", chord_model, vinyl=0.8, seed=6)
    assert not np.array_equal(first.mix, other.mix)
    # Vinyl off: no texture stem, and the music is the same as with vinyl.
    clean = _make(tmp_path, "clean", chord_model, vinyl=0.0)
    assert "texture" not in clean.stems
    assert [(n.pitch, n.start) for n in clean.arrangement.parts["melody"].notes] == [
        (n.pitch, n.start) for n in first.arrangement.parts["melody"].notes]


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="the fluidsynth program is not installed")
def test_a_loop_renders_with_fluidsynth_when_installed(chord_model, tmp_path):
    result = _make(tmp_path, "fs", chord_model, renderer="auto")
    assert result.renderer.startswith("fluidsynth (")
    for name, samples in result.stems.items():
        assert analysis.rms_dbfs(samples) > -60.0, name
