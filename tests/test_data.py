"""The data loaders: MNIST as shipped, its checks, and the small tables."""

import gzip
import shutil

import numpy as np
import pytest
from nnbench import data
from nnbench.errors import DataError

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_bundled_mnist_counts_and_labels():
    mnist = data.mnist()
    assert mnist.X_train.shape == (60000, 784) and mnist.X_test.shape == (10000, 784)
    assert mnist.Y_train.sum(axis=0).astype(int).tolist() == TRAIN_COUNTS
    assert mnist.Y_test.sum(axis=0).astype(int).tolist() == TEST_COUNTS
    assert mnist.X_train.min() == 0.0 and mnist.X_train.max() == 1.0
    assert np.all(mnist.Y_train.sum(axis=1) == 1)


def test_limit_takes_the_first_samples():
    small, full = data.mnist(limit=10), data.mnist()
    assert small.X_train.shape == (10, 784) and small.X_test.shape == (10, 784)
    assert np.array_equal(small.X_train, full.X_train[:10])


@pytest.fixture
def mnist_copy(tmp_path):
    for path in data.BUNDLED_MNIST.glob("*.gz"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def rewrite(directory, name, change):
    """Replace one gzipped IDX file with `change(bytes)`."""
    path = directory / f"{name}.gz"
    content = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(change(content)))


def test_corrupted_copy_fails_its_checksum(mnist_copy):
    rewrite(mnist_copy, "t10k-labels-idx1-ubyte", lambda c: c[:-1] + bytes([(c[-1] + 1) % 10]))
    with pytest.raises(DataError, match="fails its checksum"):
        data.mnist(mnist_copy)


def test_truncated_file_is_named(mnist_copy):
    rewrite(mnist_copy, "t10k-labels-idx1-ubyte", lambda c: c[:-100])
    with pytest.raises(DataError, match="truncated"):
        data.mnist(mnist_copy, verify=False)


def test_wrong_magic_number(mnist_copy):
    rewrite(mnist_copy, "t10k-images-idx3-ubyte", lambda c: (2049).to_bytes(4, "big") + c[4:])
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        data.mnist(mnist_copy, verify=False)


def test_missing_directory_and_file(tmp_path, mnist_copy):
    with pytest.raises(DataError, match="does not exist"):
        data.mnist(tmp_path / "nowhere")
    (mnist_copy / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*missing"):
        data.mnist(mnist_copy)


def test_directory_from_environment_with_raw_files(tmp_path, monkeypatch):
    for path in data.BUNDLED_MNIST.glob("*.gz"):
        (tmp_path / path.stem).write_bytes(gzip.decompress(path.read_bytes()))
    monkeypatch.setenv("NNBENCH_MNIST_DIR", str(tmp_path))
    assert data.mnist_dir() == tmp_path
    assert data.mnist(limit=3).X_train.shape == (3, 784)


def test_tables():
    xor = data.xor()
    assert xor.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert xor.Y_train.ravel().tolist() == [0, 1, 1, 0]
    reversal = data.binary_reversal()
    assert np.array_equal(reversal.Y_train, reversal.X_train[:, ::-1])
    assert np.all(reversal.X_test[:, 0] == 1) and np.all(reversal.X_train[:, 0] == 0)
    assert np.all(data.xor_bias_column().X_train[:, 2] == 1)


def test_digits_split():
    pytest.importorskip("sklearn")
    digits = data.digits()
    assert digits.X_train.shape[1] == 64
    assert len(digits.X_train) + len(digits.X_test) == 1797
    assert len(digits.X_test) == 719  # 40% of 1797, rounded up


def test_one_hot_refuses_labels_out_of_range():
    with pytest.raises(DataError, match="0..9"):
        data.one_hot(np.array([0, 10]))
