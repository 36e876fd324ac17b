"""The web player: `music_vae_web --serve` writes and serves the site; headless Chromium uses it.

One browser session: the page loads the packaged model(s) without console errors, a click on
"Sample" draws notes (the piano roll's screenshot holds pixels of the note colour), "Play" starts
magenta.js's synthesizer, a folk tune's MIDI file dropped on "A" is read, "Interpolate" decodes a
strip of steps from it to a sample, and the MIDI download link carries a MIDI file that note_seq
reads.
"""

import base64
import re
import subprocess
import time

import numpy as np
import pytest

import browser_env
from conftest import console_command

pytestmark = pytest.mark.skipif(browser_env.missing() is not None, reason=str(browser_env.missing()))

NOTE_RGB = (230, 80, 30)  # app.js's NOTE_RGB


def note_pixels(png_path):
    """How many pixels of the PNG have the piano roll's note colour."""
    from matplotlib import image

    pixels = image.imread(png_path)[..., :3]
    if pixels.dtype != np.uint8:
        pixels = np.round(pixels * 255)
    return int((np.abs(pixels.astype(np.int32) - np.array(NOTE_RGB)).max(-1) <= 12).sum())


@pytest.fixture(scope="module")
def served_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("web") / "site"
    process = subprocess.Popen(console_command("music_vae_web") + [f"--output_dir={site}", "--serve",
                                                                    "--port=0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, url, deadline = [], None, time.time() + 240
    try:
        while url is None and time.time() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        assert url, f"no URL printed: {''.join(lines)} {process.stderr.read() if process.poll() else ''}"
        yield site, url, "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=30)


def folk_tune_midi(path):
    """A packaged folk tune (the first of the eval set) as a MIDI file: what a user would drop."""
    import note_seq

    from musicvae_tf import data

    tune = next(iter(data.read_note_sequences(data.default_examples_path("eval"), limit=1)))
    note_seq.sequence_proto_to_midi_file(tune, str(path))
    return base64.b64encode(path.read_bytes()).decode("ascii")


DROP_ON_A = """(() => {
  const bytes = Uint8Array.from(atob('%s'), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], 'tune.mid', {type: 'audio/midi'}));
  document.getElementById('end-a').dispatchEvent(
      new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
  return new Promise((resolve) => {
    const check = () => {
      const text = document.querySelector('#end-a .what').textContent;
      if (text !== 'empty') resolve(text); else setTimeout(check, 100);
    };
    check();
  });
})()"""


@pytest.fixture(scope="module")
def page_report(served_site, tmp_path_factory):
    site, url, _ = served_site
    shots = tmp_path_factory.mktemp("shots")
    midi = folk_tune_midi(shots / "tune.mid")
    report = browser_env.run_page(url, [
        {"wait": "body[data-ready]"},
        {"screenshot": str(shots / "before.png"), "selector": "#roll"},
        {"click": "#sample"},
        {"wait": "body[data-drawn]"},
        {"eval": "Number(document.body.dataset.drawn)"},
        {"screenshot": str(shots / "roll.png"), "selector": "#roll"},
        {"screenshot": str(shots / "page.png")},
        # The download link's MIDI bytes, base64.
        {"eval": "fetch(document.getElementById('download').href).then(r => r.arrayBuffer())"
                 ".then(b => btoa(String.fromCharCode(...new Uint8Array(b))))"},
        {"click": "#play"},
        {"eval": "new Promise(r => setTimeout(() => r(document.getElementById('status').textContent), 300))"},
        {"click": "#stop"},
        {"eval": DROP_ON_A % midi},
        {"click": "#interpolate"},
        {"wait": "#strip figure"},
        {"eval": "document.querySelectorAll('#strip figure').length"},
        {"eval": "document.getElementById('status').className"},
    ])
    return report, shots


def test_site_says_how_magenta_js_is_loaded(served_site):
    site, _, output = served_site
    assert "magenta.js: @magenta/music" in output
    page = (site / "index.html").read_text()
    if (site / "magentamusic.js").exists():
        assert 'src="magentamusic.js"' in page and "copied from" in output
    else:
        assert "cdn.jsdelivr.net" in page and "loaded by the page from" in output


def test_page_loads_without_errors(page_report):
    report, _ = page_report
    assert "error" not in report, report
    assert report["console_errors"] == [] and report["page_errors"] == [], report
    assert report["failed_requests"] == []
    assert report["results"][-1] == ""  # the status line is not an error


def test_sample_draws_notes(page_report):
    report, shots = page_report
    assert report["results"][0] > 0  # notes in the sampled sequence
    assert note_pixels(shots / "before.png") == 0
    assert note_pixels(shots / "roll.png") > 50


def test_play_interpolate_and_download(page_report):
    import note_seq

    report, _ = page_report
    midi = base64.b64decode(report["results"][1])
    sequence = note_seq.midi_to_note_sequence(midi)
    assert len(sequence.notes) == report["results"][0]
    assert report["results"][2].startswith("Playing")
    assert report["results"][3].startswith("tune.mid: ") and "notes, 2 bars" in report["results"][3]
    assert report["results"][4] == 5
