"""A personal model: MidiMe fitted to a user's pieces, saved beside a reference to its MusicVAE.

    from musicvae_tf import personalize
    personal = personalize.personalize("cat-mel_2bar_small.tar", "my_midis/", "my_model/",
                                       config_name="cat-mel_2bar_small")
    melodies = personal.sample(8, temperature=0.5, seed=0)          # NoteSequences in their style
    personal = personalize.PersonalModel.load("my_model/")           # later, elsewhere

Fitting: every file under the input folder is read as music_vae_convert reads it (MIDI,
MusicXML, ABC; unreadable files are skipped and listed), the config's converter extracts every
example of every piece (eval mode, no cap per piece), the MusicVAE encodes them, and MidiMe
(`midime.py`) is fitted to their means. The folder written holds
    personal_model.json   what the base model is (checkpoint path, or the packaged model's name,
                          config, hparams, a fingerprint of its weights), MidiMe's config, the
                          inputs used and the fit's losses
    midime.weights.h5     MidiMe's weights
It is written to a temporary folder and renamed, and an existing non-empty folder is refused:
nothing is overwritten. Loading checks the base model's weights against the fingerprint, so
samples never silently go through another model than the one the codes came from.
"""

import json
import os
import pathlib
import shutil
import tempfile
import time

import numpy as np
from absl import logging

from musicvae_tf import checkpoints, output_folders
from musicvae_tf.personalize import midime as midime_lib

INFO_FILE = "personal_model.json"
WEIGHTS_FILE = "midime.weights.h5"
FORMAT = "musicvae_tf.personal_model"
FORMAT_VERSION = 1
_PACKAGED_PREFIX = "packaged:"


class PersonalModelError(ValueError):
    """A problem with a personal model or its inputs (one-line message)."""


def base_reference(checkpoint):
    """How the base checkpoint is recorded: 'packaged:<name>' inside the package, else an absolute path."""
    path = pathlib.Path(os.path.expanduser(os.fspath(checkpoint))).resolve()
    try:
        return _PACKAGED_PREFIX + str(path.relative_to(pathlib.Path(checkpoints.PRETRAINED_DIR).resolve()))
    except ValueError:
        return str(path)


def resolve_reference(reference):
    if reference.startswith(_PACKAGED_PREFIX):
        return str(pathlib.Path(checkpoints.PRETRAINED_DIR) / reference[len(_PACKAGED_PREFIX):])
    return reference


def _same_fingerprint(a, b):
    return all(abs(x - y) <= 1e-9 * max(1.0, abs(x)) for x, y in zip(a, b))


def load_base_model(checkpoint, config_name=None, hparams="", batch_size=64):
    """(config name, TrainedModel in eval-free infer mode) for a base checkpoint, as the CLIs choose it."""
    from musicvae_tf import trained_model

    _, name, config, overrides = checkpoints.resolve(checkpoint, config_name, hparams)
    if config.data_converter.control_depth:
        raise PersonalModelError(f"{name} is conditioned on controls (chords); personal models need "
                                 "an unconditioned config")
    if not config.hparams.z_size:
        raise PersonalModelError(f"{name} has no latent code (z_size=0); nothing to personalise")
    model = trained_model.TrainedModel(config, batch_size=batch_size, checkpoint_dir_or_path=checkpoint,
                                       hparams_overrides=overrides)
    return name, model


def read_pieces(input_dir, recursive=True):
    """(serialized NoteSequences, error lines) of the files under `input_dir`, in sorted order."""
    from musicvae_tf.data import music_files

    if not os.path.isdir(input_dir):
        raise PersonalModelError(f"--input_dir is not a directory: {input_dir}")
    files, _ = music_files.list_input_files(input_dir, recursive)
    records, errors = [], []
    for relative, kind in files:
        file_records, file_errors, _ = music_files.convert_file((input_dir, relative, kind))
        records.extend(file_records)
        errors.extend(file_errors)
    return records, errors


