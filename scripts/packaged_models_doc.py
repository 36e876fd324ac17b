"""docs/models.md from the model_info.json of each packaged model (scripts/train_packaged_models.py --write_docs).

The generated part (settings, data, training curve, held-out figures, targets) is rewritten; text
after KEEP_MARKER is written by hand and kept.
"""

import json
import os

KEEP_MARKER = "<!-- Sections below are written by hand; scripts/train_packaged_models.py --write_docs keeps them. -->"

MAGENTA_SIZES = {
    "cat-mel_2bar_small": "z_size=256, enc_rnn_size=[512], dec_rnn_size=[256,256], batch_size=512, free_bits=0, "
                          "beta_rate=0.99999, scheduled sampling (inverse sigmoid, rate 1000), transposition +-5",
    "hierdec-mel_16bar": "z_size=512, enc_rnn_size=[2048,2048], dec_rnn_size=[1024,1024], batch_size=512, "
                         "free_bits=256, max_beta=0.2, beta_rate=0 (beta at max_beta from the first step)",
    "cat-mel_2bar_med_chords": "z_size=256, enc_rnn_size=[1024], dec_rnn_size=[512,512,512], batch_size=512, "
                               "free_bits=0, max_beta=1.0, beta_rate=0 (beta at max_beta from the first step), transposition +-3",
}
WHAT = {
    "cat-mel_2bar_small": "2-bar monophonic melodies (bidirectional LSTM encoder, 2-layer LSTM decoder), folk tunes.",
    "hierdec-mel_16bar": "16-bar melodies: one-layer bidirectional LSTM encoder over 256 steps, a conductor LSTM "
                         "giving one embedding per bar (fed no outputs: Magenta's disable_autoregression), a "
                         "2-layer LSTM decoding each bar from its embedding and its own previous output, folk tunes.",
    "cat-mel_2bar_med_chords": "2-bar melodies over a given chord progression (49-way triad one-hot per step), "
                               "Bach chorale sopranos and folk tunes with their chords.",
}


