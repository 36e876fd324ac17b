"""The static web player: exported models + a page that samples, interpolates and plays them.

    build_site("site", [SiteModel("cat-mel_2bar_small", model, config, "folk tunes")])

The page (site_template/: index.html, app.js, style.css) runs the models with magenta.js
(@magenta/music): sampling with a temperature, interpolation between two samples or two MIDI
files dropped on it, a piano roll, playback with magenta.js's own synthesizer (`mm.Player`,
no soundfont to download) and a MIDI download. The @magenta/music bundle is copied in when it
is installed locally (npm: MUSICVAE_TF_NODE_CACHE, ~/.cache/musicvae-tf-node, ./node_modules or
the global npm root), else the page loads it from a public CDN.

Nothing the user made is overwritten: the site records what it wrote (`.musicvae-web.json`,
file -> sha256) and a later run replaces only files that are still exactly as it wrote them.
"""

import collections
import hashlib
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

from musicvae_tf.export import magenta_js

MAGENTA_MUSIC_VERSION = "1.23.1"
CDN_URL = f"https://cdn.jsdelivr.net/npm/@magenta/music@{MAGENTA_MUSIC_VERSION}/dist/magentamusic.js"
BUNDLE_RELATIVE = os.path.join("node_modules", "@magenta", "music", "dist", "magentamusic.js")
NODE_CACHE_ENV = "MUSICVAE_TF_NODE_CACHE"
DEFAULT_NODE_CACHE = os.path.join("~", ".cache", "musicvae-tf-node")
TEMPLATE_DIR = pathlib.Path(__file__).resolve().parent / "site_template"
RECORD_FILE = ".musicvae-web.json"
BUNDLE_FILE = "magentamusic.js"

SiteModel = collections.namedtuple("SiteModel", ["name", "model", "config", "description"])


class SiteError(ValueError):
    """A problem building or serving the site (one-line message)."""


def packaged_checkpoints():
    """{config name: path} of the models packaged with musicvae_tf (checkpoints.PRETRAINED_DIR)."""
    from musicvae_tf import checkpoints

    found = {}
    directory = pathlib.Path(checkpoints.PRETRAINED_DIR)
    for entry in sorted(directory.iterdir()) if directory.is_dir() else ():
        if entry.name.startswith((".", "_")) or not checkpoints.is_port_checkpoint(str(entry)):
            continue
        name, _ = checkpoints.read_stored_config(str(entry))
        if name and name not in found:
            found[name] = str(entry)
    return found


def node_cache_dir():
    """Where npm packages for musicvae-tf live (browser tests, the local magenta.js bundle)."""
    return os.path.expanduser(os.environ.get(NODE_CACHE_ENV) or DEFAULT_NODE_CACHE)


def _global_npm_root():
    npm = shutil.which("npm")
    if not npm:
        return None
    try:
        result = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.SubprocessError):
        return None
    root = result.stdout.strip()
    return os.path.dirname(root) if result.returncode == 0 and root else None


def find_magenta_bundle():
    """(path of a local @magenta/music dist/magentamusic.js, its version), or (None, None)."""
    candidates = [node_cache_dir(), os.getcwd()]
    for base in candidates + [None]:
        if base is None:
            base = _global_npm_root()
            if base is None:
                break
        path = os.path.join(base, BUNDLE_RELATIVE)
        if os.path.isfile(path):
            package = os.path.join(os.path.dirname(os.path.dirname(path)), "package.json")
            try:
                with open(package) as f:
                    version = json.load(f).get("version")
            except (OSError, ValueError):
                version = None
            return path, version
    return None, None


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _render_page(staging, script_src, footer):
    for name in ("app.js", "style.css"):
        shutil.copyfile(TEMPLATE_DIR / name, os.path.join(staging, name))
    page = (TEMPLATE_DIR / "index.html").read_text(encoding="utf-8")
    page = page.replace("@MAGENTA_SCRIPT@", script_src).replace("@FOOTER@", footer)
    pathlib.Path(staging, "index.html").write_text(page, encoding="utf-8")


