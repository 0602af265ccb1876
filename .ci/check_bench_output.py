"""CI's check of a benchmark run's output: `python .ci/check_bench_output.py OUT`.

After `nnbench run --quick --out OUT`, checks that what a user would publish is there and
tells one story:

- one run under OUT/runs/<machine>/<run-id>/, whose manifest lists every selected
  implementation, each of which ended well (or, without NNBENCH_REQUIRE_ALL=1, is
  unavailable here), with its raw JSON readable;
- OUT/summary.csv holds a row for every implementation, network and operation the JSON
  timed, with the JSON's own median turned into the time per sample;
- every implementation but numpy was verified against it (`nnbench verify` in its first
  process), and REPORT.md has the Equivalence section;
- OUT/REPORT.md names the run, and every chart it embeds exists as a PNG in OUT/charts/, and
  no other chart is there.

Prints what it checked; exits 1 with the reasons when anything is off. Timings are not
judged (a CI machine's speed is not the suite's).
"""

from __future__ import annotations

import math
import os
import re
import sys
from pathlib import Path

import pandas as pd
from nnbench.bench.results import OPS, TROUBLE, Info, Status, StepKind, load_run, read_manifest
from nnbench.bench.tables import cases_frame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check(out: Path) -> list[str]:
    problems = []
    runs = sorted(out.glob("runs/*/*/manifest.json"))
    if len(runs) != 1:
        return [f"expected one run under {out}/runs, found {len(runs)}"]
    manifest = read_manifest(runs[0])
    steps = {step["name"]: step for step in manifest["steps"]}
    for name in ["gemm", *manifest["selection"]["variants"]]:
        step = steps.get(name)
        if step is None:
            problems.append(f"{name}: selected but not in the manifest")
        elif step["status"] in TROUBLE:
            problems.append(f"{name}: {step['status']}: {step['reason']}")
        elif step["status"] == Status.UNAVAILABLE and os.environ.get("NNBENCH_REQUIRE_ALL") == "1":
            problems.append(f"{name}: unavailable with NNBENCH_REQUIRE_ALL=1: {step['reason']}")
    run = load_run(runs[0].parent)  # every step's JSON parses and is nnbench's

    summary = pd.read_csv(out / "summary.csv")
    if set(summary["run_id"]) != {manifest["run_id"]}:
        problems.append(f"summary.csv is of run(s) {set(summary['run_id'])}, "
                        f"not {manifest['run_id']}")
    cases = cases_frame(run)
    timed = cases[cases[Info.KIND].isin(OPS)]
    rows = summary.set_index(["variant", "network", "op", "dtype"])
    for case in timed.itertuples():
        key = (case.variant, case.network, case.op, case.dtype)
        if key not in rows.index:
            problems.append(f"summary.csv has no row for {' '.join(key)}")
            continue
        expected = case.median_s / (case.samples * case.epochs)
        if not math.isclose(rows.loc[key, "time_per_sample_s"], expected, rel_tol=1e-9):
            problems.append(f"summary.csv's time per sample of {' '.join(key)} is "
                            f"{rows.loc[key, 'time_per_sample_s']}, its JSON says {expected}")
    ran = [name for name, step in steps.items()
           if step["kind"] == StepKind.VARIANT and step["status"] != Status.UNAVAILABLE]
    declined = {(case.get("variant"), case.get("network"))  # declared: not measured, with why
                for document in run.documents.values()
                for case in document["nnbench"].get("unsupported", [])}
    for variant in ran:
        for network in manifest["selection"]["networks"]:
            if (variant, network) in declined:
                continue
            if not ((summary["variant"] == variant) & (summary["network"] == network)).any():
                problems.append(f"summary.csv has nothing of {variant} on {network}")

    report = (out / "REPORT.md").read_text(encoding="utf-8")
    for variant in ran:
        verified = run.documents.get(variant, {}).get("nnbench", {}).get("verify", [])
        if variant != "numpy" and not verified:
            problems.append(f"{variant}: its first process has no verify findings")
    if "## Equivalence" not in report:
        problems.append("REPORT.md has no Equivalence section")
    if manifest["run_id"] not in report:
        problems.append("REPORT.md does not name the run")
    embedded = re.findall(r"!\[[^\]]*\]\((charts/[^)]+)\)", report)
    if not embedded:
        problems.append("REPORT.md embeds no chart")
    for chart in embedded:
        path = out / chart
        if not path.is_file() or not path.read_bytes().startswith(PNG_MAGIC):
            problems.append(f"REPORT.md embeds {chart}, which is not a PNG in {out}")
    extra = {p.name for p in (out / "charts").glob("*")} - {Path(c).name for c in embedded}
    if extra:
        problems.append(f"charts not in REPORT.md: {sorted(extra)}")
    print(f"checked {out}: run {manifest['run_id']} ({manifest['mode']}, "
          f"{manifest['seconds']:.0f} s), {len(steps)} steps, {len(summary)} summary rows, "
          f"{len(embedded)} charts")
    return problems


if __name__ == "__main__":
    found = check(Path(sys.argv[1]))
    for problem in found:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    sys.exit(1 if found else 0)
