"""The `nnbench` command: what it prints, and one clear line (exit 2) for every bad input."""

import subprocess
import sys

import pytest
from nnbench.bench.cli import epochs_to_show, main


def nnbench(*args):
    """Run the real command in a fresh process, as a user would."""
    return subprocess.run([sys.executable, "-m", "nnbench.bench.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_list_shows_the_reference_implementations_and_presets(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name in ("python", "numpy"):
        assert any(line.split()[:2] == [name, "available"] for line in lines), name
    for preset in ("xor", "mnist", "mnist-leaky", "digits", "binary-reversal"):
        assert any(line.split()[:1] == [preset] for line in lines), preset


def test_train_python_learns_xor_in_a_short_run(capsys):
    assert main(["train", "--impl", "python", "--network", "xor-bias-column", "--epochs",
                 "3000", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy 100.00%" in out
    assert "epoch 3000" in out


def test_train_mnist_subset_with_hidden_override(capsys):
    assert main(["train", "--impl", "numpy", "--network", "mnist", "--limit", "500",
                 "--hidden", "32", "--epochs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "784-32-10, 500 training samples" in out
    assert "test accuracy" in out


@pytest.mark.parametrize("args,message", [
    (["train", "--impl", "nope", "--network", "xor"], "unknown implementation 'nope'"),
    (["train", "--impl", "numpy", "--network", "nope"], "unknown preset 'nope'"),
    (["train", "--impl", "numpy", "--network", "xor", "--epochs", "0"], "epochs must be"),
    (["train", "--impl", "numpy", "--network", "xor", "--lr", "-1"], "learning rate"),
    (["train", "--impl", "numpy", "--network", "xor", "--batch-size", "9"], "larger than"),
    (["train", "--impl", "numpy", "--network", "xor", "--dtype", "float16"], "unknown dtype"),
    (["train", "--impl", "python", "--network", "xor", "--dtype", "float32"], "has no float32"),
    (["train", "--impl", "numpy", "--network", "xor", "--hidden", "0"], "hidden width"),
    (["train", "--impl", "numpy", "--network", "mnist", "--mnist-dir", "/nonexistent"],
     "--mnist-dir /nonexistent: no such directory"),
    (["train", "--impl", "numpy", "--network", "xor", "--epochs", "x"], "invalid int value"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = nnbench(*args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_corrupted_mnist_file_is_one_line(tmp_path):
    import gzip
    import shutil

    from nnbench.data import BUNDLED_MNIST

    for path in BUNDLED_MNIST.glob("*.gz"):
        shutil.copy(path, tmp_path / path.name)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[100] = (content[100] + 1) % 10
    labels.write_bytes(gzip.compress(bytes(content)))
    result = nnbench("train", "--impl", "numpy", "--network", "mnist", "--mnist-dir",
                     str(tmp_path), "--epochs", "1")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "fails its checksum" in result.stderr


def test_nan_in_X_is_refused_by_the_library():
    import nnbench
    import numpy as np
    from nnbench import networks
    from nnbench.errors import InputError

    preset = networks.get("xor")
    impl = nnbench.create("numpy", preset.spec, preset.initial_params())
    with pytest.raises(InputError, match="NaN"):
        impl.predict(np.array([[0.0, np.nan]]))
    with pytest.raises(InputError, match="3 columns, the network expects 2"):
        impl.predict(np.zeros((4, 3)))


def test_epochs_to_show():
    assert epochs_to_show(5) == [1, 2, 3, 4, 5]
    shown = epochs_to_show(100_000)
    assert shown[-1] == 100_000 and len(shown) <= 21


BAD_RUN_OPTIONS = [
    *[("--max-case-seconds", value, "--max-case-seconds must be a finite number of seconds > 0")
      for value in ("0", "-1", "nan", "inf")],
    *[("--timeout", value, "--timeout must be a finite number of seconds > 0")
      for value in ("0", "-1", "nan", "inf")],
    *[("--claims-budget", value, "--claims-budget must be a finite number of seconds >= 0")
      for value in ("-1", "nan", "inf")],
    *[("--threads", value, "--threads must be at least 1") for value in ("0", "-2")],
    *[("--repeats", value, "--repeats must be a whole number of at least 1")
      for value in ("0", "-3")],
]


@pytest.mark.parametrize(("flag", "value", "message"), BAD_RUN_OPTIONS)
def test_run_refuses_a_bad_number_before_it_starts(tmp_path, capsys, flag, value, message):
    assert main(["run", "--quick", flag, value, "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and value in lines[0]
    assert not list(tmp_path.iterdir())  # no run directory


def test_a_refused_number_is_one_line_from_the_real_command(tmp_path):
    """The same refusal in a fresh process: exit status 2 and one line, no traceback."""
    result = nnbench("run", "--quick", "--threads", "0", "--out", str(tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--threads must be at least 1" in lines[0]
    assert not list(tmp_path.iterdir())
