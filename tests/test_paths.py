"""Every path a command takes, when it is missing, of the wrong kind or not writable: one line
naming it and what was expected, exit status 2, and nothing written."""

import os
from pathlib import Path

import pytest
from nnbench.bench.cli import main

PLUGIN = Path(__file__).resolve().parent / "plugins" / "tiny.py"


@pytest.fixture
def places(tmp_path):
    """A file, a directory, a missing path, and a path under a file."""
    (tmp_path / "a-file").write_text("not a directory\n")
    (tmp_path / "a-dir").mkdir()
    return {"file": tmp_path / "a-file", "dir": tmp_path / "a-dir",
            "missing": tmp_path / "missing", "under-file": tmp_path / "a-file" / "x"}


CASES = [
    # (command, the path argument's place, what the message says)
    (["train", "--impl", "numpy", "--network", "mnist", "--limit", "8", "--mnist-dir", "{missing}"],
     "--mnist-dir {missing}: no such directory"),
    (["train", "--impl", "numpy", "--network", "mnist", "--limit", "8", "--mnist-dir", "{file}"],
     "--mnist-dir {file}: is a file (expected a directory)"),
    (["verify", "--impl", "numpy", "--network", "xor", "--json", "{dir}"],
     "--json {dir}: is a directory (expected a file name to write)"),
    (["verify", "--impl", "numpy", "--network", "xor", "--json", "{under-file}"],
     "--json {under-file}: {file} is a file, so nothing can be created under it"),
    (["verify", "--impl", "numpy", "--network", "xor", "--charts", "{file}"],
     "--charts {file}: is a file (expected a directory to write into)"),
    (["claims", "--id", "A4", "--impl", "numpy", "--json", "{dir}"],
     "--json {dir}: is a directory"),
    (["run", "--quick", "--impl", "numpy", "--out", "{file}"],
     "--out {file}: is a file (expected a directory to write into)"),
    (["run", "--quick", "--impl", "numpy", "--out", "{under-file}"],
     "--out {under-file}: {file} is a file"),
    (["report", "{missing}"], "RUN {missing}: no such file or directory"),
    (["report", "{dir}", "--out", "{file}"], "--out {file}: is a file"),
    (["compare", "{missing}", "{dir}"], "RUN_A {missing}: no such file or directory"),
    (["compare", "{dir}", "{missing}"], "RUN_B {missing}: no such file or directory"),
    (["list", "--impl", "{missing}/mine.py:Mine"], "no such file {missing}/mine.py"),
    (["train", "--impl", "{dir}:Mine", "--network", "xor"], "{dir} is not a file"),
]


@pytest.mark.parametrize("args,message", CASES, ids=[" ".join(a[:1] + a[-2:]) for a, _ in CASES])
def test_a_bad_path_is_one_line_and_exit_2(places, capsys, args, message):
    before = sorted(Path(places["dir"]).parent.rglob("*"))
    status = main([a.format(**places) for a in args])
    out, err = capsys.readouterr()
    assert status == 2, out + err
    assert len(err.strip().splitlines()) == 1
    assert message.format(**places) in err
    assert sorted(Path(places["dir"]).parent.rglob("*")) == before  # nothing written


def test_an_unwritable_directory_is_refused(places, capsys, monkeypatch):
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: (Path(path) != places["dir"]
                                                          and real_access(path, mode)))
    status = main(["verify", "--impl", "numpy", "--network", "xor", "--charts",
                   str(places["dir"])])
    err = capsys.readouterr().err
    assert status == 2 and "the directory is not writable (permission denied)" in err
