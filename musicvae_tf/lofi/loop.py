"""Making a lo-fi loop: chords -> parts (melody, keys, bass, drums) -> one stem per part -> the mix,
and the files a user gets (`make_loop`).

    settings = LoopSettings(num_bars=8, qpm=80, seed=7, chords=("Am7", "Fmaj7", "C", "G"))
    result = make_loop(settings, melody_model, output_dir, renderer=render.choose_renderer())
    result.files["mix"]          # .../mix.wav

Randomness comes from `settings.seed` only, one generator per concern (choices, melody, drums, feel,
texture), so the same settings give the same loop, and changing e.g. the vinyl amount does not
change the melody.
"""

import dataclasses
import json
import os

import numpy as np

from musicvae_tf.lofi import analysis, drums, mixing, parts, progressions

STEM_ORDER = ("melody", "keys", "bass", "drums")  # top to bottom in the piano roll
TEXTURE = "texture"  # the stem of vinyl noise and overlays


class SilentLoopError(ValueError):
    """No part has a note (every bar N.C., and the melody and drums played nothing): nothing to mix."""


@dataclasses.dataclass
class LoopSettings:
    num_bars: int = 8
    qpm: float = 80.0
    seed: int = 0
    chords: tuple = ()  # the progression, one chord per bar, repeated to fill the loop
    progression: str = None  # the preset's name when the chords came from one
    key: str = None
    swing: float = 0.58
    humanize: float = 1.0
    temperature: float = 0.5
    drum_pattern: str = None  # None: picked by the seed (unless drums come from a model)
    keys_pattern: str = None
    bass_pattern: str = None
    melody_program: int = 11  # vibraphone
    keys_program: int = 4  # electric piano
    bass_program: int = 33  # electric bass (finger)
    sample_rate: int = 44100
    vinyl: float = 0.5
    overlays: tuple = ()
    overlay_db: float = -12.0
    master: mixing.MasterSettings = dataclasses.field(default_factory=mixing.MasterSettings)

    @property
    def num_beats(self):
        return self.num_bars * parts.BEATS_PER_BAR

    @property
    def num_frames(self):
        """Samples in one loop: bars x 4 beats x 60 / qpm seconds."""
        return int(round(self.num_beats * 60.0 / self.qpm * self.sample_rate))


def rng_for(settings, concern):
    """The random generator of one concern (0 choices, 1 melody, 2 drums, 3 feel, 4 texture)."""
    return np.random.default_rng([int(settings.seed), concern])


def resolve_choices(settings, drums_from_model=False):
    """`settings` with the unset choices (progression and key when no chords, patterns) picked by the seed."""
    rng = rng_for(settings, 0)
    pick = lambda options: options[int(rng.integers(len(options)))]  # noqa: E731
    progression, key, chords = settings.progression, settings.key, tuple(settings.chords)
    # Every pick is drawn, used or not, so each choice depends on the seed alone.
    picked_progression, picked_key = pick(list(progressions.PRESETS)), pick(progressions.COMMON_KEYS)
    picked = {name: pick(list(options)) for name, options in (
        ("drum_pattern", drums.PATTERNS), ("keys_pattern", parts.KEYS_PATTERNS),
        ("bass_pattern", parts.BASS_PATTERNS))}
    if not chords:
        progression = progression or picked_progression
        key = key or picked_key
        chords = tuple(progressions.spell_preset(progression, key))
    return dataclasses.replace(
        settings, progression=progression, key=key, chords=chords,
        drum_pattern=None if drums_from_model else settings.drum_pattern or picked["drum_pattern"],
        keys_pattern=settings.keys_pattern or picked["keys_pattern"],
        bass_pattern=settings.bass_pattern or picked["bass_pattern"])


@dataclasses.dataclass
class Arrangement:
    parts: dict  # name -> Part, in STEM_ORDER
    chords: list  # one per bar
    model_chords: list  # one per bar, as the melody model was conditioned


