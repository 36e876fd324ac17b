"""The model to export: any checkpoint the port loads, built with the hparams it records.

    name, config, model = load_for_export("cat-mel_2bar_small.tar", "cat-mel_2bar_small")

Checkpoints: Magenta's (directory, model.ckpt-N prefix, .tar), a music_vae_train run (run_dir,
train/ or ckpt-N) and the port's exported/packaged models. The config comes from
`trained_model.config_for_checkpoint` (the name the checkpoint records, else `config_name`);
the weights from `checkpoints.load_weights` via `TrainedModel`.
"""

import os


def load_for_export(checkpoint_path, config_name=None, hparams_string=""):
    """(config name, Config with the checkpoint's hparams, Keras MusicVAE with its weights).

    Raises ValueError with a one-line message for a missing checkpoint, an unknown or
    conflicting config, or weights that do not fit.
    """
    from musicvae_tf.trained_model import TrainedModel, config_for_checkpoint

    path = os.path.expanduser(os.fspath(checkpoint_path))
    run_train = os.path.join(path, "train")
    if os.path.isdir(run_train) and not os.path.exists(os.path.join(path, "model.json")):
        path = run_train  # a music_vae_train run directory
    if not (os.path.exists(path) or os.path.exists(path + ".index")):
        raise ValueError(f"checkpoint not found: {checkpoint_path}")
    name, config, overrides = config_for_checkpoint(path, config_name, hparams_string or "")
    try:
        trained = TrainedModel(config, batch_size=1, checkpoint_dir_or_path=path,
                               hparams_overrides=overrides)
    except Exception as error:  # names/shapes that do not fit, unreadable files: one line
        lines = str(error).strip().splitlines()
        raise ValueError(f"cannot load checkpoint {checkpoint_path} for config {name}: "
                         f"{lines[0] if lines else type(error).__name__}")
    model = trained.model
    model.config_name = model.config_name or name
    return name, trained.config, model


def packaged_checkpoints():
    """{config name: path} of the models packaged with musicvae_tf (musicvae_tf/pretrained/)."""
    import pathlib

    from musicvae_tf import checkpoints

    directory = pathlib.Path(__file__).resolve().parent.parent / "pretrained"
    found = {}
    if not directory.is_dir():
        return found
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith((".", "_")) or not checkpoints.is_port_checkpoint(str(entry)):
            continue
        name, _ = checkpoints.read_stored_config(str(entry))
        if name and name not in found:
            found[name] = str(entry)
    return found
