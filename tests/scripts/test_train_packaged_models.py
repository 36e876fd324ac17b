"""The packaged-model recipes: training phases (a schedule changed when a run was continued) and
how docs/models.md lists them."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts"))
import packaged_models_doc  # noqa: E402
import train_packaged_models as recipes  # noqa: E402

TWO_PHASES = {"hparams": "z_size=8", "phases": ((4000, "learning_rate=0.003"), (20000, "learning_rate=0.001"))}


@pytest.mark.parametrize("num_steps, expected", [
    (20000, [(4000, "learning_rate=0.003", {}), (20000, "learning_rate=0.001", {})]),
    (3000, [(3000, "learning_rate=0.003", {})]),             # fewer steps: the first phase, cut short
    (4000, [(4000, "learning_rate=0.003", {})]),
    (25000, [(4000, "learning_rate=0.003", {}), (25000, "learning_rate=0.001", {})]),  # the last goes on
])
def test_phases(num_steps, expected):
    assert recipes.recipe_phases(TWO_PHASES, num_steps) == expected


def test_one_phase_without_phases():
    assert recipes.recipe_phases({"hparams": "z_size=8"}, 500) == [(500, "", {})]


def test_a_phase_with_its_own_data_options():
    """A phase may transpose (afresh every epoch) where the recipe does not; the others keep the
    recipe's data, and the docs say which steps were transposed."""
    recipe = dict(TWO_PHASES, transpose_range=None, windows_per_tune=None,
                  phases=TWO_PHASES["phases"] + ((30000, "learning_rate=0.002",
                                                   {"transpose_range": (-5, 5), "fresh_windows": True}),))
    phases = recipes.recipe_phases(recipe, 30000)
    assert phases[-1] == (30000, "learning_rate=0.002", {"transpose_range": (-5, 5), "fresh_windows": True})
    recipes.FLAGS.unparse_flags()
    recipes.FLAGS(["test"])  # the flags' defaults: no --transpose_range / --fresh_windows
    assert recipes.phase_recipe(recipe, phases[0][2])["transpose_range"] is None
    assert recipes.phase_recipe(recipe, phases[0][2])["fresh_windows"] is False
    last = recipes.phase_recipe(recipe, phases[-1][2])
    assert last["transpose_range"] == (-5, 5) and last["fresh_windows"] is True
    info = {"phases": [{"until_step": end, "hparams": hparams, **recipes.phase_options_info(options)}
                       for end, hparams, options in phases]}
    text = packaged_models_doc._phases_text(info)
    assert "steps 0-4000: `learning_rate=0.003`, steps 4000-20000: `learning_rate=0.001`, " in text
    assert ("steps 20000-30000: `learning_rate=0.002` with transposition -5..+5 semitones, a new one per "
            "tune and epoch") in text


@pytest.mark.parametrize("name", [n for n, r in recipes.RECIPES.items() if r.get("phases")])
def test_packaged_schedules_are_continuous_where_they_change(name):
    """The learning rate ((lr - min) * decay^step + min) at each change of phase is within 1% on
    both sides, but where the recipe says it changes the rate on purpose (`rate_changes`)."""
    recipe = recipes.RECIPES[name]
    floor = recipes.recipe_config(recipe).hparams.min_learning_rate
    phases = recipes.recipe_phases(recipe, recipe["num_steps"])
    assert len(phases) == len(recipe["phases"]) >= 2
    for (end, before, _), (_, after, _) in zip(phases, phases[1:]):
        if end in recipe.get("rate_changes", ()):
            continue
        rates = []
        for hparams in (before, after):
            values = dict(item.split("=") for item in hparams.split(","))
            rates.append((float(values["learning_rate"]) - floor) * float(values["decay_rate"]) ** end + floor)
        assert rates[0] == pytest.approx(rates[1], rel=1e-2), (name, end)


