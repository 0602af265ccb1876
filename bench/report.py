"""`nnbench report`: summary.csv and REPORT.md of a run, from its raw JSON alone.

A run is read from its directory or from one raw JSON file (bench/results.py), turned into
tables (bench/tables.py) and charts (bench/charts.py, all drawn in one step before the text),
and written as `summary.csv` (one row per variant, network, operation and dtype), `REPORT.md`
and `charts/*.png`. REPORT.md is the concatenation of SECTIONS: one small function per
section, each writing its lines from the run's frames and linking the charts drawn for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import claims, tta_report, verify, verify_report
from .charts import Drawn, draw_charts
from .checks import (
    CHECK_RATES,
    FEWEST_ROUNDS,
    FIRST_ROUNDS,
    check_rates,
    check_summary,
    check_values,
    first_rounds_table,
    implementations_table,
)
from .files import replacing, write_text
from .fixed_cost import report_lines as fixed_cost_lines
from .formatting import range_text, ratio_text, seconds_text, share_text
from .results import Info, Kind, Run, Section, Status
from .tables import (
    Frames,
    breakdown_table,
    cold_start_table,
    display_table,
    failures_frame,
    gemm_display,
    loss_distances,
    markdown_table,
    memory_table,
    network_title,
    refused_points,
    scaling_slopes,
    summary_frame,
)
from .targets import target_lines
from .workloads import MODES, NETWORKS


@dataclass
class Report:
    out: Path
    files: list[Path]


@dataclass
class Material:
    """What REPORT.md's sections are written from: the run's frames, the charts drawn, and
    the run's claims findings (None when it has no claims.json)."""

    frames: Frames
    drawn: Drawn
    claims: list[dict] | None
    verify: list = field(default_factory=list)  # the run's verify findings (bench/verify.py)
    time_to_accuracy: list = field(default_factory=list)  # bench/tta_report.py's target_tables

    @property
    def run(self) -> Run:
        return self.frames.run


def write_report(run: Run, out: Path) -> Report:
    """summary.csv, REPORT.md and charts/*.png of `run`, under `out`; returns what it wrote."""
    out = Path(out)
    frames = Frames.of(run)
    claims_file = run.source / claims.RUN_FILE  # by `nnbench run`, or `nnbench claims --json`
    rows = claims.read_json(claims_file) if claims_file.is_file() else None
    summary = out / "summary.csv"
    with replacing(summary) as temporary:
        summary_frame(run, frames.table).to_csv(temporary, index=False)
    drawn = draw_charts(frames, rows, out / "charts")
    tta_chart = tta_report.chart(frames.cases, out / "charts" / tta_report.CHART)
    drawn.files += [tta_chart] if tta_chart else []
    findings = [verify.Finding(**finding) for document in run.documents.values()
                for finding in document[Section.NAME].get(Section.VERIFY, [])]
    if findings:
        drawn.files += verify_report.draw(findings, out / "charts")
    material = Material(frames, drawn, rows, findings, tta_report.target_tables(
        frames.cases, frames.records, frames.table))
    lines = [line for section in SECTIONS for line in section(material)]
    report_md = out / "REPORT.md"
    write_text(report_md, "\n".join(lines).replace("\n\n\n", "\n\n"))
    files = [summary, *drawn.files, report_md]
    remove_stale_charts(out / "charts", files)
    return Report(out, files)


def remove_stale_charts(charts: Path, written: list[Path]) -> None:
    """Charts a previous report made that this one did not (say, of a network not run now)."""
    keep = {path.resolve() for path in written}
    for path in charts.glob("*.png"):
        if path.resolve() not in keep:
            path.unlink()


# ---- the top: the run, what to know before reading, the machine ----


