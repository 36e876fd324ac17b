"""The README's table of configs is the one scripts/config_table.py makes from the configs."""
import importlib.util

from musicvae_tf import configs
from conftest import TESTS_DIR

SCRIPT = TESTS_DIR.parent / "scripts" / "config_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("config_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_table_is_up_to_date():
    script = _script()
    readme = script.README.read_text(encoding="utf-8")
    assert script.updated_readme(readme) == readme, "run python scripts/config_table.py"


def test_every_config_has_a_row_with_its_description_and_command():
    rows = {line.split("|")[1].strip().strip("`"): line for line in _script().table().splitlines()[2:]}
    assert list(rows) == list(configs.CONFIG_MAP)
    for name, config in configs.CONFIG_MAP.items():
        assert config.description and f"| {config.description} |" in rows[name]
        assert config.train_command.startswith(f"music_vae_train --config={name} --run_dir=")
        assert config.train_command[len("music_vae_train "):] in rows[name]
    assert "| Hierarchical(SplitMultiOut, 16x16) [1024, 1024] |" in rows["hierdec-trio_16bar"]
    assert "| Hierarchical(8x64)" not in rows["hier-multiperf_vel_1bar_med"]  # encoder levels are 64x8
    assert "| Hierarchical(64x8) [1024] |" in rows["hier-multiperf_vel_1bar_med"]


def test_updating_rewrites_only_the_table():
    script = _script()
    text = f"before\n{script.BEGIN}\nold rows\n{script.END}\nafter\n"
    new = script.updated_readme(text)
    assert new.startswith(f"before\n{script.BEGIN}\n| name |") and new.endswith(f"{script.END}\nafter\n")
    assert "old rows" not in new
