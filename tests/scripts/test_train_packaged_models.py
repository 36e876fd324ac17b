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
    (20000, [(4000, "learning_rate=0.003"), (20000, "learning_rate=0.001")]),
    (3000, [(3000, "learning_rate=0.003")]),             # fewer steps: the first phase, cut short
    (4000, [(4000, "learning_rate=0.003")]),
    (25000, [(4000, "learning_rate=0.003"), (25000, "learning_rate=0.001")]),  # the last goes on
])
def test_phases(num_steps, expected):
    assert recipes.recipe_phases(TWO_PHASES, num_steps) == expected


def test_one_phase_without_phases():
    assert recipes.recipe_phases({"hparams": "z_size=8"}, 500) == [(500, "")]


@pytest.mark.parametrize("name", [n for n, r in recipes.RECIPES.items() if r.get("phases")])
def test_packaged_schedules_are_continuous_where_they_change(name):
    """The learning rate ((lr - min) * decay^step + min) at each change of phase is within 1% on
    both sides, but where the recipe says it changes the rate on purpose (`rate_changes`)."""
    recipe = recipes.RECIPES[name]
    floor = recipes.recipe_config(recipe).hparams.min_learning_rate
    phases = recipes.recipe_phases(recipe, recipe["num_steps"])
    assert len(phases) == len(recipe["phases"]) >= 2
    for (end, before), (_, after) in zip(phases, phases[1:]):
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
