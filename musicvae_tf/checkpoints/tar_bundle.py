"""Extracting a checkpoint bundle (.tar, .tar.gz, ...) from someone else without trusting it.

Magenta's published bundles hold only folders and regular files, so that is all a bundle may
hold: a symbolic or hard link, a device, a FIFO, an absolute name or a name with a `..`
component refuses the whole bundle before anything is written. Checking each member's target
on its own is not enough (links made by earlier members change where later members land:
`p/q -> ../s`, then `p/q/t -> ../../out`, then `p/q/t/file`); with no links at all, and the
extraction going into a fresh empty folder, every member lands where its name says. Python's
tarfile "data" filter, where it exists (3.10.12+, 3.11.4+), checks the same again while writing.
"""

import os
import posixpath
import tarfile
import zlib


class UnsafeBundleError(ValueError):
    """A bundle member could land outside the extraction folder (or is not a file or folder)."""


def _kind(member):
    if member.issym():
        return f"a symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"a hard link to {member.linkname!r}"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a FIFO"
    return f"a special member (type {member.type!r})"


def check_member(member, bundle_name):
    """Raises UnsafeBundleError unless `member` is a folder or regular file with a relative name."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith(("/", "\\")) or posixpath.isabs(name) or ".." in parts \
            or (len(parts[0]) == 2 and parts[0].endswith(":")):
        raise UnsafeBundleError(f"refusing checkpoint bundle {bundle_name}: member {name!r} would be "
                                "written outside the extraction folder")
    if not (member.isfile() or member.isdir()):
        raise UnsafeBundleError(f"refusing checkpoint bundle {bundle_name}: member {name!r} is "
                                f"{_kind(member)} (checkpoint bundles hold only folders and files)")


def extract_bundle(tar_path, directory):
    """Extracts the bundle `tar_path` into `directory`, which must be an empty folder.

    Raises UnsafeBundleError (one line) when any member is not safe, before writing anything, and
    ValueError for a file that is not a readable tar archive.
    """
    name = os.path.basename(os.fspath(tar_path))
    if os.listdir(directory):
        raise ValueError(f"extraction folder {directory} is not empty")
    try:
        with tarfile.open(tar_path) as tar:
            members = tar.getmembers()
            for member in members:
                check_member(member, name)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(directory, members=members, filter="data")
            else:
                tar.extractall(directory, members=members)
    except (tarfile.TarError, EOFError, zlib.error) as error:
        raise ValueError(f"cannot read checkpoint bundle {name}: {error}") from None
