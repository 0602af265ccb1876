"""`nnbench verify`: the equivalence contract as a command, for any implementation.

For an implementation, a preset and a dtype, against numpy_vec from the same starting weights
on the same small case (`small_case`, which the equivalence tests use too):

1. the forward outputs, 2. the loss, 3. each layer's gradient (W, then b), 4. the weights and
losses after `steps` full-batch steps: each held to the project's tolerance
(nnbench.tolerance), the first one that is not being the finding's `problem`;
5. the drift over the preset's own training schedule (its learning rate, batch size, shuffling
and epochs, the first `epochs` of them when a cap is given): the largest relative difference
of the weights at checkpoints spaced evenly on a log scale, and of the loss at every epoch.
Drift is shown, not judged: how far rounding differences grow over a long run is a property
of the training, which the tolerance of one step does not bound.

A case the implementation declares it cannot compute is `not supported`, with its reason; one
whose code raises is `failed`. The findings are written as JSON (`write_json`) and drawn by
bench/verify_report.py. `nnbench run` verifies each variant in its own first process
(bench/test_verify.py), where a plugin that hangs is stopped by the step's time limit.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nnbench
import numpy as np
from nnbench import networks
from nnbench.errors import DataError, DivergenceError, UnsupportedError
from nnbench.tolerance import disagreement, largest_relative_error, relative_error, rtol_for

from . import files

OK, MISMATCH, UNSUPPORTED, FAILED = "ok", "mismatch", "not supported", "failed"
REFERENCE = "numpy"  # what every implementation is held to
STATUSES = (OK, MISMATCH, FAILED, UNSUPPORTED)
DEFAULT_STEPS = 5
DEFAULT_EPOCHS = 100  # of the drift run: Keras takes ~10 ms an epoch, XOR's schedule 100,000
CHECKPOINTS = 12  # at most, for the weights' drift


@dataclass
class Finding:
    """What verify found for one implementation, preset and dtype."""

    impl: str
    preset: str
    dtype: str
    status: str = OK
    problem: str = ""  # the first disagreement, the reason it is not supported, or the error
    tolerance: float = math.nan
    largest: float = 0.0  # the largest relative error of the judged quantities
    errors: dict[str, float] = field(default_factory=dict)  # quantity -> relative error
    drift_epochs: list[int] = field(default_factory=list)  # the checkpoints
    drift_weights: list[float] = field(default_factory=list)  # largest error at each
    drift_loss: list[float] = field(default_factory=list)  # loss error at every epoch
    epochs: int = 0  # of the drift run
    preset_epochs: int = 0  # of the preset's full run


@functools.cache
def small_case(preset_name: str):
    """(preset, X, Y): the preset's own data, 8 samples (XOR: its 4 rows); the MNIST shapes
    with 16 hidden units, so that every paradigm checks it in seconds."""
    preset = networks.get(preset_name)
    if preset.spec.n_inputs == 784:
        preset = preset.with_hidden(16)
    data = preset.load_data(limit=8)
    return preset, data.X_train, data.Y_train


def verify(name: str, preset_name: str, dtype: str, steps: int = DEFAULT_STEPS,
           epochs: int | None = None, options: dict | None = None,
           label: str | None = None) -> Finding:
    """The finding for one implementation (built with `options`; called `label` in the
    finding), preset and dtype; see the module docstring."""
    preset, X, Y = small_case(preset_name)
    finding = Finding(label or name, preset_name, dtype, preset_epochs=preset.epochs)
    cls, options = nnbench.get_class(name), options or {}
    try:
        reason = cls.supports(preset.spec, dtype, **options)
        if reason is not None:
            finding.status, finding.problem = UNSUPPORTED, reason
            return finding
        finding.tolerance = rtol = rtol_for(cls, dtype)
        checks = one_step_checks(name, preset, X, Y, dtype, steps, options)
        for what, actual, expected in checks:
            error = relative_error(actual, expected)
            finding.errors[what] = error
            finding.largest = max(finding.largest, error)
            if finding.status == OK and error > rtol:
                finding.status = MISMATCH
                finding.problem = disagreement(actual, expected, rtol, what)
        drift(finding, name, preset, X, Y, dtype, epochs, options)
    except UnsupportedError as exc:  # declared late, by the data (e.g. targets it can't take)
        finding.status, finding.problem = UNSUPPORTED, exc.reason
    except Exception as exc:  # the implementation's own code failed: that is the finding
        finding.status = FAILED
        finding.problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return finding


def one_step_checks(name, preset, X, Y, dtype, steps, options):
    """(quantity, implementation's value, numpy's value), in the order they are judged."""
    impl = nnbench.create(name, preset.spec, preset.initial_params(), dtype=dtype, **options)
    ref = nnbench.create(REFERENCE, preset.spec, preset.initial_params(), dtype=dtype)
    checks = [("outputs", impl.predict(X), ref.predict(X))]
    loss, grads = impl.loss_and_grads(X, Y)
    ref_loss, ref_grads = ref.loss_and_grads(X, Y)
    checks.append(("loss", loss, ref_loss))
    checks += layer_checks("gradient of", grads, ref_grads)
    history = impl.fit(X, Y, epochs=steps, lr=preset.lr)  # full batch: one step per epoch
    ref_history = ref.fit(X, Y, epochs=steps, lr=preset.lr)
    checks += layer_checks(f"weights after {steps} steps:", impl.get_weights(),
                           ref.get_weights())
    checks.append((f"loss of each of {steps} steps", history.loss, ref_history.loss))
    return checks


def layer_checks(label, params, ref_params):
    if len(params) != len(ref_params):
        return [(f"{label} the layers", np.zeros(len(params)), np.zeros(len(ref_params)))]
    return [(f"{label} {part}{layer}", value, ref_value)
            for layer, (pair, ref_pair) in enumerate(zip(params, ref_params), start=1)
            for part, value, ref_value in zip("Wb", pair, ref_pair)]


def checkpoints(epochs: int, most: int = CHECKPOINTS) -> list[int]:
    """Epochs from 1 to `epochs`, evenly spaced on a log scale, the last one included."""
    return sorted({int(round(e)) for e in np.geomspace(1, epochs, min(most, epochs))} | {epochs})


def drift(finding: Finding, name, preset, X, Y, dtype, cap: int | None, options) -> None:
    """Train both on the preset's schedule, checkpoint by checkpoint; record the drift."""
    epochs = preset.epochs if cap is None else min(cap, preset.epochs)
    finding.epochs = epochs
    batch = None if preset.batch_size is None else min(preset.batch_size, len(X))
    impl = nnbench.create(name, preset.spec, preset.initial_params(), dtype=dtype, **options)
    ref = nnbench.create(REFERENCE, preset.spec, preset.initial_params(), dtype=dtype)
    done = 0
    for epoch in checkpoints(epochs):
        settings = dict(epochs=epoch - done, lr=preset.lr, batch_size=batch,
                        shuffle=preset.shuffle, seed=preset.seed + done)
        try:
            ref_loss = ref.fit(X, Y, **settings).loss
        except DivergenceError:
            return  # the reference itself diverged: nothing further to compare
        loss = impl.fit(X, Y, **settings).loss
        finding.drift_loss += [relative_error(a, b) for a, b in zip(loss, ref_loss)]
        finding.drift_epochs.append(epoch)
        finding.drift_weights.append(largest_relative_error(impl.get_weights(),
                                                            ref.get_weights()))
        done = epoch