def title_section(m: Material) -> list[str]:
    run = m.run
    lines = [f"# nnbench report: run {run.name}", ""]
    if run.manifest:
        manifest = run.manifest
        lines.append(f"`{manifest.get('command', 'nnbench run')}` on "
                     f"{manifest.get('machine', '?')}, {manifest.get('mode')} mode, started "
                     f"{manifest.get('started')}, took "
                     f"{seconds_text(manifest.get('seconds') or math.nan)}. Raw data: "
                     f"`runs/{manifest.get('machine')}/{manifest.get('run_id')}/`.")
    else:
        lines.append(f"From `{run.source.name}`.")
    return [*lines, "", *partial_warning(run), *busy_warning(run)]


def time_to_accuracy_section(m: Material) -> list[str]:
    return tta_report.section_lines(m.time_to_accuracy, m.drawn.link(tta_report.CHART))


def partial_warning(run: Run) -> list[str]:
    """A run that did not finish says so first: interrupted (SIGINT, SIGTERM), or with no end
    time (its runner killed hard, or still running), and which of its steps are missing."""
    manifest = run.manifest
    if not manifest or (manifest.get("finished") and not manifest.get("interrupted")):
        return []
    status = {step["name"]: step.get("status") for step in manifest.get("steps", [])}
    planned = manifest.get("planned_steps") or list(status)
    why = {Status.RUNNING: "was running", Status.INTERRUPTED: "interrupted"}
    missing = [f"{name} ({why.get(status.get(name), 'not run')})" for name in planned
               if status.get(name) in (None, Status.RUNNING, Status.INTERRUPTED)]
    how = (f"interrupted by {manifest['interrupted']}" if manifest.get("interrupted") else
           "never finished (its runner was stopped before the end, or is still running)")
    return [f"**Partial run**: {how}, after {len(planned) - len(missing)} of {len(planned)} "
            f"steps; missing: {', '.join(missing) or 'none'}. This report holds only the "
            f"steps that finished.", ""]


def busy_warning(run: Run) -> list[str]:
    """A warning when other work competed for the CPU while this run measured."""
    threads = run.manifest.get("threads", {}).get("setting")
    loads = [value for step in run.manifest.get("steps", [])
             for value in step.get("load_average", [])]
    if not threads or not loads or max(loads) <= threads + 0.5:
        return []
    return [f"**The machine was busy**: its 1-minute load average reached {max(loads):.1f} "
            f"while this run used {threads} threads, so other work competed for the cores "
            f"and the timings are inflated and noisy. Repeat the run on a quiet machine "
            f"before publishing it.", ""]


def machine_section(m: Material) -> list[str]:
    run = m.run
    info = run.machine_info
    ours = info.get("nnbench", {})  # bench/machine.py's describe()
    versions = ours.get("versions", {})
    blas = ours.get("blas", {}).get("numpy_blas", {})
    threads = run.manifest.get("threads", {}).get("setting", ours.get("threads", {}).get(
        "setting", "?"))
    cpus = run.manifest.get("threads", {}).get("cpus")
    held = (f"; every step held to CPU{'s' * (len(cpus) > 1)} {', '.join(map(str, cpus))}"
            if cpus else "")
    cores = run.manifest.get("cores", ours.get("cores", "?"))  # a held step sees fewer
    return [
        "## Machine and versions", "",
        f"- CPU: {ours.get('cpu_model', info.get('cpu', {}).get('brand_raw', '?'))}, "
        f"{cores} cores usable; {ours.get('platform', info.get('system', ''))}",
        f"- Threads: {threads} (OMP, OpenBLAS, MKL, Numba and TensorFlow variables set "
        f"alike{held})",
        f"- BLAS (NumPy's): {blas.get('name', '?')} {blas.get('version', '')}".rstrip(),
        "- Accelerators: " + (", ".join(ours.get("accelerators", [])) or
                              "none found (every case ran on the CPU)"),
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        ""]


# ---- what the run found, and what it is held to ----