def arrange(settings, melody_model=None, drums_model=None):
    """The loop's parts with swing and humanizing applied (settings resolved by `resolve_choices`)."""
    from musicvae_tf.lofi import melody

    chords = progressions.chords_per_bar(list(settings.chords), settings.num_bars)
    if melody_model is not None:
        melody_part, model_chords = melody.melody_part(melody_model, chords, settings.temperature,
                                                       rng_for(settings, 1), settings.melody_program)
    else:
        melody_part, model_chords = parts.Part("melody", settings.melody_program, []), list(chords)
    if drums_model is not None:
        drum_part = drums.sample_drums(drums_model, settings.num_bars, settings.temperature, rng_for(settings, 2))
    else:
        drum_part = drums.pattern_part(settings.drum_pattern, settings.num_bars)
    raw = {"melody": melody_part,
           "keys": parts.keys_part(chords, settings.keys_program, settings.keys_pattern),
           "bass": parts.bass_part(chords, settings.bass_program, settings.bass_pattern),
           "drums": drum_part}
    feel, amount, qpm = rng_for(settings, 3), settings.humanize, settings.qpm
    swung = {name: parts.apply_swing(part, settings.swing) for name, part in raw.items()}
    played = {
        "melody": parts.humanize(swung["melody"], feel, qpm, timing_ms=6 * amount, velocity_sd=7 * amount),
        "keys": parts.humanize(swung["keys"], feel, qpm, timing_ms=4 * amount, velocity_sd=4 * amount,
                               strum_ms=14 * amount),
        "bass": parts.humanize(swung["bass"], feel, qpm, timing_ms=4 * amount, drag_ms=5 * amount,
                               velocity_sd=5 * amount),
        "drums": drums.humanize_drums(swung["drums"], feel, qpm, amount),
    }
    return Arrangement({name: played[name] for name in STEM_ORDER}, chords, model_chords)


def render_stems(arrangement, settings, renderer, progress=None):
    """{name: raw [2, frames] audio} of each part with notes, one loop long (tails folded to the start)."""
    stems = {}
    active = [name for name, part in arrangement.parts.items() if part.notes]
    for index, name in enumerate(active, start=1):
        if progress:
            progress(f"rendering {name} ({index}/{len(active)}) with {renderer.describe()}")
        sequence = parts.part_sequence(arrangement.parts[name], settings.qpm, settings.num_beats)
        audio = renderer.render(sequence, settings.sample_rate)
        stems[name] = mixing.fold_to_loop(mixing.to_stereo(audio), settings.num_frames)
    return stems


def mix_stems(raw_stems, settings, progress=None):
    """(stems as written, pre-master sum): balanced music stems and the texture stem (vinyl, overlays)."""
    music = mixing.balance_stems(raw_stems)
    music_sum = sum(music.values()) if music else np.zeros((2, settings.num_frames), np.float32)
    rng = rng_for(settings, 4)
    texture = mixing.vinyl_noise(settings.num_frames, settings.sample_rate, rng, settings.vinyl)
    # The vinyl's levels are set for music at the master's loudness; keep that ratio here.
    texture *= np.float32(mixing.rms(music_sum) / mixing.db_to_gain(settings.master.target_rms_dbfs))
    for path in settings.overlays:
        if progress:
            progress(f"laying {os.path.basename(path)} over the mix")
        overlay = mixing.loop_overlay(mixing.read_overlay(path, settings.sample_rate), settings.num_frames,
                                      settings.sample_rate)
        texture = texture + mixing.level_match(overlay, music_sum, settings.overlay_db)
    stems = dict(music)
    if np.any(texture):
        stems[TEXTURE] = texture
    stems = mixing.scale_together(stems)
    return stems, sum(stems.values())


@dataclasses.dataclass
class LoopResult:
    settings: LoopSettings
    arrangement: Arrangement
    stems: dict  # name -> [2, frames], as written (they sum to `premaster`)
    premaster: np.ndarray
    mix: np.ndarray
    files: dict  # kind -> path (mix, <stem>_wav, <part>_mid, loop_mid, png, json)
    figures: dict
    renderer: str


