"""The data the presets train on: small truth tables, MNIST, and scikit-learn's digits.

Every loader returns a `Dataset` of float64 arrays: X of shape (samples, features) and Y of
shape (samples, outputs). MNIST ships inside the package as its four gzipped IDX files and is
checked against the SHA-256 of the canonical (decompressed) files before first use.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError, InputError, UnknownNameError

BUNDLED_MNIST = Path(__file__).parent / "datasets" / "mnist"

# SHA-256 of the decompressed canonical files.
MNIST_FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
IDX_MAGIC = {"images": 2051, "labels": 2049}


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray

    def limited(self, limit: int | None) -> Dataset:
        """The first `limit` training and first `limit` test samples (all when None)."""
        if check_limit(limit) is None:
            return self
        return Dataset(self.name, self.X_train[:limit], self.Y_train[:limit],
                       self.X_test[:limit], self.Y_test[:limit])


def check_limit(limit):
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer))
                              or limit < 1):
        raise InputError(f"limit must be an integer >= 1, got {limit!r}")
    return limit


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"labels must be in 0..{classes - 1}, got values from "
                        f"{labels.min()} to {labels.max()}")
    encoded = np.zeros((len(labels), classes))
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded


# ---- the small tables ----


def table(name: str, X, Y, X_test=None, Y_test=None) -> Dataset:
    """A dataset written out in full; the test set is the training set unless given."""
    X, Y = np.array(X, dtype=np.float64), np.array(Y, dtype=np.float64)
    X_test = X if X_test is None else np.array(X_test, dtype=np.float64)
    Y_test = Y if Y_test is None else np.array(Y_test, dtype=np.float64)
    return Dataset(name, X, Y, X_test, Y_test)


def xor() -> Dataset:
    return table("xor", [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]])


def xor_bias_column() -> Dataset:
    """XOR with a constant 1 as third input, standing in for the bias (SEEDS C1)."""
    return table("xor-bias-column", [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]],
                 [[0], [1], [1], [0]])


def copy_first_input() -> Dataset:
    """The output is the first of three inputs (SEEDS D1)."""
    return table("copy-first-input", [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]],
                 [[0], [0], [1], [1]])


def binary_reversal() -> Dataset:
    """4-bit strings reversed: train on those starting with 0, test on those starting with 1."""
    bits = np.array([[(i >> (3 - j)) & 1 for j in range(4)] for i in range(16)], dtype=float)
    starts_with_0, starts_with_1 = bits[:8], bits[8:]
    return table("binary-reversal", starts_with_0, starts_with_0[:, ::-1],
                 starts_with_1, starts_with_1[:, ::-1])


def feedforward_example() -> Dataset:
    """SEEDS B1's single input. The write-up only runs it forward; the target 1 is ours."""
    return table("feedforward-example", [[1.5, 2.0, 3.0]], [[1.0]])


# ---- MNIST ----


def mnist_dir(directory: str | os.PathLike | None = None) -> Path:
    """Where MNIST is read from: the argument, else $NNBENCH_MNIST_DIR, else the bundled copy."""
    chosen = directory or os.environ.get("NNBENCH_MNIST_DIR") or BUNDLED_MNIST
    path = Path(chosen)
    if not path.is_dir():
        raise DataError(f"MNIST directory {str(path)!r} does not exist; expected a directory "
                        f"holding the four IDX files (gzipped or not)")
    return path


def read_idx_file(directory: Path, name: str, verify: bool = True) -> bytes:
    """The decompressed bytes of `name` (or `name.gz`) in `directory`, checksum checked."""
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            break
    else:
        raise DataError(f"MNIST file {name}(.gz) is missing from {str(directory)!r}")
    try:
        if candidate.suffix == ".gz":
            with gzip.open(candidate, "rb") as handle:
                content = handle.read()
        else:
            content = candidate.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read {str(candidate)!r}: {exc}") from None
    if verify:
        digest = hashlib.sha256(content).hexdigest()
        if digest != MNIST_FILES[name]:
            raise DataError(f"{str(candidate)!r} fails its checksum: SHA-256 {digest[:16]}..., "
                            f"expected {MNIST_FILES[name][:16]}... (a corrupted or different "
                            f"file; pass verify=False to load other IDX data)")
    return content


def parse_idx(content: bytes, kind: str, source: str) -> np.ndarray:
    """An IDX byte string as a uint8 array: images (count, rows, cols) or labels (count,)."""
    dims = 3 if kind == "images" else 1
    header = 4 + 4 * dims
    if len(content) < header:
        raise DataError(f"{source} is truncated: {len(content)} bytes, shorter than its "
                        f"{header}-byte header")
    magic = int.from_bytes(content[:4], "big")
    if magic != IDX_MAGIC[kind]:
        raise DataError(f"{source} has magic number {magic}, expected {IDX_MAGIC[kind]} "
                        f"(IDX {kind})")
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    if kind == "images" and shape[1:] != (28, 28):
        raise DataError(f"{source} holds images of {shape[1]}x{shape[2]}, expected 28x28")
    expected = header + int(np.prod(shape))
    if len(content) != expected:
        raise DataError(f"{source} has {len(content)} bytes, its header {shape} says {expected}"
                        f" ({'truncated' if len(content) < expected else 'extra bytes'})")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=4)
def _mnist_arrays(directory: Path, verify: bool):
    arrays = {}
    for name in MNIST_FILES:
        kind = "images" if "images" in name else "labels"
        arrays[name] = parse_idx(read_idx_file(directory, name, verify), kind,
                                 str(directory / name))
    for split in ("train", "t10k"):
        images, labels = arrays[f"{split}-images-idx3-ubyte"], arrays[f"{split}-labels-idx1-ubyte"]
        if len(images) != len(labels):
            raise DataError(f"{split}: {len(images)} images but {len(labels)} labels in "
                            f"{str(directory)!r}")
    return arrays


def mnist(directory: str | os.PathLike | None = None, limit: int | None = None,
          verify: bool = True) -> Dataset:
    """MNIST: pixels scaled to [0, 1] as 784 features, labels one-hot over 10 classes."""
    check_limit(limit)
    arrays = _mnist_arrays(mnist_dir(directory), verify)

    def split(prefix):
        images = arrays[f"{prefix}-images-idx3-ubyte"][:limit]
        labels = arrays[f"{prefix}-labels-idx1-ubyte"][:limit]
        return images.reshape(len(images), -1) / 255.0, one_hot(labels)

    return Dataset("mnist", *split("train"), *split("t10k"))


# ---- scikit-learn's digits (SEEDS B3), when the `digits` extra is installed ----


def digits(seed: int = 0) -> Dataset:
    """8x8 digits standardised per pixel, split 60/40 into train and test (seeded)."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise DataError("the digits dataset needs scikit-learn: pip install 'nnbench[digits]'") \
            from None
    bunch = load_digits()
    X = StandardScaler().fit_transform(bunch.data)
    X_train, X_test, y_train, y_test = train_test_split(X, bunch.target, test_size=0.4,
                                                        random_state=seed)
    return Dataset("digits", X_train, one_hot(y_train), X_test, one_hot(y_test))


LOADERS = {
    "xor": xor,
    "xor-bias-column": xor_bias_column,
    "copy-first-input": copy_first_input,
    "binary-reversal": binary_reversal,
    "feedforward-example": feedforward_example,
    "mnist": mnist,
    "digits": digits,
}


def load(name: str, limit: int | None = None) -> Dataset:
    """A dataset by name, cut to its first `limit` samples when asked."""
    if name not in LOADERS:
        raise UnknownNameError("dataset", name, LOADERS)
    return LOADERS[name]().limited(limit)
