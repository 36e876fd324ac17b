"""music_vae_generate --chord_progression: the chord-conditioned config plays over the given chords."""
import glob

import pytest
from kit import tiny_checkpoint

CHORD_CONFIG = "cat-mel_2bar_med_chords"


@pytest.fixture(scope="module")
def tiny_chord_checkpoint(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("tiny_chords") / "chords_tiny", CHORD_CONFIG)


def _run(argv, capsys):
    from musicvae_tf.cli import generate

    code = generate.run_command(["music_vae_generate"] + argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("progression, steps, expected", [
    ("Am7 Fmaj7 C G", None, ["Am", "F"]),          # one chord per bar: bars 1-2 of the loop
    ("C,G", 8, ["C", "G", "C", "G"]),               # a chord every 8 steps, looped
])
def test_samples_carry_the_progression(progression, steps, expected, tiny_chord_checkpoint, tmp_path, capsys):
    from musicvae_tf.cli import generate

    calls = []
    original = generate.common.load_trained_model

    def spy(*args, **kwargs):
        model = original(*args, **kwargs)
        sample = model.sample

        def recording_sample(**call):
            calls.append(call["c_input"])
            return sample(**call)

        model.sample = recording_sample
        return model

    generate.common.load_trained_model = spy
    try:
        argv = [f"--checkpoint_file={tiny_chord_checkpoint}", f"--chord_progression={progression}",
                "--num_outputs=2", "--norender_wav", f"--output_dir={tmp_path}"] + ([f"--steps_per_chord={steps}"] if steps else [])
        code, err = _run(argv, capsys)
    finally:
        generate.common.load_trained_model = original
    assert code == 0, err
    assert len(glob.glob(str(tmp_path / "*.mid"))) == 2
    from musicvae_tf import configs
    from musicvae_tf.converters import chords

    (c_input,) = calls
    names = chords.chords_of_controls(configs.get_config(CHORD_CONFIG).data_converter, c_input)
    width = steps or 16
    assert [names[i] for i in range(0, 32, width)] == expected


def test_default_progression_without_the_flag(tiny_chord_checkpoint, tmp_path, capsys):
    code, err = _run([f"--checkpoint_file={tiny_chord_checkpoint}", "--num_outputs=1", "--norender_wav",
                      f"--output_dir={tmp_path}"], capsys)
    assert code == 0, err
    assert len(glob.glob(str(tmp_path / "*.mid"))) == 1


@pytest.mark.parametrize("argv, message", [
    (["--chord_progression=C Xq G"], "unknown chord symbol 'Xq'"),
    (["--chord_progression=C Csus4"], "'Csus4' is not a major, minor"),
    (["--chord_progression=, ,"], "the chord progression is empty"),
    (["--chord_progression=C G", "--steps_per_chord=0"], "--steps_per_chord must be at least 1"),
])
def test_bad_progressions_are_one_line(argv, message, tiny_chord_checkpoint, tmp_path, capsys):
    code, err = _run([f"--checkpoint_file={tiny_chord_checkpoint}", f"--output_dir={tmp_path}"] + argv, capsys)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and message in lines[0], err


def test_config_without_chords_refuses_the_flag(tmp_path, capsys):
    directory = tiny_checkpoint(tmp_path / "melody", "cat-mel_2bar_small")
    code, err = _run([f"--checkpoint_file={directory}", "--chord_progression=C G Am F",
                      f"--output_dir={tmp_path / 'out'}"], capsys)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert "config cat-mel_2bar_small is not conditioned on chords" in lines[0]