def _check_writable(output_dir, relative_paths):
    """Refuses (SiteError) when a file to write exists and is not one this tool wrote, unchanged."""
    record_path = os.path.join(output_dir, RECORD_FILE)
    record = {}
    if os.path.isfile(record_path):
        try:
            with open(record_path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            record = {}
    if not isinstance(record, dict):  # valid JSON but not this tool's record: vouches for no file
        record = {}
    for relative in relative_paths:
        target = os.path.join(output_dir, relative)
        if os.path.isdir(target):
            raise SiteError(f"{target} is a directory; not replacing it (choose another --output_dir)")
        if os.path.exists(target) and record.get(relative) != _sha256(target):
            raise SiteError(f"{target} exists and was not written by music_vae_web (or was edited); "
                            "not overwriting it: choose another --output_dir or move the file")
    return record


def _copy_recorded(staging, output_dir, relative_paths, record):
    """Copies the site's files in and records them. When a write fails (a full disk) every file this
    run wrote is removed again (each was new or the tool's own, see `_check_writable`) and the old
    record stays: no truncated or unrecorded file would block the next run."""
    written = []
    try:
        for relative in relative_paths:
            target = os.path.join(output_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            written.append(target)
            shutil.copyfile(os.path.join(staging, relative), target)
            record[relative] = _sha256(target)
        temporary = os.path.join(output_dir, RECORD_FILE + ".tmp")
        written.append(temporary)
        with open(temporary, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
        os.replace(temporary, os.path.join(output_dir, RECORD_FILE))
    except OSError:
        for path in written:
            if os.path.isfile(path):
                os.remove(path)
        raise


PAGE_FILES = ("index.html", "app.js", "style.css", "models.json", BUNDLE_FILE)


def check_page_writable(output_dir):
    """Refuses early (SiteError) when the page's own files there were made or edited by the user."""
    if os.path.isdir(output_dir):
        _check_writable(output_dir, [f for f in PAGE_FILES if os.path.exists(os.path.join(output_dir, f))])


def build_site(output_dir, models, quantization=None, bundle=None, use_cdn=False):
    """Writes the site into `output_dir`; returns (list of model names, how magenta.js is loaded).

    `models`: SiteModel entries (each must run in magenta.js). `bundle`: a magentamusic.js to copy
    (default: `find_magenta_bundle()`); `use_cdn` forces the CDN.
    """
    if not models:
        raise SiteError("no model to put on the page")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise SiteError(f"two models named alike: {', '.join(names)}")
    if not use_cdn and bundle is None:
        bundle, version = find_magenta_bundle()
    else:
        version = None
    staging = tempfile.mkdtemp(prefix="musicvae_web_")
    try:
        entries = []
        for site_model in models:
            relative = f"models/{site_model.name}"
            magenta_js.export(site_model.model, site_model.config, os.path.join(staging, relative),
                              quantization=quantization, config_name=site_model.name)
            spec = magenta_js.magenta_js_spec(site_model.config)
            entries.append({"name": site_model.name, "path": relative,
                            "description": site_model.description or "",
                            "numSteps": spec["dataConverter"]["args"]["numSteps"],
                            "dataConverter": spec["dataConverter"],
                            "chordEncoder": spec.get("chordEncoder")})
        with open(os.path.join(staging, "models.json"), "w") as f:
            json.dump(entries, f, indent=1)
        if bundle and not use_cdn:
            shutil.copyfile(bundle, os.path.join(staging, BUNDLE_FILE))
            label = f"@magenta/music {version or ''} copied from {bundle}".replace("  ", " ")
            script_src = BUNDLE_FILE
            footer = (f"magenta.js (@magenta/music {version or ''}) is in this folder: the page works "
                      "offline.")
        else:
            label = f"@magenta/music {MAGENTA_MUSIC_VERSION} loaded by the page from {CDN_URL}"
            script_src = CDN_URL
            footer = (f"magenta.js (@magenta/music {MAGENTA_MUSIC_VERSION}) is loaded from a public CDN: "
                      "the page needs the network once.")
        _render_page(staging, script_src, footer)
        relative_paths = sorted(os.path.relpath(os.path.join(root, f), staging)
                                for root, _, files in os.walk(staging) for f in files)
        os.makedirs(output_dir, exist_ok=True)
        record = _check_writable(output_dir, relative_paths)
        _copy_recorded(staging, output_dir, relative_paths, record)
        return names, label
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map,
                          **{".js": "text/javascript", ".json": "application/json",
                             ".bin": "application/octet-stream"})

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def make_server(directory, port=8000, host="127.0.0.1"):
    """An HTTP server for `directory` on localhost (port 0: any free port); call serve_forever()."""
    handler = lambda *args, **kwargs: _QuietHandler(*args, directory=str(directory), **kwargs)  # noqa: E731
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as error:
        raise SiteError(f"cannot serve on {host}:{port}: {error.strerror or error}")
    server.daemon_threads = True
    return server


def server_url(server):
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
