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
    (librosa, pydub, scipy). Both become stand-in modules that load the real one at the first use
    of any of their names (`note_seq.audio_io.wav_data_to_samples`, `note_seq.plot_sequence`, ...).
`install()` arms both for the rest of the process (only the console scripts call it, in
cli.common.run_script); it changes nothing that is already imported.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# Optional packages of Keras (and of TensorFlow's legacy Keras) that no tool needs from them.
KERAS_OPTIONAL = frozenset(("sklearn", "matplotlib", "pandas", "IPython", "scipy"))
# note_seq modules loaded on first use, with the names note_seq's __init__ imports from them.
NOTE_SEQ_DEFERRED = {
    "note_seq.notebook_utils": ("play_sequence", "plot_sequence"),
    "note_seq.audio_io": (),
}
_IMPORT_MACHINERY = ("importlib", "importlib._bootstrap", "importlib._bootstrap_external",
                     "_frozen_importlib", "_frozen_importlib_external", __name__)


def install():
    """Arms the lean start-up for this process (idempotent; see the module docstring)."""
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
        if fullname in NOTE_SEQ_DEFERRED:
            real = importlib.machinery.PathFinder.find_spec(fullname, path)
            if real is not None:
                return importlib.util.spec_from_loader(fullname, _StandInLoader(real))
        return None


class _StandInLoader(importlib.abc.Loader):
    def __init__(self, real_spec):
        self._real_spec = real_spec

    def create_module(self, spec):
        return _StandIn(spec.name, self._real_spec)

    def exec_module(self, module):
        pass


class _StandIn(types.ModuleType):
    """A module that loads the real one at the first use of a name, then forwards to it.

    The names the parent package imports by `from ... import name` are forwarding functions, so
    that importing the parent loads nothing. Once loaded, sys.modules and the parent package hold
    the real module."""

    def __init__(self, name, real_spec):
        super().__init__(name)
        self.__dict__["_real_spec"] = real_spec
        self.__dict__["_real"] = None
        for attr in NOTE_SEQ_DEFERRED.get(name, ()):
            self.__dict__[attr] = _forwarder(self, attr)

    def _load(self):
        if self._real is None:
            module = importlib.util.module_from_spec(self._real_spec)
            sys.modules[self.__name__] = module
            try:
                self._real_spec.loader.exec_module(module)
            except BaseException:
                sys.modules[self.__name__] = self
                raise
            self.__dict__["_real"] = module
            parent, _, child = self.__name__.rpartition(".")
            if parent in sys.modules:
                setattr(sys.modules[parent], child, module)
        return self._real

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return getattr(self._load(), name)


def _forwarder(stand_in, name):
    def forward(*args, **kwargs):
        return getattr(stand_in._load(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = stand_in.__name__
    forward.__doc__ = f"{stand_in.__name__}.{name}, loaded on first call."
    return forward
