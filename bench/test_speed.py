"""Predict and train, for every variant, network and dtype: the report's main tables.

- predict: inference on a batch (XOR: the 4 rows; MNIST: 1,000 test images; digits: the 719
  test images);
- train: `fit` with the workload's batch size (XOR and digits: full batch, epochs repeated up
  to the preset's full run; MNIST: mini-batches of 128 over the 60,000 training images).

bench/measure.py says how each is verified against numpy, sized and timed.
"""

import numpy as np

from .measure import build, preset_params, run_predict_case, run_train_case


def in_dtype(array, dtype: str) -> np.ndarray:
    """The data in the case's dtype, as somebody computing in float32 would hand it over, so
    that a timed round times the training, not a cast of the dataset."""
    return np.ascontiguousarray(array, dtype=dtype)


def test_predict(benchmark, variant, dtype, network, mode, dataset):
    work = mode.workloads[network]
    built = build(variant, work.preset.spec, preset_params(work.preset), dtype)
    X = in_dtype(dataset(network).X_test[:work.predict_rows], dtype)
    run_predict_case(benchmark, variant, network, dtype, built, X, mode)


def test_train(benchmark, variant, dtype, network, mode, dataset):
    work = mode.workloads[network]
    built = build(variant, work.preset.spec, preset_params(work.preset), dtype)
    data = dataset(network)
    X = in_dtype(data.X_train[:work.train_samples], dtype)
    Y = in_dtype(data.Y_train[:work.train_samples], dtype)
    run_train_case(benchmark, variant, network, dtype, built, X, Y, work.preset.lr,
                   work.batch_size, work.max_epochs, mode)