def _f(value, digits=3):
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def _curve_table(curve, rows=16):
    keys = [k for k in ("validation_teacher_forced", "validation_greedy") if any(k in p for p in curve)]
    head = ["step", "minutes (total)", "loss", "r_loss", "kl_bits", "accuracy", "beta", "examples/s"] + [
        k.replace("validation_", "validation ") for k in keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    validated = [p for p in curve if keys and keys[0] in p]
    stride = max(1, len(curve) // rows)
    shown = sorted({id(p): p for p in curve[::stride] + validated + curve[-1:]}.values(), key=lambda p: p["step"])
    # Each training process counts minutes from its own start: add up those of resumed runs.
    total, offset, last = {}, 0.0, 0.0
    for p in curve:
        if p.get("wall_minutes", 0.0) < last:
            offset += last
        last = p.get("wall_minutes", 0.0)
        total[id(p)] = offset + last
    for p in shown:
        cells = [str(p["step"]), _f(total[id(p)], 0), _f(p.get("loss"), 2), _f(p.get("r_loss"), 2),
                 _f(p.get("kl_bits"), 1), _f(p.get("accuracy")), _f(p.get("beta")),
                 _f(p.get("examples_per_sec"), 1)] + [_f(p.get(k)) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _reconstruction_lines(figures):
    lines = ["| held-out set | examples | teacher-forced | greedy (argmax fed back) | most frequent class "
             "| teacher-forced, another tune's z | teacher-forced, z = 0 |",
             "|---|---|---|---|---|---|---|"]
    for label, files, key in (("primary", "held_out_files", "reconstruction"),
                              ("extra", "extra_held_out_files", "extra_reconstruction")):
        if key in figures:
            r = figures[key]
            lines.append(f"| {label}: {', '.join(figures[files])} | {r['examples']} | {_f(r['teacher_forced'])} | "
                         f"{_f(r['greedy'])} | {_f(r['most_frequent_class'])} | "
                         f"{_f(r.get('teacher_forced_other_z'))} | {_f(r.get('teacher_forced_zero_z'))} |")
    lines += ["", "The last two columns show how much the decoder reads z: teacher forcing from the posterior "
              "mean of the next held-out window instead of the window's own, and from z = 0 "
              "(`metrics.reconstruction.latent_reliance`)."]
    return lines


def _stats_lines(groups):
    names = ["notes_per_example", "distinct_pitches", "pitch_range", "lowest_pitch", "highest_pitch",
             "key_consistency", "bar_self_similarity", "empty_examples", "chord_tones",
             "chord_tones_shuffled_chords"]
    present = [n for n in names if any(n in g for _, g in groups)]
    lines = ["| measure | " + " | ".join(label for label, _ in groups) + " |", "|---|" + "---|" * len(groups)]
    for name in present:
        lines.append(f"| {name.replace('_', ' ')} | " +
                     " | ".join(_f(g.get(name), 2) if isinstance(g.get(name), float) else str(g.get(name, ""))
                                for _, g in groups) + " |")
    return lines


def _phases_text(info):
    """The recipe's training phases (e.g. a learning-rate schedule changed when a run was continued)."""
    if not info.get("phases"):
        return ""
    begin, parts = 0, []
    for phase in info["phases"]:
        data = ""
        if phase.get("transpose_range"):
            low, high = phase["transpose_range"]
            data = (f" with transposition {low:+d}..{high:+d} semitones"
                    + (", a new one per tune and epoch" if phase.get("fresh_windows") else ""))
        parts.append(f"steps {begin}-{phase['until_step']}: `{phase['hparams']}`{data}")
        begin = phase["until_step"]
    return "; in phases (each resumed from the previous one's checkpoint): " + ", ".join(parts)


def _continued_text(info):
    """How a run that was continued from the packaged model (`--from_packaged`) began."""
    continued = info.get("continued_from_packaged")
    if not continued:
        return ""
    taken = continued.get("taken", "its weights")
    return (f"; steps {continued['step']}-{info['steps']} continued the earlier packaged model ({taken}, from "
            f"its float16 weights at step {continued['step']}, with a fresh Adam state: the earlier run "
            "directory was gone)")


def model_section(info, targets):
    figures = info["figures"]
    name = info["model"]
    lines = [f"## {name}", "", WHAT[name], "",
             f"- packaged: `musicvae_tf/pretrained/{info['package']}/` ({info['weights_bytes'] / 1e6:.2f} MB, "
             f"{info['parameters']:,} weights stored as float16, cast to float32 on load)",
             f"- settings: `{info['hparams_overrides']}` (Magenta's: {MAGENTA_SIZES[name]})"
             + _phases_text(info),
             f"- data: {', '.join(info['train_files'])} (a seeded 5% of the tunes held back for validation); "
             f"transposition: {info['transpose_range'] or 'none'}"
             + (" (but where a phase above says otherwise)"
                if any(phase.get("transpose_range") for phase in info.get("phases") or ()) else "") + "; "
             + ("every 2-bar window of every tune, converted once and cached"
                if info["windows_per_tune"] is None else
                f"{info['windows_per_tune']} random windows per tune, drawn afresh every epoch"),
             f"- training: {info['steps']} steps of batch {info['batch_size']} in {info['train_minutes']:.0f} min "
             f"(one CPU core, single-threaded TensorFlow, machine shared with other jobs), seed {info['seed']}"
             + _continued_text(info),
             f"- re-run: `python scripts/train_packaged_models.py --model={name}` (the recipe's "
             f"{info.get('recipe_steps', info['steps'])} steps; resumable: rerunning with the same `--run_dir` "
             "continues from the last checkpoint, as these runs did after the machine stopped them)", "",
             "### Held-out reconstruction (z = posterior mean)", ""]
    lines += _reconstruction_lines(figures) + [""]
    if "samples" in figures and "yang_lerch" in figures["samples"]:
        s = figures["samples"]
        lines += [f"### Prior samples at temperature {s['temperature']} ({s['num_samples']} samples, "
                  f"{s['num_reference']} held-out examples)", "",
                  "| feature (Yang & Lerch) | overlap area | KL |", "|---|---|---|"]
        for feature, values in s["yang_lerch"].items():
            lines.append(f"| {feature.replace('_', ' ')} | {_f(values['overlap_area'])} | {_f(values['kl_divergence'])} |")
        lines += ["", f"Note density, samples / held-out: {_f(s['note_density_ratio'])}.", ""]
        lines += _stats_lines([("samples", s["samples"]), ("held-out", s["held_out"])]) + [""]
    elif "samples" in figures:
        s = figures["samples"]
        lines += [f"### Prior samples at temperature {s['temperature']} ({s['num_samples']} samples) beside "
                  f"{s['num_reference']} held-out 16-bar examples", ""]
        lines += _stats_lines([("samples", s["samples"]), ("held-out", s["held_out"])]) + [""]
    if "chords" in figures:
        c = figures["chords"]
        lines += [f"### Chord tones (samples at temperature {c['temperature']} over the held-out progressions)", ""]
        lines += _stats_lines([("samples", c["samples"]), ("held-out", c["held_out"]),
                               ("training", c["training"])]) + [""]
    if targets:
        lines += ["### Targets (issue 12)", ""] + [f"- {t}" for t in targets] + [""]
    lines += ["### Training curve", "", "Training-batch figures; validation columns: teacher-forced and greedy "
              "reconstruction of the validation tunes (held back from the training files).", ""]
    lines += _curve_table(info.get("curve", [])) + [""]
    return lines


def targets_of(info):
    """Each target of issue 12 for this model with its figure: met or missed, by how much."""
    figures, name = info["figures"], info["model"]
    result = []

    def check(label, value, goal, higher=True):
        ok = value >= goal if higher else value <= goal
        result.append(f"{label}: {_f(value)} ({'met' if ok else 'missed by ' + _f(abs(goal - value))}; "
                      f"target {'>=' if higher else '<='} {goal})")

    recon = figures["reconstruction"]
    if name == "cat-mel_2bar_small":
        check("greedy reconstruction", recon["greedy"], 0.90)
        check("teacher-forced reconstruction", recon["teacher_forced"], 0.95)
        s = figures["samples"]
        check("|note density ratio - 1|", abs(s["note_density_ratio"] - 1), 0.20, higher=False)
        for feature, values in s["yang_lerch"].items():
            check(f"overlap area, {feature.replace('_', ' ')}", values["overlap_area"], 0.8)
    elif name == "hierdec-mel_16bar":
        check("greedy reconstruction", recon["greedy"], 0.75)
        s = figures["samples"]
        for measure in ("key_consistency", "bar_self_similarity"):
            result.append(f"{measure.replace('_', ' ')} (no numeric target): samples {_f(s['samples'][measure])}, "
                          f"real held-out tunes {_f(s['held_out'][measure])}")
    elif name == "cat-mel_2bar_med_chords":
        c = figures["chords"]
        result.append(f"chord tones (no numeric target): samples {_f(c['samples']['chord_tones'])} "
                      f"(shuffled chords: {_f(c['samples']['chord_tones_shuffled_chords'])}), held-out tunes "
                      f"{_f(c['held_out']['chord_tones'])} ({_f(c['held_out']['chord_tones_shuffled_chords'])}), "
                      f"training tunes {_f(c['training']['chord_tones'])} "
                      f"({_f(c['training']['chord_tones_shuffled_chords'])})")
    return result


def write_doc(infos, path):
    lines = ["# The packaged models", "",
             "Three MusicVAE models ship in `musicvae_tf/pretrained/`, one per config; without "
             "`--checkpoint_file`, `music_vae_generate --config=<config>`, `music_vae_evaluate` and "
             "`music_vae_quickstart` use them, offline. They are small versions of Magenta's configs, trained on "
             "the packaged public-domain data (docs/data.md) by `scripts/train_packaged_models.py` on a 2-core "
             "CPU; every figure below is measured on held-out tunes, whole tunes chosen when the data was built "
             "and never trained on, with the packaged float16 weights.", ""]
    for info in infos:
        lines += model_section(info, targets_of(info))
    kept = KEEP_MARKER + "\n"
    if os.path.exists(path):
        previous = open(path).read()
        if KEEP_MARKER in previous:
            kept = previous[previous.index(KEEP_MARKER):]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n" + kept)


def load_infos(pretrained_dir, names, info_file):
    infos = []
    for name, package in names:
        path = os.path.join(pretrained_dir, package, info_file)
        if os.path.exists(path):
            info = json.load(open(path))
            info["package"] = package
            infos.append(info)
    return infos
