"""music_vae_train: flags and errors, training on the packaged folk tunes, resuming, evaluation, NaN.

One console-script run (a subprocess, as a user would start it) trains a tiny model for a few
steps; the other tests continue from its run directory in this process, so TensorFlow traces the
training step once for the whole module.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf import configs, data, model as model_lib
from musicvae_tf.cli import train
from musicvae_tf.training import eval_loop, loop, run_config, summaries
from musicvae_tf.training.optimizer import learning_rate
from conftest import console_command

CONFIG = "cat-mel_2bar_small"
TINY = "batch_size=8,z_size=8,enc_rnn_size=[16],dec_rnn_size=[16]"
FIRST_STEPS = 3


def run_in_process(args, capsys):
    code = train.run_command(["music_vae_train", *args])
    captured = capsys.readouterr()
    return code, captured.err


def error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("music_vae_train: error:")]


# -- flags and one-line errors ------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (["--config=cat-mel_2bar_smal"], "unknown config 'cat-mel_2bar_smal'"),
    ([f"--config={CONFIG}", "--hparams=batch_size=1a6"], "hparam 'batch_size' expects a int"),
    ([f"--config={CONFIG}", "--hparams=batch_size"], "malformed hparams"),
    ([f"--config={CONFIG}", "--examples_path=/nonexistent/notes.tfrecord"], "no file matches --examples_path"),
    ([f"--config={CONFIG}", "--bogus_flag=1"], "Unknown command line flag 'bogus_flag'"),
    ([f"--config={CONFIG}", "--mode=predict"], "value should be one of"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, capsys, args, expected):
    code, err = run_in_process([f"--run_dir={tmp_path}", *args], capsys)
    assert code == 1
    errors = error_lines(err)
    assert len(errors) == 1 and expected in errors[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "train").exists()


def _write_records(path, records):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return path


def _waltzes(path):
    import note_seq

    waltz = note_seq.NoteSequence()
    waltz.time_signatures.add(numerator=3, denominator=4)
    waltz.tempos.add(qpm=120)
    for i in range(24):
        waltz.notes.add(pitch=60 + i % 5, start_time=0.5 * i, end_time=0.5 * (i + 1), velocity=80)
    waltz.total_time = 12
    return _write_records(path, [waltz.SerializeToString()] * 3)


BAD_DATA = {
    "empty_tfrecord": (lambda d: _write_records(d / "empty.tfrecord", []),
                       "no training batch: {path} holds no NoteSequence"),
    "example_less_tfrecord": (lambda d: _waltzes(d / "waltzes.tfrecord"),
                              "no training batch: none of the 3 NoteSequences in {path} gives an example for config "
                              "cat-mel_2bar_small (3 other time signature)"),
    "folder": (lambda d: d, "--examples_path={path} is a folder; give a TFRecord file of NoteSequences or a glob "
                            "such as {path}/*.tfrecord"),
    "not_note_sequences": (lambda d: _write_records(d / "junk.tfrecord", [b"\xff\xfe not a NoteSequence"]),
                           "{path} does not hold serialized NoteSequences (DecodeError)"),
    "midi_file": (lambda d: (d / "tune.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60")
                  and d / "tune.mid",
                  "cannot read {path} as a TFRecord file: corrupted record at 0 (Is this even a TFRecord file?)"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_training_data_is_one_line_and_leaves_no_run_dir(case, tmp_path, capsys):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    make, expected = BAD_DATA[case]
    path = make(data_dir)
    run_dir = tmp_path / "run"
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}",
                                f"--examples_path={path}", "--num_steps=2"], capsys)
    assert code == 1
    assert error_lines(err) == ["music_vae_train: error: " + expected.format(path=path)], err
    assert "Traceback" not in err
    assert not run_dir.exists()


@pytest.mark.parametrize("flag, expected", [
    ("--hparams=enc_rnn_size=[]", "hparam enc_rnn_size=[] must list at least one layer size, e.g. enc_rnn_size=[512]"),
    ("--hparams=dec_rnn_size=[0,16]", "hparam dec_rnn_size=[0,16] must list layer sizes of at least 1"),
    ("--hparams=batch_size=0", "hparam batch_size=0 must be a whole number of at least 1"),
    ("--hparams=learning_rate=-0.1", "hparam learning_rate=-0.1 must be a positive number"),
    ("--num_steps=-5", "flag --num_steps=-5: -5 is not a non-negative integer"),
    ("--save_checkpoint_secs=-1", "flag --save_checkpoint_secs=-1: -1 is not a non-negative integer"),
    ("--log_every_n_steps=0", "flag --log_every_n_steps=0: 0 is not a positive integer"),
    ("--checkpoints_to_keep=-3", "flag --checkpoints_to_keep=-3: -3 is not a non-negative integer"),
])
def test_bad_sizes_and_counts_are_one_line(flag, expected, tmp_path, capsys):
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={tmp_path / 'run'}", "--num_steps=2", flag],
                               capsys)
    assert code == 1
    errors = error_lines(err)
    assert len(errors) == 1 and errors[0].startswith("music_vae_train: error: " + expected), err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_deprecated_flags_print_one_line_each(tmp_path, capsys):
    code, err = run_in_process([f"--run_dir={tmp_path}", "--config=nope", "--master=grpc://x",
                                "--num_ps_tasks=2", "--task=1"], capsys)
    assert code == 1
    deprecations = [line for line in err.splitlines() if "is deprecated and ignored" in line]
    assert len(deprecations) == 3
    assert {line.split()[1] for line in deprecations} == {"--master", "--num_ps_tasks", "--task"}


# -- a run directory trained by the console script ----------------------------------------------
@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """FIRST_STEPS steps of a tiny model on the packaged folk tunes, through the console script."""
    run_dir = tmp_path_factory.mktemp("run")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    result = subprocess.run(
        console_command("music_vae_train") + [f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}",
                             f"--num_steps={FIRST_STEPS}", "--log_every_n_steps=1", "--seed=11"],
        env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result.stderr


def test_console_script_writes_checkpoint_config_and_summaries(first_run):
    run_dir, stderr = first_run
    train_dir = run_dir / "train"
    assert tf.train.latest_checkpoint(str(train_dir)).endswith(f"ckpt-{FIRST_STEPS}")
    name, hparams, record = run_config.load_run_config(str(run_dir))
    assert name == CONFIG and hparams["batch_size"] == 8 and hparams["enc_rnn_size"] == [16]
    assert record["examples_path"] is None  # the packaged folk tunes
    assert "examples/s" in stderr and f"step {FIRST_STEPS}: loss=" in stderr
    tags = set()
    for event_file in train_dir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    for name in ("loss", "r_loss", "kl_loss", "kl_bits", "elbo", "beta", "learning_rate", "global_norm",
                 "accuracy", "sampling_probability"):
        assert summaries.summary_tag(name) in tags, (name, sorted(tags))
    assert {"config", "hparams"} <= tags


def test_refuses_to_resume_with_other_hparams(first_run, capsys):
    run_dir, _ = first_run
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", "--num_steps=10",
                                "--hparams=batch_size=8,z_size=4,enc_rnn_size=[16],dec_rnn_size=[16]"], capsys)
    assert code == 1
    assert "z_size=8 (saved) vs 4 (flags)" in error_lines(err)[0]
    code, err = run_in_process(["--config=cat-drums_2bar_small", f"--run_dir={run_dir}"], capsys)
    assert code == 1 and f"trained with --config={CONFIG}" in error_lines(err)[0]
    assert tf.train.latest_checkpoint(str(run_dir / "train")).endswith(f"ckpt-{FIRST_STEPS}")


@pytest.fixture(scope="module")
def resumed(first_run):
    """A Trainer restored from the console run, plus what the checkpoint holds."""
    run_dir, _ = first_run
    config = configs.get_config(CONFIG, TINY)
    path = tf.train.latest_checkpoint(str(run_dir / "train"))
    reader = tf.train.load_checkpoint(path)
    trainer = loop.Trainer(config, train_dir=str(run_dir / "train"), checkpoints_to_keep=0)
    restored_from = trainer.restore_or_initialize()
    return trainer, reader, restored_from, path


def test_resume_restores_step_weights_and_adam_slots(resumed):
    trainer, reader, restored_from, path = resumed
    assert restored_from == path
    assert int(trainer.step.numpy()) == FIRST_STEPS
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == FIRST_STEPS
    saved = [reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
             if key.endswith("VARIABLE_VALUE") and len(reader.get_variable_to_shape_map()[key]) > 0]
    # Every weight and every Adam moment (m and v per weight) is stored exactly once.
    weights = [np.asarray(v.numpy()) for v in trainer.model.weights]
    slots = [np.asarray(v.numpy()) for v in trainer.optimizer.variables if len(v.shape) > 0]
    assert len(slots) == 2 * len(trainer.model.trainable_variables)
    assert len(saved) == len(weights) + len(slots)

    def fingerprints(arrays):
        return sorted((a.shape, a.ravel().tobytes()) for a in arrays)

    assert fingerprints(saved) == fingerprints(weights + slots)
    assert all(np.abs(s).max() > 0 for s in slots)  # trained moments, not fresh zeros
    assert int(trainer.optimizer.iterations.numpy()) == FIRST_STEPS


def test_resumed_training_continues_schedules_and_lowers_the_loss(resumed):
    trainer, _, _, _ = resumed
    config = trainer.config
    seen = []
    dataset = data.get_dataset(config, is_training=True)
    more_steps = 40
    trainer.train(dataset, num_steps=FIRST_STEPS + more_steps, save_checkpoint_secs=None,
                  log_every_n_steps=1000, on_step=lambda step, metrics: seen.append((step, metrics)))
    first_step, first = seen[0]
    assert first_step == FIRST_STEPS + 1  # the first step trained after resuming was step FIRST_STEPS
    expected_beta = float(model_lib.kl_beta(config.hparams, FIRST_STEPS).numpy())
    expected_lr = float(learning_rate(config.hparams, FIRST_STEPS).numpy())
    assert first["beta"] == pytest.approx(expected_beta, rel=1e-6)
    assert first["learning_rate"] == pytest.approx(expected_lr, rel=1e-6)
    assert seen[-1][0] == FIRST_STEPS + more_steps
    assert int(trainer.step.numpy()) == FIRST_STEPS + more_steps
    losses = np.array([metrics["loss"] for _, metrics in seen])
    assert np.all(np.isfinite(losses))
    assert losses[-8:].mean() < losses[:8].mean() - 1.0, losses
    path = tf.train.latest_checkpoint(trainer.train_dir)
    assert path.endswith(f"ckpt-{FIRST_STEPS + more_steps}")


def test_nan_loss_stops_without_overwriting_the_last_good_checkpoint(resumed):
    trainer, _, _, _ = resumed
    good_path = trainer.save()
    good = [np.array(v.numpy()) for v in trainer.model.weights]
    good_step = int(trainer.step.numpy())
    # Poison one weight: the next loss is NaN.
    kernel = trainer.model.trainable_variables[0]
    kernel.assign(tf.fill(kernel.shape, float("nan")))
    dataset = data.get_dataset(trainer.config, is_training=True)
    with pytest.raises(loop.NonFiniteLossError) as raised:
        trainer.train(dataset, num_steps=good_step + 5, save_checkpoint_secs=0)
    assert raised.value.step == good_step
    assert f"at step {good_step}" in str(raised.value)
    assert tf.train.latest_checkpoint(trainer.train_dir) == good_path
    reader = tf.train.load_checkpoint(good_path)
    assert reader.get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE") == good_step
    trainer.restore_or_initialize()
    for before, variable in zip(good, trainer.model.weights):
        np.testing.assert_array_equal(before, variable.numpy())


@pytest.mark.parametrize("when", ["periodic_save", "final_save"])
def test_diverged_update_is_never_saved_and_the_run_resumes(resumed, when):
    """The loss of a step is finite but its update is not: that step's weights are never saved."""
    trainer, _, _, _ = resumed
    trainer.restore_or_initialize()
    good_step = int(trainer.step.numpy())
    kernel = trainer.model.trainable_variables[0]
    poisoned_after = good_step + 2  # the update of step good_step + 1 diverges

    def diverge(step, metrics):
        assert np.isfinite(metrics["loss"])
        if step == poisoned_after:
            kernel.assign(tf.fill(kernel.shape, float("inf")))

    dataset = data.get_dataset(trainer.config, is_training=True)
    num_steps = good_step + 5 if when == "periodic_save" else poisoned_after
    with pytest.raises(loop.NonFiniteLossError) as raised:
        trainer.train(dataset, num_steps=num_steps, save_checkpoint_secs=0 if when == "periodic_save" else None,
                      on_step=diverge)
    train_dir = pathlib.Path(trainer.train_dir)
    last_good = f"ckpt-{good_step + 1}" if when == "periodic_save" else f"ckpt-{good_step}"
    assert tf.train.latest_checkpoint(str(train_dir)) == str(train_dir / last_good)
    assert str(raised.value) == (f"the update of step {good_step + 1} made weights non-finite (learning rate "
                                 f"too high?); stopped without saving, the last good checkpoint {last_good} "
                                 "stays the latest")
    assert tf.train.latest_checkpoint(str(train_dir)) == str(train_dir / last_good)
    assert not list(train_dir.glob(f"ckpt-{poisoned_after}.*"))
    # The run resumes from the last good checkpoint and trains on.
    trainer.restore_or_initialize()
    assert trainer.weights_are_finite()
    resumed_step = int(trainer.step.numpy())
    trainer.train(dataset, num_steps=resumed_step + 2, save_checkpoint_secs=None)
    latest = tf.train.latest_checkpoint(str(train_dir))
    assert latest.endswith(f"ckpt-{resumed_step + 2}")
    reader = tf.train.load_checkpoint(latest)
    assert all(np.all(np.isfinite(reader.get_tensor(key))) for key, dtype in
               reader.get_variable_to_dtype_map().items() if dtype.is_floating)


