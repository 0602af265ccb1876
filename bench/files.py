"""Writing result files so that a reader never sees half of one.

Every file of a run and of a report is written under a temporary name in its own directory
and renamed into place (a rename within one file system is atomic), so an interrupted run
leaves the previous version or the new one, never a truncated mix.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def replacing(path: Path):
    """Yield a temporary path beside `path`; on success it becomes `path`, else it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    os.chmod(temporary, 0o644)  # mkstemp makes it private; results are for everybody to read
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: Path, document) -> None:
    write_text(path, json.dumps(document, indent=2, default=str) + "\n")
