"""music_vae_web: a static web page that plays exported models in the browser with magenta.js.

    music_vae_web --output_dir=site --serve
    music_vae_web --output_dir=site --checkpoint_file=cat-mel_2bar_small.tar --config=cat-mel_2bar_small

The page samples with a temperature slider, interpolates between two samples or two MIDI files
dropped on it, shows a piano roll, plays with magenta.js's own synthesizer (no soundfont to
download) and downloads MIDI. Without --checkpoint_file it holds every packaged model that
magenta.js can run. Several models: comma-separated --checkpoint_file and --config lists.
The @magenta/music bundle is copied in when npm has it locally (MUSICVAE_TF_NODE_CACHE,
~/.cache/musicvae-tf-node, ./node_modules, the global npm root), else the page loads it from a
public CDN (--cdn forces that); the output says which. --serve serves the folder on localhost
and prints the URL. Files the user made or edited in --output_dir are never overwritten.
"""

import os

from absl import flags

from musicvae_tf.cli import common
from musicvae_tf.cli.common import UsageError

FLAGS = flags.FlagValues()
_define = common.flag_definer(FLAGS)
_define("string", "output_dir", None, "Folder to write the site into.")
_define("string", "checkpoint_file", None,
        "Checkpoint(s), comma-separated (default: the packaged models magenta.js runs).")
_define("string", "config", None, "Config name(s), comma-separated, one per checkpoint.")
_define("string", "hparams", "", "Hparam overrides for Magenta checkpoints of non-default sizes.")
_define("string", "quantize", None, "float16 or uint8 weights (smaller downloads).")
_define("boolean", "cdn", False, "Load @magenta/music from the CDN even when it is installed locally.")
_define("boolean", "serve", False, "Serve the site on localhost after writing it.")
_define("integer", "port", 8000, "Port for --serve (0: any free port).", lower_bound=0, upper_bound=65535)
_define("string", "log", "WARNING", "Logging threshold: DEBUG, INFO, WARNING, ERROR or FATAL.")

PROGRAM = "music_vae_web"


def _split(value):
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _site_models():
    from musicvae_tf import configs
    from musicvae_tf.cli.export import load_model
    from musicvae_tf.export import magenta_js
    from musicvae_tf.export.web_site import SiteModel, packaged_checkpoints

    checkpoints, names = _split(FLAGS.checkpoint_file), _split(FLAGS.config)
    if checkpoints:
        if names and len(names) != len(checkpoints):
            raise UsageError(f"{len(checkpoints)} checkpoints but {len(names)} configs: give one "
                                     "--config per --checkpoint_file, or none")
        pairs = list(zip(checkpoints, names or [None] * len(checkpoints)))
        strict = True
    else:
        packaged = packaged_checkpoints()
        if names:
            missing = [n for n in names if n not in packaged]
            if missing:
                raise UsageError(f"no packaged model for {', '.join(missing)}; pass --checkpoint_file "
                                         f"(packaged: {', '.join(sorted(packaged)) or 'none'})")
        pairs = [(packaged[n], n) for n in (names or sorted(packaged))]
        strict = bool(names)
    models = []
    for checkpoint, name in pairs:
        name, config, model = load_model(checkpoint, name, FLAGS.hparams)
        try:
            magenta_js.magenta_js_spec(config, name)
        except magenta_js.UnsupportedForMagentaJs as error:
            if strict:
                raise
            print(f"Skipped packaged model {name}: {magenta_js._reason_and_spec(config)[0]}")
            continue
        label = name if name not in [m.name for m in models] else f"{name}-{len(models) + 1}"
        description = configs.CONFIG_DESCRIPTIONS.get(name, "")
        if not checkpoints:
            description = f"{description}, packaged model" if description else "packaged model"
        models.append(SiteModel(label, model, config, description))
    if not models:
        raise UsageError("no packaged model that magenta.js can run; pass --checkpoint_file")
    return models


def run():
    from musicvae_tf.export import web_site

    if not FLAGS.output_dir:
        raise UsageError("--output_dir is required")
    if FLAGS.quantize not in (None, "float16", "uint8"):
        raise UsageError(f"--quantize must be float16 or uint8, not {FLAGS.quantize!r}")
    output_dir = os.path.expanduser(FLAGS.output_dir)
    web_site.check_page_writable(output_dir)  # before the slow part
    models = _site_models()
    try:
        names, how = web_site.build_site(output_dir, models, quantization=FLAGS.quantize, use_cdn=FLAGS.cdn)
    except OSError as error:  # a full or read-only disk; build_site removed what it had copied
        raise UsageError(f"cannot write the web player to --output_dir {output_dir}: {error.strerror or error}; "
                         "no file of it written") from None
    print(f"Wrote the web player to {output_dir} with {len(names)} model(s): {', '.join(names)}")
    print(f"magenta.js: {how}")
    if not FLAGS.serve:
        print(f"Open it through a web server (browsers refuse file:// fetches), e.g. "
              f"{PROGRAM} --output_dir={FLAGS.output_dir} --serve")
        return 0
    try:
        server = web_site.make_server(output_dir, port=FLAGS.port)
    except OSError as error:  # the port is taken, or needs privileges
        raise UsageError(f"the site is written, but it cannot be served on --port={FLAGS.port}: "
                         f"{error.strerror or error}; try another --port (0: any free one)") from None
    print(f"Serving {output_dir} at {web_site.server_url(server)} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


TOOL = common.Tool(PROGRAM, __doc__, FLAGS, lambda: run(), expected_errors=(ValueError, OSError))
main, run_command, console_entry_point = TOOL.main, TOOL.run_command, TOOL.console_entry_point


if __name__ == "__main__":
    console_entry_point()
