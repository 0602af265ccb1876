"""`nnbench compare`: every case two runs share, the ratio of their times with its interval,
a verdict on it, and how far the machine under them moved.

Cases pair up by a key that means the same case on another machine or run (`KEY`). Each
pair's verdict (faster, slower, no change) follows one rule (`RULE`, bench/stats.py's
`change`): a change needs Welch's t-test on the processes' figures to say p < alpha *and* the
ratio to be beyond a least effect. Beside each pair stand the machine checks made around it
(bench/checks.py), so that a move of the machine can be told from a move of an
implementation. The summary counts the verdicts among the cases over 1 ms, and how far their
medians moved.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import stats
from .cases import cases_frame
from .checks import CHECK_RATES, RATIO_COLUMNS, implementation_of, machine_checks
from .formatting import seconds_text
from .results import GEMM_AFTER_STEP, OPS, PER_SAMPLE_KINDS, Info, Kind, Run
from .tables import REFERENCE_VARIANT, stepped_impl

VERDICTS = (stats.SLOWER, stats.FASTER, stats.NO_CHANGE, stats.UNKNOWN)
RULE = ("a case is called slower or faster only when Welch's t-test on the logs of its "
        "processes' times gives p < {alpha:g} and B/A is beyond 1 ± {min_effect:.0%}; B/A is "
        "the ratio of the geometric means of the processes' medians, with its 95% interval")

KEY = [Info.KIND, Info.VARIANT, Info.NETWORK, Info.OP, Info.DTYPE, "shape", "axis"]


def comparable(cases: pd.DataFrame) -> pd.DataFrame:
    """Each timed case with a key that means the same case on another machine or run."""
    frame = cases.copy()
    for column in KEY + ["m", "k", "n", "width", "batch", "phase", "thread_setting"]:
        if column not in frame:
            frame[column] = ""
    axis = frame["batch"].where(frame[Info.KIND] == Kind.BATCH, "")
    axis = axis.where(frame[Info.KIND] != Kind.PHASE, phase_axis(frame))
    # The GEMM rate is measured on the run's threads and on one, before and after the others.
    axis = axis.where(frame["thread_setting"] != "one", "one thread")
    axis = axis.where(frame["step"] != GEMM_AFTER_STEP, (axis.astype(str) + " (after)").str.strip())
    gemm = frame[Info.KIND] == Kind.GEMM
    frame.loc[gemm, "shape"] = [f"{m:.0f}x{k:.0f}x{n:.0f}" for m, k, n in
                                zip(frame.loc[gemm, "m"], frame.loc[gemm, "k"],
                                    frame.loc[gemm, "n"])]
    frame["axis"] = axis.astype(str)
    frame[KEY] = frame[KEY].fillna("").astype(str)
    return frame.drop_duplicates(KEY)  # one row per key, so runs pair up case by case


def phase_axis(frame: pd.DataFrame) -> pd.Series:
    """A step phase's name, after its implementation's where that is not the reference (two
    implementations' steps have phases of the same name)."""
    impl = stepped_impl(frame)
    return frame["phase"].where(impl == REFERENCE_VARIANT, impl + ": " + frame["phase"].astype(str))


LONE_FILE = "(the file)"


def step_name(run: Run, step: str) -> str:
    """A step's name, to pair it with another run's: a lone JSON file's one step is named after
    the file, so two such files would never pair."""
    return step if run.manifest else LONE_FILE


def step_checks(run_a: Run, run_b: Run) -> pd.DataFrame:
    """Each step both runs have: its machine check (mean of start and end) in A and in B, per
    rate, and B / A."""
    means = []
    for run in (run_a, run_b):
        checks = machine_checks(run)
        checks["step"] = [step_name(run, step) for step in checks["step"]]
        means.append(checks.pivot_table(index="step", columns="rate", values="mean",
                                        dropna=False))
    joined = means[0].add_suffix("_a").join(means[1].add_suffix("_b"), how="inner")
    for rate in CHECK_RATES:
        joined[f"{rate}_ratio"] = joined[f"{rate}_b"] / joined[f"{rate}_a"]
    return joined


def compare(run_a: Run, run_b: Run, alpha: float = stats.ALPHA,
            min_effect: float = stats.MIN_EFFECT) -> tuple[pd.DataFrame, dict]:
    """Every case both runs timed, with time per sample (or per call) in each, B / A with its
    interval and verdict, and how far the machine check of the case's step moved."""
    a, b = comparable(cases_frame(run_a)), comparable(cases_frame(run_b))
    columns = KEY + ["time_per_unit_s", "median_s", "ranked", "step", "rounds_by_block",
                     "processes", *(check.case_column for check in CHECK_RATES.values())]
    merged = a[columns].merge(b[columns], on=KEY, suffixes=("_a", "_b"))
    merged["ratio"] = merged["time_per_unit_s_b"] / merged["time_per_unit_s_a"]
    merged = with_verdicts(merged, alpha, min_effect)
    for run, side in ((run_a, "step_a"), (run_b, "step_b")):
        merged[side] = [step_name(run, step) for step in merged[side]]
    # A check's rate is work per second: the machine was slower in B when B / A is below 1,
    # so the time it would explain is A / B. The checks made around the case itself where
    # both runs have them; else those made at the start and end of its step's process.
    checks = step_checks(run_a, run_b)
    for rate, check in CHECK_RATES.items():
        by_step = 1 / checks[f"{rate}_ratio"] if not checks.empty else pd.Series(dtype=float)
        step_ratio = merged["step_b"].map(by_step).where(merged["step_a"] == merged["step_b"])
        case_ratio = merged[f"{check.case_column}_a"] / merged[f"{check.case_column}_b"]
        merged[check.ratio_column] = case_ratio.fillna(step_ratio)
    # How far the machine moved for a case: its farthest rate (NaN when no rate was checked)
    merged["machine_move"] = (merged[RATIO_COLUMNS] - 1).abs().max(axis=1)
    keys_a, keys_b = set(map(tuple, a[KEY].to_numpy())), set(map(tuple, b[KEY].to_numpy()))
    ratios = merged["ratio"][np.isfinite(merged["ratio"]) & (merged["ratio"] > 0)]
    # Repeatability: a median of over 1 ms should move by no more than 5% between two runs
    # of the same thing on a quiet machine. A loss curve is one training run, timed once for
    # the record (its point is the losses): it has no median, and is not counted.
    long = merged[(merged["median_s_a"] > 1e-3) & (merged["median_s_b"] > 1e-3)
                  & (merged[Info.KIND] != Kind.LOSS_CURVE)]
    moved = (long["ratio"] - 1).abs()
    summary = {"shared": len(merged), "only_a": len(keys_a - keys_b),
               "only_b": len(keys_b - keys_a),
               "geometric_mean": float(np.exp(np.log(ratios).mean())) if len(ratios) else math.nan,
               "over_1ms": len(long), "moved_over_5pc": int((moved > 0.05).sum()),
               "median_move": float(moved.median()) if len(moved) else math.nan,
               "p90_move": float(moved.quantile(0.9)) if len(moved) else math.nan,
               "steps_machine_moved": int((checks.filter(like="_ratio") - 1).abs().gt(0.05)
                                          .any(axis=1).sum()) if not checks.empty else 0,
               "steps_checked": len(checks)}
    # The same counts, apart for the cases whose machine check stayed within 5% (a steady
    # machine: what moved there is the implementation's, or noise the check does not see)
    # and for those whose check moved (by any of its rates).
    checked = long["machine_move"].notna()
    for name, part in (("steady", checked & (long["machine_move"] <= 0.05)),
                       ("unsteady", checked & (long["machine_move"] > 0.05))):
        summary[f"{name}_cases"] = int(part.sum())
        summary[f"{name}_moved"] = int((moved[part] > 0.05).sum())
        summary[f"{name}_median_move"] = float(moved[part].median()) if part.any() else math.nan
    summary["checked"] = int(checked.sum())
    summary["by_implementation"] = moves_by_implementation(long)
    summary["to_reference"] = reference_moves(long)
    counts = counted(long)
    counted_cases = long[counts]
    summary["counted"] = len(counted_cases)
    summary["apart"] = {verdict: int((long[~counts]["verdict"] == verdict).sum())
                        for verdict in VERDICTS} if (~counts).any() else {}
    for verdict in VERDICTS:
        summary[verdict] = int((counted_cases["verdict"] == verdict).sum())
    summary["within_process"] = [run.name for run, side in ((run_a, "a"), (run_b, "b"))
                                 if not (merged[f"processes_{side}"] > 1).any()]
    summary["rule"] = RULE.format(alpha=alpha, min_effect=min_effect)
    return merged, summary


def counted(long: pd.DataFrame) -> pd.Series:
    """Which verdicts the summary counts: those that rest on processes. A case measured in
    one process (a sweep point, a step phase: a run's first block only) is tested over its
    rounds, which cannot see the noise between processes, and is counted apart; in runs of one
    process per case, that is all there is, and all are counted."""
    apart = long["within_process"].astype(bool)
    return ~apart | apart.all()


def with_verdicts(merged: pd.DataFrame, alpha: float, min_effect: float) -> pd.DataFrame:
    """Each pair's B / A interval, p-value and verdict (bench/stats.py's `change`); a loss
    curve, timed once for its losses, gets none."""
    found = [stats.change(a, b, alpha, min_effect) if kind != Kind.LOSS_CURVE else None
             for a, b, kind in zip(merged["rounds_by_block_a"], merged["rounds_by_block_b"],
                                   merged[Info.KIND])]
    merged["ratio_low"] = [c.ratio.low if c else math.nan for c in found]
    merged["ratio_high"] = [c.ratio.high if c else math.nan for c in found]
    merged["p_value"] = [c.p_value if c else math.nan for c in found]
    merged["verdict"] = [c.verdict if c else "" for c in found]
    merged["within_process"] = [c.ratio.within_process if c else True for c in found]
    return merged


def reference_moves(long: pd.DataFrame) -> pd.Series:
    """How far each predict and train case's ratio to numpy (same network, operation, dtype)
    moved from A to B: the comparison the report's tables make, between the two runs."""
    timed = long[long[Info.KIND].isin(OPS)]
    group = [Info.KIND, Info.NETWORK, Info.OP, Info.DTYPE]
    reference = timed[timed[Info.VARIANT] == REFERENCE_VARIANT].set_index(group)["ratio"]
    others = timed[timed[Info.VARIANT] != REFERENCE_VARIANT]
    moved = others["ratio"].to_numpy() / reference.reindex(
        pd.MultiIndex.from_frame(others[group])).to_numpy()
    return pd.Series(moved, index=others.index).dropna()


def moves_by_implementation(long: pd.DataFrame) -> pd.DataFrame:
    """Per implementation (in the runs' order), its cases over 1 ms, how many moved by more
    than 5%, and the ratio farthest from 1: which rows of a table a comparison can trust."""
    groups = long["ratio"].groupby(implementation_of(long), sort=False)
    verdicts = long["verdict"].where(counted(long), "").groupby(implementation_of(long),
                                                                sort=False)
    return pd.DataFrame({
        "cases": groups.size(),
        "slower": verdicts.agg(lambda v: int((v == stats.SLOWER).sum())),
        "faster": verdicts.agg(lambda v: int((v == stats.FASTER).sum())),
        "moved": groups.agg(lambda ratios: int(((ratios - 1).abs() > 0.05).sum())),
        "farthest": groups.agg(lambda ratios: ratios.iloc[int(np.argmax(np.abs(np.log(ratios))))]),
    }).rename_axis("implementation").reset_index()


def ratios_text(ratios) -> str:
    """A case's check ratios, one per rate ("-" for a rate one of the runs did not check)."""
    if not any(math.isfinite(ratio) for ratio in ratios):
        return "-"
    return " / ".join(f"{ratio:.3f}" if math.isfinite(ratio) else "-" for ratio in ratios)


def describe(run: Run) -> str:
    """A run in one line: its id, machine, mode and threads (or the file it is)."""
    m = run.manifest
    if not m:
        return str(run.source)
    return (f"{m.get('run_id')} ({m.get('machine')}, {m.get('mode')}, "
            f"{m.get('threads', {}).get('setting')} threads)")


def shown_cases(merged: pd.DataFrame) -> pd.DataFrame:
    """`compare`'s cases as `compare_text` prints them, one row each."""
    timed = merged[Info.KIND].isin(PER_SAMPLE_KINDS)
    return pd.DataFrame({
        "case": [" ".join(part for part in (r.kind, r.network, r.dtype, r.variant, r.shape,
                                            f"batch {r.axis}" if r.kind == Kind.BATCH
                                            else r.axis) if part)
                 for r in merged.itertuples()],
        "A": merged["time_per_unit_s_a"].map(seconds_text),
        "B": merged["time_per_unit_s_b"].map(seconds_text),
        "B/A": merged["ratio"].map(lambda r: f"{r:.3f}"),
        "95% interval": [f"{low:.3f} to {high:.3f}" if np.isfinite(low) else "-"
                         for low, high in zip(merged["ratio_low"], merged["ratio_high"])],
        "verdict": merged["verdict"],
        "check B/A": [ratios_text(ratios) for ratios
                      in merged[RATIO_COLUMNS].itertuples(index=False)],
        "": ["" if not is_timed or (ra and rb) else "not ranked in " + (
            "A and B" if not (ra or rb) else "A" if not ra else "B")
             for is_timed, ra, rb in zip(timed, merged["ranked_a"], merged["ranked_b"])],
    })


def summary_lines(summary: dict) -> list[str]:
    """What `compare`'s summary says: how many cases moved, per implementation, and how far
    the machine check moved under them."""
    lines = ["", f"{summary['shared']} shared cases; geometric mean of B/A "
                 f"{summary['geometric_mean']:.3f}; only in A: {summary['only_a']}, only in B: "
                 f"{summary['only_b']}",
             f"Verdicts, of the {summary['counted']} cases with medians over 1 ms"
             + (" measured in several processes" if summary["apart"] else "") + ": "
             f"{summary[stats.SLOWER]} slower, {summary[stats.FASTER]} faster, "
             f"{summary[stats.NO_CHANGE]} no change"
             + (f", {summary[stats.UNKNOWN]} unknown (too few rounds to test)"
                if summary[stats.UNKNOWN] else "") + f". The rule: {summary['rule']}.",
             f"How far their medians moved: {summary['moved_over_5pc']} by more than 5%; median "
             f"move {summary['median_move']:.1%}, 90th percentile {summary['p90_move']:.1%} "
             f"(loss curves, timed once, not counted)"]
    to_reference = summary["to_reference"]
    if len(to_reference):
        steady = int(((to_reference - 1).abs() <= 0.05).sum())
        lines.append(f"Ratios to {REFERENCE_VARIANT} (each predict and train case over 1 ms "
                     f"over {REFERENCE_VARIANT}'s of the same network, operation and dtype): "
                     f"{steady} of {len(to_reference)} moved by at most 5%; median move "
                     f"{(to_reference - 1).abs().median():.1%}")
    if summary["apart"] and sum(summary["apart"].values()):
        apart = summary["apart"]
        lines.append(f"Not counted: {sum(apart.values())} cases over 1 ms measured in one "
                     f"process only (the sweeps and step phases of a run's first block), whose "
                     f"verdicts rest on the rounds within that process and call more changes "
                     f"than there are: {apart[stats.SLOWER]} slower, {apart[stats.FASTER]} "
                     f"faster, {apart[stats.NO_CHANGE]} no change, {apart[stats.UNKNOWN]} "
                     f"unknown.")
    if summary["within_process"]:
        names = " and ".join(summary["within_process"])
        lines.append(f"Note: {names} measured each case in one process, so the intervals and "
                     f"tests rest on the rounds within a process and understate the noise "
                     f"between processes: they call more changes than there are. Runs of "
                     f"--repeats 3 or more do not have this problem.")
    by_implementation = summary["by_implementation"]
    if not by_implementation.empty:
        table = by_implementation.assign(farthest=by_implementation["farthest"].map(
            "{:.3f}".format)).rename(columns={"moved": "moved over 5%",
                                              "farthest": "B/A farthest from 1"})
        lines += ["By implementation, the cases over 1 ms:", table.to_string(index=False)]
    if not summary["checked"]:
        return [*lines, "No machine check to compare (runs made before bench/steadiness.py)"]
    lines.append(f"The machine check moved by more than 5% in "
                 f"{summary['steps_machine_moved']} of the {summary['steps_checked']} steps "
                 f"(their start and end).")
    for name, how in (("steady", "stayed within 5%"), ("unsteady", "moved by more than 5%")):
        if summary[f"{name}_cases"]:
            lines.append(f"Cases over 1 ms whose machine check {how}: "
                         f"{summary[f'{name}_moved']} of {summary[f'{name}_cases']} moved by "
                         f"more than 5% (median move {summary[f'{name}_median_move']:.1%})")
    return lines


def compare_text(run_a: Run, run_b: Run, alpha: float = stats.ALPHA,
                 min_effect: float = stats.MIN_EFFECT) -> tuple[str, dict]:
    """`nnbench compare`'s output (the two runs, every case they share, and the summary), and
    the summary."""
    merged, summary = compare(run_a, run_b, alpha, min_effect)
    lines = [f"A: {describe(run_a)}", f"B: {describe(run_b)}", ""]
    if merged.empty:
        lines.append("The two runs share no case.")
        return "\n".join(lines), summary
    lines.append("Time per sample (per call for cold start, GEMM and loss curves); "
                 "B/A below 1: B is faster. check B/A: how much longer the machine check took "
                 "in B (the product on the run's threads / on one thread / the pure-Python dot "
                 "product; bench/steadiness.py), as made "
                 "around the case, or at the start and end of its step for a case without.")
    lines.append(shown_cases(merged).to_string(index=False))
    lines += summary_lines(summary)
    return "\n".join(lines), summary
