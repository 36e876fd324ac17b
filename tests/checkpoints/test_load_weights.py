"""Magenta checkpoint import (paths, tar bundles, renames, errors) and the port's own format."""

import io
import json
import os
import shutil
import tarfile

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR
from musicvae_tf import checkpoints
from musicvae_tf.checkpoints import CheckpointMismatchError, load_magenta_checkpoint
from musicvae_tf.model import build_model
from kit import FLAT, HIER, tiny_config

CASE = PARITY_DIR / "cat-mel_2bar_small"


def _mel_model(**overrides):
    """A model shaped like the cat-mel_2bar_small fixture (no configs/converters needed)."""
    info = json.loads((CASE / "case.json").read_text())
    assert info["hparams"] == "z_size=32,enc_rnn_size=[64],dec_rnn_size=[48,48]"
    values = dict(max_seq_len=32, z_size=32, enc_rnn_size=[64], dec_rnn_size=[48, 48])
    values.update(overrides)
    return build_model(tiny_config(FLAT, depth=90, **values))


@pytest.fixture(scope="module")
def reader():
    if not (CASE / "checkpoint").exists():
        pytest.skip("fixture missing")
    return tf.train.load_checkpoint(str(CASE / "checkpoint" / "model.ckpt-30"))


def _assert_loaded(model, reader):
    names = model.tf1_variables()
    assert set(names) == set(reader.get_variable_to_shape_map()) - {"global_step"}
    for name, variable in names.items():
        np.testing.assert_array_equal(variable.numpy(), reader.get_tensor(name))


@pytest.mark.parametrize("form", ["directory", "prefix"])
def test_load_directory_and_prefix(form, reader):
    model = _mel_model()
    path = CASE / "checkpoint"
    if form == "prefix":
        path = path / "model.ckpt-30"
    assert load_magenta_checkpoint(model, path) == 30
    _assert_loaded(model, reader)


def test_load_tar_bundle(tmp_path, reader):
    bundle = tmp_path / "bundle.tar"
    with tarfile.open(bundle, "w") as tar:
        for name in os.listdir(CASE / "checkpoint"):
            if name.startswith("model.ckpt"):
                tar.add(CASE / "checkpoint" / name, arcname=f"cat-mel/{name}")
    model = _mel_model()
    load_magenta_checkpoint(model, bundle)
    _assert_loaded(model, reader)


def _tar_with(tmp_path, member, data=b"x"):
    bundle = tmp_path / "evil.tar"
    with tarfile.open(bundle, "w") as tar:
        info = member
        if info.isfile():
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        else:
            tar.addfile(info)
    return bundle


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink_out", "hardlink_out"])
def test_tar_refuses_members_outside(kind, tmp_path):
    if kind == "absolute":
        member = tarfile.TarInfo("/tmp/evil_musicvae_file")
    elif kind == "dotdot":
        member = tarfile.TarInfo("ckpt/../../evil")
    elif kind == "symlink_out":
        member = tarfile.TarInfo("ckpt/link")
        member.type, member.linkname = tarfile.SYMTYPE, "../../etc/passwd"
    else:
        member = tarfile.TarInfo("ckpt/hard")
        member.type, member.linkname = tarfile.LNKTYPE, "/etc/passwd"
    bundle = _tar_with(tmp_path, member)
    with pytest.raises(ValueError, match="refusing"):
        load_magenta_checkpoint(_mel_model(), bundle)
    assert not os.path.exists("/tmp/evil_musicvae_file")


def test_shape_mismatch_is_one_clear_line():
    model = _mel_model(dec_rnn_size=[40, 40])
    with pytest.raises(CheckpointMismatchError) as error:
        load_magenta_checkpoint(model, CASE / "checkpoint")
    message = str(error.value)
    assert "\n" not in message and "shape" in message and "wrong config" in message


