"""note_seq's audio and notebook modules, loaded at their first use instead of at `import note_seq`.

note_seq's package `__init__` imports `notebook_utils` (bokeh, IPython, pandas) and `audio_io`
(librosa, pydub, scipy.io), which nothing in musicvae_tf needs to import note_seq: pydub prints
"Couldn't find ffmpeg or avconv" (a RuntimeWarning) on a machine without ffmpeg, and the pair
costs about 300 modules. `install()` (called by `import musicvae_tf`, before anything of it
imports note_seq) makes both stand-in modules that load the real one at the first use of any of
their names (`note_seq.audio_io.wav_data_to_samples`, `note_seq.plot_sequence`, ...), after which
sys.modules and the note_seq package hold the real module. Nothing changes when note_seq was
imported before musicvae_tf.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# note_seq modules loaded on first use, with the names note_seq's __init__ imports from them.
NOTE_SEQ_DEFERRED = {
    "note_seq.notebook_utils": ("play_sequence", "plot_sequence"),
    "note_seq.audio_io": (),
}


def install():
    """Arms the deferral for this process (idempotent; see the module docstring)."""
    if not any(isinstance(finder, DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeferringFinder())


class DeferringFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
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