def extract_examples(config, note_sequences):
    """(inputs, lengths) of every example the config's converter extracts from the pieces."""
    import copy

    converter = copy.deepcopy(config.data_converter)
    converter.set_mode("eval")
    converter.max_tensors_per_notesequence = None
    inputs, lengths = [], []
    for sequence in note_sequences:
        tensors = converter.to_tensors(sequence)
        inputs.extend(tensors.inputs)
        lengths.extend(tensors.lengths)
    return inputs, lengths


def encode_pieces(model, note_sequences):
    """[n, z_size] means of every example of the pieces (empty [0, z_size] when there is none)."""
    inputs, lengths = extract_examples(model.config, note_sequences)
    if not inputs:
        return np.zeros([0, model.config.hparams.z_size], np.float32)
    _, mu, _ = model.encode_tensors(inputs, lengths)
    return np.asarray(mu, np.float32)


def check_output_dir(directory):
    """The absolute output folder; PersonalModelError when it exists and is not an empty folder."""
    directory = os.path.abspath(os.path.expanduser(os.fspath(directory)))
    output_folders.check_new_or_empty(directory, error=PersonalModelError)
    return directory


class PersonalModel:
    """MidiMe plus the MusicVAE it decodes through."""

    def __init__(self, midime, base_model, info):
        self.midime = midime
        self.base_model = base_model
        self.info = info

    def sample_codes(self, n, seed=None):
        """[n, z_size] MusicVAE codes drawn through MidiMe."""
        return self.midime.sample(n, seed=seed)

    def sample(self, n, length=None, temperature=1.0, seed=None):
        """`n` NoteSequences decoded from MidiMe's samples (decoder noise seeded by `seed` too)."""
        if seed is not None:
            import tensorflow as tf

            tf.random.set_seed(seed)
        length = length or self.base_model.config.hparams.max_seq_len
        return self.base_model.decode(self.sample_codes(n, seed), length=length, temperature=temperature)

    def save(self, directory):
        directory = check_output_dir(directory)
        parent = os.path.dirname(directory)
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".personal_model.", dir=parent)
        try:
            with tempfile.TemporaryDirectory(prefix="musicvae_midime_") as scratch:
                # HDF5 on a full disk prints error stacks and can crash the process at exit; a plain
                # copy of the finished file fails cleanly with OSError.
                self.midime.save_weights(os.path.join(scratch, WEIGHTS_FILE))
                shutil.copyfile(os.path.join(scratch, WEIGHTS_FILE), os.path.join(staging, WEIGHTS_FILE))
            with open(os.path.join(staging, INFO_FILE), "w") as handle:
                json.dump(self.info, handle, indent=1)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp's folder is private; the result is a normal folder
            if os.path.isdir(directory):
                os.rmdir(directory)  # empty: checked above
            os.rename(staging, directory)
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging, ignore_errors=True)
        return directory

    @classmethod
    def load(cls, directory, checkpoint_file=None, batch_size=64):
        """Reads a saved personal model and its base MusicVAE (`checkpoint_file` if it moved)."""
        directory = os.path.expanduser(os.fspath(directory))
        info_path = os.path.join(directory, INFO_FILE)
        if not os.path.isfile(info_path):
            raise PersonalModelError(f"{directory} holds no personal model ({INFO_FILE} missing)")
        try:
            with open(info_path) as handle:
                info = json.load(handle)
        except ValueError as error:
            raise PersonalModelError(f"{info_path} is not valid JSON: {error}") from None
        if (not isinstance(info, dict) or info.get("format") != FORMAT
                or info.get("format_version", 0) > FORMAT_VERSION):
            raise PersonalModelError(f"{info_path} is not a personal model this version reads")
        try:
            return cls._load_recorded(directory, info, checkpoint_file, batch_size)
        except (KeyError, TypeError, AttributeError) as error:  # an edited or foreign record
            raise PersonalModelError(f"{info_path} lacks or garbles {error}: not a personal model this "
                                     "version reads") from None

    @classmethod
    def _load_recorded(cls, directory, info, checkpoint_file, batch_size):
        base = info["base_model"]
        checkpoint = checkpoint_file or resolve_reference(base["checkpoint"])
        if not (os.path.exists(checkpoint) or os.path.exists(checkpoint + ".index")):
            raise PersonalModelError(f"the base model {checkpoint} of {directory} is missing; pass its new "
                                     "place with --checkpoint_file")
        hparams = ",".join(f"{k}={_hparam_text(v)}" for k, v in sorted(base["hparams"].items())
                           if k != "batch_size")
        _, base_model = load_base_model(checkpoint, base["config"], hparams, batch_size)
        if not _same_fingerprint(checkpoints.weights_fingerprint(base_model.model), base["weights_fingerprint"]):
            raise PersonalModelError(f"{checkpoint} holds other weights than the model {directory} was "
                                     "fitted with; pass that model with --checkpoint_file")
        midime = midime_lib.MidiMe(**info["midime"])
        try:
            midime.load_weights(os.path.join(directory, WEIGHTS_FILE))
        except (OSError, ValueError) as error:  # h5py / Keras: a missing or damaged weights file
            raise PersonalModelError(f"cannot read the weights of {directory}: "
                                     f"{(str(error).splitlines() or [''])[0]}") from None
        return cls(midime, base_model, info)


