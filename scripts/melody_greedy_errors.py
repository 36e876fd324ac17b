"""Where a packaged melody model's greedy reconstruction goes wrong (docs/models.md quotes it).

    python scripts/melody_greedy_errors.py --model=hierdec-mel_16bar

Decodes every held-out window of the recipe (scripts/train_packaged_models.py) from its mu, with the
argmax fed back, and splits the step accuracy by what the target step is: its event kind only
(hold / note off / note on, pitch ignored), the pitch of target note-ons, holds, and by step within
the bar and by bar. Melody classes: 0 = hold, 1 = note off, 2.. = note on (note_seq's encoding).
"""

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_packaged_models as tpm  # noqa: E402  (its flags: --model)

flags.DEFINE_integer("max_examples", None, "Only the first N held-out windows (default: all).")


def _kind(classes):
    return np.where(classes == 0, 0, np.where(classes == 1, 1, 2))  # hold, off, on


def main(argv):
    del argv
    from musicvae_tf import checkpoints
    from musicvae_tf.metrics import load_examples, reconstruction
    from musicvae_tf.metrics.held_out_examples import step_mask

    name = tpm.FLAGS.model
    recipe = tpm.RECIPES[name]
    phases = tpm.recipe_phases(recipe, recipe["num_steps"])
    config = tpm.recipe_config(recipe, tpm.join_hparams(phases[-1][1], ""))
    model = checkpoints.load_port_model(checkpoints.find_pretrained(name), config)
    if model.control_depth:
        raise app.UsageError(f"{name} is conditioned on chords: this script decodes without controls")
    examples = load_examples(config, tpm.data_paths(recipe["held_out"]), max_examples=tpm.FLAGS.max_examples)
    results = reconstruction.reconstruct_examples(reconstruction.Decoding(model, 64), examples,
                                                  temperature=reconstruction.GREEDY_TEMPERATURE, seed=0)
    target = examples.outputs.argmax(-1)
    total = target.shape[1]
    mask = step_mask(examples.lengths, total)
    steps_per_bar = config.data_converter.steps_per_bar
    forced = results["teacher_forced_logits"].argmax(-1)
    greedy = results["samples"].argmax(-1)
    on, hold = mask & (target >= 2), mask & (target == 0)
    print(f"{name}: {len(target)} held-out windows")
    for label, predicted in (("teacher-forced", forced), ("greedy", greedy)):
        print(f"  {label}: steps {np.mean((predicted == target)[mask]):.3f}, event kind "
              f"{np.mean((_kind(predicted) == _kind(target))[mask]):.3f}, pitch of target note-ons "
              f"{np.mean(predicted[on] == target[on]):.3f}, holds {np.mean(predicted[hold] == 0):.3f}")
    print(f"  target note-ons: {on.sum() / mask.sum():.3f} of the steps, {on.sum(1).mean():.1f} per window; "
          f"greedy note-ons per window {((greedy >= 2) & mask).sum(1).mean():.1f}")
    print(f"  greedy at target note-ons: also a note-on {np.mean(greedy[on] >= 2):.3f}, pitch class right "
          f"{np.mean((greedy[on] - 2) % 12 == (target[on] - 2) % 12):.3f}, within 2 semitones "
          f"{np.mean(np.abs(greedy[on] - target[on]) <= 2):.3f}")
    step = np.arange(total) % steps_per_bar
    print("  greedy by step in the bar: " + " ".join(
        f"{np.mean((greedy == target)[mask & (step[None] == s)]):.2f}" for s in range(steps_per_bar)))
    bar = np.arange(total) // steps_per_bar
    print("  greedy by bar: " + " ".join(
        f"{np.mean((greedy == target)[mask & (bar[None] == b)]):.2f}" for b in range(total // steps_per_bar)))


if __name__ == "__main__":
    flags.mark_flag_as_required("model")
    app.run(main)