def headline_lines(table: pd.DataFrame) -> list[str]:
    """Per network and operation (float64), the fastest ranked variant with its interval,
    those tied with it, and the slowest, as findings."""
    lines = []
    for (network, op, dtype), group in table.groupby([Info.NETWORK, Info.OP, Info.DTYPE],
                                                     sort=False):
        ranked = group[group["ranked"]].sort_values("time_per_unit_s")
        if dtype != "float64" or ranked.empty:
            continue
        best = ranked.iloc[0]
        line = (f"- {network} {op}: fastest **{best[Info.VARIANT]}**, "
                f"{seconds_text(best['time_per_unit_s'])} per sample "
                f"({range_text(best['low_s'], best['high_s'], seconds_text)})")
        if np.isfinite(best["gemm_share"]):
            line += f", {share_text(best['gemm_share'])} of the GEMM rate"
        tied = ranked[ranked["rank"] == best["rank"]].iloc[1:]
        if not tied.empty:
            line += "; no difference at this precision from " + ", ".join(
                f"{row.variant} ({range_text(row.ratio_low, row.ratio_high, ratio_text)})"
                for row in tied.itertuples())
        worst = ranked.iloc[-1]
        if len(ranked) > len(tied) + 1:
            line += (f"; slowest {worst[Info.VARIANT]}, {ratio_text(worst['ratio'])} "
                     f"({range_text(worst['ratio_low'], worst['ratio_high'], ratio_text)}) "
                     f"the fastest's time")
        lines.append(line)
    return lines


PEERS = ("sklearn", "keras", "torch", "jax")  # what a user would train MNIST with instead


def peer_lines(table: pd.DataFrame) -> list[str]:
    """Per dtype, MNIST training in scikit-learn and the frameworks at their defaults, as
    ratios to the fastest implementation's time."""
    lines = []
    train = table[(table[Info.NETWORK] == "mnist") & (table[Info.OP] == "train")
                  & table["ranked"]] if not table.empty else table
    for dtype, group in train.groupby(Info.DTYPE, sort=False):
        best = group.sort_values("time_per_unit_s").iloc[0]
        peers = group[group[Info.VARIANT].isin(PEERS)]
        if peers.empty:
            continue
        lines.append(f"- mnist train, {dtype}, what a user might pick instead, against the "
                     f"fastest ({best[Info.VARIANT]}): " + ", ".join(
                         f"{row.variant} {ratio_text(row.ratio)} "
                         f"({range_text(row.ratio_low, row.ratio_high, ratio_text)})"
                         for row in peers.sort_values("ratio").itertuples()))
    return lines


def headlines_section(m: Material) -> list[str]:
    lines = ["## Headlines", "",
             "Each figure with its 95% interval in brackets (docs/statistics.md): two "
             "implementations whose ratio's interval holds 1 are tied, and share a rank.", ""]
    lines += tta_report.headline(m.time_to_accuracy)
    lines += headline_lines(m.frames.table) or ["- no ranked cases"]
    lines += peer_lines(m.frames.table)
    return [*lines, "", *within_process_note(m.frames.cases)]


def within_process_note(cases: pd.DataFrame) -> list[str]:
    """A run that measured each case in one process says that its intervals are too narrow."""
    if cases.empty or "processes" not in cases or (cases["processes"] > 1).any():
        return []
    return ["**One process per case**: this run's intervals rest on the rounds within each "
            "case's one process, and understate the noise between processes (the level that "
            "varies most on a shared machine); a run with `--repeats 3` or more measures "
            "it.", ""]


def targets_section(m: Material) -> list[str]:
    """Each target the project holds itself to (bench/targets.py), as this run measured it."""
    lines = target_lines(m.run, m.frames.table, m.frames.cases)
    return ["### Targets", "", *lines, ""] if lines else []


# ---- how it was measured ----


