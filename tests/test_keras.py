"""What only the Keras implementation has: its options, its History, and a quiet TensorFlow.

Everything that all implementations share (forward, loss, gradients, training against
numpy_vec on every preset) is in test_equivalence.py; these tests hold Keras's own claims.
"""

import os
import subprocess
import sys
import textwrap

import nnbench
import numpy as np
import pytest
from conftest import AVAILABILITY, assert_close, assert_params_close, rtol_for
from nnbench import networks
from nnbench.errors import InputError

pytestmark = pytest.mark.skipif(not AVAILABILITY["keras"],
                                reason=AVAILABILITY["keras"].reason)

if AVAILABILITY["keras"]:
    import keras
    from nnbench import keras_tf


@pytest.fixture(scope="module")
def leaky():
    """mnist-leaky with 16 hidden units on 8 images: leaky ReLU, softmax, cross-entropy."""
    preset = networks.get("mnist-leaky").with_hidden(16)
    data = preset.load_data(limit=8)
    return preset.spec, preset.initial_params(), data.X_train, data.Y_train


def pair(case, dtype="float64", **options):
    spec, params, *_ = case
    return (nnbench.create("keras", spec, params, dtype=dtype, **options),
            nnbench.create("numpy", spec, params, dtype=dtype))


def test_a_float64_model_leaves_keras_floatx_as_it_was(leaky):
    before = keras.config.floatx()
    impl, _ = pair(leaky, "float64")
    impl.fit(leaky[2], leaky[3], epochs=1, lr=0.1, batch_size=3)
    assert keras.config.floatx() == before
    # ...while what Keras would have made in floatx was made in float64.
    assert impl.model.optimizer.learning_rate.dtype == "float64"
    assert all(w.dtype == "float64" for w in impl.model.weights)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_history_loss_is_the_batch_size_weighted_mean_of_pre_update_losses(leaky, dtype):
    """8 samples in batches of 3, 3, 2: History's epoch loss against both possible means."""
    spec, params, X, Y = leaky
    impl, ref = pair(leaky, dtype)
    history = impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)  # Keras's History, passed on
    rtol = rtol_for("keras", dtype)
    sizes = [3, 3, 2]
    for epoch_loss in history.loss:
        batch_losses = []
        for start, size in zip([0, 3, 6], sizes):  # numpy: each batch's loss, then its step
            batch_losses.append(ref._train_step(X[start:start + size].astype(dtype),
                                                Y[start:start + size].astype(dtype), 0.1))
        weighted = np.dot(sizes, batch_losses) / 8
        assert_close(epoch_loss, weighted, rtol, "epoch loss")
        # The test can tell the definitions apart: the plain mean of batch losses differs.
        assert abs(np.mean(batch_losses) - weighted) > 100 * rtol * weighted
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, "weights")


def test_jit_compile_computes_what_the_default_computes(leaky):
    spec, params, X, Y = leaky
    impl, ref = pair(leaky, "float64", jit_compile=True)
    rtol = rtol_for("keras", "float64")
    assert_close(impl.predict(X), ref.predict(X), rtol, "outputs")
    loss, grads = impl.loss_and_grads(X, Y)
    ref_loss, ref_grads = ref.loss_and_grads(X, Y)
    assert_close(loss, ref_loss, rtol, "loss")
    assert_params_close(grads, ref_grads, rtol, "gradients")
    history = impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    ref_history = ref.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    assert_close(history.loss, ref_history.loss, rtol, "epoch losses")
    assert_params_close(impl.get_weights(), ref.get_weights(), rtol, "weights")


def test_steps_per_execution_with_a_partial_last_execution(leaky):
    """3 batches an epoch, 2 steps per execution: the last execution runs one step."""
    spec, params, X, Y = leaky
    impl, ref = pair(leaky, "float64", steps_per_execution=2)
    history = impl.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    ref_history = ref.fit(X, Y, epochs=2, lr=0.1, batch_size=3)
    assert_close(history.loss, ref_history.loss, 1e-9, "epoch losses")
    assert_params_close(impl.get_weights(), ref.get_weights(), 1e-9, "weights")


def test_a_new_learning_rate_needs_no_recompiling(leaky):
    spec, params, X, Y = leaky
    impl, ref = pair(leaky, "float64")
    impl.fit(X, Y, epochs=1, lr=0.1, batch_size=4)
    train_function = impl.model.train_function
    impl.fit(X, Y, epochs=1, lr=0.03, batch_size=4)
    impl.fit(X, Y, epochs=1, lr=0.03, batch_size=4, shuffle=True, seed=1)
    assert impl.model.train_function is train_function
    ref.fit(X, Y, epochs=1, lr=0.1, batch_size=4)
    ref.fit(X, Y, epochs=1, lr=0.03, batch_size=4)
    ref.fit(X, Y, epochs=1, lr=0.03, batch_size=4, shuffle=True, seed=1)
    assert_params_close(impl.get_weights(), ref.get_weights(), 1e-9, "weights")


def test_no_bias_gives_zero_b_and_the_device_is_named():
    preset = networks.get("xor-bias-column")
    data = preset.load_data()
    impl = nnbench.create("keras", preset.spec, preset.initial_params())
    impl.fit(data.X_train, data.Y_train, epochs=3, lr=preset.lr)
    _, grads = impl.loss_and_grads(data.X_train, data.Y_train)
    for (_, b), (_, db) in zip(impl.get_weights(), grads):
        assert not b.any() and not db.any()
    assert isinstance(impl.device, str) and impl.device


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_steps_per_execution_is_refused(leaky, bad):
    spec, params, *_ = leaky
    with pytest.raises(InputError, match="steps_per_execution"):
        nnbench.create("keras", spec, params, steps_per_execution=bad)


def test_startup_log_lines_are_dropped_unless_the_user_asked_for_them():
    text = textwrap.dedent("""\
        WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
        I0000 00:00:1795470859.248970   13001 port.cc:153] oneDNN custom operations are on.
        E0000 00:00:1795471086.236267   17354 cuda_platform.cc:52] failed call to cuInit: 303
        I0000 00:00:1795470859.446810   13001 cpu_feature_guard.cc:227] This TensorFlow binary
        To enable the following instructions: AVX2 FMA, in other operations, rebuild.
        /some/module.py:3: UserWarning: something a user should see
        """)
    assert keras_tf._without_startup_logs(text, None) == \
        "/some/module.py:3: UserWarning: something a user should see\n"
    errors_and_up = keras_tf._without_startup_logs(text, "2")
    assert "cuInit" in errors_and_up and "oneDNN" not in errors_and_up
    assert "AVX2" not in errors_and_up and "UserWarning" in errors_and_up
    assert keras_tf._without_startup_logs(text, "0") == text


def test_importing_and_training_print_nothing_and_leave_the_environment_alone():
    """A fresh process (TensorFlow starts once per process): stderr stays empty, and the log
    level set for the import is not left in the environment for child processes to inherit."""
    script = textwrap.dedent("""\
        import os
        import nnbench
        from nnbench import networks
        nnbench.get_class("keras")
        assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ, "log level left behind"
        assert "KERAS_BACKEND" not in os.environ, "backend left behind"
        preset = networks.get("xor")
        data = preset.load_data()
        for dtype in ("float64", "float32"):
            impl = nnbench.create("keras", preset.spec, preset.initial_params(), dtype=dtype)
            impl.fit(data.X_train, data.Y_train, epochs=2, lr=0.1, batch_size=3)
            impl.loss_and_grads(data.X_train, data.Y_train)
            impl.predict(data.X_train)
        """)
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == ""
