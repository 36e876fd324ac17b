"""music_vae_lofi's parts on the beat grid: progressions, keys voicings, bass, swing, humanizing, drums."""

import numpy as np
import pytest
from note_seq import chord_symbols_lib

from musicvae_tf.converters import chords as chord_lib
from musicvae_tf.lofi import drums, parts, progressions


def _bar_pitch_classes(part, bar):
    return {n.pitch % 12 for n in part.notes if bar * 4 <= n.start < (bar + 1) * 4}


def test_presets_are_spelled_in_the_key():
    assert progressions.spell_preset("ii-V-I", "C") == ["Dm7", "G7", "Cmaj7", "Cmaj7"]
    assert progressions.spell_preset("I-vi-ii-V", "D") == ["Dmaj7", "Bm7", "Em7", "A7"]
    assert progressions.spell_preset("IV-iii-ii-I", "F") == ["Bbmaj7", "Am7", "Gm7", "Fmaj7"]
    assert progressions.spell_preset("i-iv-VII-III", "A") == ["Am7", "Dm7", "G7", "Cmaj7"]
    assert progressions.spell_preset("vi-IV-I-V", "Eb") == ["Cm7", "Abmaj7", "Eb", "Bb"]
    for name in progressions.PRESETS:  # every preset parses with the chord module
        for key in progressions.COMMON_KEYS:
            assert chord_lib.parse_chord_progression(" ".join(progressions.spell_preset(name, key)))
    with pytest.raises(ValueError, match="unknown progression 'blues'; choose one of: ii-V-I"):
        progressions.spell_preset("blues", "C")
    with pytest.raises(ValueError, match="unknown key 'H'"):
        progressions.key_pitch_class("H")
    assert progressions.chords_per_bar(["A", "B", "C"], 7) == ["A", "B", "C", "A", "B", "C", "A"]


def test_keys_voice_every_chord_in_full_and_repeat_their_voicings():
    symbols = chord_lib.parse_chord_progression("Am7 Fmaj7 C G7 Dm9 E7#9")
    chords = progressions.chords_per_bar(symbols, 12)
    keys = parts.keys_part(chords, program=4, pattern="push")
    low, high = parts.KEYS_RANGE
    assert all(low <= n.pitch <= high for n in keys.notes)
    for bar, symbol in enumerate(chords):
        # Sevenths and ninths in full: every note of the chord sounds, nothing else.
        assert _bar_pitch_classes(keys, bar) == set(chord_symbols_lib.chord_symbol_pitches(symbol)), symbol
        voicing = sorted({n.pitch for n in keys.notes if bar * 4 <= n.start < bar * 4 + 4})
        again = sorted({n.pitch for n in keys.notes if (bar + 6) * 4 <= n.start < (bar + 7) * 4})
        if bar < 6:
            assert voicing == again  # the second pass of the progression sounds as the first
    # Voice leading: from Am7 to Fmaj7 (three common tones) the hand moves at most a few semitones.
    first = sorted({n.pitch for n in keys.notes if n.start < 4})
    second = sorted({n.pitch for n in keys.notes if 4 <= n.start < 8})
    assert sum(abs(a - b) for a, b in zip(first, second)) <= 4
    # "push": two strikes per bar, the second softer.
    starts = sorted({n.start for n in keys.notes if n.start < 4})
    assert starts == [0.0, 2.5]


def test_bass_plays_the_roots_and_slash_basses():
    chords = ["Am7", "Fmaj7", "C/E", "G"]
    bass = parts.bass_part(chords, program=33, pattern="boom")
    for bar, expected in enumerate([9, 5, 4, 7]):  # A, F, E (slash bass), G
        downbeat = [n for n in bass.notes if n.start == bar * 4]
        assert len(downbeat) == 1 and downbeat[0].pitch % 12 == expected
        assert 33 <= downbeat[0].pitch <= 44
    # The approach note on beat 4.5 leads by a semitone into the next bar's root.
    approach = [n for n in bass.notes if n.start == 3.5][0]
    assert abs(approach.pitch - 41) == 1


def test_no_chord_bars_rest_in_keys_and_bass():
    chords = ["C", "N.C."]
    assert not _bar_pitch_classes(parts.keys_part(chords, 4), 1)
    assert not _bar_pitch_classes(parts.bass_part(chords, 33), 1)


def test_swing_moves_only_the_off_sixteenths():
    assert parts.swing_beat(0.0, 0.6) == 0.0
    assert parts.swing_beat(0.5, 0.6) == 0.5
    assert parts.swing_beat(0.25, 0.6) == pytest.approx(0.30)
    assert parts.swing_beat(1.75, 2 / 3) == pytest.approx(1.5 + 1 / 3)
    assert parts.swing_beat(0.25, 0.5) == 0.25  # straight


