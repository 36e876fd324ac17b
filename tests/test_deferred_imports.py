"""musicvae_tf.deferred_imports: `import musicvae_tf` leaves note_seq's audio and notebook modules
(pydub, librosa, bokeh) unloaded until their first use, so importing the library prints no
"Couldn't find ffmpeg" warning on a machine without ffmpeg, and they work when used."""
import json
import subprocess
import sys

_RUN = r"""
import json, sys, warnings
warnings.simplefilter("always")  # every warning reaches stderr
import musicvae_tf.configs
import note_seq
from note_seq import audio_io
before = {name: name in sys.modules for name in ("pydub", "librosa", "bokeh")}
stand_in = type(sys.modules["note_seq.audio_io"]).__name__
import numpy as np
wav = audio_io.samples_to_wav_data(np.zeros(160, np.float32), 16000)  # first use: the real module
print(json.dumps({"before": before, "stand_in": stand_in, "wav_bytes": len(wav),
                  "after": type(sys.modules["note_seq.audio_io"]).__name__,
                  "on_package": note_seq.audio_io is sys.modules["note_seq.audio_io"],
                  "plot_sequence": note_seq.plot_sequence.__name__}))
"""


def test_note_seq_extras_load_at_first_use():
    result = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["before"] == {"pydub": False, "librosa": False, "bokeh": False}
    assert found["stand_in"] == "_StandIn"
    assert found["wav_bytes"] == 44 + 2 * 160  # a 16-bit mono WAV header and its samples
    assert found["after"] == "module" and found["on_package"]
    assert found["plot_sequence"] == "plot_sequence"


def test_importing_the_library_prints_no_ffmpeg_warning():
    code = "import warnings; warnings.simplefilter('always'); import musicvae_tf.configs, note_seq"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ffmpeg" not in result.stderr and "pydub" not in result.stderr, result.stderr[-2000:]