def test_learning_rate_that_blows_up_saves_nothing(tmp_path, capsys):
    """learning_rate=1e39 is inf in float32: the first loss is finite, the first update is not."""
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={tmp_path}",
                                f"--hparams={TINY},learning_rate=1e39", "--num_steps=3",
                                "--save_checkpoint_secs=0"], capsys)
    assert code == 1
    assert error_lines(err) == ["music_vae_train: error: the update of step 0 made weights non-finite "
                                "(learning rate too high?); stopped without saving (no checkpoint yet)"]
    assert "Traceback" not in err
    assert not list((tmp_path / "train").glob("ckpt-*"))


def test_leftovers_of_interrupted_saves_are_removed_on_resume(resumed, tmp_path):
    """What a kill during a save leaves (TensorFlow's names) goes; a user's look-alikes stay."""
    import uuid

    trainer, _, _, _ = resumed
    train_dir = pathlib.Path(trainer.train_dir)
    latest = tf.train.latest_checkpoint(str(train_dir))
    shards = train_dir / "ckpt-99_temp"
    shards.mkdir()
    # Real shard files, as the sharded saver writes them before merging them into ckpt-99.
    tf.raw_ops.SaveV2(prefix=str(shards / "part-00000-of-00001"), tensor_names=["w"], shape_and_slices=[""],
                      tensors=[tf.constant([1.0, 2.0])])
    (shards / "part-00000-of-00001.index.tempstate123456789").write_bytes(b"")
    (train_dir / "ckpt-98_temp").mkdir()  # killed before the first shard
    leftovers = [shards, train_dir / "ckpt-98_temp", train_dir / f"checkpoint.tmp{uuid.uuid4().hex}",
                 train_dir / "ckpt-97.index.tempstate42"]
    for path in leftovers[2:]:
        path.write_bytes(b"")
    user_folder = train_dir / "ckpt-96_temp"
    user_folder.mkdir()
    (user_folder / "notes.txt").write_text("mine")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "part-00000-of-00001.index").write_bytes(b"keep")
    user_files = [train_dir / "checkpoint.tmp", train_dir / "checkpoint.tmpnotes", train_dir / "my_ckpt-5_temp",
                  train_dir / "ckpt-3.index.bak"]
    for path in user_files:
        path.write_text("mine")
    (train_dir / "ckpt-95_temp").symlink_to(outside)
    try:
        assert trainer.restore_or_initialize() == latest
        assert [path for path in leftovers if path.exists()] == []
        assert all(path.read_text() == "mine" for path in user_files)
        assert (user_folder / "notes.txt").read_text() == "mine"
        assert (outside / "part-00000-of-00001.index").read_bytes() == b"keep"
        assert (train_dir / "ckpt-95_temp").is_symlink()
    finally:
        for path in user_files + [train_dir / "ckpt-95_temp"]:
            path.unlink()
        (user_folder / "notes.txt").unlink()
        user_folder.rmdir()