def test_humanize_is_seeded_small_and_strums_chords():
    keys = parts.keys_part(["Cmaj7"] * 4, 4)
    a = parts.humanize(keys, np.random.default_rng(1), qpm=80, timing_ms=5, velocity_sd=4, strum_ms=15)
    b = parts.humanize(keys, np.random.default_rng(1), qpm=80, timing_ms=5, velocity_sd=4, strum_ms=15)
    assert [(n.start, n.velocity) for n in a.notes] == [(n.start, n.velocity) for n in b.notes]
    ms_per_beat = 60000.0 / 80
    for original, played in zip(sorted(keys.notes, key=lambda n: (n.start, n.pitch)), a.notes):
        assert original.pitch == played.pitch
        assert -20 < (played.start - original.start) * ms_per_beat < 3 * 15 + 25
        assert played.end - played.start == pytest.approx(original.end - original.start)
    # Strum: within a chord the lowest note comes first, on average 15 ms per note.
    chord = sorted((n for n in a.notes if n.start < 1), key=lambda n: n.pitch)
    spread = (chord[-1].start - chord[0].start) * ms_per_beat
    assert 20 < spread < 70


@pytest.mark.parametrize("name", sorted(drums.PATTERNS))
def test_boom_bap_patterns_keep_the_backbeat(name):
    part = drums.pattern_part(name, num_bars=4)
    assert part.is_drum
    for bar in range(4):
        kicks = {n.start - bar * 4 for n in part.notes if n.pitch == drums.KICK and bar * 4 <= n.start < bar * 4 + 4}
        snares = {n.start - bar * 4 for n in part.notes
                  if n.pitch == drums.SNARE and n.velocity > 60 and bar * 4 <= n.start < bar * 4 + 4}
        assert 0.0 in kicks
        assert snares == ({2.0} if name == "half_time" else {1.0, 3.0})
    hats = [n for n in part.notes if n.pitch == drums.CLOSED_HAT]
    assert len(hats) >= 4 * 6


def test_drum_humanizing_lays_the_snare_back():
    part = drums.pattern_part("boom_bap", num_bars=16)
    played = drums.humanize_drums(part, np.random.default_rng(0), qpm=90)
    ms_per_beat = 60000.0 / 90

    def mean_shift(pitch):
        before = sorted(n.start for n in part.notes if n.pitch == pitch)
        after = sorted(n.start for n in played.notes if n.pitch == pitch)
        return float(np.mean(np.subtract(after, before))) * ms_per_beat

    assert 8 < mean_shift(drums.SNARE) < 16  # dragged ~12 ms
    assert abs(mean_shift(drums.KICK)) < 2.5  # the kick stays on the grid
    velocities = {n.velocity for n in played.notes if n.pitch == drums.CLOSED_HAT}
    assert len(velocities) > 10
    with pytest.raises(ValueError, match="unknown drum pattern 'trap'"):
        drums.pattern_part("trap", 2)


def test_part_sequences_keep_programs_tempo_and_the_loop_length():
    keys = parts.keys_part(["Am7", "D7"], program=4)
    sequence = parts.part_sequence(keys, qpm=75, num_beats=8)
    assert sequence.tempos[0].qpm == 75
    assert sequence.total_time == pytest.approx(8 * 60 / 75)
    assert {n.program for n in sequence.notes} == {4}
    assert max(n.end_time for n in sequence.notes) <= sequence.total_time
    whole = parts.loop_sequence([keys, drums.pattern_part("lazy", 2)], 75, 8, chords=["Am7", "D7"])
    assert {n.instrument for n in whole.notes} == {0, 9}
    assert [a.text for a in whole.text_annotations] == ["Am7", "D7"]


def test_an_unconditioned_melody_is_moved_onto_the_chords():
    from musicvae_tf.lofi import melody

    # C and F major arpeggios: over C, F they fit as they are; over A, D major a shift by -3 fits.
    line = [parts.Note(p, i * 0.5, i * 0.5 + 0.5) for i, p in enumerate([60, 64, 67, 72, 67, 64, 60, 64])]
    line += [parts.Note(p, 4 + i * 0.5, 4.5 + i * 0.5) for i, p in enumerate([65, 69, 72, 69, 65, 69, 72, 77])]
    assert melody.fit_to_chords(line[:8], ["C", "F"]) == 0
    assert melody.fit_to_chords(line, ["A", "D"]) == -3
