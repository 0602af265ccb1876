"""The `nnbench` command.

    nnbench list                                  implementations (and why any can't run), presets
    nnbench train --impl numpy --network mnist    train a preset, print loss per epoch and accuracy
    nnbench verify [--impl ./mine.py:Mine]        every implementation against numpy_vec
    nnbench run [--quick] [--out DIR]             measure every implementation, write results/
    nnbench report [RUN]                          rebuild the report from a run's raw JSON
    nnbench compare RUN_A RUN_B                   every shared case: B/A, its interval, a verdict

Every `--impl` takes a registered name or a class of your own, `module:Class` or
`./file.py:Class` (nnbench/plugins.py). Every error nnbench raises on purpose (bad input, a
path that is missing or of the wrong kind, missing data, an unavailable implementation) ends
the command with one readable line on stderr and exit status 2, never a traceback.
SIGINT (Ctrl-C) and SIGTERM end it with one line too, and the shell's exit status for the
signal: 130 and 143 (`nnbench run` first stops its child processes and keeps what finished;
bench/runner.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path

import nnbench
from nnbench import networks
from nnbench.base import check_training_settings
from nnbench.errors import (
    InputError,
    NNBenchError,
    PluginError,
    UnknownNameError,
    UnsupportedError,
)
from nnbench.plugins import is_reference
from nnbench.spec import DTYPES

from . import paths, verify
from .child import interrupt_signals, signals_held
from .formatting import short_reason
from .workloads import split_names

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what was wrong, and where to read more)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_list(commands):
    parser = commands.add_parser("list", help="implementations, their availability, and presets")
    parser.add_argument("--impl", nargs="+", metavar="IMPL",
                        help="list these classes of your own too (module:Class, ./file.py:Class)")
    parser.add_argument("--markdown", action="store_true",
                        help="print the registry as the README's implementations table")
    parser.set_defaults(run=run_list)


def implementations_markdown() -> str:
    """The README's implementations table, made from the registry."""
    lines = ["| name | paradigm | file |", "|---|---|---|"]
    for name, entry in nnbench.REGISTRY.items():
        lines.append(f"| `{name}` | {entry.summary} | `{entry.file}` |")
    return "\n".join(lines)


def run_list(args) -> int:
    if args.markdown:
        print(implementations_markdown())
        return 0
    broken = {}
    for text in args.impl or []:
        try:
            nnbench.join(text)
        except PluginError as exc:  # listed as unavailable; a bad path is still an error
            broken[text] = str(exc)
    print("Implementations:")
    statuses = {**nnbench.available(), **{text: nnbench.Availability(False, reason)
                                          for text, reason in broken.items()}}
    for name, status in statuses.items():
        if not status:
            print(f"  {name:<15} unavailable  {status.reason}")
            continue
        entry, cls = nnbench.entry(name), nnbench.get_class(name)
        doc = (cls.__doc__ or "").strip()  # an entry point's summary is its docstring
        summary = (entry.summary.replace("`", "").replace("**", "")  # markdown, for README
                   or (doc.splitlines()[0] if doc else "(no docstring)"))
        origin = f" ({entry.origin})" if entry.origin else ""
        print(f"  {name:<15} available    {summary}{origin} [{', '.join(cls.dtypes)}]")
        for reason, presets in unsupported_presets(cls).items():
            print(f"  {'':<15}   not supported: {', '.join(presets)}: {short_reason(reason)}")
    for line in nnbench.refused():
        print(f"  refused: {line}")
    print("\nPresets:")
    for preset in networks.PRESETS.values():
        spec = preset.spec
        layers = "-".join(map(str, spec.sizes))
        batch = preset.batch_size or "full"
        print(f"  {preset.name:<20} {layers:<11} {'/'.join(spec.activations):<20} "
              f"{spec.loss:<25} lr {preset.lr:<5g} batch {batch:<5} epochs {preset.epochs:<7} "
              f"{preset.source}")
    return 0


