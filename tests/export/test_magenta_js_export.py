"""magenta.js export without a browser: which configs export, refusals, weight files, the site builder."""

import json
import os

import numpy as np
import pytest

from kit import TINY
from musicvae_tf import configs
from musicvae_tf.export import magenta_js, tfjs_weights, web_site


def _small(name, hparams=TINY):
    from musicvae_tf.model import build_model

    config = configs.get_config(name, hparams)
    return config, build_model(config, config_name=name)


def test_which_configs_export():
    assert magenta_js.exportable_configs() == [
        "cat-drums_2bar_big", "cat-drums_2bar_small", "cat-mel_2bar_big", "cat-mel_2bar_med_chords",
        "cat-mel_2bar_small", "groovae_2bar_add_closed_hh", "groovae_2bar_humanize",
        "groovae_2bar_tap_fixed_velocity", "groovae_2bar_tap_fixed_velocity_note_dropout", "groovae_4bar",
        "hier-mel_16bar", "hier-trio_16bar", "nade-drums_2bar_full", "nade-drums_2bar_reduced"]


@pytest.mark.parametrize("name, reason", [
    ("hierdec-mel_16bar", "single-layer bidirectional encoders only; this config's encoder has 2 layers"),
    ("flat-mel_16bar", "single-layer bidirectional encoders only"),
    ("hierdec-trio_16bar", "encoder has 2 layers"),
    ("hier-multiperf_vel_1bar_med", "no data converter matching MultiInstrumentPerformanceConverter"),
    ("groovae_2bar_hits_control_tfds", "hits as controls"),
])
def test_refusals_say_why_and_what_exports(name, reason):
    with pytest.raises(magenta_js.UnsupportedForMagentaJs) as error:
        magenta_js.magenta_js_spec(configs.get_config(name), name)
    message = str(error.value)
    assert "\n" not in message and reason in message and "configs that export: cat-drums_2bar_big" in message


def test_hierdec_with_a_one_layer_encoder_still_refused():
    config = configs.get_config("hierdec-mel_16bar", "enc_rnn_size=[64]")
    with pytest.raises(magenta_js.UnsupportedForMagentaJs, match="conductor .* only together with a hierarchical"):
        magenta_js.magenta_js_spec(config)


def test_specs_match_our_converters():
    spec = magenta_js.magenta_js_spec(configs.get_config("hier-mel_16bar"))
    assert spec == {"type": "MusicVAE", "dataConverter": {"type": "MelodyConverter", "args": {
        "numSteps": 256, "numSegments": 16, "minPitch": 21, "maxPitch": 108, "ignorePolyphony": True}}}
    drums = magenta_js.magenta_js_spec(configs.get_config("nade-drums_2bar_reduced"))["dataConverter"]
    assert drums["type"] == "DrumRollConverter" and len(drums["args"]["pitchClasses"]) == 9
    trio = magenta_js.magenta_js_spec(configs.get_config("hier-trio_16bar"))["dataConverter"]
    assert trio["type"] == "TrioConverter" and trio["args"]["numSegments"] == 16
    groove = magenta_js.magenta_js_spec(configs.get_config("groovae_2bar_humanize"))["dataConverter"]
    assert groove["args"]["humanize"] is True and len(groove["args"]["pitchClasses"]) == 9


@pytest.mark.parametrize("quantization", [None, "float16", "uint8"])
def test_weights_round_trip(tmp_path, quantization):
    config, model = _small("cat-mel_2bar_small")
    files = magenta_js.export(model, config, str(tmp_path / "m"), quantization=quantization)
    assert files[0] == "config.json" and "weights_manifest.json" in files
    got = tfjs_weights.read_weights(str(tmp_path / "m"))
    manifest = json.loads((tmp_path / "m" / "weights_manifest.json").read_text())
    entries = {e["name"]: e for e in manifest[0]["weights"]}
    want = {name: v.numpy() for name, v in model.tf1_variables().items()}
    assert set(got) == set(want) and not any("Adam" in n or "step" in n for n in got)
    for name, values in want.items():
        if quantization is None:
            np.testing.assert_array_equal(got[name], values)
        elif quantization == "float16":
            np.testing.assert_array_equal(got[name], values.astype(np.float16).astype(np.float32))
        else:
            assert np.abs(got[name] - values).max() <= entries[name]["quantization"]["scale"] / 2 + 1e-7


def test_uint8_keeps_zero_exact():
    values = np.array([-0.37, 0.0, 0.0, 0.11, 0.9], np.float32)
    codes, low, scale = tfjs_weights.quantize_uint8(values)
    decoded = codes * np.float32(scale) + np.float32(low)
    assert decoded[1] == 0.0 and np.abs(decoded - values).max() <= scale / 2 + 1e-7