def sampling_lines(table: pd.DataFrame, mode: str) -> list[str]:
    """How the slow paradigms were sampled, which cases ran a subset, which were refused."""
    sampled = table[table[Info.SAMPLED] == True]  # noqa: E712 (a column of objects)
    typical = (f"about {seconds_text(sampled['median_s'].median())}" if not sampled.empty
               else "a fraction of a second")
    limit = (f"{MODES[mode].timing.full_s:g} s (the {mode} mode's limit)" if mode in MODES
             else "the mode's limit")
    lines = [f"The slow paradigms (those that declare `per_sample`) process one sample at a "
             f"time, so their time per sample does not depend on how many they get: they were "
             f"timed on a subset sized from the time of one sample to take {typical} per "
             f"round, and their per-sample figures are what is compared. Every other "
             f"implementation ran the full workload, unless one epoch of it would have taken "
             f"longer than {limit}: then as many whole batches as fit in that time."]
    if not sampled.empty:
        parts = [f"{r.variant} {r.network} {r.op} {r.dtype}: {r.samples:,.0f} of "
                 f"{r.full_samples:,.0f}" for r in sampled.itertuples()]
        lines.append("Samples used: " + "; ".join(parts) + ".")
    refused = table[table[Info.REFUSED].fillna("") != ""]
    for row in refused.drop_duplicates(Info.VARIANT).itertuples():
        lines.append(f"{row.variant}: {row.refused} (its MNIST rows are not ranked; the width "
                     f"sweep compares it with the others at the widths it accepts).")
    if mode == "quick":
        lines.append("This was a `--quick` run: small sizes and few rounds, a smoke test of "
                     "the suite. Its numbers are not for publication.")
    return lines


def method_section(m: Material) -> list[str]:
    return [
        "## How this was measured", "",
        "- Every implementation ran in processes of its own (`nnbench run`: pytest-benchmark, "
        "one process per implementation and block), with the thread setting above; the GEMM "
        "rate was measured in the same blocks, under the same setting.",
        "- Before timing, each case checked the implementation against numpy_vec on the same "
        "data from the same weights: the outputs (predict) or the weights after one training "
        "step (train), within 1e-9 (float64) or 1e-4 (float32) by the project's tolerance "
        "rule (nnbench.tolerance). A case that disagrees is shown but not ranked.",
        "- Every predict, train and GEMM case (and the cold start of those that start in "
        "under 2 s) was measured in "
        f"{processes_text(m.run)}, in blocks: each block ran every implementation once, in an "
        "order drawn from a seeded generator (the manifest records the seed and the orders), "
        "so that a slow minute of the machine fell on all alike. The first block sized each "
        "case, and the later ones timed the same work; the sweeps, loss curves and memory "
        "probes ran in the first block only.",
        "- In each process, one warm-up round first (JIT compilation and graph tracing happen "
        "there; cold start measures them apart), then a few timed rounds. A process's figure "
        "is the median of its rounds; a case's figure is the geometric mean of its processes' "
        "figures, with a 95% Student's t interval over them; a ratio pairs the two cases' "
        "processes block by block (docs/statistics.md).",
        "- Time per sample = round / (samples × epochs) of the round; GFLOP/s counts the "
        "dense layers' multiply-adds (2 FLOPs each; training adds the two backward products).",
        "- Peak memory and cold start come from a fresh process that imports the "
        "implementation, builds the network and takes one training step of one mini-batch "
        "(float64).",
        "", *sampling_lines(m.frames.table, m.run.mode), ""]


def processes_text(run: Run) -> str:
    """How many processes measured each case ("3 processes"), from the manifest."""
    repeats = run.manifest.get("blocks", {}).get("repeats", 1)
    return f"{repeats} process{'es' * (repeats != 1)}" + ("" if repeats > 1 else
                                                       " (its intervals are within-process)")


def implementations_section(m: Material) -> list[str]:
    implementations = implementations_table(m.run)
    if implementations.empty:
        return []
    return ["## Implementations in this run", "", markdown_table(implementations), ""]


