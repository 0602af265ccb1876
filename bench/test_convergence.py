"""Training loss per epoch of every variant, from the same weights on the same data.

A short MNIST run (the mode's `loss_curve`: a subset, a narrow hidden layer so that pure
Python and the Jacobian finish in seconds). Every implementation computes the same updates,
so the curves should lie on one another; the report draws them on one axis.
"""

from nnbench import networks

DTYPE = "float64"


def test_loss_curve(benchmark, variant, mode, dataset, mnist_selected):
    curve = mode.loss_curve
    preset = networks.get("mnist").with_hidden(curve.hidden)
    data = dataset("mnist")
    X, Y = data.X_train[:curve.samples], data.Y_train[:curve.samples]
    impl = variant.create(preset.spec, preset.initial_params(), DTYPE)
    history = benchmark.pedantic(
        impl.fit, args=(X, Y),
        kwargs={"epochs": curve.epochs, "lr": preset.lr, "batch_size": curve.batch_size},
        rounds=1)
    benchmark.extra_info.update(
        kind="loss_curve", variant=variant.name, impl=variant.impl, network="mnist",
        dtype=DTYPE, sizes=list(preset.spec.sizes), samples=curve.samples,
        batch_size=curve.batch_size, epochs=curve.epochs, lr=preset.lr, loss=history.loss)
    benchmark.group = "mnist loss curve"
