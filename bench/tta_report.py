"""Time to accuracy as REPORT.md shows it: a table per target, estimates, and one chart.

Per target (a preset and a test accuracy), one row per variant: the wall time from a fresh
process to the first evaluation at the target, with its 95% interval over processes and its
ratio to the fastest (paired by block, bench/stats.py), the epoch it got there, and the share
of the time spent before the first training step (interpreter, import, build, data). A variant
that was not trained to the end gets an estimate, marked as one: its first epoch's time
(bench/tta.py) or, for those not trained at all, the run's own per-sample figures, times the
epochs the others needed, plus its start.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .cases import ratio_of
from .charts import LINESTYLES, MARKERS, save  # charts sets the Agg backend
from .formatting import range_text, ratio_text, seconds_text, share_text
from .results import Info, Kind
from .tables import markdown_table

CHART = "time_to_accuracy.png"


def measured(cases: pd.DataFrame) -> pd.DataFrame:
    """The time-to-accuracy cases that ran, one row per variant and target."""
    if cases.empty or Info.KIND not in cases:
        return cases.iloc[:0]
    return cases[cases[Info.KIND] == Kind.TIME_TO_ACCURACY]


def not_trained(records: pd.DataFrame) -> pd.DataFrame:
    """The variants recorded instead of trained (too slow, or estimated by the mode), once
    each: every block records them."""
    if records.empty or Info.KIND not in records:
        return records.iloc[:0]
    rows = records[records[Info.KIND] == Kind.TIME_TO_ACCURACY]
    return rows.drop_duplicates([Info.VARIANT, Info.NETWORK, "target"])


def targets(cases: pd.DataFrame, records: pd.DataFrame) -> list[tuple[str, float]]:
    """Every (preset, target) the run measured, in the order it ran them."""
    pairs = [frame[[Info.NETWORK, "target"]].itertuples(index=False, name=None)
             for frame in (measured(cases), not_trained(records)) if not frame.empty]
    return list(dict.fromkeys(pair for found in pairs for pair in found))


def target_tables(cases: pd.DataFrame, records: pd.DataFrame, table: pd.DataFrame
                  ) -> list[tuple[str, float, pd.DataFrame]]:
    """(preset, target, its `target_table`) for every target the run measured, once each:
    the section and the headlines are written from them."""
    found = [(network, target, target_table(network, target, cases, records, table))
             for network, target in targets(cases, records)]
    return [(network, target, frame) for network, target, frame in found if not frame.empty]


def common_epoch(rows: pd.DataFrame) -> int | None:
    """The epoch most variants reached the target at (None when none reached it)."""
    reached = [row.epochs[-1] for row in rows.itertuples() if row.reached]
    return Counter(reached).most_common(1)[0][0] if reached else None


def sampled_estimate(variant: str, epochs: int, plan: dict, table: pd.DataFrame,
                     cases: pd.DataFrame) -> tuple[float, str]:
    """An estimate from the variant's per-sample figures at the same network, in the same
    dtype where it has them (else another), or why there is none."""
    rows = table[(table[Info.VARIANT] == variant) & (table[Info.NETWORK] == "mnist")
                 & (table["shape"] == plan["shape"]) & (table[Info.REFUSED] == "")
                 & table["time_per_unit_s"].notna()] if not table.empty else table
    for dtype in dict.fromkeys([plan["dtype"], *rows.get(Info.DTYPE, [])]):
        pace = {op: rows.loc[(rows[Info.OP] == op) & (rows[Info.DTYPE] == dtype),
                             "time_per_unit_s"].min() for op in ("train", "predict")}
        if all(np.isfinite(v) for v in pace.values()):
            break
    else:
        return math.nan, f"no per-sample figure at {plan['shape']} to estimate it from"
    cold = cases[(cases[Info.KIND] == Kind.COLD_START) & (cases[Info.VARIANT] == variant)]
    start = cold["median_s"].min() if not cold.empty else 0.0
    seconds = start + epochs * (plan["train"] * pace["train"] + plan["test"] * pace["predict"])
    return seconds, f"estimate: its {dtype} training and prediction time per sample"


def target_table(network: str, target: float, cases: pd.DataFrame, records: pd.DataFrame,
                 table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant for one target, fastest first, estimates after the measured."""
    rows = measured(cases)
    rows = rows[(rows[Info.NETWORK] == network) & (rows["target"] == target)]
    epoch = common_epoch(rows)
    reached = rows[rows["reached"].astype(bool)].sort_values("time_per_unit_s")
    out = []
    best = reached.iloc[0] if not reached.empty else None
    for _, row in reached.iterrows():
        ratio = ratio_of(row, best)
        out.append({"implementation": row[Info.VARIANT],
                    "time": row["time_per_unit_s"], "low": row["low_s"], "high": row["high_s"],
                    "ratio": ratio.value, "ratio_low": ratio.low, "ratio_high": ratio.high,
                    "epoch": row["epochs"][-1], "accuracy": row["accuracy"][-1],
                    "before_first_step": row["loaded_s"] / row["reached_s"],
                    "processes": row["processes"], "note": "", "estimate": False})
    for _, row in rows[~rows["reached"].astype(bool)].iterrows():
        out.append({"implementation": row[Info.VARIANT], "time": math.nan, "estimate": False,
                    "note": f"not reached in {row['max_epochs']} epochs "
                            f"(best {max(row['accuracy']):.2%})"})
    plan = planned(rows)
    for _, row in not_trained(records).iterrows():
        if row[Info.NETWORK] != network or row["target"] != target:
            continue
        if epoch is None or plan is None:
            seconds, note = math.nan, "not estimated: no implementation reached the target"
        elif isinstance(row.get("epoch_s"), float) and np.isfinite(row["epoch_s"]):
            seconds = row["loaded_s"] + epoch * row["epoch_s"]
            note = f"estimate: {row[Info.REFUSED]}"
        else:
            seconds, note = sampled_estimate(row[Info.VARIANT], epoch, plan, table, cases)
        out.append({"implementation": row[Info.VARIANT], "time": seconds, "epoch": epoch,
                    "ratio": seconds / best["time_per_unit_s"] if best is not None else math.nan,
                    "note": note, "estimate": np.isfinite(seconds)})
    return pd.DataFrame(out)


