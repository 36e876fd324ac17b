"""Files that are written whole or not at all.

The content goes to a temporary name beside the target and is renamed onto it once complete. A write
that fails (a full disk, Ctrl-C) removes only its temporary file: nothing half-written stays behind,
and a file already at the target is left exactly as it was.
"""

import contextlib
import os
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def whole_file(path, replace=True):
    """Yields a temporary path to write; on success it becomes `path`, on failure it is removed.

    `replace=False`: never take the place of a file at `path`, even one that appeared while writing
    (FileExistsError then, and the temporary file is removed)."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".partial-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(handle)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # the permissions an ordinary open() would give
        yield temporary
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # (fails when the name is taken)
            os.remove(temporary)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise
