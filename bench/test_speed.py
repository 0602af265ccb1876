"""Predict and train, for every variant, network and dtype: the report's main tables.

- predict: inference on a batch (XOR: the 4 rows; MNIST: 1,000 test images; digits: the 719
  test images);
- train: `fit` with the workload's batch size (XOR and digits: full batch, epochs repeated up
  to the preset's full run; MNIST: mini-batches of 128 over the 60,000 training images).

bench/measure.py says how each is verified against numpy, sized and timed.
"""

from .measure import build, preset_params, run_predict_case, run_train_case


def test_predict(benchmark, variant, dtype, network, mode, dataset):
    work = mode.workloads[network]
    built = build(variant, work.preset.spec, preset_params(work.preset), dtype)
    X = dataset(network).X_test[:work.predict_rows]
    run_predict_case(benchmark, variant, network, dtype, built, X, mode)


def test_train(benchmark, variant, dtype, network, mode, dataset):
    work = mode.workloads[network]
    built = build(variant, work.preset.spec, preset_params(work.preset), dtype)
    data = dataset(network)
    X, Y = data.X_train[:work.train_samples], data.Y_train[:work.train_samples]
    run_train_case(benchmark, variant, network, dtype, built, X, Y, work.preset.lr,
                   work.batch_size, work.max_epochs, mode)
