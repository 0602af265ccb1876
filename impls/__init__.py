"""nnbench's implementations, by name.

    import impls
    impls.available()                       # {"numpy": Availability(True, ""), ...}
    impl = impls.create("numpy", spec, params, dtype="float64")

Each implementation's module is imported only when it is first asked for, so a missing
optional dependency (Numba, TensorFlow) makes that one implementation unavailable, with the
reason, and never breaks `import impls`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import NNBenchError, UnavailableError, UnknownNameError
from .spec import NetworkSpec, Params, init_params


@dataclass(frozen=True)
class Entry:
    module: str
    cls: str
    summary: str
    install: str  # what makes it available, shown when it is not


REGISTRY: dict[str, Entry] = {
    "python": Entry("impls.pure_python", "PurePython",
                    "pure Python: lists of floats, math.exp, loops", "the standard library"),
    "numpy": Entry("impls.numpy_vec", "NumpyVectorised",
                   "vectorised NumPy over the whole batch (the reference)", "pip install numpy"),
    "numba": Entry("impls.numba_jit", "NumbaJIT",
                   "the loop algorithm compiled with Numba, a whole epoch per call",
                   "pip install 'nnbench[numba]'"),
    "numba-parallel": Entry("impls.numba_jit", "NumbaParallel",
                            "the Numba loops with parallel=True over the samples of a batch",
                            "pip install 'nnbench[numba]'"),
    "jacobian": Entry("impls.jacobian", "ExplicitJacobian",
                      "explicit Jacobian matrices chained by the chain rule (slow on purpose)",
                      "pip install numpy"),
    "keras": Entry("impls.keras_tf", "KerasTF", "Keras 3 on TensorFlow",
                   "pip install 'nnbench[keras]'"),
    "octave": Entry("impls.octave_impl", "OctaveCLI",
                    "GNU Octave's own language, whole-batch matrices, run by octave-cli",
                    "apt-get install -y --no-install-recommends octave"),
    "torch": Entry("impls.torch_impl", "TorchCPU",
                   "PyTorch on the CPU: nn.Linear layers, autograd, optim.SGD",
                   "pip install torch==2.13.0 (a CPU build here; elsewhere install torch from "
                   "the CPU wheel index of PyTorch: the default wheel brings gigabytes of CUDA)"),
    "jax": Entry("impls.jax_impl", "JaxJIT",
                 "JAX: pure functions, jax.grad, a whole epoch's updates in one jit",
                 "pip install 'nnbench[jax]'"),
}


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""

    def __bool__(self):
        return self.ok


_classes: dict[str, type] = {}
_failures: dict[str, str] = {}


def names() -> list[str]:
    """Every registered implementation name, available here or not."""
    return list(REGISTRY)


def get_class(name: str) -> type:
    """The class behind `name`, importing its module on first use."""
    if name not in REGISTRY:
        raise UnknownNameError("implementation", name, REGISTRY)
    if name in _classes:
        return _classes[name]
    if name in _failures:
        raise UnavailableError(_failures[name])
    entry = REGISTRY[name]
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if missing == entry.module:  # our own file is missing: a broken install, not a dependency
            reason = f"its module {entry.module} is missing from this installation"
        elif missing:
            reason = f"{missing} is not installed ({entry.install})"
        else:  # an ImportError raised on purpose, e.g. a missing executable: its message says why
            reason = str(exc)
        _failures[name] = f"implementation {name!r} is unavailable: {reason}"
        raise UnavailableError(_failures[name]) from None
    _classes[name] = getattr(module, entry.cls)
    return _classes[name]


def available() -> dict[str, Availability]:
    """Each registered name with whether it can run here, and if not, why."""
    result = {}
    for name in REGISTRY:
        try:
            get_class(name)
            result[name] = Availability(True)
        except NNBenchError as exc:
            result[name] = Availability(False, str(exc))
    return result


def create(name: str, spec: NetworkSpec, params: Params, dtype: str = "float64", **options):
    """A ready implementation of `spec`, starting from (a copy of) `params`."""
    return get_class(name)(spec, params, dtype=dtype, **options)


__all__ = ["NetworkSpec", "Params", "init_params", "available", "create", "get_class", "names",
           "REGISTRY"]
