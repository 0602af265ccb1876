"""The machine a benchmark ran on: CPU, versions, BLAS, threads, accelerators.

`describe()` is what the benchmark JSON's machine info carries (bench/conftest.py adds it
through pytest-benchmark's `pytest_benchmark_update_machine_info` hook), so a report made
later, elsewhere, still says what produced the numbers. It asks libraries about their state
only when they are already imported: describing the machine must not load TensorFlow into
the NumPy benchmark's process.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nnbench

from .threads import BLAS_SPIN_VARIABLE, THREAD_VARIABLES, cores, cpus, threads_in_effect

SUITE_PACKAGES = ("numpy", "scikit-learn", "pandas", "matplotlib", "scipy", "pytest",
                  "pytest-benchmark")


def packages() -> tuple[str, ...]:
    """The distributions whose versions a report records: the suite's and each implementation's."""
    found = [*SUITE_PACKAGES]
    for entry in nnbench.REGISTRY.values():
        found.extend(entry.packages)
    return tuple(dict.fromkeys(found))


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def machine_slug() -> str:
    """A directory name for this machine: $NNBENCH_MACHINE, else its CPU model and cores."""
    if os.environ.get("NNBENCH_MACHINE"):
        return slug(os.environ["NNBENCH_MACHINE"])
    return f"{slug(cpu_model())}-{cores()}cpu"


def slug(text: str) -> str:
    words = re.sub(r"\((r|tm)\)|cpu|processor|\d+-core|@.*", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", words).strip("-") or "machine"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in packages():
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    if "nnbench.octave_impl" in sys.modules:
        found["octave"] = _octave_version()
    return found


def _octave_version() -> str:
    executable = os.environ.get("NNBENCH_OCTAVE") or shutil.which("octave-cli")
    if not executable:
        return "?"
    try:
        first = subprocess.run([executable, "--version"], capture_output=True, text=True,
                               timeout=20).stdout.splitlines()[:1]
    except (OSError, subprocess.SubprocessError):
        return "?"
    return first[0].replace("GNU Octave, version", "").strip() if first else "?"


def blas() -> dict:
    """NumPy's BLAS as built, and every BLAS/OpenMP library loaded now, with its threads."""
    info: dict = {}
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        build = config.get("Build Dependencies", {}).get("blas", {})
        info["numpy_blas"] = {key: build.get(key) for key in ("name", "version",
                                                               "openblas configuration")
                              if build.get(key)}
    except (TypeError, AttributeError):  # NumPy < 1.25 has no mode="dicts"
        pass
    try:
        from threadpoolctl import threadpool_info

        info["loaded"] = [{key: pool.get(key) for key in ("user_api", "internal_api", "version",
                                                          "num_threads", "architecture")}
                          for pool in threadpool_info()]
    except ImportError:
        info["loaded"] = "threadpoolctl not installed"
    return info


def threads() -> dict:
    """The thread setting, the variables that carried it, and what each library reports."""
    found: dict = {"setting": threads_in_effect(),
                   "environment": {name: os.environ.get(name)
                                   for name in (*THREAD_VARIABLES, BLAS_SPIN_VARIABLE)}}
    if "numba" in sys.modules:
        found["numba"] = sys.modules["numba"].get_num_threads()
    if "torch" in sys.modules:
        found["torch"] = sys.modules["torch"].get_num_threads()
    if "tensorflow" in sys.modules:
        threading = sys.modules["tensorflow"].config.threading
        found["tensorflow"] = {"intra_op": threading.get_intra_op_parallelism_threads(),
                               "inter_op": threading.get_inter_op_parallelism_threads()}
    return found


def accelerators() -> list[str]:
    """GPUs the already-imported frameworks can see (an empty list on a CPU-only machine)."""
    found = []
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        found += [f"tensorflow: {device.name}" for device in tf.config.list_physical_devices("GPU")]
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        torch = sys.modules["torch"]
        found += [f"torch: {torch.cuda.get_device_name(i)}"
                  for i in range(torch.cuda.device_count())]
    if "jax" in sys.modules:
        found += [f"jax: {device}" for device in sys.modules["jax"].devices()
                  if device.platform != "cpu"]
    return found


def describe() -> dict:
    return {"cpu_model": cpu_model(), "cores": cores(), "cpus": cpus(), "machine": machine_slug(),
            "platform": platform.platform(), "versions": versions(), "blas": blas(),
            "threads": threads(), "accelerators": accelerators()}