def test_nan_is_reported_as_one_line_with_the_step(tmp_path, capsys, monkeypatch):
    def fail():
        raise loop.NonFiniteLossError(17, float("nan"))

    monkeypatch.setattr(train, "run", fail)
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={tmp_path}"], capsys)
    assert code == 1
    assert error_lines(err) == ["music_vae_train: error: non-finite loss (nan) at step 17; stopped without "
                                "saving, the last checkpoint is the last good one"]


def test_eval_once_writes_finite_metrics_and_leaves_train_alone(first_run, resumed, capsys):
    run_dir, _ = first_run
    before = sorted(p.name for p in (run_dir / "train").iterdir())
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}",
                                "--mode=eval", "--eval_once", "--eval_num_batches=3",
                                "--eval_dir_suffix=_folk"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (run_dir / "train").iterdir()) == before
    table = eval_loop.read_metrics(str(run_dir / "eval_folk"))
    step = int(tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "train")))
               .get_tensor("step/.ATTRIBUTES/VARIABLE_VALUE"))
    metrics = table[str(step)]
    assert metrics["num_batches"] == 3
    for name in ("loss", "r_loss", "kl_loss", "kl_bits", "elbo", "beta", "accuracy", "learning_rate"):
        assert np.isfinite(metrics[name]), (name, metrics)
    assert metrics["r_loss"] > 0 and 0 <= metrics["accuracy"] <= 1
    assert metrics["elbo"] < 0
    tags = set()
    for event_file in (run_dir / "eval_folk").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(value.tag for value in event.summary.value)
    assert {"config", "hparams", "loss", "losses/r_loss", "losses/kl_bits", "metrics/accuracy"} <= tags, tags
    # Evaluating the same checkpoint again gives the same figures (stateless noise).
    code, _ = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}",
                              "--mode=eval", "--eval_once", "--eval_num_batches=3",
                              "--eval_dir_suffix=_folk"], capsys)
    assert code == 0
    again = eval_loop.read_metrics(str(run_dir / "eval_folk"))[str(step)]
    assert again["loss"] == pytest.approx(metrics["loss"], rel=1e-6)


