"""Personal models (MidiMe): a small VAE fitted in seconds to a MusicVAE's codes of a user's pieces.

    from musicvae_tf import personalize
    personal = personalize.personalize("model_dir_or.tar", "my_midis/", "my_model/",
                                       config_name="cat-mel_2bar_small")
    samples = personalize.PersonalModel.load("my_model/").sample(8, seed=0)

Modules: `midime` (the model, its loss and fitting), `personal_model` (encoding the pieces,
saving and loading beside a reference to the base model). Command line: music_vae_personalize,
then music_vae_generate --personal_model=my_model/.
"""

# Lazy, so that `python -m musicvae_tf.personalize --help` (this package's __main__) answers
# without importing TensorFlow.
_LAZY = {"MidiMe": "midime", "fit": "midime", "PersonalModel": "personal_model",
         "PersonalModelError": "personal_model", "encode_pieces": "personal_model",
         "load_base_model": "personal_model", "personalize": "personal_model"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'musicvae_tf.personalize' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"musicvae_tf.personalize.{_LAZY[name]}"), name)
