"""musicvae-tf: Magenta's MusicVAE in Keras 3 / TensorFlow 2.

Heavy submodules are imported lazily so that `import musicvae_tf` stays cheap.
"""

__version__ = "0.1.0"

# note_seq's audio and notebook modules (pydub's ffmpeg warning, ~300 modules) load at first use.
from musicvae_tf import deferred_imports as _deferred_imports  # noqa: E402

_deferred_imports.install()

_LAZY = {
    "TrainedModel": ("musicvae_tf.trained_model", "TrainedModel"),
    "NoExtractedExamplesError": ("musicvae_tf.trained_model", "NoExtractedExamplesError"),
    "MultipleExtractedExamplesError": ("musicvae_tf.trained_model", "MultipleExtractedExamplesError"),
    "configs": ("musicvae_tf.configs", None),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'musicvae_tf' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)