def test_missing_variable_and_substitutions(tmp_path, reader):
    # A checkpoint whose decoder scope was renamed: loads only with var_name_substitutions.
    renamed = {name.replace("decoder/", "old_decoder/"): reader.get_tensor(name)
               for name in reader.get_variable_to_shape_map()}
    prefix = str(tmp_path / "model.ckpt-7")
    _write_tf1_checkpoint(prefix, renamed)
    model = _mel_model()
    with pytest.raises(CheckpointMismatchError, match="no variable 'decoder/"):
        load_magenta_checkpoint(model, prefix)
    load_magenta_checkpoint(model, prefix, var_name_substitutions=[("^decoder/", "old_decoder/")])
    np.testing.assert_array_equal(model.decoder.output_projection.kernel.numpy(),
                                  reader.get_tensor("decoder/output_projection/kernel"))


def _write_tf1_checkpoint(prefix, arrays):
    """Writes a name-keyed checkpoint (the layout TF1 Savers produce) with raw save ops."""
    names = sorted(arrays)
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(arrays[n]) for n in names])


def test_unknown_path_error(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint"):
        checkpoints.resolve_checkpoint(tmp_path / "nothing")


@pytest.mark.parametrize("spec", [FLAT, HIER], ids=["flat", "hierarchical"])
def test_port_format_round_trip(spec, tmp_path):
    config = tiny_config(spec)
    model = build_model(config, config_name="tiny-config")
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    directory = checkpoints.save_model(model, str(tmp_path / "saved"))
    assert checkpoints.is_port_checkpoint(directory)
    name, hparams = checkpoints.read_port_metadata(directory)
    assert name == "tiny-config" and hparams["dec_rnn_size"] == [6, 6]
    loaded = checkpoints.load_port_model(directory, config=config)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    fresh = build_model(config)
    checkpoints.load_weights(fresh, directory)
    np.testing.assert_array_equal(fresh.weights[0].numpy(), model.weights[0].numpy())


@pytest.mark.parametrize("spec", [FLAT, HIER], ids=["flat", "hierarchical"])
def test_port_format_float16_storage(spec, tmp_path):
    """float16 storage: half the bytes, values rounded to float16, float32 variables after loading."""
    config = tiny_config(spec, z_size=16, enc_rnn_size=[32], dec_rnn_size=[24, 24])
    model = build_model(config, config_name="tiny-config")
    rng = np.random.default_rng(1)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    full = checkpoints.save_model(model, str(tmp_path / "f32"))
    half = checkpoints.save_model(model, str(tmp_path / "f16"), weights_dtype="float16")
    assert checkpoints.is_port_checkpoint(half)
    assert not os.path.exists(os.path.join(half, checkpoints.WEIGHTS_FILE))
    half_bytes = os.path.getsize(os.path.join(half, checkpoints.FLOAT16_WEIGHTS_FILE))
    assert half_bytes < 0.55 * os.path.getsize(os.path.join(full, checkpoints.WEIGHTS_FILE))
    assert json.load(open(os.path.join(half, checkpoints.META_FILE)))["weights_dtype"] == "float16"
    loaded = checkpoints.load_port_model(half, config=config)
    fresh = build_model(config)
    checkpoints.load_weights(fresh, half)
    for original, a, b in zip(model.weights, loaded.weights, fresh.weights):
        assert a.dtype == "float32"
        expected = original.numpy().astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(a.numpy(), expected)
        np.testing.assert_array_equal(b.numpy(), expected)
        # float16 keeps 11 significant bits: relative error at most 2**-11 for these magnitudes.
        np.testing.assert_allclose(a.numpy(), original.numpy(), rtol=2 ** -11, atol=2 ** -24)
    other = build_model(tiny_config(spec, z_size=8, enc_rnn_size=[32], dec_rnn_size=[24, 24]))
    with pytest.raises(CheckpointMismatchError, match="has shape"):
        checkpoints.load_weights(other, half)
    with pytest.raises(ValueError, match="weights_dtype"):
        checkpoints.save_model(model, str(tmp_path / "bad"), weights_dtype="int8")


def test_tf_train_checkpoint_round_trip(tmp_path):
    model = build_model(tiny_config(FLAT))
    model.weights[0].assign(tf.ones_like(model.weights[0]))
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    other = build_model(tiny_config(FLAT))
    tf.train.Checkpoint(model=other).restore(path).assert_existing_objects_matched()
    np.testing.assert_array_equal(other.weights[0].numpy(), np.ones(model.weights[0].shape))
    shutil.rmtree(tmp_path)
