"""Headless Chromium for the browser tests: what is needed, a localhost server, the page driver.

Needs: node, Debian's chromium (/usr/bin/chromium, or MUSICVAE_TF_CHROMIUM) and the npm packages
of tests/export/browser/package.json (@magenta/music, playwright-core) installed into the node cache
folder (MUSICVAE_TF_NODE_CACHE, default ~/.cache/musicvae-tf-node), which `.ci/run` does:
    npm install --prefix ~/.cache/musicvae-tf-node $(cat tests/export/browser/package.json deps)
`missing()` names what is absent so that the tests skip with that reason.
"""

import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

BROWSER_DIR = pathlib.Path(__file__).parent / "browser"
CHROMIUM_ENV = "MUSICVAE_TF_CHROMIUM"


def chromium_path():
    return os.environ.get(CHROMIUM_ENV) or "/usr/bin/chromium"


def node_modules():
    from musicvae_tf.export.web_site import node_cache_dir

    return os.path.join(node_cache_dir(), "node_modules")


def magenta_bundle():
    return os.path.join(node_modules(), "@magenta", "music", "dist", "magentamusic.js")


def missing():
    """Why the browser tests cannot run here, or None."""
    if not shutil.which("node"):
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if not os.access(chromium_path(), os.X_OK):
        return f"no Chromium at {chromium_path()} (Debian: apt-get install chromium)"
    for package in ("playwright-core", os.path.join("@magenta", "music")):
        if not os.path.isdir(os.path.join(node_modules(), package)):
            return (f"npm package {package.replace(os.sep, '/')} is not in {node_modules()} "
                    f"(npm install --prefix {os.path.dirname(node_modules())} @magenta/music "
                    "playwright-core; .ci/run does it)")
    return None


@contextlib.contextmanager
def serve(directory):
    """Serves `directory` on 127.0.0.1 (a free port) while the block runs; yields the base URL."""
    from musicvae_tf.export.web_site import make_server, server_url

    server = make_server(directory, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run_page(url, steps, timeout_s=120):
    """Runs tests/export/browser/run_page.js on `url` with `steps`; returns its report (a dict)."""
    with tempfile.TemporaryDirectory(prefix="musicvae_page_") as tmp:
        job = os.path.join(tmp, "job.json")
        with open(job, "w") as f:
            json.dump({"url": url, "chromium": chromium_path(), "steps": steps,
                       "timeout_ms": int(timeout_s * 1000 * 0.8)}, f)
        env = dict(os.environ, NODE_PATH=node_modules())
        result = subprocess.run(["node", str(BROWSER_DIR / "run_page.js"), job], capture_output=True,
                                text=True, timeout=timeout_s, env=env)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"run_page.js printed no report (exit {result.returncode}): "
                             f"{result.stderr.strip()[-2000:]}")