def measure(mix, stems, arrangement, settings):
    """The figures of loop.json and the summary line."""
    rate = settings.sample_rate
    return {
        "seconds": round(mix.shape[1] / float(rate), 3),
        "rms_dbfs": round(analysis.rms_dbfs(mix), 2),
        "peak_dbfs": round(analysis.peak_dbfs(mix), 2),
        "rolloff_99_hz": round(analysis.spectral_rolloff(mix, rate), 1),
        "energy_above_lowpass": round(analysis.energy_fraction_above(mix, rate, settings.master.lowpass_hz), 6),
        "premaster_energy_above_lowpass": round(
            analysis.energy_fraction_above(sum(stems.values()), rate, settings.master.lowpass_hz), 6),
        "stems_rms_dbfs": {name: round(analysis.rms_dbfs(s), 2) for name, s in stems.items()},
        "parts": {name: analysis.part_figures(part, settings.num_bars)
                  for name, part in arrangement.parts.items()},
    }


def _write_outputs(output_dir, result_parts, settings, renderer_name, models):
    """Writes everything into `output_dir` (a new folder: nothing there to overwrite)."""
    from musicvae_tf import render

    arrangement, stems, mix, figures = result_parts
    rate, files = settings.sample_rate, {}
    path = lambda name: os.path.join(output_dir, name)  # noqa: E731
    files["mix"] = render.write_wav(path("mix.wav"), mix, rate)
    for name, samples in stems.items():
        files[f"{name}_wav"] = render.write_wav(path(f"{name}.wav"), samples, rate)
    sequences = []
    for name, part in arrangement.parts.items():
        sequence = parts.part_sequence(part, settings.qpm, settings.num_beats,
                                       instrument=9 if part.is_drum else len(sequences))
        render.write_midi_file(sequence, path(f"{name}.mid"))
        files[f"{name}_mid"] = path(f"{name}.mid")
        sequences.append((name, sequence))
    whole = parts.loop_sequence(list(arrangement.parts.values()), settings.qpm, settings.num_beats,
                                arrangement.chords)
    render.write_midi_file(whole, path("loop.mid"))
    files["loop_mid"] = path("loop.mid")
    title = (f"{settings.num_bars} bars, {' '.join(settings.chords)}, {settings.qpm:g} qpm, "
             f"seed {settings.seed}")
    files["png"] = render.plot_piano_roll_parts(sequences, path("loop.png"), title=title,
                                                bar_seconds=parts.BEATS_PER_BAR * 60.0 / settings.qpm,
                                                chords=arrangement.chords)
    record = {"settings": _jsonable(dataclasses.asdict(settings)), "renderer": renderer_name,
              "models": models, "chords_per_bar": arrangement.chords,
              "melody_conditioned_on": arrangement.model_chords, "figures": figures}
    with render.whole_file(path("loop.json")) as temporary:  # a full disk: no half-written loop.json
        with open(temporary, "w") as handle:
            json.dump(record, handle, indent=2)
    files["json"] = path("loop.json")
    return files


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def make_loop(settings, output_dir, renderer, melody_model=None, drums_model=None, progress=None,
              models=None):
    """Makes the loop and writes its files into `output_dir` (which must be new or empty).

    `settings` must be resolved (`resolve_choices`). `models`: descriptions for loop.json.
    SilentLoopError, before anything is written, when no part has a note.
    """
    say = progress or (lambda message: None)
    say(f"arranging {settings.num_bars} bars of {' '.join(settings.chords)} at {settings.qpm:g} qpm")
    arrangement = arrange(settings, melody_model, drums_model)
    if not any(part.notes for part in arrangement.parts.values()):
        raise SilentLoopError(f"the loop would be silent: the chords are {' '.join(settings.chords)} and "
                              "the melody and drums played no note (try other chords or --seed); nothing written")
    raw = render_stems(arrangement, settings, renderer, say)
    say("mixing the stems" + (", vinyl crackle and tape hiss" if settings.vinyl > 0 else ""))
    stems, premaster = mix_stems(raw, settings, say)
    say("mastering: bit-crush, sample-rate reduction, wow, low-pass, compression, reverb")
    mix = mixing.master(premaster, settings.master, settings.sample_rate)
    figures = measure(mix, stems, arrangement, settings)
    say(f"writing the files to {output_dir}")
    files = _write_outputs(output_dir, (arrangement, stems, mix, figures), settings, renderer.describe(),
                           models or {})
    return LoopResult(settings, arrangement, stems, premaster, mix, files, figures, renderer.describe())
