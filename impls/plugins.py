"""Implementations from outside the package, and how they are found.

Two ways in, both giving an implementation the same listing, verification, training and
benchmark as a built-in one:

- an installed package declares an entry point in the group `nnbench.implementations`, whose
  name is the implementation's name and whose value is `module:Class`;
- a command is given a reference, `--impl mypkg.module:Class` or `--impl ./mine.py:Class`,
  and the class's own `name` is the implementation's name.

The references a command was given are handed to the processes it starts through the
environment (`ENV`), so a benchmark process finds them too. This module parses references,
checks the paths in them, imports what they name and checks that it is an Implementation; the
registry (`nnbench/__init__.py`) keeps the names.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import InputError, PluginError

GROUP = "nnbench.implementations"
ENV = "NNBENCH_IMPLS"  # a JSON list of the references the parent process was given
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # no ".": steps are named <name>.<block>


@dataclass(frozen=True)
class Reference:
    """Where a class lives: a module name or a file path, and the class's name in it."""

    module: str  # a dotted module name, or an absolute file path when `path` is set
    cls: str
    path: bool = False

    def __str__(self):
        return f"{self.module}:{self.cls}"


def is_reference(text: str) -> bool:
    """Whether `text` names a class (`module:Class`, `file.py:Class`) rather than a name."""
    return ":" in text


def parse(text: str) -> Reference:
    """A reference from `module:Class` or `path.py:Class`; a path is checked here (it must be
    a readable file), so that a mistyped one is an input error, not an import failure."""
    target, _, cls = text.rpartition(":")
    if not target or not cls.isidentifier():
        raise InputError(f"--impl {text!r}: expected NAME, module:Class or ./file.py:Class")
    if target.endswith(".py") or os.sep in target or target.startswith("."):
        path = Path(target).expanduser()
        if not path.exists():
            raise InputError(f"--impl {text}: no such file {target} (expected a Python file "
                             f"that defines {cls})")
        if not path.is_file():
            raise InputError(f"--impl {text}: {target} is not a file (expected a Python file "
                             f"that defines {cls})")
        if not os.access(path, os.R_OK):
            raise InputError(f"--impl {text}: {target} cannot be read (permission denied)")
        return Reference(str(path.resolve()), cls, path=True)
    if not all(part.isidentifier() for part in target.split(".")):
        raise InputError(f"--impl {text!r}: {target!r} is neither a module name nor a .py file")
    return Reference(target, cls)


def load(reference: Reference) -> type:
    """The class a reference names, imported; PluginError (with what went wrong) otherwise."""
    from .base import Implementation

    try:
        module = _import(reference)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if missing == reference.module:
            raise PluginError(f"there is no module {missing} here (is its package installed, "
                              f"or its folder on PYTHONPATH?)") from None
        cause = f"{missing} is not installed" if missing else exc
        raise PluginError(f"importing {reference.module} failed: {cause}") from None
    except Exception as exc:  # a plugin's own code: any error at all is its failure
        raise PluginError(f"importing {reference.module} raised {type(exc).__name__}: "
                          f"{exc}") from None
    cls = getattr(module, reference.cls, None)
    if cls is None:
        raise PluginError(f"{reference.module} defines no {reference.cls}")
    if not (isinstance(cls, type) and issubclass(cls, Implementation)):
        raise PluginError(f"{reference} is not a subclass of nnbench.base.Implementation")
    return cls


def _import(reference: Reference):
    if not reference.path:
        return importlib.import_module(reference.module)
    digest = hashlib.sha1(reference.module.encode()).hexdigest()[:8]
    module_name = f"_nnbench_plugin_{Path(reference.module).stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    folder = str(Path(reference.module).parent)
    if folder not in sys.path:  # as for a script: the modules beside it can be imported
        sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(module_name, reference.module)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickle look their module up here
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def check_name(name: object, where: str) -> str:
    """An implementation's name as the commands, tables and file names can carry it."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise PluginError(f"{where}: its name {name!r} is not usable; set the class attribute "
                          f"`name` to letters, digits, '-' or '_' (e.g. name = \"mine\")")
    return name


def entry_points() -> list[tuple[str, Reference, str]]:
    """(name, reference, distribution) of each installed entry point in GROUP."""
    found = []
    for point in metadata.entry_points(group=GROUP):
        dist = getattr(point.dist, "name", None) or "an installed package"
        module, _, cls = point.value.partition(":")
        found.append((point.name, Reference(module.strip(), cls.strip()), dist))
    return found


def given_references() -> list[str]:
    """The references handed down by the parent process (ENV)."""
    value = os.environ.get(ENV, "")
    try:
        references = json.loads(value) if value.strip() else []
    except json.JSONDecodeError:
        raise InputError(f"{ENV} must be a JSON list of module:Class references, got "
                         f"{value!r}") from None
    return [str(reference) for reference in references]


def hand_down(reference: Reference) -> None:
    """Add a reference to ENV, for the processes this one starts."""
    references = given_references()
    if str(reference) not in references:
        os.environ[ENV] = json.dumps([*references, str(reference)])
