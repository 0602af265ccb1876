"""Property tests: on random small networks and data, every implementation equals numpy_vec.

An implementation meets only the random networks it supports (`supports`); one that is slow
to build (`slow_to_build`) meets fewer of them.
"""

import nnbench
import numpy as np
from conftest import OTHERS, assert_close, assert_params_close, rtol_for
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nnbench.errors import DivergenceError, UnsupportedError
from nnbench.spec import NetworkSpec, init_params

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


@st.composite
def networks_and_data(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    loss = draw(st.sampled_from(["mse", "binary_crossentropy", "categorical_crossentropy"]))
    hidden = [draw(st.sampled_from(ELEMENTWISE)) for _ in sizes[2:]]
    if loss == "mse":
        last = draw(st.sampled_from([*ELEMENTWISE, "softmax"]))
    else:
        last = "sigmoid" if loss == "binary_crossentropy" else "softmax"
    spec = NetworkSpec(tuple(sizes), (*hidden, last), loss, bias=draw(st.booleans()),
                       alpha=draw(st.sampled_from([0.01, 0.1, 0.3])))
    scheme = draw(st.sampled_from(["uniform_sym", "glorot_uniform", "he_normal"]))
    params = init_params(spec, scheme, seed=draw(st.integers(0, 2**16)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(1, 6))
    X = rng.normal(0, 2, (n, sizes[0]))
    if loss == "categorical_crossentropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    elif loss == "binary_crossentropy" and draw(st.booleans()):  # labels, or probabilities
        Y = rng.integers(0, 2, (n, sizes[-1])).astype(float)
    else:
        Y = rng.uniform(0, 1, (n, sizes[-1]))
    return spec, params, X, Y


# The smallest tanh or sigmoid derivative (1 - a^2, a (1 - a)) a comparison at each dtype's
# tolerance can trust: a saturated unit turns one ulp of difference in a (each library has
# its own tanh kernel, a few ulps apart) into eps / derivative of relative difference in the
# gradient. Random networks saturate now and then; such examples are discarded, not compared.
DERIVATIVE_FLOOR = {"float64": 1e-6, "float32": 1e-2}


def well_conditioned(ref, X) -> bool:
    for activation, (_, a) in zip(ref.spec.activations, ref._forward_all(ref._check_X(X))):
        if activation in ("tanh", "sigmoid"):
            derivative = 1 - a * a if activation == "tanh" else a * (1 - a)
            if np.min(derivative) < DERIVATIVE_FLOOR[ref.dtype.name]:
                return False
    return True


def check_against_reference(name, dtype, spec, params, X, Y):
    assume(nnbench.get_class(name).supports(spec, dtype) is None)
    impl = nnbench.create(name, spec, params, dtype)
    ref = nnbench.create("numpy", spec, params, dtype)
    assume(well_conditioned(ref, X))
    rtol = rtol_for(name, dtype)
    assert_close(impl.predict(X), ref.predict(X), rtol, f"{name} outputs")
    try:
        loss, grads = impl.loss_and_grads(X, Y)
    except UnsupportedError:  # targets it declares it cannot take (probabilities, for one)
        assume(False)
    ref_loss, ref_grads = ref.loss_and_grads(X, Y)
    assert_close(loss, ref_loss, rtol, f"{name} loss")
    assert_params_close(grads, ref_grads, rtol, f"{name} gradients")
    batch = max(1, len(X) // 2)
    try:
        ref.fit(X, Y, epochs=2, lr=0.1, batch_size=batch)
    except DivergenceError:
        assume(False)  # a network that blows up in the reference says nothing about agreement
    impl.fit(X, Y, epochs=2, lr=0.1, batch_size=batch)
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, f"{name} trained weights")


def make_property_test(name, dtype):
    examples = 8 if nnbench.get_class(name).slow_to_build else 40

    # filter_too_much: an implementation with many limits (scikit-learn's) discards most draws.
    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(networks_and_data())
    def test(case):
        check_against_reference(name, dtype, *case)

    test.__name__ = f"test_random_networks_{name.replace('-', '_')}_{dtype}"
    return test


for _name in OTHERS:
    for _dtype in nnbench.get_class(_name).dtypes:
        _test = make_property_test(_name, _dtype)
        globals()[_test.__name__] = _test