def steadiness_lines(run: Run) -> list[str]:
    """How far the machine check moved over the run, and what that means."""
    lines = [f"- {label}: {check_summary(values, CHECK_RATES[rate].unit)}"
             for rate, label in check_rates(run).items()
             if len(values := check_values(run, rate)) >= 2]
    if not lines:
        return []
    return ["## How steady the machine was", "",
            "Every process timed the same float64 product, (128x784) @ (784x512), and a "
            "pure-Python dot product (where the run has it), when it started and when it "
            "ended (the columns \"check\" of the table above, GFLOP/s or millions of "
            "multiply-adds per second, start → end), and in the default mode's first block "
            "also just before and just after each predict, train, GEMM and step-phase case:",
            "", *lines, "",
            "A case's time moves with the machine's: a case measured while the check was slow "
            "is slow too. When two runs of the same code differ, `nnbench compare` sets the "
            "checks made around each case beside it, so that what the machine did can be told "
            "from what an implementation did.", ""]


def steadiness_section(m: Material) -> list[str]:
    return steadiness_lines(m.run)


def first_rounds_section(m: Material) -> list[str]:
    table = first_rounds_table(m.frames.cases)
    if table.empty:
        return []
    shown = table.assign(**{column: table[column].map("{:.2f}".format)
                            for column in ("median", "largest")})
    return ["## Did the first rounds run slow?", "",
            f"For each case over 1 ms with {FEWEST_ROUNDS} timed rounds or more: the median of "
            f"its first {FIRST_ROUNDS} rounds over the median of its second half, per "
            "implementation. Well above 1, a case started slow: something was still warming "
            "up, or something that ran before it was still running (such as a BLAS thread "
            "still spinning on another core: the rounds wait for those to sleep).", "",
            markdown_table(shown.rename(columns={"median": "first / later, median case",
                                                 "largest": "largest"})), ""]


def gemm_section(m: Material) -> list[str]:
    shown = gemm_display(m.frames.cases)
    if shown.empty:
        return []
    return ["## The machine's GEMM rate (NumPy's BLAS)", "", markdown_table(shown), "",
            "The best round's rate, over the products, per dtype, is the machine's limit "
            "that the tables' \"of GEMM\" column divides by. The one-thread rows "
            "(when the run used more) are the yardstick for loops that run on one "
            "thread by design, such as numba's.", ""]


# ---- the results ----


def network_sections(m: Material) -> list[str]:
    """Per network: its chart, then one table per operation and dtype."""
    table, lines = m.frames.table, []
    for network in [n for n in NETWORKS if (table.get(Info.NETWORK) == n).any()]:
        lines += [f"## {network_title(table, network)}", "",
                  m.drawn.link(f"speed_{network}.png")]
        for (op, dtype), group in table[table[Info.NETWORK] == network].groupby(
                [Info.OP, Info.DTYPE], sort=False):
            lines += [f"### {network} {op}, {dtype}", "", markdown_table(display_table(group)),
                      ""]
    return lines


def breakdown_summary(parts: dict, dtype: str) -> str:
    """One dtype's step breakdown (tables.step_breakdown) in words."""
    split, step = parts["split"], parts["step"]
    if split["rest"] >= 0:
        rest = (f"and {seconds_text(split['rest'])} that the phases timed alone do not show "
                f"(each finds its inputs in cache; in the step they come from the phase "
                f"before)")
    else:
        rest = (f"while the phases timed alone add up to {seconds_text(-split['rest'])} more "
                f"than the step (timing noise between cases)")
    return (f"- {dtype}: the step's {parts['flops'] / 1e6:.0f} MFLOP would take "
            f"{seconds_text(split['ideal'])} at the best GEMM rate ({parts['rate']:.0f} "
            f"GFLOP/s); the step takes {seconds_text(step)} "
            f"({share_text(split['ideal'] / step)} of the rate). The products at their own "
            f"shapes take {seconds_text(parts['products'])}: alone, with nothing else to do, "
            f"the step could reach {share_text(split['ideal'] / parts['products'])}. The "
            f"rest: elementwise work {seconds_text(split['elementwise'])}, the update "
            f"{seconds_text(split['update'])}, {rest}.")


