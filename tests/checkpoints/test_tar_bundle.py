"""Hostile checkpoint bundles: nothing is ever written (or read as a checkpoint) outside the bundle.

Every archive is built here. The extraction folder is a fresh temporary folder made inside
`tmp_path/tmp` (TMPDIR), next to `tmp_path/outside/victim.txt`; after each refusal the whole of
`tmp_path` must be exactly as before (no file added, none changed), and the temporary folder gone.
"""

import io
import os
import shutil
import subprocess
import tarfile
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from conftest import PARITY_DIR, console_command
from musicvae_tf import checkpoints
from musicvae_tf.checkpoints import tar_bundle

CASE = PARITY_DIR / "cat-mel_2bar_small"
VICTIM_TEXT = b"precious, must not change\n"


def _file(name, data=b"evil\n"):
    return ("file", name, data)


def _symlink(name, target):
    return ("sym", name, target)


def _hardlink(name, target):
    return ("hard", name, target)


def _special(name, kind):
    return (kind, name, None)


# name -> members in archive order. The extraction folder is tmp_path/tmp/<random>, so "../.."
# is tmp_path and "../../outside/victim.txt" the file an attacker wants to overwrite.
HOSTILE = {
    "absolute_name": [_file("{outside}/evil.txt")],
    "dotdot_name": [_file("ckpt/../../evil.txt")],
    "leading_dotdot": [_file("../evil.txt")],
    "long_gnu_name_with_dotdot": [_file("d" * 120 + "/../../../evil.txt")],
    "backslash_dotdot": [_file("..\\..\\evil.txt")],
    "symlink_out_relative": [_symlink("ckpt/link", "../../outside"), _file("ckpt/link/evil.txt")],
    "symlink_out_absolute": [_symlink("ckpt/link", "{outside}"), _file("ckpt/link/evil.txt")],
    "symlink_inside_only": [_file("ckpt/a"), _symlink("ckpt/b", "a")],
    # Each member passes a check made before any member exists; together they escape. The first
    # is the case as reported (its chain ends in tmp/escaped); the next two reach existing folders.
    "chained_symlinks": [_symlink("p/q", "../s"), _symlink("p/q/t", "../../escaped"),
                         _file("p/q/t/evil.txt")],
    "chained_symlinks_into_outside": [("dir", "s", None), _symlink("p/q/r", "../../s"),
                                      _symlink("p/q/r/t", "../../../outside"), _file("p/q/r/t/evil.txt")],
    "chained_symlinks_then_hardlink_overwrite": [
        ("dir", "c", None), _symlink("a/b/x", "../../c"), _symlink("a/b/x/d", "../../../outside"),
        _hardlink("h", "a/b/x/d/victim.txt"), _file("h", b"overwritten\n")],
    "hardlink_absolute_overwrite": [_hardlink("ckpt/h", "{outside}/victim.txt"),
                                    _file("ckpt/h", b"overwritten\n")],
    "hardlink_relative_overwrite": [_hardlink("ckpt/h", "../../outside/victim.txt"),
                                    _file("ckpt/h", b"overwritten\n")],
    "char_device": [_special("ckpt/null", tarfile.CHRTYPE)],
    "block_device": [_special("ckpt/disk", tarfile.BLKTYPE)],
    "fifo": [_special("ckpt/pipe", tarfile.FIFOTYPE)],
}
COMPRESSED = {"chained_symlinks_into_outside": ("gz", "bz2", "xz"),
              "chained_symlinks_then_hardlink_overwrite": ("gz",)}
CASES = [(name, "") for name in HOSTILE] + [(name, c) for name, kinds in COMPRESSED.items() for c in kinds]


def build_bundle(path, members, outside, compression=""):
    """Writes a tar (compressed with `compression`: '', 'gz', 'bz2', 'xz') of `members`."""
    with tarfile.open(path, "w:" + compression if compression else "w") as tar:
        for kind, name, payload in members:
            info = tarfile.TarInfo(name.format(outside=outside))
            info.mtime = 0
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind in ("sym", "hard"):
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = payload.format(outside=outside)
            else:
                info.type, info.devmajor, info.devminor = kind, 1, 3
            tar.addfile(info)
    return path


