"""Writes the README's table of configs from `musicvae_tf.configs.CONFIG_MAP`.

    python scripts/config_table.py            # rewrites the table in README.md
    python scripts/config_table.py --check    # exit status 1 when README.md is out of date

Each row comes from one Config: its description, sizes, model spec and converter, and the
command that trains it. The table sits between the two marker lines below in README.md;
tests/test_readme_configs.py keeps the README in sync with the configs.
"""

import pathlib
import sys

BEGIN = "<!-- config table: made by scripts/config_table.py from musicvae_tf.configs; do not edit -->"
END = "<!-- end of config table -->"
README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _short(kind):
    for suffix in ("LstmDecoder", "LstmEncoder", "Decoder"):
        if kind.endswith(suffix):
            return kind[:-len(suffix)]
    return kind


def _decoder_label(spec):
    if spec.kind == "HierarchicalLstmDecoder":
        core = spec.core_decoder
        return f"Hierarchical({_short(core.kind)}, {'x'.join(str(n) for n in spec.level_lengths)})"
    return _short(spec.kind)


def _encoder_label(spec):
    if spec.kind == "HierarchicalLstmEncoder":
        return f"Hierarchical({'x'.join(str(n) for n in spec.level_lengths)})"
    return _short(spec.kind)


def table():
    """The markdown table of every config, in CONFIG_MAP order."""
    from musicvae_tf import configs

    lines = ["| name | models | max_seq_len | encoder | z | decoder | converter | batch | train |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, config in configs.CONFIG_MAP.items():
        hparams = config.hparams
        train = config.train_command.replace("music_vae_train ", "", 1)
        lines.append(
            f"| `{name}` | {config.description} | {hparams.max_seq_len} "
            f"| {_encoder_label(config.model.encoder)} {list(hparams.enc_rnn_size)} | {hparams.z_size} "
            f"| {_decoder_label(config.model.decoder)} {list(hparams.dec_rnn_size)} "
            f"| {type(config.data_converter).__name__} | {hparams.batch_size} | `{train}` |")
    return "\n".join(lines)


def updated_readme(text):
    """`text` (the README) with the table between the markers replaced by `table()`."""
    if BEGIN not in text or END not in text:
        raise ValueError(f"README.md lacks the marker lines {BEGIN!r} and {END!r}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv):
    text = README.read_text(encoding="utf-8")
    new = updated_readme(text)
    if "--check" in argv[1:]:
        if new != text:
            print(f"{README} is out of date: run python scripts/config_table.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    print(f"wrote the config table of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