def unsupported_presets(cls) -> dict[str, list[str]]:
    """The presets (in float64) an implementation declares it cannot compute, by reason."""
    declined: dict[str, list[str]] = {}
    for preset in networks.PRESETS.values():
        try:
            reason = cls.supports(preset.spec, "float64")
        except Exception as exc:  # a plugin's own code: shown, not a traceback
            reason = f"its supports() raised {type(exc).__name__}: {exc}"
        if reason is not None:
            declined.setdefault(reason, []).append(preset.name)
    return declined


def add_train(commands):
    parser = commands.add_parser(
        "train", help="train a preset with one implementation",
        description="Train a preset network with one implementation; the preset's settings "
                    "are used unless overridden.")
    parser.add_argument("--impl", required=True,
                        help="implementation name (see nnbench list), module:Class or "
                             "./file.py:Class")
    parser.add_argument("--network", required=True, help="preset name (see nnbench list)")
    parser.add_argument("--epochs", type=int, help="epochs (default: the preset's)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the preset's)")
    parser.add_argument("--batch-size", type=int, help="mini-batch size (default: the preset's)")
    parser.add_argument("--limit", type=int, help="use only the first N training and test samples")
    parser.add_argument("--hidden", type=int, help="override the width of every hidden layer")
    parser.add_argument("--dtype", default="float64", help="float64 (default) or float32")
    parser.add_argument("--seed", type=int, help="seed of the starting weights (default: preset's)")
    parser.add_argument("--shuffle", action="store_true",
                        help="reshuffle the data every epoch (some presets always do)")
    parser.add_argument("--mnist-dir", help="read MNIST IDX files from this directory")
    parser.add_argument("--jacobian-budget",
                        help="memory budget of the jacobian implementation, e.g. 8GiB")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_train)


def run_train(args) -> int:
    preset = networks.get(args.network)
    name = nnbench.join(args.impl)  # an unknown or unavailable one fails before any work
    if args.hidden is not None:
        preset = preset.with_hidden(args.hidden)
    if args.seed is not None:
        preset = dataclasses.replace(preset, seed=args.seed, fixed_params=None)
    if args.mnist_dir:
        os.environ["NNBENCH_MNIST_DIR"] = str(paths.input_dir(args.mnist_dir, "--mnist-dir"))
    options = {}
    if args.jacobian_budget is not None:
        if name != "jacobian":
            raise NNBenchError("--jacobian-budget applies only to --impl jacobian")
        options["memory_budget"] = args.jacobian_budget
    reason = nnbench.get_class(name).supports(preset.spec, args.dtype, **options)
    if reason is not None and args.dtype in nnbench.spec.DTYPES:
        raise UnsupportedError(f"{name} does not support {preset.name} in {args.dtype}: "
                               f"{reason}", reason)
    epochs = preset.epochs if args.epochs is None else args.epochs
    lr = preset.lr if args.lr is None else args.lr
    batch_size = preset.batch_size if args.batch_size is None else args.batch_size

    data = preset.load_data(args.limit)
    if args.batch_size is None and batch_size is not None and batch_size > len(data.X_train):
        batch_size = None  # the preset's mini-batch is larger than --limit left: one full batch
    check_training_settings(epochs, lr, batch_size, len(data.X_train))
    impl = nnbench.create(name, preset.spec, preset.initial_params(), dtype=args.dtype,
                          **options)
    print(f"{name} ({args.dtype}) on {preset.name}: "
          f"{'-'.join(map(str, preset.spec.sizes))}, {len(data.X_train)} training samples, "
          f"{epochs} epochs, lr {lr:g}, batch {batch_size or 'full'}")
    history = impl.fit(data.X_train, data.Y_train, epochs=epochs, lr=lr, batch_size=batch_size,
                       shuffle=args.shuffle or preset.shuffle, seed=preset.seed,
                       progress=not args.no_progress)
    shown = epochs_to_show(epochs)
    if len(shown) < epochs:
        print(f"loss per epoch (every {shown[1] - shown[0]}th epoch and the last):")
    for epoch in shown:
        print(f"  epoch {epoch:>{len(str(epochs))}}  loss {history.loss[epoch - 1]:.6f}")
    loss, accuracy = impl.evaluate(data.X_test, data.Y_test)
    if len(data.X_test) <= 16:
        outputs = ", ".join(f"{v:.4f}" for v in impl.predict(data.X_test).ravel()[:64])
        print(f"outputs on the {len(data.X_test)} test rows: [{outputs}]")
    print(f"test loss {loss:.6f}, test accuracy {accuracy:.2%} ({len(data.X_test)} samples); "
          f"training took {history.seconds:.2f} s ({history.seconds / epochs:.4g} s per epoch)")
    return 0