def breakdown_section(m: Material) -> list[str]:
    every = m.frames.every_breakdown
    if not every:
        return []
    lines = ["## Where the time of a training step goes", "",
             f"The MNIST training step of {' and '.join(every)} taken apart on one batch "
             "(numpy's is numpy_vec's, the reference; the fastest implementations run the same "
             "products): each phase timed alone in the GEMM step's process "
             "(bench/test_breakdown.py), then the whole step. The matrix products are the "
             "step's FLOPs; everything else is time the GEMM rate does not count. The chart "
             "is numpy_vec's step.", "",
             m.drawn.link("step_breakdown.png"),
             *[breakdown_summary(parts, f"{impl}, {dtype}")
               for impl, by_dtype in every.items() for dtype, parts in by_dtype.items()], ""]
    dtypes = dict.fromkeys(dtype for by_dtype in every.values() for dtype in by_dtype)
    for dtype in dtypes:  # each dtype's tables side by side, the reference's first
        for impl, by_dtype in every.items():
            if dtype in by_dtype:
                lines += [f"### {impl}'s step, {dtype}", "",
                          markdown_table(breakdown_table(by_dtype[dtype], m.frames.table,
                                                         dtype)), ""]
    return lines


def scaling_section(m: Material) -> list[str]:
    width, batch = m.drawn.link("scaling_width.png"), m.drawn.link("scaling_batch.png")
    if not (width or batch):
        return []
    lines = ["## Scaling", "",
             "Log-log; the legend gives each implementation's fitted slope (1: time per "
             "sample proportional to the width, as the FLOPs are; below 1 at small sizes: "
             "overhead that the width amortises).", "", width]
    slopes = scaling_slopes(m.frames.cases, Kind.WIDTH)
    if not slopes.empty:
        lines += [markdown_table(slopes.assign(slope=slopes["slope"].map("{:.2f}".format))), ""]
    lines.append(batch)
    for row in refused_points(m.frames.records).itertuples():
        axis = Kind.WIDTH if row.kind == Kind.WIDTH else Kind.BATCH
        lines.append(f"- {row.variant} at {axis} {getattr(row, axis):.0f}: refused, "
                     f"{row.refused}")
    return [*lines, ""]


def fixed_cost_section(m: Material) -> list[str]:
    """t(B) = a + b·B per implementation and network, from the batch sweep (bench/fixed_cost.py)."""
    return fixed_cost_lines(m.frames.cases, m.drawn.link, m.run.mode)


def memory_section(m: Material) -> list[str]:
    chart = m.drawn.link("memory.png")
    if not chart:
        return []
    return ["## Memory against hidden width", "",
            "Peak resident memory of a fresh process that takes one training step at "
            "each hidden width (interpreter and libraries included; the first row is "
            "each one's memory after its imports), beside the memory the explicit "
            "Jacobian says its long form needs for one sample.", "",
            chart, markdown_table(memory_table(m.frames.records)), ""]


def loss_section(m: Material) -> list[str]:
    chart = m.drawn.link("loss_curve.png")
    if not chart:
        return []
    lines = ["## Training loss per epoch", "",
             "Every implementation from the same starting weights on the same data: the "
             "curves should lie on one another.", "", chart]
    distances = loss_distances(m.frames.cases)
    if not distances.empty:
        column = "largest difference from numpy"
        lines += [markdown_table(distances.assign(**{
            column: distances[column].map("{:.2g}".format)})), ""]
    return lines


def cold_start_section(m: Material) -> list[str]:
    chart = m.drawn.link("cold_start.png")
    if not chart:
        return []
    return ["## Cold start", "",
            "A fresh process: interpreter start, import, build, one training step of one "
            "mini-batch (Numba compiles with an empty cache here, TensorFlow traces), "
            "timed from outside. Import, build and first step are the process's own "
            "timings of its phases.", "", chart, markdown_table(cold_start_table(m.frames.cases)),
            ""]


