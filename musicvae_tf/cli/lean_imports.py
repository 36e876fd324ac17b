"""A lighter start for the console scripts: optional packages that TensorFlow, Keras and note_seq
import at start-up, and that a tool run does not use, are not loaded.

`import tensorflow` and `import note_seq` pull in ~1400 modules that no tool needs (counted in
sys.modules after a `music_vae_generate` run: 4600 without this, 3200 with it):
  * Keras 3 (which TensorFlow imports) tries scikit-learn (its scikit-learn wrappers), matplotlib
    (image galleries), pandas (DataFrame inputs) and IPython (notebook detection), and TensorFlow's
    legacy Keras tries scipy.sparse (scipy.stats and scipy.io then stay unloaded; note_seq needs
    scipy.linalg), each as a module-level `try: import ... except ImportError`.
    Those module-level imports, made by a keras.* or tensorflow.* module while it is first
    executed, find the package missing (Keras then works as without it installed). Every other
    import of them (our code, other packages, Keras inside a function at run time) loads it as usual.
    What a tool process thereby lacks, none of it used by any tool: keras.wrappers' scikit-learn
    estimators, keras.visualization's galleries, pandas DataFrames as Keras fit() inputs, the
    notebook display of keras.saving.KerasFileEditor, scipy.sparse inputs of legacy tf.keras.
  * note_seq's package `__init__` imports `notebook_utils` (bokeh, IPython, pandas) and `audio_io`
    (librosa, pydub, scipy): `import musicvae_tf` already defers both to their first use
    (musicvae_tf.deferred_imports; install() arms it too, in case).
`install()` arms the first for the rest of the process (only the console scripts call it, in
cli.common.run_script); it changes nothing that is already imported.
"""

import importlib.abc
import sys

from musicvae_tf import deferred_imports

# Optional packages of Keras (and of TensorFlow's legacy Keras) that no tool needs from them.
KERAS_OPTIONAL = frozenset(("sklearn", "matplotlib", "pandas", "IPython", "scipy"))
_IMPORT_MACHINERY = ("importlib", "importlib._bootstrap", "importlib._bootstrap_external",
                     "_frozen_importlib", "_frozen_importlib_external", __name__)


def install():
    """Arms the lean start-up for this process (idempotent; see the module docstring)."""
    deferred_imports.install()
    if not any(isinstance(finder, _LeanFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _LeanFinder())


def _importer_is_keras_module_body():
    """True when the import statement runs in the module-level code of a keras.* / tensorflow.*
    module (its first execution), not in a function."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in _IMPORT_MACHINERY:
        frame = frame.f_back
    if frame is None or frame.f_code.co_name != "<module>":
        return False
    return frame.f_globals.get("__name__", "").partition(".")[0] in ("keras", "tensorflow")


class _LeanFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in KERAS_OPTIONAL and _importer_is_keras_module_body():
            raise ModuleNotFoundError(f"No module named {fullname!r} (lean start-up)", name=fullname)
        return None