def _snapshot(root):
    state = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(current, name)
            if os.path.islink(path):
                state[path] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    state[path] = ("file", handle.read())
            else:
                state[path] = ("dir", None)
    return state


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """(bundles folder, outside folder, temporary folder) with the victim file in place."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_bytes(VICTIM_TEXT)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "bundles").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "bundles", tmp_path / "outside", tmp_path / "tmp"


def _bundle_path(bundles, name, compression):
    return bundles / (f"{name}.tar" + (f".{compression}" if compression else ""))


@pytest.mark.parametrize("name,compression", CASES, ids=[f"{n}{'.' + c if c else ''}" for n, c in CASES])
def test_hostile_bundle_is_refused_and_writes_nothing(name, compression, sandbox):
    bundles, outside, temporary = sandbox
    bundle = build_bundle(_bundle_path(bundles, name, compression), HOSTILE[name], outside, compression)
    before = _snapshot(bundles.parent)
    with pytest.raises(tar_bundle.UnsafeBundleError) as error:
        checkpoints.resolve_checkpoint(bundle)
    message = str(error.value)
    assert message.startswith(f"refusing checkpoint bundle {bundle.name}: member ") and "\n" not in message
    assert _snapshot(bundles.parent) == before
    assert (outside / "victim.txt").read_bytes() == VICTIM_TEXT
    assert os.listdir(temporary) == []


def test_refusal_names_the_reason():
    def refusal(member):
        with pytest.raises(tar_bundle.UnsafeBundleError) as error:
            tar_bundle.check_member(member, "b.tar")
        return str(error.value)

    link = tarfile.TarInfo("p/q")
    link.type, link.linkname = tarfile.SYMTYPE, "../s"
    assert "is a symbolic link to '../s'" in refusal(link)
    link.type = tarfile.LNKTYPE
    assert "is a hard link to '../s'" in refusal(link)
    fifo = tarfile.TarInfo("p/f")
    fifo.type = tarfile.FIFOTYPE
    assert "is a FIFO" in refusal(fifo)
    assert "outside the extraction folder" in refusal(tarfile.TarInfo("/etc/passwd"))


def _magenta_style_bundle(path, compression="", top="cat-mel_2bar_small"):
    """A bundle as Magenta publishes them: a folder entry, then the checkpoint's files."""
    with tarfile.open(path, "w:" + compression if compression else "w") as tar:
        tar.add(CASE / "checkpoint", arcname=top, recursive=False)
        for file in sorted((CASE / "checkpoint").iterdir()):
            tar.add(file, arcname=f"{top}/{file.name}")
    return path


@pytest.mark.parametrize("compression", ["", "gz"])
def test_magenta_style_bundle_still_loads(compression, sandbox):
    if not (CASE / "checkpoint").exists():
        pytest.skip("parity fixture missing")
    bundles, _, temporary = sandbox
    bundle = _magenta_style_bundle(bundles / ("cat-mel.tar" + (".gz" if compression else "")), compression)
    prefix, folder = checkpoints.resolve_checkpoint(bundle)
    try:
        assert os.path.dirname(prefix) == os.path.join(folder, "cat-mel_2bar_small")
        reader = tf.train.load_checkpoint(prefix)
        expected = tf.train.load_checkpoint(str(CASE / "checkpoint" / "model.ckpt-30"))
        name = sorted(expected.get_variable_to_shape_map())[0]
        np.testing.assert_array_equal(reader.get_tensor(name), expected.get_tensor(name))
    finally:
        shutil.rmtree(folder)
    assert os.listdir(temporary) == []


def test_bundle_index_file_cannot_point_outside(sandbox):
    """A bundle's `checkpoint` file naming a prefix outside the bundle is not followed."""
    if not (CASE / "checkpoint").exists():
        pytest.skip("parity fixture missing")
    bundles, _, temporary = sandbox
    bundle = bundles / "pointer.tar"
    index = f'model_checkpoint_path: "{CASE / "checkpoint" / "model.ckpt-30"}"\n'.encode()
    with tarfile.open(bundle, "w") as tar:
        info = tarfile.TarInfo("checkpoint")
        info.size = len(index)
        tar.addfile(info, io.BytesIO(index))
    with pytest.raises(ValueError, match="no TF checkpoint found"):
        checkpoints.resolve_checkpoint(bundle)
    assert os.listdir(temporary) == []


def test_trained_model_refuses_chained_bundle(sandbox):
    from musicvae_tf import configs
    from musicvae_tf.trained_model import TrainedModel

    bundles, outside, temporary = sandbox
    bundle = build_bundle(bundles / "chained.tar.gz", HOSTILE["chained_symlinks_then_hardlink_overwrite"],
                          outside, "gz")
    before = _snapshot(bundles.parent)
    with pytest.raises(tar_bundle.UnsafeBundleError, match="refusing checkpoint bundle"):
        TrainedModel(configs.get_config("cat-mel_2bar_small"), batch_size=1, checkpoint_dir_or_path=str(bundle))
    assert _snapshot(bundles.parent) == before
    assert os.listdir(temporary) == []


@pytest.mark.parametrize("tool,extra", [
    ("music_vae_generate", ["--mode=sample", "--num_outputs=1", "--output_dir={tmp}/generated"]),
    ("music_vae_evaluate", ["--max_examples=4", "--num_samples=4"]),
])
def test_console_scripts_refuse_chained_bundle(tool, extra, tmp_path):
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_bytes(VICTIM_TEXT)
    (tmp_path / "tmp").mkdir()
    members = HOSTILE["chained_symlinks_into_outside"] + HOSTILE["chained_symlinks_then_hardlink_overwrite"]
    bundle = build_bundle(tmp_path / "cat-mel_2bar_small.tar.gz", members, tmp_path / "outside", "gz")
    before = _snapshot(tmp_path)
    result = subprocess.run(
        console_command(tool) + ["--config=cat-mel_2bar_small", f"--checkpoint_file={bundle}", "--log=WARNING"]
        + [flag.format(tmp=tmp_path) for flag in extra],
        capture_output=True, text=True, env=dict(os.environ, TMPDIR=str(tmp_path / "tmp")), timeout=300)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{tool}: error: refusing checkpoint bundle "
                                                    "cat-mel_2bar_small.tar.gz: member 'p/q/r' is a symbolic link"), lines
    after = {path: value for path, value in _snapshot(tmp_path).items()
             if not path.startswith(str(tmp_path / "generated"))}
    assert after == before
    assert (tmp_path / "outside" / "victim.txt").read_bytes() == VICTIM_TEXT