def test_eval_without_checkpoint_is_one_line(tmp_path, capsys):
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={tmp_path}", f"--hparams={TINY}",
                                "--mode=eval", "--eval_once", "--eval_num_batches=1"], capsys)
    assert code == 1
    assert "no checkpoint in" in error_lines(err)[0]
    assert not (tmp_path / "train").exists()


def test_run_config_round_trip_and_mismatch(tmp_path):
    config = configs.get_config(CONFIG, TINY)
    run_config.save_run_config(str(tmp_path), CONFIG, model_lib.build_model(config))
    assert run_config.check_run_config(str(tmp_path), CONFIG, config.hparams)
    other = configs.get_config(CONFIG, TINY + ",max_beta=0.5")
    with pytest.raises(run_config.RunConfigMismatchError, match="max_beta"):
        run_config.check_run_config(str(tmp_path), CONFIG, other.hparams)
    assert json.loads((tmp_path / "config.json").read_text())["config"] == CONFIG


# -- resuming with changed training hparams -------------------------------------------------------
def test_resume_may_change_training_hparams_not_the_architecture(tmp_path, caplog):
    config = configs.get_config(CONFIG, TINY)
    run_config.save_run_config(str(tmp_path), CONFIG, model_lib.build_model(config))
    lower = configs.get_config(CONFIG, TINY + ",learning_rate=0.0001,max_beta=0.5")
    with caplog.at_level("WARNING"):
        assert run_config.check_run_config(str(tmp_path), CONFIG, lower.hparams, allow_training_changes=True)
    changes = sorted(r.getMessage() for r in caplog.records if "changed training hparam" in r.getMessage())
    assert changes == [f"Resuming {tmp_path} with a changed training hparam: learning_rate=0.001 (saved) -> 0.0001",
                       f"Resuming {tmp_path} with a changed training hparam: max_beta=0.2 (saved) -> 0.5"]
    wider = configs.get_config(CONFIG, TINY.replace("z_size=8", "z_size=4") + ",learning_rate=0.0001")
    with pytest.raises(run_config.RunConfigMismatchError) as raised:
        run_config.check_run_config(str(tmp_path), CONFIG, wider.hparams, allow_training_changes=True)
    assert str(raised.value) == (f"{tmp_path} holds a model of another architecture: z_size=8 (saved) vs 4 (flags); "
                                 "use another --run_dir or the saved --hparams (training hparams such as "
                                 "learning_rate may change)")
    # Evaluation still compares every hparam but those it is told to ignore.
    with pytest.raises(run_config.RunConfigMismatchError, match="learning_rate=0.001 \\(saved\\) vs 0.0001"):
        run_config.check_run_config(str(tmp_path), CONFIG, lower.hparams, ignore=("batch_size",))


