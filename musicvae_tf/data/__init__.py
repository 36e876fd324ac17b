"""Input data for MusicVAE: tf.data pipelines and the folk tunes packaged as default data.

    from musicvae_tf import configs, data
    config = configs.CONFIG_MAP['cat-mel_2bar_small']
    batches = data.get_dataset(config, is_training=True)   # packaged folk tunes by default
    num_eval = data.count_examples(data.default_examples_path('eval'), config.data_converter)
    for sequence in data.read_note_sequences("notes.tfrecord"):   # the one NoteSequence reader
        ...
"""
import importlib.resources

SPLITS = ("train", "eval")
_SPLIT_ALIASES = {"validation": "eval", "test": "eval"}


def default_examples_path(split="train"):
    """Path (str) of the packaged folk-tune NoteSequence TFRecord for 'train' or 'eval'."""
    split = _SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected 'train' or 'eval'")
    path = importlib.resources.files(__name__).joinpath("folk", f"folk_{split}.tfrecord")
    if not path.is_file():
        raise FileNotFoundError(
            f"Packaged folk data is missing: {path} (rebuild it with scripts/build_folk_data.py)")
    return str(path)


def default_stats_path():
    """Path (str) of folk_stats.json, which describes the packaged folk data."""
    return str(importlib.resources.files(__name__).joinpath("folk", "folk_stats.json"))


def __getattr__(name):
    # The pipeline and the reader need TensorFlow: import them only when asked for.
    if name in ("get_dataset", "count_examples", "convert_to_tensors_op", "make_convert_fn"):
        from musicvae_tf.data import dataset

        return getattr(dataset, name)
    if name in ("read_note_sequences", "read_serialized", "resolve_examples_path"):
        from musicvae_tf.data import note_sequences

        return getattr(note_sequences, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["get_dataset", "count_examples", "default_examples_path", "default_stats_path",
           "read_note_sequences", "resolve_examples_path"]