def add_verify(commands):
    parser = commands.add_parser(
        "verify", help="check implementations against numpy_vec, to the project's tolerance",
        description="For each implementation, preset and dtype it supports, against numpy_vec "
                    "from the same weights: forward outputs, loss, gradients, the weights "
                    "after --steps steps, and the drift of the weights over the preset's "
                    "training schedule. Prints a table, draws two charts, exits 1 naming the "
                    "first quantity that disagrees.")
    parser.add_argument("--impl", nargs="+", metavar="IMPL",
                        help="names, module:Class or ./file.py:Class (default: every available "
                             "implementation but numpy)")
    parser.add_argument("--network", nargs="+", metavar="PRESET",
                        help="presets (default: all; see nnbench list)")
    parser.add_argument("--dtype", nargs="+", metavar="NAME", help="float64, float32 (default: "
                        "both)")
    parser.add_argument("--steps", type=int, default=verify.DEFAULT_STEPS, metavar="K",
                        help=f"full-batch steps whose weights are compared (default "
                             f"{verify.DEFAULT_STEPS})")
    parser.add_argument("--epochs", default=str(verify.DEFAULT_EPOCHS), metavar="N",
                        help=f"epochs of each preset's schedule the drift covers, or 'full' "
                             f"(default {verify.DEFAULT_EPOCHS}; the whole run where shorter)")
    parser.add_argument("--json", metavar="FILE", help="also write the findings here")
    parser.add_argument("--charts", default="results/verify", metavar="DIR",
                        help="draw the heatmap and drift charts here (default: results/verify)")
    parser.add_argument("--no-charts", action="store_true", help="draw no charts")
    parser.set_defaults(run=run_verify)


def run_verify(args) -> int:
    from nnbench.bench import verify_report

    json_path = paths.output_file(args.json, "--json")
    charts = None if args.no_charts else paths.output_dir(args.charts, "--charts")
    if isinstance(args.steps, bool) or args.steps < 1:
        raise InputError(f"--steps must be a whole number of at least 1, got {args.steps}")
    epochs = None if args.epochs == "full" else positive_int(args.epochs, "--epochs", "'full'")
    asked = split_names(args.impl)
    names = (selected_implementations(asked) if asked else
             [n for n in selected_implementations(None) if n != verify.REFERENCE])
    presets = [networks.get(name).name for name in split_names(args.network) or networks.PRESETS]
    dtypes = split_names(args.dtype) or list(DTYPES)
    for dtype in dtypes:
        if dtype not in DTYPES:
            raise UnknownNameError("dtype", dtype, DTYPES)
    cases = [(name, preset, dtype) for name in names for preset in presets for dtype in dtypes]
    reasons = [declined(name, verify.small_case(preset)[0].spec, dtype)
               for name, preset, dtype in cases]
    if cases and all(reason is not None for reason in reasons):  # nothing to check: say why
        (name, preset, dtype), reason = cases[0], reasons[0]
        raise UnsupportedError(f"{name} does not support {preset} in {dtype}: {reason}", reason)
    findings = verify.run_verify(names, presets, dtypes, args.steps, epochs, progress=True)
    print(verify_report.text_table(findings))
    print(f"\n{verify.counts_text(findings)}")
    if json_path is not None:
        verify.write_json(findings, json_path)
    for path in verify_report.draw(findings, charts) if charts is not None else []:
        print(f"chart: {path}")
    problem = verify.first_problem(findings)
    if problem is not None:
        print(f"nnbench verify: {problem.impl} {problem.preset} {problem.dtype}: "
              f"{problem.status}: {problem.problem}", file=sys.stderr)
        return 1
    return 0