def test_a_record_older_than_an_extension_hparam_matches_its_default(tmp_path):
    """A run saved before latent_mean_penalty / word_dropout_rate existed was trained as if they were
    0: evaluating or resuming it at those defaults is no mismatch, at another value it is."""
    config = configs.get_config(CONFIG, TINY)
    run_config.save_run_config(str(tmp_path), CONFIG, model_lib.build_model(config))
    record = json.loads((tmp_path / "config.json").read_text())
    for part in [record] + [v for v in record.values() if isinstance(v, dict)]:
        for name in ("latent_mean_penalty", "word_dropout_rate"):
            part.pop(name, None)
    assert "latent_mean_penalty" not in json.dumps(record)
    (tmp_path / "config.json").write_text(json.dumps(record))
    assert run_config.check_run_config(str(tmp_path), CONFIG, config.hparams)
    penalised = configs.get_config(CONFIG, TINY + ",latent_mean_penalty=1.0")
    with pytest.raises(run_config.RunConfigMismatchError, match="latent_mean_penalty='<unset>' \\(saved\\) vs 1.0"):
        run_config.check_run_config(str(tmp_path), CONFIG, penalised.hparams)


def test_resume_of_an_older_record_finds_the_architecture_by_building_the_model(tmp_path):
    """Records written before the architecture was stored hold one "hparams" dict."""
    config = configs.get_config(CONFIG, TINY)
    record = {"config": CONFIG, "hparams": json.loads(json.dumps(config.hparams.values()))}
    (tmp_path / "config.json").write_text(json.dumps(record))
    lower = configs.get_config(CONFIG, TINY + ",learning_rate=0.0001")
    assert run_config.check_run_config(str(tmp_path), CONFIG, lower.hparams, allow_training_changes=True)
    smaller = configs.get_config(CONFIG, TINY.replace("dec_rnn_size=[16]", "dec_rnn_size=[12]"))
    with pytest.raises(run_config.RunConfigMismatchError, match=r"another architecture: dec_rnn_size=\[16\] "
                                                                r"\(saved\) vs \[12\] \(flags\);"):
        run_config.check_run_config(str(tmp_path), CONFIG, smaller.hparams, allow_training_changes=True)


