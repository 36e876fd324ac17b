"""A lighter start for the console scripts: optional packages that TensorFlow, Keras and note_seq
import at start-up, and that no tool uses, are not loaded.

Of the ~9 s a `music_vae_generate` run takes, importing took ~7 s; a third of that was packages the
run never touches (`python -X importtime`):
  * Keras 3, which `import tensorflow` loads, tries scikit-learn (its scikit-learn wrappers),
    matplotlib (image galleries), pandas (DataFrame inputs) and IPython (notebook detection), and
    TensorFlow's legacy Keras tries scipy.sparse, each as `try: import ... except ImportError`.
    While Keras is first imported they are made unimportable (`sys.modules[name] = None`, only
    for those not loaded yet) and importable again right after: Keras then works as it does
    without them installed, and a later `import scipy` (or pandas, ...) loads them as usual.
  * note_seq's package `__init__` imports `notebook_utils` (bokeh, IPython, pandas) and
    `audio_io` (librosa, pydub, scipy). They become stand-in modules that load the real module
    at the first use of any of their names.
`install()` arms both for the rest of the process; it changes nothing that is already imported.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# Optional imports of Keras (and of TensorFlow's legacy Keras) that no tool needs.
KERAS_OPTIONAL = ("sklearn", "matplotlib", "pandas", "IPython", "scipy")
# note_seq modules loaded on first use, with the names note_seq's __init__ imports from them.
NOTE_SEQ_DEFERRED = {
    "note_seq.notebook_utils": ("play_sequence", "plot_sequence"),
    "note_seq.audio_io": (),
}


def install():
    """Arms the lean start-up for this process (idempotent; see the module docstring)."""
    if any(isinstance(finder, _LeanFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _LeanFinder())


def _keras_or_tensorflow(name):
    top = name.partition(".")[0]
    return top in ("keras", "tensorflow")


class _LeanFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname in sys.modules:
            return None
        if _keras_or_tensorflow(fullname):
            # (TensorFlow imports Keras' submodules after `keras` itself, and Keras some of its
            # own on first use: every first import of one of their modules runs without them)
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = _WithoutOptional(spec.loader)
            return spec
        if fullname in NOTE_SEQ_DEFERRED:
            real = importlib.machinery.PathFinder.find_spec(fullname, path)
            if real is None:
                return None
            return importlib.util.spec_from_loader(fullname, _StandInLoader(real))
        return None


_hiding = {"depth": 0, "names": []}


class _WithoutOptional(importlib.abc.Loader):
    """Executes a module with KERAS_OPTIONAL unimportable (those not imported yet)."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = self._loader  # the package sees its own loader, as without us
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        if _hiding["depth"] == 0:
            _hiding["names"] = [name for name in KERAS_OPTIONAL if name not in sys.modules]
            for name in _hiding["names"]:
                sys.modules[name] = None
        _hiding["depth"] += 1
        try:
            self._loader.exec_module(module)
        finally:
            _hiding["depth"] -= 1
            if _hiding["depth"] == 0:
                for name in _hiding["names"]:
                    if name in sys.modules and sys.modules[name] is None:
                        del sys.modules[name]


class _StandInLoader(importlib.abc.Loader):
    def __init__(self, real_spec):
        self._real_spec = real_spec

    def create_module(self, spec):
        return _StandIn(spec.name, self._real_spec)

    def exec_module(self, module):
        pass


class _StandIn(types.ModuleType):
    """A module that loads the real one at the first use of a name (then forwards to it).

    The names the parent package imports by `from ... import name` are forwarding functions,
    so that importing the parent loads nothing."""

    def __init__(self, name, real_spec):
        super().__init__(name)
        self.__dict__["_real_spec"] = real_spec
        self.__dict__["_real"] = None
        for attr in NOTE_SEQ_DEFERRED.get(name, ()):
            self.__dict__[attr] = _forwarder(self, attr)

    def _load(self):
        if self._real is None:
            module = importlib.util.module_from_spec(self._real_spec)
            self.__dict__["_real"] = module
            sys.modules[self.__name__] = module
            try:
                self._real_spec.loader.exec_module(module)
            except BaseException:
                sys.modules[self.__name__] = self
                self.__dict__["_real"] = None
                raise
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
    forward.__doc__ = f"{stand_in.__name__}.{name}, loaded on first call."
    return forward