# ---- the claims, and what did not run ----


def claims_lines(rows: list[dict], charts: list[tuple[str, str]] = ()) -> list[str]:
    """REPORT.md's claims section: one table row per finding (bench/claims.py), then the
    charts drawn of them, as (caption, file name) pairs, embedded from `charts/`."""
    lines = ["## The seed write-ups' claims, re-measured", "",
             "Each figure the seed write-ups published (`nnbench claims`; ids as in "
             "docs/seeds.md), beside what this machine measured and a verdict.", "",
             "| id | write-up | claimed | implementation | measured | verdict |",
             "|---|---|---|---|---|---|"]
    previous = None
    for row in rows:
        new_claim = row["id"] != previous
        previous = row["id"]
        verdict = row["verdict"] + (f" ({row['reason']})" if row["reason"] else "")
        cells = [row["id"] if new_claim else "", row["source"] if new_claim else "",
                 row["claimed"] if new_claim else "", row["impl"], row["measured"], verdict]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    lines += ["", f"Verdicts: {claims.verdict_counts(rows)}.", ""]
    for caption, name in charts:
        lines += [f"![{caption}](charts/{name})", "", f"*{caption}*", ""]
    return lines


def claims_section(m: Material) -> list[str]:
    return claims_lines(m.claims, m.drawn.claims) if m.claims is not None else []


def failures_section(m: Material) -> list[str]:
    failures = failures_frame(m.run)
    if failures.empty:
        return []
    return ["## Failed cases", "", markdown_table(failures.reindex(
        columns=["step", "test", "variant", "network", "dtype", "reason"]).fillna("")), ""]


def skipped_section(m: Material) -> list[str]:
    """The cases skipped for `--max-case-seconds`, each with its estimate."""
    skipped = [f"- {step}: `{case['nodeid'].split('::')[-1]}`: {case['reason']}"
               for step, document in m.run.documents.items()
               for case in document[Section.NAME].get(Section.SKIPPED, [])]
    return ["## Skipped cases", "", *skipped, ""] if skipped else []


def verify_section(m: Material) -> list[str]:
    """What `nnbench verify` found in each variant's first process, and its two charts."""
    if not m.verify:
        return []
    epochs = max(f.epochs for f in m.verify)
    command = f"nnbench verify --epochs {epochs}" if epochs else "nnbench verify"
    charts = [f"![{Path(name).stem}](charts/{name})" for name in verify_report.CHARTS
              if any(path.name == name for path in m.drawn.files)]
    return [*verify_report.markdown_summary(m.verify, command.strip()), *charts, ""]


def unsupported_section(m: Material) -> list[str]:
    """The cases a variant declares it cannot compute: one line per variant and reason."""
    where: dict[tuple[str, str], set[str]] = {}
    for document in m.run.documents.values():
        for case in document[Section.NAME].get(Section.UNSUPPORTED, []):
            place = " ".join(f"{key} {case[key]}" if key in ("width", "batch") else str(case[key])
                             for key in ("network", "dtype", "width", "batch") if key in case)
            where.setdefault((case.get("variant", "?"), case["reason"]), set()).add(
                place or case.get("test", "?"))
    lines = [f"- {variant} ({', '.join(sorted(places))}): {reason}"
             for (variant, reason), places in sorted(where.items())]
    return ["## Not supported", "", "Cases an implementation declares it cannot compute, "
            "with its reason; they are not measured.", "", *lines, ""] if lines else []


# REPORT.md, in order.
SECTIONS: list[Callable[[Material], list[str]]] = [
    title_section, time_to_accuracy_section, machine_section, headlines_section, targets_section,
    method_section, implementations_section, verify_section, steadiness_section,
    first_rounds_section, gemm_section,
    network_sections, breakdown_section, scaling_section, fixed_cost_section, memory_section,
    loss_section, cold_start_section, claims_section, failures_section, skipped_section,
    unsupported_section,
]
