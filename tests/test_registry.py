"""The registry is the one place an implementation is declared: what follows from it, follows.

Its extras must be installed by tox's test environment, its packages recorded by the machine
description, and the README's implementations table is printed from it.
"""

import configparser
import re
from pathlib import Path

import nnbench
import tomllib
from nnbench.bench import machine
from nnbench.bench.cli import implementations_markdown

ROOT = Path(__file__).resolve().parent.parent


def optional_dependencies() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]


def closure(extras: list[str], table: dict[str, list[str]]) -> set[str]:
    """The extras named, and every extra they name through `nnbench[...]`."""
    seen, todo = set(), list(extras)
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for requirement in table.get(extra, []):
            match = re.fullmatch(r"nnbench\[([\w,\s-]+)\]", requirement.strip())
            if match:
                todo.extend(name.strip() for name in match.group(1).split(","))
    return seen


def tox_test_extras() -> list[str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    return [name.strip() for name in config["testenv:test"]["extras"].split(",")]


def test_every_extra_is_declared_in_pyproject():
    table = optional_dependencies()
    for extra in nnbench.extras():
        assert extra in table, f"the registry asks for extra {extra!r}; pyproject has none"


def test_the_test_environment_installs_every_extra():
    installed = closure(tox_test_extras(), optional_dependencies())
    missing = set(nnbench.extras()) - installed
    assert not missing, f"tox's test env does not install {sorted(missing)}"


def test_the_bench_environment_runs_in_the_test_environment():
    """`tox -e bench` installs nothing of its own: it brings the test environment up to date and
    runs that environment's `nnbench`."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tox.ini")
    bench = config["testenv:bench"]
    assert bench["skip_install"].strip() == "true" and "deps" not in bench
    assert bench["commands_pre"].split() == ["tox", "run", "-e", "test", "--notest"]
    assert bench["commands"].split()[:2] == ["{work_dir}/test/bin/nnbench", "run"]


def test_machine_records_every_implementations_packages():
    recorded = machine.packages()
    for name, entry in nnbench.REGISTRY.items():
        for package in entry.packages:
            assert package in recorded, f"{name}: {package} is not recorded"


def test_readme_table_is_the_registry():
    """The README's table is `nnbench list --markdown`: regenerate it when the registry changes."""
    readme = (ROOT / "README.md").read_text()
    assert implementations_markdown() in readme, (
        "README's implementations table differs from the registry: replace it with what "
        "`nnbench list --markdown` prints")


def test_unavailable_reason_names_the_extra():
    entry = nnbench.Entry("nnbench.nowhere", "Nothing", "a test double", extra="nowhere")
    assert entry.how_to_install == "pip install 'nnbench[nowhere]'"
    assert nnbench.Entry("m", "C", "s").how_to_install == "pip install nnbench"
