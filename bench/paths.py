"""The paths a command is given, checked before it does any work.

Each check raises an InputError (one line, exit 2 from the CLI) naming the option, the path
and what was expected: a path that is missing, of the wrong kind (a file where a directory
is expected, or the reverse), unreadable, or in a place that cannot be written. A command
checks every path first, so it never stops halfway with something written.
"""

from __future__ import annotations

import os
from pathlib import Path

from nnbench.errors import InputError


def _nearest_existing(path: Path) -> Path:
    """`path`, or the closest folder above it that exists (where it would be created)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _creatable(path: Path, what: str) -> None:
    """`path` does not exist; the folder it would be created in must be a writable one."""
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise InputError(f"{what} {path}: {existing} is a file, so nothing can be created "
                         f"under it (expected a directory there)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{what} {path}: {existing} is not writable (permission denied)")


def output_file(value: str | None, what: str) -> Path | None:
    """A file to write: not a directory, and its folder writable or creatable."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        raise InputError(f"{what} {value}: is a directory (expected a file name to write)")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise InputError(f"{what} {value}: the file is not writable (permission denied)")
        return path
    _creatable(path, what)
    return path


def output_dir(value: str | None, what: str) -> Path | None:
    """A directory to write into: not a file, writable, or creatable where it would go."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {value}: is a file (expected a directory to write into)")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{what} {value}: the directory is not writable (permission "
                             f"denied)")
        return path
    _creatable(path, what)
    return path


def input_dir(value: str | None, what: str) -> Path | None:
    """A directory to read: it must exist, be a directory and be readable."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.exists():
        raise InputError(f"{what} {value}: no such directory")
    if not path.is_dir():
        raise InputError(f"{what} {value}: is a file (expected a directory)")
    if not os.access(path, os.R_OK | os.X_OK):
        raise InputError(f"{what} {value}: the directory cannot be read (permission denied)")
    return path


def input_path(value: str, what: str) -> Path:
    """A run directory or a file to read: it must exist and be readable."""
    path = Path(value).expanduser()
    if not path.exists():
        raise InputError(f"{what} {value}: no such file or directory (expected a run "
                         f"directory or a benchmark JSON file)")
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        raise InputError(f"{what} {value}: cannot be read (permission denied)")
    return path