def test_console_resume_at_a_lower_learning_rate_trains_at_it(first_run, tmp_path, capsys):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(first_run[0], run_dir)
    start = int(tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "train"))).get_tensor(
        "step/.ATTRIBUTES/VARIABLE_VALUE"))  # other tests of this module may have trained on
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY},learning_rate=0.0001",
                                f"--num_steps={start + 1}", "--log_every_n_steps=1"], capsys)
    assert code == 0, err[-2000:]
    assert tf.train.latest_checkpoint(str(run_dir / "train")).endswith(f"ckpt-{start + 1}")
    _, hparams, record = run_config.load_run_config(str(run_dir))
    assert record["training_hparams"]["learning_rate"] == 0.0001  # the record says what the run goes on with
    # The step trained after resuming used the new rate: (1e-4 - 1e-5) * 0.9999 ** start + 1e-5.
    rates = {}
    for event_file in (run_dir / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == summaries.summary_tag("learning_rate"):
                    rates[event.step] = float(tf.make_ndarray(value.tensor)) if value.HasField("tensor") \
                        else value.simple_value
    new_rate = (1e-4 - 1e-5) * 0.9999 ** start + 1e-5
    assert rates[start + 1] == pytest.approx(new_rate, rel=1e-6)
    # A resumed trainer's optimizer runs at the new rate too.
    trainer = loop.Trainer(configs.get_config(CONFIG, f"{TINY},learning_rate=0.0001"),
                           train_dir=str(run_dir / "train"), checkpoints_to_keep=0)
    trainer.restore_or_initialize()
    assert float(trainer.optimizer.learning_rate) == pytest.approx(
        (1e-4 - 1e-5) * 0.9999 ** (start + 1) + 1e-5, rel=1e-6)
    trainer.close()


# -- full and read-only disks -------------------------------------------------------------------
def test_full_disk_is_one_line_and_leaves_no_partial_checkpoint(small_disk, capsys):
    run_dir = small_disk(150) / "run"  # room for config.json and the summaries, not for a checkpoint (~290 kB)
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}", "--num_steps=1"],
                               capsys)
    assert code == 1
    assert error_lines(err) == [f"music_vae_train: error: cannot save checkpoint ckpt-1 in {run_dir / 'train'}: "
                                "No space left on device; stopped without saving (no checkpoint yet)"]
    assert "Traceback" not in err
    # No ckpt-1_temp/ shard folder, no tempstate or checkpoint.tmp file: only the summaries stay.
    assert [p.name for p in (run_dir / "train").iterdir() if not p.name.startswith("events.out.tfevents.")] == []
    assert tf.train.latest_checkpoint(str(run_dir / "train")) is None


def test_read_only_run_dir_is_one_line(small_disk, capsys):
    run_dir = small_disk(64, read_only=True) / "run"
    code, err = run_in_process([f"--config={CONFIG}", f"--run_dir={run_dir}", f"--hparams={TINY}", "--num_steps=1"],
                               capsys)
    assert code == 1
    assert error_lines(err) == [f"music_vae_train: error: cannot write to --run_dir {run_dir}: Read-only file system"]
    assert "Traceback" not in err