def _hparam_text(value):
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def personalize(checkpoint, inputs, output_dir=None, config_name=None, hparams="", steps=300,
                latent_size=midime_lib.DEFAULT_LATENT_SIZE, beta=1.0, learning_rate=1e-3, seed=0,
                batch_size=64, base_model=None, skipped=()):
    """Fits MidiMe to `inputs` (a folder of MIDI/MusicXML/ABC files, or NoteSequences) through the
    MusicVAE at `checkpoint`; saves it to `output_dir` when given. Returns the PersonalModel.

    `base_model`: that MusicVAE already loaded (a TrainedModel); `skipped`: lines naming input files
    that could not be read (recorded with the fit)."""
    import keras
    import note_seq

    start = time.time()
    if output_dir is not None:
        check_output_dir(output_dir)
    if base_model is None:
        config_name, base_model = load_base_model(checkpoint, config_name, hparams, batch_size)
    errors = list(skipped)
    if isinstance(inputs, (str, os.PathLike)):
        records, read_errors = read_pieces(os.path.expanduser(os.fspath(inputs)))
        errors.extend(read_errors)
        sequences = [note_seq.NoteSequence.FromString(r) for r in records]
    else:
        sequences = list(inputs)
    names = [s.filename or s.id for s in sequences]
    codes = encode_pieces(base_model, sequences)
    if not len(codes):
        raise PersonalModelError(f"the {type(base_model.config.data_converter).__name__} of {config_name} "
                                 f"extracted no example from the {len(sequences)} pieces given")
    logging.info("Encoded %d examples of %d pieces; fitting MidiMe", len(codes), len(sequences))
    keras.utils.set_random_seed(seed)
    midime = midime_lib.MidiMe(input_size=codes.shape[1], latent_size=latent_size, beta=beta)
    history = midime_lib.fit(midime, codes, steps=steps, learning_rate=learning_rate, seed=seed,
                             log_every=max(1, steps // 5),
                             log_fn=lambda s, t, r, k: logging.info("MidiMe step %d: loss=%.3f "
                                                                     "(reconstruction %.3f, KL %.3f)", s, t, r, k))
    hp = base_model.config.hparams.values()
    info = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "base_model": {"checkpoint": base_reference(checkpoint), "config": config_name,
                       "hparams": {k: v for k, v in hp.items() if k != "batch_size"},
                       "weights_fingerprint": checkpoints.weights_fingerprint(base_model.model)},
        "midime": {k: midime.get_config()[k] for k in ("input_size", "latent_size", "encoder_layers",
                                                       "decoder_layers", "beta")},
        "fit": {"pieces": names, "skipped": errors, "examples": int(len(codes)), "steps": steps,
                "learning_rate": learning_rate, "seed": seed, "seconds": round(time.time() - start, 2),
                "first_loss": history["loss"][0], "final_loss": history["loss"][-1],
                "final_reconstruction_loss": history["r_loss"][-1], "final_kl": history["kl"][-1]},
    }
    personal = PersonalModel(midime, base_model, info)
    if output_dir is not None:
        personal.save(output_dir)
    return personal
