"""Layering: the library never imports the command-line package musicvae_tf/cli/.

Only cli/ itself and the `python -m` entry points may: the `__main__.py` of a package and the thin
alias modules musicvae_tf/<tool>.py of the tools in cli/ (each a few lines, checked here too)."""
import ast
import pathlib

import pytest

import musicvae_tf

PACKAGE_DIR = pathlib.Path(musicvae_tf.__file__).parent
CLI_DIR = PACKAGE_DIR / "cli"
# An alias module is `"""doc"""`, `import sys`, `from musicvae_tf.cli import <tool>` and a `__main__` switch.
MAX_ALIAS_LINES = 12


def _module_name(path):
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_cli(name):
    return name == "musicvae_tf.cli" or name.startswith("musicvae_tf.cli.")


def cli_imports(source, module_name, is_package=False):
    """(line, imported name) of every import of musicvae_tf.cli in `source`, at any depth: `import`,
    `from ... import` (relative ones resolved against `module_name`) and importlib.import_module("...")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if _is_cli(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module_name.split(".")
                package = package if is_package else package[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            found += [(node.lineno, name) for name in names if _is_cli(name)][:1]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and _is_cli(node.args[0].value)):
            found.append((node.lineno, node.args[0].value))
    return found


def _entry_point(path):
    if path.name == "__main__.py":
        return True
    return path.parent == PACKAGE_DIR and path.name != "__init__.py" and (CLI_DIR / path.name).is_file()


def test_library_modules_do_not_import_the_cli():
    checked, offences = set(), []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if CLI_DIR in path.parents or _entry_point(path):
            continue
        checked.add(_module_name(path))
        for line, name in cli_imports(path.read_text(), _module_name(path), path.name == "__init__.py"):
            offences.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {name}")
    assert not offences, "library modules import the command-line package:\n" + "\n".join(offences)
    # The walk saw the library (about 90 modules), the former offenders among them.
    assert len(checked) > 80
    assert {"musicvae_tf.personalize.personal_model", "musicvae_tf.pipelines.convert",
            "musicvae_tf.pipelines.beam_runner", "musicvae_tf.data.music_files"} <= checked


def test_the_exempt_alias_modules_are_thin():
    aliases = sorted(path for path in PACKAGE_DIR.glob("*.py") if _entry_point(path))
    assert [path.stem for path in aliases] == ["convert", "evaluate", "generate", "preprocess", "quickstart",
                                               "train", "web"]
    for path in aliases + sorted(PACKAGE_DIR.glob("*/__main__.py")):
        source = path.read_text()
        assert len(source.splitlines()) <= MAX_ALIAS_LINES, path
        tool = path.stem if path.stem != "__main__" else path.parent.name
        assert len(cli_imports(source, _module_name(path))) == 1, path
        imported = [f"{node.module}.{alias.name}" if node.module == "musicvae_tf.cli" else node.module
                    for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)
                    for alias in node.names]
        assert f"musicvae_tf.cli.{tool}" in imported, path  # its own tool, nothing else of cli/
        assert not [node for node in ast.parse(source).body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]


@pytest.mark.parametrize("source, module, expected", [
    ("from musicvae_tf.cli import convert\n", "musicvae_tf.data.x", [(1, "musicvae_tf.cli")]),
    ("def f():\n    import musicvae_tf.cli.common as c\n", "musicvae_tf.data.x", [(2, "musicvae_tf.cli.common")]),
    ("from musicvae_tf import cli\n", "musicvae_tf.data.x", [(1, "musicvae_tf.cli")]),
    ("from ..cli.common import UsageError\n", "musicvae_tf.data.x", [(1, "musicvae_tf.cli.common")]),
    ("from .. import cli\n", "musicvae_tf.data.x", [(1, "musicvae_tf.cli")]),
    ("from . import cli\n", "musicvae_tf", [(1, "musicvae_tf.cli")]),
    ("importlib.import_module('musicvae_tf.cli.convert')\n", "musicvae_tf.x", [(1, "musicvae_tf.cli.convert")]),
    ("from musicvae_tf import client, configs\nimport musicvae_tf.clipping\n", "musicvae_tf.x", []),
    ("from . import common\n", "musicvae_tf.data.x", []),
])
def test_every_form_of_a_cli_import_is_found(source, module, expected):
    assert cli_imports(source, module, is_package=module == "musicvae_tf") == expected