def test_shards_are_cut_at_the_limit(tmp_path):
    weights = {"a": np.arange(300, dtype=np.float32), "b": np.ones([7, 9], np.float32)}
    files = tfjs_weights.write_weights(weights, str(tmp_path), shard_bytes=500)
    assert files == ["weights_manifest.json"] + [f"group1-shard{i}of3.bin" for i in (1, 2, 3)]
    got = tfjs_weights.read_weights(str(tmp_path))
    np.testing.assert_array_equal(got["a"], weights["a"])
    np.testing.assert_array_equal(got["b"], weights["b"])


def test_export_refuses_a_non_empty_folder(tmp_path):
    config, model = _small("cat-mel_2bar_small")
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="not empty"):
        magenta_js.export(model, config, str(tmp_path))
    assert (tmp_path / "mine.txt").read_text() == "keep" and len(list(tmp_path.iterdir())) == 1


def test_site_rewrites_its_own_files_but_not_the_users(tmp_path):
    config, model = _small("cat-mel_2bar_med_chords")
    site = tmp_path / "site"
    models = [web_site.SiteModel("chords", model, config, "test")]
    names, how = web_site.build_site(str(site), models, use_cdn=True)
    assert names == ["chords"] and web_site.CDN_URL in how
    assert web_site.CDN_URL in (site / "index.html").read_text()
    listed = json.loads((site / "models.json").read_text())
    assert listed[0]["chordEncoder"] == "TriadChordEncoder" and listed[0]["numSteps"] == 32
    web_site.build_site(str(site), models, use_cdn=True)  # its own, unchanged files: replaced
    (site / "style.css").write_text("/* mine */")
    with pytest.raises(web_site.SiteError, match="not overwriting"):
        web_site.build_site(str(site), models, use_cdn=True)
    assert (site / "style.css").read_text() == "/* mine */"
    with pytest.raises(web_site.SiteError, match="not overwriting"):
        web_site.check_page_writable(str(site))


def test_site_on_a_full_disk_is_one_line_and_leaves_no_file(small_disk, capsys):
    """A truncated or unrecorded file would count as the user's and block the next run."""
    from musicvae_tf.cli import web

    site = small_disk(16) / "site"
    assert web.run_command(["music_vae_web", f"--output_dir={site}", "--cdn"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("music_vae_web")]
    assert lines == [f"music_vae_web: error: cannot write the web player to --output_dir {site}: No space left on "
                     "device; no file of it written"]
    assert [os.path.join(root, name) for root, _, names in os.walk(site) for name in names] == []
    web_site.check_page_writable(str(site))  # nothing there refuses the next run


@pytest.mark.parametrize("record", ["[1, 2]", '"a string"', "null", "7"])
def test_a_record_that_is_json_but_not_an_object_vouches_for_no_file(tmp_path, record):
    config, model = _small("cat-mel_2bar_small")
    site = tmp_path / "site"
    site.mkdir()
    (site / web_site.RECORD_FILE).write_text(record)
    names, _ = web_site.build_site(str(site), [web_site.SiteModel("mel", model, config, "test")], use_cdn=True)
    assert names == ["mel"]
    # The record is whole again: every file of the site, by its checksum.
    recorded = json.loads((site / web_site.RECORD_FILE).read_text())
    files = sorted(os.path.relpath(os.path.join(root, name), site) for root, _, names in os.walk(site)
                   for name in names if name != web_site.RECORD_FILE)
    assert sorted(recorded) == files and {"index.html", "app.js", "style.css", "models.json"} <= set(files)
    assert recorded["index.html"] == web_site._sha256(site / "index.html")
    (site / web_site.RECORD_FILE).write_text(record)
    with pytest.raises(web_site.SiteError, match="was not written by music_vae_web"):
        web_site.check_page_writable(str(site))


def test_web_refuses_the_users_page_under_a_non_object_record_in_one_line(tmp_path):
    import subprocess

    from conftest import console_command

    site = tmp_path / "site"
    site.mkdir()
    (site / web_site.RECORD_FILE).write_text("[]")
    (site / "index.html").write_text("<p>mine</p>")
    result = subprocess.run(console_command("music_vae_web") + [f"--output_dir={site}", "--cdn"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"music_vae_web: error: {site / 'index.html'} exists and was not written by music_vae_web (or was edited); "
        "not overwriting it: choose another --output_dir or move the file"], result.stderr
    assert sorted(os.listdir(site)) == [web_site.RECORD_FILE, "index.html"]
    assert (site / "index.html").read_text() == "<p>mine</p>" and (site / web_site.RECORD_FILE).read_text() == "[]"
