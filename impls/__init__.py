"""nnbench's implementations, by name.

    import nnbench
    nnbench.available()                     # {"numpy": Availability(True, ""), ...}
    impl = nnbench.create("numpy", spec, params, dtype="float64")

Each implementation's module is imported only when it is first asked for, so a missing
optional dependency (Numba, TensorFlow) makes that one implementation unavailable, with the
reason, and never breaks `import nnbench`. Implementations from other packages join the
built-in ones (`REGISTRY`) through an entry point or a `module:Class` reference
(nnbench/plugins.py, `join`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from . import plugins
from .errors import InputError, NNBenchError, UnavailableError, UnknownNameError
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
    origin: str = ""  # where a plugin came from ("" for a built-in implementation)
    path: bool = False  # `module` is a file path

    @property
    def file(self) -> str:
        """Its source file in the repository (the package `nnbench` is the folder impls/)."""
        package, _, module = self.module.rpartition(".")
        return f"impls/{module}.py" if package == __name__ and not self.path else self.module

    @property
    def reference(self) -> plugins.Reference:
        return plugins.Reference(self.module, self.cls, self.path)

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
    "numpy-fast": _entry("numpy_fast", "NumpyFast",
                         "the same NumPy with no weight-sized temporary in a step: buffers "
                         "made once, activations in place, the rate folded into the delta",
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
    "sklearn": _entry("sklearn_mlp", "SklearnMLP",
                      "scikit-learn's `MLPClassifier`/`MLPRegressor` as plain SGD (no momentum, "
                      "no L2, no shuffling, a constant rate); only the networks it can express",
                      extra="digits", packages=("scikit-learn",)),
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
_joined: dict[str, Entry] = {}  # plugins: from entry points, then from references
_refused: list[str] = []  # entry points that could not join, and why
_discovered = False


def _entries() -> dict[str, Entry]:
    """The built-in implementations and every plugin, discovered on first use."""
    global _discovered
    if not _discovered:
        _discovered = True
        for name, reference, dist in plugins.entry_points():
            if name in REGISTRY:
                _refused.append(f"entry point {name!r} of {dist} ({reference}): the name is "
                                f"built in; the plugin must choose another")
            else:
                _joined[name] = Entry(reference.module, reference.cls, "", packages=(dist,),
                                      origin=f"entry point of {dist}")
        for text in plugins.given_references():
            try:
                join(text)
            except NNBenchError as exc:
                _refused.append(f"{text}: {exc}")
    return {**REGISTRY, **_joined}


def join(text: str) -> str:
    """The name of the implementation `text` refers to: a name, or a `module:Class` or
    `./file.py:Class` reference, whose class is imported, checked and registered under its
    own `name` (and handed to the processes this one starts). A path that is not a readable
    file is an InputError; a class that cannot be imported or used, a PluginError."""
    if not plugins.is_reference(text):
        get_class(text)
        return text
    reference = plugins.parse(text)
    cls = plugins.load(reference)
    name = plugins.check_name(getattr(cls, "name", None), text)
    entries = _entries()
    if name in entries:
        try:
            if get_class(name) is cls:  # the registered class itself, by another spelling
                return name
        except NNBenchError:
            pass
        taken = "a built-in implementation" if name in REGISTRY else entries[name].origin
        raise InputError(f"--impl {text}: the name {name!r} is taken by {taken}; give the "
                         f"class another `name`")
    _joined[name] = Entry(reference.module, reference.cls, "", origin=str(reference),
                          path=reference.path)  # a plugin's summary is its docstring
    _classes[name] = cls
    plugins.hand_down(reference)
    return name


def refused() -> list[str]:
    """The plugins that could not join, each with why."""
    _entries()
    return list(_refused)


def entry(name: str) -> Entry:
    entries = _entries()
    if name not in entries:
        raise UnknownNameError("implementation", name, entries)
    return entries[name]


def names() -> list[str]:
    """Every registered implementation name, available here or not (plugins after built-ins)."""
    return list(_entries())


def get_class(name: str) -> type:
    """The class behind `name`, importing its module on first use."""
    found = entry(name)
    if name in _classes:
        return _classes[name]
    if name in _failures:
        raise UnavailableError(_failures[name])
    try:
        cls = _load(found)
    except NNBenchError as exc:
        _failures[name] = f"implementation {name!r} is unavailable: {exc}"
        raise UnavailableError(_failures[name]) from None
    _classes[name] = cls
    return cls


def _load(found: Entry) -> type:
    if found.origin:  # a plugin: any failure of its code is its own
        return plugins.load(found.reference)
    try:
        module = importlib.import_module(found.module)
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        if missing == found.module:  # our own file is missing: a broken install, not a dependency
            raise UnavailableError(f"its module {found.module} is missing from this "
                                   f"installation") from None
        if missing:
            raise UnavailableError(f"{missing} is not installed ({found.how_to_install})") from None
        # an ImportError raised on purpose, e.g. a missing executable: its message says why
        raise UnavailableError(str(exc)) from None
    return getattr(module, found.cls)


def available() -> dict[str, Availability]:
    """Each registered name with whether it can run here, and if not, why."""
    result = {}
    for name in names():
        try:
            get_class(name)
            result[name] = Availability(True)
        except NNBenchError as exc:
            result[name] = Availability(False, str(exc))
    return result


def create(name: str, spec: NetworkSpec, params: Params, dtype: str = "float64", **options):
    """A ready implementation of `spec`, starting from (a copy of) `params`."""
    return get_class(name)(spec, params, dtype=dtype, **options)


__all__ = ["NetworkSpec", "Params", "init_params", "available", "create", "entry", "extras",
           "get_class", "join", "names", "refused", "REGISTRY"]