def run_verify(names, preset_names, dtypes, steps=DEFAULT_STEPS, epochs=None,
               progress: bool = False) -> list[Finding]:
    """Every implementation's findings on every preset and dtype, in that order; a progress
    bar on a terminal's stderr if asked."""
    from tqdm.auto import tqdm

    cases = [(n, p, d) for n in names for p in preset_names for d in dtypes]
    findings = []
    with tqdm(total=len(cases), unit="case", leave=False, disable=None if progress else True,
              dynamic_ncols=True) as bar:
        for name, preset_name, dtype in cases:
            bar.set_description_str(f"{name} {preset_name} {dtype}", refresh=False)
            findings.append(verify(name, preset_name, dtype, steps, epochs))
            bar.update(1)
    return findings


def write_json(findings: list[Finding], path) -> None:
    """The findings to `path`, through a temporary file (no half file on a crash)."""
    files.write_json(Path(path), [asdict(finding) for finding in findings])


def read_json(path) -> list[Finding]:
    """Findings written by `write_json`, or a DataError saying why they are not."""
    path = Path(path)
    try:
        rows = json.loads(path.read_text())
        return [Finding(**row) for row in rows]
    except (OSError, ValueError, TypeError) as exc:
        raise DataError(f"cannot read verify findings from {str(path)!r}: {exc}") from None


def counts_text(findings: list[Finding]) -> str:
    """How many findings have each status: `52 ok, 14 not supported`."""
    counts = {status: sum(f.status == status for f in findings) for status in STATUSES}
    return ", ".join(f"{n} {status}" for status, n in counts.items() if n)


def first_problem(findings: list[Finding]) -> Finding | None:
    """The first finding that is a mismatch or a failure."""
    return next((f for f in findings if f.status in (MISMATCH, FAILED)), None)


__all__ = ["Finding", "run_verify", "small_case", "verify"]