def planned(rows: pd.DataFrame) -> dict | None:
    """The training and test samples, and the network's shape, the measured processes used."""
    if rows.empty:
        return None
    first = rows.iloc[0]
    return {"train": first["train_samples"], "test": first["test_samples"],
            "shape": first["shape"], "dtype": first[Info.DTYPE]}


def display(frame: pd.DataFrame, target: float) -> pd.DataFrame:
    """The table as REPORT.md prints it."""
    def count(value) -> str:
        return f"{value:.0f}" if np.isfinite(value) else "-"

    rows = []
    for row in frame.to_dict("records"):
        about = "≈ " if row.get("estimate") else ""
        rows.append({
            "implementation": row["implementation"],
            f"time to {target:.0%}": about + seconds_text(row.get("time", math.nan)),
            "95% interval": range_text(row.get("low", math.nan), row.get("high", math.nan),
                                       seconds_text),
            "× the fastest": about + ratio_text(row.get("ratio", math.nan)),
            "its interval": range_text(row.get("ratio_low", math.nan),
                                       row.get("ratio_high", math.nan), ratio_text),
            "epoch": count(row.get("epoch", math.nan)),
            "before the first step": share_text(row.get("before_first_step", math.nan)),
            "processes": count(row.get("processes", math.nan)),
            "note": row.get("note") if isinstance(row.get("note"), str) else "",
        })
    return pd.DataFrame(rows)


