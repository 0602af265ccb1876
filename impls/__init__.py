"""nnbench's implementations, by name.

    import nnbench
    nnbench.available()                     # {"numpy": Availability(True, ""), ...}
    impl = nnbench.create("numpy", spec, params, dtype="float64")

Each implementation's module is imported only when it is first asked for, so a missing
optional dependency (Numba, TensorFlow) makes that one implementation unavailable, with the
reason, and never breaks `import nnbench`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import NNBenchError, UnavailableError, UnknownNameError
from .spec import NetworkSpec, Params, init_params


@dataclass(frozen=True)
class Entry:
    """One implementation: where its class lives and what it needs to run."""

    module: str
    cls: str
    summary: str
    extra: str = ""  # the optional extra of `nnbench` that installs its dependencies
    packages: tuple[str, ...] = ()  # distributions whose versions a report records
    install: str = ""  # what makes it available, when it is more than its extra

    @property
    def file(self) -> str:
        """Its source file in the repository (the package `nnbench` is the folder impls/)."""
        package, _, module = self.module.rpartition(".")
        return f"impls/{module}.py" if package == __name__ else self.module

    @property
    def how_to_install(self) -> str:
        if self.install:
            return self.install
        return f"pip install 'nnbench[{self.extra}]'" if self.extra else "pip install nnbench"


def _entry(module: str, *args, **kwargs) -> Entry:
    return Entry(f"{__name__}.{module}", *args, **kwargs)


REGISTRY: dict[str, Entry] = {
    "python": _entry("pure_python", "PurePython",
                     "pure Python: lists of floats, `math.exp`, loops over samples, neurons and "
                     "inputs"),
    "numpy": _entry("numpy_vec", "NumpyVectorised",
                    "vectorised NumPy over the whole mini-batch: **the reference**",
                    packages=("numpy",)),
    "numba": _entry("numba_jit", "NumbaJIT",
                    "the loop algorithm compiled with Numba, the whole training in one compiled "
                    "call", extra="numba", packages=("numba", "llvmlite")),
    "numba-parallel": _entry("numba_parallel", "NumbaParallel",
                             "the same kernels, the samples of each batch shared among threads "
                             "(`prange`)", extra="numba", packages=("numba", "llvmlite")),
    "jacobian": _entry("jacobian", "ExplicitJacobian",
                       "explicit Jacobian matrices chained by the chain rule, and the short "
                       "form beside it (slow and memory-hungry on purpose, guarded by a memory "
                       "budget)", packages=("numpy",)),
    "keras": _entry("keras_tf", "KerasTF",
                    "Keras 3 on TensorFlow (options `jit_compile`, `steps_per_execution`; "
                    "measured also as `keras-fast`, with both on)",
                    extra="keras", packages=("tensorflow", "keras")),
    "octave": _entry("octave_impl", "OctaveCLI",
                     "GNU Octave: the network in `.m` files (`impls/octave/`), driven through "
                     "`octave-cli`, timed inside Octave",
                     install="apt-get install -y --no-install-recommends octave"),
    "torch": _entry("torch_impl", "TorchCPU",
                    "PyTorch on the CPU (`nn.Linear`, `optim.SGD`; option `compile`)",
                    extra="torch", packages=("torch",),
                    install="pip install 'nnbench[torch]' (it pins a CPU build here; elsewhere "
                            "install torch from PyTorch's CPU wheel index first: the default "
                            "wheel brings gigabytes of CUDA)"),
    "jax": _entry("jax_impl", "JaxJIT",
                  "JAX: pure functions, `jax.value_and_grad`, each epoch one jitted `lax.scan`",
                  extra="jax", packages=("jax", "jaxlib")),
}


def extras() -> list[str]:
    """Every optional extra the registered implementations need, in registry order."""
    return list(dict.fromkeys(entry.extra for entry in REGISTRY.values() if entry.extra))


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
            reason = f"{missing} is not installed ({entry.how_to_install})"
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


__all__ = ["NetworkSpec", "Params", "init_params", "available", "create", "extras", "get_class",
           "names", "REGISTRY"]
