"""GNU Octave: the network written in Octave's own language, driven from Python.

The seed write-up (SEEDS A4) trained XOR in Octave; this implementation runs our networks
there too. The math is in `impls/octave/*.m`, read them in this order:

    nn_activate.m            activations of a whole batch
    nn_backprop_activation.m their derivatives, dL/da -> dL/dz
    nn_forward.m             z = a_prev * W + b, layer by layer
    nn_loss_and_delta.m      the mean loss and the last layer's delta (Keras's definitions)
    nn_loss_and_grads.m      backpropagation: dW = a_prev' * delta, ...
    nn_train_step.m          W = W - lr * dW
    nn_train.m               epochs of mini-batches in order, timed with tic/toc
    xor_per_row.m            the seed's own per-row loop form of XOR training (A5)
    nnbench_main.m           the Octave end of this bridge

This file is only the bridge. The weights live here, in Python, as arrays of the working
dtype; every call hands them to Octave with the data, and training calls take the new
weights back:

1. Python writes the job into a fresh temporary folder: `job.m`, a few Octave assignments
   (the task, the network, the settings; every real number spelled as its IEEE-754 bits
   with `hex2num`, so nothing depends on how either side prints or parses decimals), and one
   raw little-endian binary file per array, column-major, the order Octave stores matrices.
2. It runs `octave-cli --eval nnbench_main` in that folder, one process per call.
3. Octave writes its answers as raw binary files beside the job; Python reads them back.

Raw bytes round-trip float64 and float32 bit for bit and need no library on either side (a
text format would need care to stay exact; oct2py would add a dependency and its own files
underneath). A fresh process per call keeps Octave stateless: nothing can leak from one call
into the next, and a failure is just an exit status and a message. It costs Octave's
start-up, about 0.1-0.2 s (a persistent Octave fed over stdin would save that, at the price
of a protocol for errors and for knowing when a command is done). That is why `fit` hands
whole runs of epochs to Octave in one call, and why the time Octave itself spent computing is
measured inside Octave with `tic`/`toc` and reported apart:

    impl.last_octave_seconds   seconds inside Octave (tic/toc) in the last fit, step,
                               predict or loss_and_grads
    impl.last_call_seconds     wall seconds of the same, process start and files included

Octave is found as `octave-cli` (or `octave`) on PATH, or at the path in the environment
variable NNBENCH_OCTAVE. Without it this module cannot be imported, and the registry shows
how to install it. Octave multiplies matrices with the system's BLAS (see `octave_info`).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from . import data
from .base import Implementation, check_training_settings
from .errors import NNBenchError
from .spec import NetworkSpec, Params

OCTAVE_DIR = Path(__file__).with_name("octave")  # the .m files
INSTALL = "apt-get install -y --no-install-recommends octave"


class OctaveNotFound(ImportError):
    """No Octave executable here: the registry turns this into the 'unavailable' reason."""


class OctaveError(NNBenchError, RuntimeError):
    """Octave ran but failed; the message carries the end of what it printed."""


def find_octave() -> list[str] | None:
    """The command that starts Octave without a GUI, or None when there is none."""
    chosen = os.environ.get("NNBENCH_OCTAVE")
    if chosen:
        return [chosen] if shutil.which(chosen) else None
    if shutil.which("octave-cli"):
        return ["octave-cli"]
    if shutil.which("octave"):
        return ["octave", "--no-gui"]  # the full program; --no-gui keeps it a command line
    return None


OCTAVE = find_octave()
if OCTAVE is None:
    # The registry shows "<name> is not installed (<its install line>)".
    _wanted = (f"GNU Octave at NNBENCH_OCTAVE={os.environ['NNBENCH_OCTAVE']}"
               if os.environ.get("NNBENCH_OCTAVE") else "GNU Octave (octave-cli)")
    raise OctaveNotFound(f"{_wanted} is not installed (no octave-cli or octave on PATH); "
                         f"install it with: {INSTALL}", name=_wanted)

# --norc: no user or site start-up files, so every run starts the same; --path: our .m files.
FLAGS = ["--norc", "--no-history", "--quiet", "--no-window-system", "--path", str(OCTAVE_DIR)]


def octave_info() -> dict[str, str]:
    """Octave's version and the BLAS it runs on, for a benchmark's machine description.

    Octave uses the system's libblas.so.3: the reference BLAS after the plain install above
    (single-threaded and several times slower on large matrices), OpenBLAS when a libopenblas0
    package provides it (its threads then follow OPENBLAS_NUM_THREADS / OMP_NUM_THREADS).
    """
    said = run_octave("printf ('%s\\n', OCTAVE_VERSION); "
                      "try, printf ('%s\\n', version ('-blas')); catch, printf ('unknown\\n'); end")
    version, _, blas = said.strip().partition("\n")
    return {"version": version, "blas": blas.strip() or "unknown"}


def run_octave(code: str, cwd: str | os.PathLike | None = None) -> str:
    """Run `code` in a fresh Octave; its printed output, or an OctaveError with what it said."""
    done = subprocess.run([*OCTAVE, *FLAGS, "--eval", code], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip()[-2000:]
        raise OctaveError(f"Octave failed (exit status {done.returncode}): {said}")
    return done.stdout


# ---- the files of a job: raw little-endian IEEE-754, column-major ----


def octave_number(value: float) -> str:
    """A float64 as Octave source that gives back exactly the same bits."""
    return f"hex2num ('{struct.pack('>d', float(value)).hex()}')"


def write_array(path: Path, array: np.ndarray, dtype: np.dtype) -> None:
    path.write_bytes(np.asarray(array, dtype=dtype.newbyteorder("<")).tobytes(order="F"))


def read_array(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    flat = np.frombuffer(path.read_bytes(), dtype=dtype.newbyteorder("<"))
    if flat.size != int(np.prod(shape)):
        raise OctaveError(f"Octave wrote {flat.size} numbers to {path.name}, expected "
                          f"{int(np.prod(shape))}")
    return flat.reshape(shape, order="F").astype(dtype)  # native order, writable


def job_script(task: str, spec: NetworkSpec, dtype: np.dtype, n_samples: int,
               **settings) -> str:
    """job.m: the task and everything it needs besides the arrays."""
    quoted = ", ".join(f"'{name}'" for name in spec.activations)
    lines = [
        "% written by impls/octave_impl.py; read by nnbench_main.m",
        f"task = '{task}';",
        f"precision = '{'single' if dtype == np.float32 else 'double'}';",
        f"net.sizes = [{' '.join(str(size) for size in spec.sizes)}];",
        f"net.activations = {{{quoted}}};",
        f"net.loss = '{spec.loss}';",
        f"net.bias = {'true' if spec.bias else 'false'};",
        f"net.alpha = {octave_number(spec.alpha)};  % {spec.alpha!r}",
        f"n_samples = {n_samples};",
    ]
    for name, value in settings.items():
        if isinstance(value, float):
            lines.append(f"{name} = {octave_number(value)};  % {value!r}")
        else:
            lines.append(f"{name} = {int(value)};")
    return "\n".join(lines) + "\n"


IN_DOUBLE = {"loss", "losses"}  # Octave writes these in double whatever the network's precision


def run_job(task: str, spec: NetworkSpec, dtype: np.dtype, weights, biases, X, Y=None,
            outputs: dict[str, tuple[int, ...]] | None = None, **settings):
    """Run one task in a fresh Octave: ({name: array} of `outputs`, seconds inside Octave)."""
    with tempfile.TemporaryDirectory(prefix="nnbench-octave-") as folder:
        folder = Path(folder)
        (folder / "job.m").write_text(job_script(task, spec, dtype, len(X), **settings))
        for layer, (W, b) in enumerate(zip(weights, biases), start=1):
            write_array(folder / f"W{layer}.bin", W, dtype)
            write_array(folder / f"b{layer}.bin", b.reshape(1, -1), dtype)
        write_array(folder / "X.bin", X, dtype)
        if Y is not None:
            write_array(folder / "Y.bin", Y, dtype)

        run_octave("nnbench_main", cwd=folder)

        results = {name: read_array(folder / f"out_{name}.bin", shape,
                                    np.dtype(np.float64) if name in IN_DOUBLE else dtype)
                   for name, shape in (outputs or {}).items()}
        seconds = float(read_array(folder / "out_seconds.bin", (1,), np.dtype(np.float64))[0])
    return results, seconds


def weight_outputs(spec: NetworkSpec, prefix_W="W", prefix_b="b") -> dict[str, tuple]:
    """The output files holding one (W, b) per layer, with their shapes."""
    shapes = {}
    for layer, (n_in, n_out) in enumerate(spec.layer_shapes, start=1):
        shapes[f"{prefix_W}{layer}"] = (n_in, n_out)
        shapes[f"{prefix_b}{layer}"] = (1, n_out)
    return shapes


def layers_of(results: dict, spec: NetworkSpec, prefix_W="W", prefix_b="b"):
    """[(W, b), ...] from the output files (b back to shape (n_out,))."""
    return [(results[f"{prefix_W}{layer}"], results[f"{prefix_b}{layer}"].reshape(-1))
            for layer in range(1, len(spec.layer_shapes) + 1)]


class OctaveCLI(Implementation):
    name = "octave"
    slow_to_build = True
    dtypes = ("float64", "float32")  # Octave's double and single

    last_octave_seconds: float = 0.0
    last_call_seconds: float = 0.0

    def _set_weights(self, params: Params) -> None:
        self.weights = [W.astype(self.dtype) for W, _ in params]
        self.biases = [b.astype(self.dtype) for _, b in params]

    def _get_weights(self) -> Params:
        return list(zip(self.weights, self.biases))

    def _run(self, task, X, Y=None, outputs=None, **settings):
        """One Octave call, its two timings recorded (added up over the calls of one fit)."""
        started = time.perf_counter()
        results, seconds = run_job(task, self.spec, self.dtype, self.weights, self.biases,
                                   X, Y, outputs, **settings)
        self.last_call_seconds += time.perf_counter() - started
        self.last_octave_seconds += seconds
        return results

    def _start_timing(self):
        self.last_octave_seconds = 0.0
        self.last_call_seconds = 0.0

    def _take_weights(self, results):
        pairs = layers_of(results, self.spec)
        self.weights = [W for W, _ in pairs]
        self.biases = [b for _, b in pairs]

    # ---- the hooks: each one Octave call ----

    def _forward(self, X):
        self._start_timing()
        outputs = {"A": (len(X), self.spec.n_outputs)}
        return self._run("predict", X, outputs=outputs)["A"]

    def _loss_and_grads(self, X, Y):
        self._start_timing()
        outputs = {"loss": (1,), **weight_outputs(self.spec, "dW", "db")}
        results = self._run("loss_and_grads", X, Y, outputs)
        loss = float(results["loss"][0])
        return loss, layers_of(results, self.spec, "dW", "db")

    def _train_step(self, X, Y, lr):
        self._start_timing()
        outputs = {"loss": (1,), **weight_outputs(self.spec)}
        results = self._run("step", X, Y, outputs, lr=float(lr))
        self._take_weights(results)
        return float(results["loss"][0])

    def _train_epochs(self, X, Y, epochs, lr, batch_size):
        """A whole run of epochs in one Octave call (fit hands over all it can at once)."""
        outputs = {"losses": (epochs,), **weight_outputs(self.spec)}
        results = self._run("train", X, Y, outputs, epochs=epochs, lr=float(lr),
                            batch_size=batch_size)
        self._take_weights(results)
        return [float(loss) for loss in results["losses"]]

    def fit(self, *args, **kwargs):
        """Implementation.fit; its timings add up all of its Octave calls (one per epoch when
        shuffling, a hundred or so with a progress bar, else one)."""
        self._start_timing()
        return super().fit(*args, **kwargs)


# ---- the seed's per-row XOR (SEEDS A5) ----

XOR_SPEC = NetworkSpec((2, 2, 1), ("sigmoid", "sigmoid"), "binary_crossentropy")


def xor_per_row(params: Params, epochs: int, lr: float, X=None, Y=None,
                dtype: str = "float64") -> tuple[Params, float]:
    """Train the seed's 2-2-1 XOR with its per-row loop form (octave/xor_per_row.m).

    Returns the trained Params and the seconds the epochs took inside Octave (tic/toc).
    X and Y default to the XOR truth table.
    """
    table = data.xor()
    impl = OctaveCLI(XOR_SPEC, params, dtype)  # checks the params and the dtype
    X, Y = impl._check_XY(table.X_train if X is None else X, table.Y_train if Y is None else Y)
    epochs, lr, _ = check_training_settings(epochs, lr, None, len(X))
    results, seconds = run_job("xor_per_row", XOR_SPEC, impl.dtype, impl.weights, impl.biases,
                               X, Y, weight_outputs(XOR_SPEC), epochs=epochs, lr=lr)
    trained = [(W.astype(np.float64), b.astype(np.float64))
               for W, b in layers_of(results, XOR_SPEC)]
    return trained, seconds
