"""output_folders: the one "--output_dir must be new or empty" rule, and the tools that use it saying
the same line for it."""
import pytest

from musicvae_tf import data, output_folders

NOT_EMPTY = "--output_dir {} exists and is not empty; choose a new folder (nothing is overwritten)"


def test_new_and_empty_folders_pass_and_anything_else_is_one_line(tmp_path):
    output_folders.check_new_or_empty(tmp_path / "new")
    assert not (tmp_path / "new").exists()  # checking creates nothing
    (tmp_path / "empty").mkdir()
    output_folders.check_new_or_empty(tmp_path / "empty")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError) as refused:
        output_folders.check_new_or_empty(tmp_path / "taken")
    assert str(refused.value) == NOT_EMPTY.format(tmp_path / "taken")
    (tmp_path / "a_file").write_text("keep me too")
    with pytest.raises(ValueError) as refused:
        output_folders.check_new_or_empty(tmp_path / "a_file", flag="--out")
    assert str(refused.value) == f"--out {tmp_path / 'a_file'} exists and is not a directory"
    assert (tmp_path / "taken" / "mine.txt").read_text() == "keep me"
    assert (tmp_path / "a_file").read_text() == "keep me too"


def test_the_callers_error_class_is_raised_and_make_creates_the_folder(tmp_path):
    class ToolError(ValueError):
        pass

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(ToolError, match="exists and is not empty"):
        output_folders.make_new_or_empty(tmp_path / "taken", error=ToolError)
    output_folders.make_new_or_empty(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir() and not list((tmp_path / "a" / "b").iterdir())
    output_folders.make_new_or_empty(tmp_path / "a" / "b")  # still empty: fine


def test_export_personalize_and_preprocess_refuse_a_used_folder_with_the_same_line(tmp_path, capfd):
    pytest.importorskip("apache_beam", reason="music_vae_preprocess needs Apache Beam (the [beam] extra)")
    import tensorflow as tf

    tf.config.list_physical_devices()  # TensorFlow's start-up lines come before the runs' stderr is read
    from musicvae_tf.cli import export, personalize, preprocess

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep me")
    (tmp_path / "tunes").mkdir()
    runs = [
        (export, [f"--output_dir={taken}", "--config=cat-mel_2bar_small"]),
        (personalize, [f"--input_dir={tmp_path / 'tunes'}", f"--output_dir={taken}"]),
        (preprocess, ["--config=cat-mel_2bar_small", f"--input={data.default_examples_path('eval')}",
                      f"--output_dir={taken}"]),
    ]
    for tool, argv in runs:
        capfd.readouterr()
        assert tool.run_command([tool.PROGRAM] + argv) == 1
        assert capfd.readouterr().err == f"{tool.PROGRAM}: error: {NOT_EMPTY.format(taken)}\n"
    assert [p.name for p in taken.iterdir()] == ["mine.txt"] and (taken / "mine.txt").read_text() == "keep me"