def epoch_note(frame: pd.DataFrame) -> str:
    """Whether every trained variant reached the target at the same epoch, or which did not."""
    trained = frame[~frame["estimate"].astype(bool) & frame["time"].notna()]
    if trained.empty:
        return ""
    epochs = trained["epoch"].astype(int)
    usual = int(epochs.mode().iloc[0])
    others = trained[epochs != usual]
    if others.empty:
        return (f"Every trained implementation reached it at epoch {usual}: they follow one "
                f"trajectory, so the differences are speed and start-up alone.")
    return (f"Most reached it at epoch {usual}; " + ", ".join(
        f"{row.implementation} at epoch {row.epoch:.0f}" for row in others.itertuples())
        + " (float32 rounding moves a few test images across the line).")


def chart(cases: pd.DataFrame, path: Path) -> Path | None:
    """Test accuracy against wall time from the process's start, one panel per target, each
    variant's first process, the target drawn."""
    rows = measured(cases)
    pairs = list(dict.fromkeys(zip(rows.get(Info.NETWORK, []), rows.get("target", []))))
    if not pairs:
        return None
    figure, axes = plt.subplots(1, len(pairs), figsize=(6.5 * len(pairs), 4.6), squeeze=False)
    for axis, (network, target) in zip(axes[0], pairs):
        part = rows[(rows[Info.NETWORK] == network) & (rows["target"] == target)]
        for i, row in enumerate(part.sort_values("time_per_unit_s").itertuples()):
            axis.plot([row.loaded_s, *row.evaluated_s], [np.nan, *row.accuracy],
                      marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i // 10 % 4],
                      label=row.variant)
            axis.axvline(row.loaded_s, color=axis.lines[-1].get_color(), alpha=0.25, lw=0.8)
        axis.axhline(target, color="black", linestyle=":", lw=1)
        axis.set_xlim(left=0)
        axis.set_title(f"{network}: test accuracy to {target:.0%}")
        axis.set_xlabel("wall time from a fresh process (s; thin lines: the first step)")
        axis.set_ylabel("test accuracy")
        axis.legend(fontsize=7, ncol=2)
    return save(figure, path)


def section_lines(found: list[tuple[str, float, pd.DataFrame]], link: str) -> list[str]:
    """REPORT.md's opening section, from `target_tables`: a table per target, the epoch note,
    the chart."""
    if not found:
        return []
    lines = ["## Time to accuracy", "",
             "From nothing to a trained network: a fresh process imports the implementation, "
             "builds the network, loads the data, and trains and evaluates the test set after "
             "each epoch, until the test accuracy first reaches the target (float32; "
             "docs/method.md). Each figure with its 95% interval over processes; a ratio "
             "whose interval holds 1 is a tie. ≈ marks an estimate.", ""]
    for network, target, frame in found:
        lines += [f"### {target:.0%} test accuracy, preset `{network}`", "",
                  markdown_table(display(frame, target)), "", epoch_note(frame), ""]
    return [*lines, link, ""]


def headline(found: list[tuple[str, float, pd.DataFrame]]) -> list[str]:
    """One finding per target of `target_tables`: the fastest to it, and everyone else's
    ratio to it."""
    lines = []
    for network, target, frame in found:
        timed = frame[~frame["estimate"].astype(bool) & frame["time"].notna()]
        if timed.empty:
            continue
        best = timed.iloc[0]
        interval = range_text(best["low"], best["high"], seconds_text)
        lines.append(
            f"- {target:.0%} test accuracy on `{network}`: fastest **{best['implementation']}**,"
            f" {seconds_text(best['time'])}" + (f" ({interval})" if interval != "-" else "")
            + f" from a fresh process, at epoch {best['epoch']:.0f}; then " + ", ".join(
                f"{row.implementation} {ratio_text(row.ratio)} "
                f"({range_text(row.ratio_low, row.ratio_high, ratio_text)})"
                for row in timed.iloc[1:].itertuples()))
    return lines