def declined(name: str, spec, dtype: str) -> str | None:
    """Why `name` does not support `spec` in `dtype`, or None (also when its own supports()
    fails: verify then reports that failure)."""
    try:
        return nnbench.get_class(name).supports(spec, dtype)
    except Exception:
        return None


def positive_int(text: str, flag: str, other: str = "") -> int:
    """A whole number >= 1 given on the command line, or an InputError naming the flag."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        alternative = f" or {other}" if other else ""
        raise InputError(f"{flag} must be a whole number of at least 1{alternative}, got "
                         f"{text!r}")
    return value


def add_claims(commands):
    parser = commands.add_parser(
        "claims", help="re-measure every figure the seed write-ups published",
        description="Check each claim of the seed write-ups (docs/seeds.md) through the common "
                    "interface and print it beside what was published, with a verdict.")
    parser.add_argument("--id", nargs="+", dest="ids", help="only these claim ids (e.g. A1 B2)")
    parser.add_argument("--impl", nargs="+", dest="impls",
                        help="only these implementations (default: every available one)")
    parser.add_argument("--quick", action="store_true",
                        help="a small time budget: only the cheap claims run in full")
    parser.add_argument("--budget", type=float,
                        help="seconds allowed per claim and implementation (default 300, "
                             "quick 3)")
    parser.add_argument("--json", help="also write the findings to this JSON file")
    parser.set_defaults(run=run_claims)


def run_claims(args) -> int:
    from nnbench.bench import claims

    paths.output_file(args.json, "--json")
    names = selected_implementations(args.impls)
    budget = args.budget if args.budget is not None else (3.0 if args.quick else 300.0)
    progress = os.environ.get("NNBENCH_PROGRESS_FILE")  # set by `nnbench run`'s claims step

    def log(message: str) -> None:
        print(f"  ... {message}", file=sys.stderr)
        if progress:
            Path(progress).write_text(message)

    ctx = claims.Context(names, quick=args.quick, budget=budget, log=log)
    rows = claims.run_claims(ctx, args.ids)
    print(claims.format_table(rows))
    if args.json:
        claims.write_json(rows, args.json)
    return 0


def selected_implementations(asked: list[str] | None) -> list[str]:
    """The implementations asked for (names or references; each must exist and run here),
    or all that run here."""
    if asked:
        return [nnbench.join(text) for text in asked]  # join loads each class, or says why
    return [name for name, status in nnbench.available().items() if status]


def add_run(commands):
    parser = commands.add_parser(
        "run", help="measure every implementation and write results/ (the main job)",
        description="Run the benchmark suite: every available implementation in its own "
                    "process, on the xor, mnist and digits networks, float64 and float32; then "
                    "write the raw JSON under OUT/runs/<machine>/<run-id>/ and the report "
                    "(OUT/summary.csv, OUT/REPORT.md, OUT/charts/).")
    parser.add_argument("--impl", nargs="+", metavar="IMPL",
                        help="implementations or variants, e.g. numpy keras-fast "
                             "./mine.py:Mine (default: all registered)")
    parser.add_argument("--network", nargs="+", metavar="NAME",
                        help="xor, mnist, digits (default: all)")
    parser.add_argument("--dtype", nargs="+", metavar="NAME",
                        help="float64, float32 (default: both; --quick: float64)")
    parser.add_argument("--threads", type=int,
                        help="threads for BLAS, OpenMP, Numba and TensorFlow; fewer than the "
                             "cores also holds each step to that many CPUs (default: every "
                             "core)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, few rounds, float64, one process per variant: a "
                             "smoke test of two or three minutes")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="processes per variant, run in N blocks of every variant "
                             "(default 3, quick 1); more give narrower intervals")
    parser.add_argument("--seed", type=int,
                        help="seed of the blocks' order (default: drawn; the manifest "
                             "records it)")
    parser.add_argument("--out", default="results", metavar="DIR",
                        help="write everything under DIR (default: results)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="time allowed per implementation (default: 480, quick: 60)")
    parser.add_argument("--max-case-seconds", type=float, metavar="S",
                        help="skip a benchmark case whose timed rounds are estimated (from "
                             "its first round) to take longer than S seconds; the report "
                             "lists it with its estimate (default: no limit)")
    parser.add_argument("--claims-budget", type=float, metavar="SECONDS",
                        help="seconds per claim and implementation for the claims table "
                             "(default 3: the cheap claims; --quick: 0, no claims)")
    parser.add_argument("--time-to-accuracy", action="store_true",
                        help="also train every implementation from a fresh process to 97%% "
                             "(mnist) and 98%% (mnist-best) test accuracy, in every block: "
                             "about half an hour more here (--quick: always, to 85%% on a "
                             "slice)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run_run)


def run_run(args) -> int:
    from nnbench.bench import report, results, runner

    paths.output_dir(args.out, "--out")
    command = ["nnbench", "run"]
    for flag, value in (("--impl", args.impl), ("--network", args.network),
                        ("--dtype", args.dtype)):
        command += [flag, *value] if value else []
    for flag, value in (("--threads", args.threads), ("--timeout", args.timeout),
                        ("--max-case-seconds", args.max_case_seconds),
                        ("--claims-budget", args.claims_budget), ("--repeats", args.repeats),
                        ("--seed", args.seed)):
        command += [flag, f"{value:g}"] if value is not None else []
    command += ["--quick"] if args.quick else []
    command += ["--time-to-accuracy"] if args.time_to_accuracy else []
    command += ["--out", args.out] if args.out != "results" else []
    claims_budget = args.claims_budget if args.claims_budget is not None else (
        0.0 if args.quick else 3.0)
    if not (math.isfinite(claims_budget) and claims_budget >= 0):
        raise InputError(f"--claims-budget must be a finite number of seconds >= 0, got "
                         f"{claims_budget}")
    variants, broken = None, {}
    if args.impl:  # a plugin that cannot be imported is that implementation's failure
        variants = []
        for text in args.impl:
            try:
                variants.append(nnbench.join(text) if is_reference(text) else text)
            except PluginError as exc:
                broken[text] = str(exc)
        if not variants:
            for text, reason in broken.items():
                print(f"{text}: failed: could not be loaded: {reason}", file=sys.stderr)
            return 1
    options = runner.RunOptions(
        variants=variants, broken=broken, networks=args.network, dtypes=args.dtype,
        threads=args.threads,
        quick=args.quick, out=Path(args.out), timeout_s=args.timeout,
        max_case_s=args.max_case_seconds, claims_budget=claims_budget,
        progress=not args.no_progress, command=" ".join(command), repeats=args.repeats,
        seed=args.seed, time_to_accuracy=args.time_to_accuracy or None)
    run_dir = runner.run(options)
    with signals_held():  # Ctrl-C now would leave a new summary.csv beside an old REPORT.md
        written = report.write_report(results.load_run(run_dir), Path(args.out))
    print(f"raw results: {run_dir}")
    print(f"report: {', '.join(str(p) for p in written.files if p.suffix != '.png')} and "
          f"{sum(p.suffix == '.png' for p in written.files)} charts in {written.out / 'charts'}")
    trouble = runner.troubled_steps(run_dir)
    if os.environ.get("NNBENCH_REQUIRE_ALL") == "1":
        trouble += [s for s in results.read_manifest(run_dir / results.MANIFEST)["steps"]
                    if s["status"] == results.Status.UNAVAILABLE]
    for step in trouble:
        print(f"{step['name']}: {step['status']}: {step['reason']}", file=sys.stderr)
    return 1 if trouble else 0


def add_report(commands):
    parser = commands.add_parser(
        "report", help="rebuild summary.csv, REPORT.md and charts from a run's raw JSON",
        description="Rebuild the report of a run from its raw JSON alone. RUN is a run "
                    "directory (results/runs/<machine>/<run-id>) or one benchmark JSON file; "
                    "default: the latest run under --out. The report goes to the results "
                    "directory that holds the run, or to --out.")
    parser.add_argument("run_path", nargs="?", metavar="RUN", help="run directory or JSON file")
    parser.add_argument("--out", metavar="DIR",
                        help="write the report here (default: where the run lives)")
    parser.set_defaults(run=run_report)


def run_report(args) -> int:
    from nnbench.bench import report, results

    out = paths.output_dir(args.out, "--out")
    path = (paths.input_path(args.run_path, "RUN") if args.run_path
            else results.latest_run(Path(args.out or "results")))
    run = results.load_run(path)
    with signals_held():  # the report's files are written all, or not at all
        written = report.write_report(run, out or results.default_output(run))
    for path in written.files:
        print(path)
    return 0


def add_compare(commands):
    from nnbench.bench import stats

    parser = commands.add_parser(
        "compare", help="every case two runs share: B/A with its interval, and a verdict",
        description="Print, for every case two runs share, the time per sample in each, their "
                    "ratio B/A with its 95%% interval, and a verdict (slower, faster, no "
                    "change): a change needs Welch's t-test on the processes' times to give "
                    "p < --alpha and B/A to be beyond 1 +- --min-effect. Two machines, two "
                    "thread settings or two versions.")
    parser.add_argument("run_a", metavar="RUN_A", help="run directory or benchmark JSON")
    parser.add_argument("run_b", metavar="RUN_B", help="run directory or benchmark JSON")
    parser.add_argument("--alpha", type=float, default=stats.ALPHA,
                        help=f"significance a change needs (default {stats.ALPHA:g})")
    parser.add_argument("--min-effect", type=float, default=stats.MIN_EFFECT, metavar="FRACTION",
                        help=f"least relative move a change needs (default "
                             f"{stats.MIN_EFFECT:g}: 5%%)")
    parser.add_argument("--fail-on-slower", action="store_true",
                        help="exit 1 when a case over 1 ms got slower (for CI)")
    parser.set_defaults(run=run_compare)


def run_compare(args) -> int:
    from nnbench.bench import compare, results, stats

    if not (math.isfinite(args.alpha) and 0 < args.alpha < 1):
        raise InputError(f"--alpha must be between 0 and 1, got {args.alpha:g}")
    if not (math.isfinite(args.min_effect) and args.min_effect >= 0):
        raise InputError(f"--min-effect must be a fraction >= 0 (0.05 for 5%), got "
                         f"{args.min_effect:g}")
    path_a, path_b = paths.input_path(args.run_a, "RUN_A"), paths.input_path(args.run_b, "RUN_B")
    text, summary = compare.compare_text(results.load_run(path_a), results.load_run(path_b),
                                         args.alpha, args.min_effect)
    print(text)
    if args.fail_on_slower and summary.get(stats.SLOWER, 0):
        print(f"nnbench compare: {summary[stats.SLOWER]} case(s) over 1 ms got slower",
              file=sys.stderr)
        return 1
    return 0


def epochs_to_show(epochs: int, most: int = 20) -> list[int]:
    """All epochs when there are few; else about `most`, evenly spaced, and the last."""
    if epochs <= most:
        return list(range(1, epochs + 1))
    step = -(-epochs // most)
    shown = list(range(step, epochs + 1, step))
    return shown if shown[-1] == epochs else [*shown, epochs]


def build_parser() -> Parser:
    parser = Parser(prog="nnbench", description="One small neural network, many "
                    "implementations, one interface, measured side by side.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for add in (add_list, add_train, add_verify, add_claims, add_run, add_report, add_compare):
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with interrupt_signals():  # SIGTERM too ends in the `except` below, not on the spot
            return args.run(args)
    except NNBenchError as exc:
        print(f"nnbench {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`nnbench list | head`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C, or child.Interrupted for SIGINT or SIGTERM
        print(f"nnbench {args.command}: {exc or 'interrupted'}", file=sys.stderr)
        return getattr(exc, "exit_status", 130)


if __name__ == "__main__":
    sys.exit(main())
