"""Models built without their encoder (sampling and decoding), loaded from every checkpoint format,
and the encoder added later: the same weights and the same samples as a model loaded whole."""

import numpy as np
import pytest
import tensorflow as tf

from musicvae_tf import checkpoints
from musicvae_tf.checkpoints import CheckpointMismatchError
from musicvae_tf.model import NO_ENCODER, build_model
from musicvae_tf.trained_model import TrainedModel
from kit import FLAT, HIER, TINY, melody, tiny_checkpoint, tiny_config


def _seeded_model(config, seed=0, name="tiny-config"):
    model = build_model(config, config_name=name)
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype(np.float32))
    return model


def _save(model, form, directory):
    """Writes `model` in one of the formats; returns the path to load from."""
    if form == "export_float16":
        return checkpoints.save_model(model, str(directory / "export"), weights_dtype="float16")
    if form == "training":
        # the layout music_vae_train writes: one fixed-order list of the model's weights
        return tf.train.Checkpoint(model_weights=list(model.weights)).write(str(directory / "ckpt-1"))
    names = model.tf1_variables()  # Magenta's TF1 layout: variables by name
    prefix = str(directory / "model.ckpt-1")
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=sorted(names), shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(names[n].numpy()) for n in sorted(names)])
    return prefix


def _expected(model, form):
    values = [w.numpy() for w in model.weights_in_checkpoint_order()]
    if form == "export_float16":
        values = [v.astype(np.float16).astype(np.float32) for v in values]
    return values


@pytest.mark.parametrize("form", ["export_float16", "training", "magenta_tf1"])
@pytest.mark.parametrize("spec", [FLAT, HIER], ids=["flat", "hierarchical"])
def test_decoder_only_then_encoder(spec, form, tmp_path):
    config = tiny_config(spec, z_size=6, enc_rnn_size=[10], dec_rnn_size=[8, 8])
    whole = _seeded_model(config)
    path = _save(whole, form, tmp_path)
    expected = _expected(whole, form)
    assert checkpoints.supports_decoder_only(path)

    # A model built whole lists its weights in checkpoint order.
    assert [id(v) for v in whole.weights] == [id(v) for v in whole.weights_in_checkpoint_order()]
    model = build_model(config, decoder_only=True)
    assert not model.has_encoder and model.latent is None
    assert len(model.weights) == len(whole.decoder.weights)
    checkpoints.load_weights(model, path)
    first_decoder = len(whole.encoder.weights)
    for variable, value in zip(model.decoder.weights, expected[first_decoder:]):
        np.testing.assert_array_equal(variable.numpy(), value)
    with pytest.raises(ValueError, match="without its encoder"):
        model.encode(np.zeros([1, 8, 5], np.float32), [8])
    with pytest.raises(ValueError, match="without its encoder"):
        checkpoints.save_model(model, str(tmp_path / "refused"))

    # Same decoder, same samples (seeded, so both run the same graph path).
    z = np.random.default_rng(3).normal(size=[2, 6]).astype(np.float32)
    sampled = model.sample(z=z, temperature=0.5, seed=[1, 2]).samples.numpy()
    loaded_whole = build_model(config)
    checkpoints.load_weights(loaded_whole, path)
    np.testing.assert_array_equal(sampled, loaded_whole.sample(z=z, temperature=0.5, seed=[1, 2]).samples.numpy())

    added = model.ensure_encoder()
    assert len(added) == len(whole.encoder.weights) + 4
    assert model.architecture_hparams == whole.architecture_hparams  # what save_model records
    checkpoints.load_weights(model, path, only=added)
    stored = model.weights_in_checkpoint_order()
    assert [id(v) for v in model.weights] == [id(v) for v in stored]  # as in a model built whole
    assert len(stored) == len(expected)
    for variable, value in zip(stored, expected):
        np.testing.assert_array_equal(variable.numpy(), value)
    inputs = np.eye(5, dtype=np.float32)[np.random.default_rng(4).integers(0, 5, [2, 8])]
    for a, b in zip(model.encode(inputs, [8, 8]), loaded_whole.encode(inputs, [8, 8])):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Saved again, the late-added encoder lands where a whole model's is: the file loads whole.
    if form == "export_float16":
        again = checkpoints.save_model(model, str(tmp_path / "again"), weights_dtype="float16")
        reloaded = build_model(config)
        checkpoints.load_weights(reloaded, again)
        for variable, value in zip(reloaded.weights, expected):
            np.testing.assert_array_equal(variable.numpy(), value)


def test_decoder_only_refuses_mismatches(tmp_path):
    config = tiny_config(FLAT, z_size=6, enc_rnn_size=[10], dec_rnn_size=[8, 8])
    path = _save(_seeded_model(config), "training", tmp_path)
    other = build_model(tiny_config(FLAT, z_size=6, enc_rnn_size=[10], dec_rnn_size=[12, 12]), decoder_only=True)
    with pytest.raises(CheckpointMismatchError, match="has shape"):
        checkpoints.load_weights(other, path)
    # A float32 Keras .h5 export loads only into a whole model.
    h5 = checkpoints.save_model(_seeded_model(config), str(tmp_path / "h5"))
    assert not checkpoints.supports_decoder_only(h5)
    with pytest.raises(ValueError, match="whole model"):
        checkpoints.load_weights(build_model(config, decoder_only=True), h5)


def test_trained_model_loads_the_encoder_on_first_encode(tmp_path):
    directory = checkpoints.save_model(_seeded_model(_config(), seed=5, name="cat-mel_2bar_small"), str(tmp_path / "tiny"),
                                       weights_dtype="float16")
    trained = TrainedModel(_config(), batch_size=2, checkpoint_dir_or_path=directory)
    assert not trained._model.has_encoder  # sampling needs no encoder
    assert len(trained.sample(n=3, length=32, temperature=0.5)) == 3
    tune = melody([60, 62, 64, 65, 67, 69, 71, 72] * 4, step=0.25)
    z, mu, sigma = trained.encode([tune])
    whole = build_model(trained.config)
    checkpoints.load_weights(whole, directory)
    expected_mu, expected_sigma = whole.encode(*_tensors(trained, tune))
    np.testing.assert_allclose(mu, expected_mu.numpy(), atol=1e-6)
    np.testing.assert_allclose(sigma, expected_sigma.numpy(), atol=1e-6)
    assert trained.model.has_encoder
    # Asked for its Keras model first, a TrainedModel gives it whole; a float32 .h5 export loads whole.
    fresh = TrainedModel(_config(), batch_size=2, checkpoint_dir_or_path=directory)
    np.testing.assert_array_equal(checkpoints.weights_fingerprint(fresh.model),
                                  checkpoints.weights_fingerprint(whole))
    h5 = TrainedModel(_config(), batch_size=2, checkpoint_dir_or_path=tiny_checkpoint(str(tmp_path / "h5")))
    assert h5._model.has_encoder


def test_no_encoder_message():
    assert "ensure_encoder" in NO_ENCODER


def _config():
    from musicvae_tf import configs

    return configs.get_config("cat-mel_2bar_small", TINY)


def _tensors(trained, tune):
    extracted = trained.config.data_converter.to_tensors(tune)
    return (np.asarray(extracted.inputs[:1], np.float32), np.asarray(extracted.lengths[:1], np.int32))
