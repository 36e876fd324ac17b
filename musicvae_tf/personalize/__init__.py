"""Personal models (MidiMe): a small VAE fitted in seconds to a MusicVAE's codes of a user's pieces.

    from musicvae_tf import personalize
    personal = personalize.personalize("model_dir_or.tar", "my_midis/", "my_model/",
                                       config_name="cat-mel_2bar_small")
    samples = personalize.PersonalModel.load("my_model/").sample(8, seed=0)

Modules: `midime` (the model, its loss and fitting), `personal_model` (encoding the pieces,
saving and loading beside a reference to the base model). Command line: music_vae_personalize,
then music_vae_generate --personal_model=my_model/.
"""

from musicvae_tf.personalize.midime import MidiMe, fit
from musicvae_tf.personalize.personal_model import (PersonalModel, PersonalModelError, encode_pieces,
                                                    load_base_model, personalize)

__all__ = ["MidiMe", "PersonalModel", "PersonalModelError", "encode_pieces", "fit", "load_base_model",
           "personalize"]