def test_join_hparams_and_docs_text():
    assert recipes.join_hparams("a=1", "", "b=2") == "a=1,b=2"
    # a later part overrides (a phase's rate under --hparams of a pilot run), lists kept whole
    assert recipes.join_hparams("a=1,l=[2,3]", "a=4", "l=[5]") == "a=4,l=[5]"
    info = {"phases": [{"until_step": 4000, "hparams": "learning_rate=0.003"},
                       {"until_step": 20000, "hparams": "learning_rate=0.001"}]}
    text = packaged_models_doc._phases_text(info)
    assert "steps 0-4000: `learning_rate=0.003`" in text and "steps 4000-20000: `learning_rate=0.001`" in text
    assert packaged_models_doc._phases_text({}) == ""


def test_start_from_packaged_continues_at_the_packaged_step(tmp_path):
    """A run whose directory was lost goes on from the packaged model: its weights (float16 cast
    back), its step (so the schedules go on), its curve; and a restart resumes from the checkpoint
    saved at once."""
    import json

    import numpy as np

    from musicvae_tf import checkpoints
    from musicvae_tf.training import loop

    name = "hierdec-mel_16bar"  # the smallest packaged model
    packaged = checkpoints.find_pretrained(name)
    if packaged is None:
        pytest.skip(f"no packaged {name} model")
    recipe = recipes.RECIPES[name]
    info = json.load(open(os.path.join(packaged, recipes.INFO_FILE)))
    config = recipes.recipe_config(recipe, recipes.recipe_phases(recipe, recipe["num_steps"])[-1][1])
    trainer = loop.Trainer(config, train_dir=str(tmp_path / "train"), noise_seed=1)
    assert trainer.restore_or_initialize() is None
    curve_path = str(tmp_path / "curve.jsonl")
    recipes.start_from_packaged(trainer, recipe, curve_path)
    assert int(trainer.step.numpy()) == info["steps"]
    reference = checkpoints.load_port_model(packaged, config)  # the packaged weights as users load them
    assert len(reference.weights) == len(trainer.model.weights)
    for weight, value in zip(trainer.model.weights, reference.weights):
        np.testing.assert_array_equal(weight.numpy(), value.numpy())
    with open(curve_path) as handle:
        assert [json.loads(line)["step"] for line in handle] == [p["step"] for p in info["curve"]]
    again = loop.Trainer(config, train_dir=str(tmp_path / "train"), noise_seed=1)
    assert again.restore_or_initialize() is not None
    assert int(again.step.numpy()) == info["steps"]
    np.testing.assert_array_equal(again.model.weights[0].numpy(), trainer.model.weights[0].numpy())


def test_start_from_packaged_with_another_encoder_takes_the_decoder(tmp_path):
    """A wider encoder than the packaged model's: the decoder comes from the package, the encoder
    keeps its fresh weights."""
    import numpy as np

    from musicvae_tf import checkpoints
    from musicvae_tf.training import loop

    name = "hierdec-mel_16bar"
    packaged = checkpoints.find_pretrained(name)
    if packaged is None:
        pytest.skip(f"no packaged {name} model")
    recipe = recipes.RECIPES[name]
    config = recipes.recipe_config(recipe, "enc_rnn_size=[8]")
    trainer = loop.Trainer(config, train_dir=str(tmp_path / "train"), noise_seed=1)
    fresh_encoder = [w.numpy() for w in trainer.model.encoder.weights]
    taken = recipes.start_from_packaged(trainer, recipe, str(tmp_path / "curve.jsonl"))
    assert taken.startswith("decoder weights")
    reference = checkpoints.resolve(packaged).build_model()
    for weight, value in zip(trainer.model.decoder.weights, reference.decoder.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), value.numpy())
    for weight, fresh in zip(trainer.model.encoder.weights, fresh_encoder, strict=True):
        np.testing.assert_array_equal(weight.numpy(), fresh)


def test_docs_say_how_a_continued_run_began():
    info = {"steps": 52000, "continued_from_packaged": {"step": 36000, "taken": "all weights"}}
    text = packaged_models_doc._continued_text(info)
    assert "steps 36000-52000 continued the earlier packaged model (all weights, from" in text
    assert "fresh Adam state" in text
    assert packaged_models_doc._continued_text({"steps": 10}) == ""
