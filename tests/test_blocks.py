"""The runner's blocks and what the report makes of them: a seeded order, the first block's
sizes timed again by the later ones, intervals over processes, ties ranked as ties, and
`compare`'s verdicts. No timing is asserted."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from nnbench.bench import compare, results, runner, stats, tables
from nnbench.bench.cli import main
from nnbench.bench.results import Run


def test_the_block_order_is_reproducible_from_its_seed():
    names = ["gemm", "python", "numpy", "numba", "torch", "jax"]
    orders = runner.block_order(names, 4, seed=11)
    assert orders == runner.block_order(names, 4, seed=11)
    assert all(sorted(order) == sorted(names) for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # the blocks are drawn anew
    assert any(runner.block_order(names, 4, seed) != orders for seed in (12, 13, 14))


def test_the_first_block_alone_runs_the_once_only_cases():
    steps = runner.planned_steps([["gemm", "numpy"], ["numpy", "gemm"]])
    assert [(s.name, s.group, s.block) for s in steps] == [
        ("gemm.1", "gemm", 1), ("numpy.1", "numpy", 1), ("numpy.2", "numpy", 2),
        ("gemm.2", "gemm", 2)]
    by_name = {s.name: s.files for s in steps}
    assert set(runner.ONCE_FILES) <= set(by_name["numpy.1"])
    assert not set(runner.ONCE_FILES) & set(by_name["numpy.2"])
    assert set(runner.BREAKDOWN_FILES) <= set(by_name["gemm.1"])
    assert not set(runner.BREAKDOWN_FILES) & set(by_name["gemm.2"])
    assert [s.name for s in runner.planned_steps([["gemm", "numpy"]])] == ["gemm", "numpy"]


@pytest.fixture(scope="module")
def two_blocks(tmp_path_factory):
    """A quick run of numpy on XOR in two blocks."""
    out = tmp_path_factory.mktemp("blocks")
    code = main(["run", "--quick", "--impl", "numpy", "--network", "xor", "--repeats", "2",
                 "--seed", "5", "--out", str(out), "--no-progress"])
    assert code == 0
    return out, results.latest_run(out)


def test_a_run_records_its_blocks_and_their_order(two_blocks):
    _, run_dir = two_blocks
    manifest = results.read_manifest(run_dir / results.MANIFEST)
    assert manifest["blocks"] == {"repeats": 2, "seed": 5,
                                  "orders": runner.block_order(["gemm", "numpy"], 2, 5)}
    started = [step["name"] for step in manifest["steps"]]
    assert started == [f"{name}.{block}" for block, order in
                       enumerate(manifest["blocks"]["orders"], start=1) for name in order]


def test_the_later_blocks_time_the_first_blocks_sizes(two_blocks):
    _, run_dir = two_blocks
    run = results.load_run(run_dir)
    sizes = {}
    for step in ("numpy.1", "numpy.2"):
        for bench in run.documents[step]["benchmarks"]:
            info = bench["extra_info"]
            if info["kind"] in ("predict", "train"):
                sizes.setdefault(bench["name"], []).append(
                    (info["samples"], info["epochs"], bench["stats"]["iterations"],
                     bench["stats"]["rounds"]))
    assert sizes and all(len(found) == 2 and found[0] == found[1] for found in sizes.values())


def test_every_figure_of_a_blocked_run_has_its_interval(two_blocks):
    out, _ = two_blocks
    with open(out / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["processes"] == "2" for row in rows)
    for row in rows:
        low, value, high = (float(row[f"time_per_sample{suffix}_s"])
                            for suffix in ("_low", "", "_high"))
        assert low <= value <= high
    report = (out / "REPORT.md").read_text()
    assert "95% interval" in report and "One process per case" not in report


def test_a_run_compared_with_itself_has_no_change(two_blocks, capsys):
    _, run_dir = two_blocks
    assert main(["compare", str(run_dir), str(run_dir), "--fail-on-slower"]) == 0
    out = capsys.readouterr().out
    # The batch sweep's XOR points ran in the first block only: they are counted apart.
    assert " 0 slower, 0 faster," in out and "measured each case in one process" not in out


def synthetic_run(figures: dict[str, list[float]]) -> Run:
    """A run of XOR training with three blocks; each variant's process in block k took
    figures[variant][k] per round (five equal rounds), verified against numpy."""
    documents = {}
    for variant, by_block in figures.items():
        for block, figure in enumerate(by_block, start=1):
            info = {"kind": "train", "op": "train", "variant": variant, "impl": variant,
                    "network": "xor", "dtype": "float64", "sizes": [2, 2, 1], "samples": 4,
                    "epochs": 1, "flops": 100.0, "refused": "",
                    "verification": "reference" if variant == "numpy" else "ok",
                    "max_error": 0.0}
            data = [figure * (1 + 0.001 * i) for i in range(5)]
            documents[f"{variant}.{block}"] = {
                "benchmarks": [{"name": f"test_train[{variant}-float64-xor]", "extra_info": info,
                                "stats": {"median": float(np.median(data)), "min": min(data),
                                          "rounds": 5, "iterations": 1, "data": data}}],
                "nnbench": {}}
    steps = [{"name": name, "group": name.split(".")[0], "block": int(name.split(".")[1]),
              "status": "ok"} for name in documents]
    return Run(Path("synthetic"), {"run_id": "synthetic", "steps": steps,
                                   "blocks": {"repeats": 3}}, documents)


def test_ties_are_ranked_as_ties():
    """numpy and torch move together block by block and differ by 1% at most: tied; jax is
    twice as slow in every block: third, alone."""
    run = synthetic_run({"numpy": [1.0, 1.3, 0.9], "torch": [1.01, 1.28, 0.91],
                         "jax": [2.0, 2.6, 1.8]})
    table = tables.main_table(run, tables.cases_frame(run)).set_index("variant")
    assert table.loc["numpy", "rank"] == table.loc["torch", "rank"] == 1
    assert table.loc["numpy", "tied"] and table.loc["torch", "tied"]
    assert table.loc["jax", "rank"] == 3 and not table.loc["jax", "tied"]
    assert table.loc["jax", "ratio_low"] <= 2.0 <= table.loc["jax", "ratio_high"]
    # Paired by block, jax's ratio is 2 in every block: its interval is narrow although the
    # blocks moved by 30%.
    assert table.loc["jax", "ratio_high"] / table.loc["jax", "ratio_low"] < 1.02
    shown = tables.display_table(table.reset_index())
    assert shown["#"].tolist()[:2] == ["1=", "1="]


def test_compare_calls_a_real_change_and_not_noise(tmp_path):
    """B is run A with torch 30% slower in every block: torch is called slower, numpy not."""
    a = synthetic_run({"numpy": [1.0, 1.05, 0.98], "torch": [1.0, 1.03, 0.99]})
    b = synthetic_run({"numpy": [1.02, 0.99, 1.01], "torch": [1.3, 1.33, 1.29]})
    merged, summary = compare.compare(a, b)
    verdicts = dict(zip(merged["variant"], merged["verdict"]))
    assert verdicts == {"numpy": stats.NO_CHANGE, "torch": stats.SLOWER}
    assert summary[stats.SLOWER] == 1 and summary["within_process"] == []
    torch = merged[merged["variant"] == "torch"].iloc[0]
    assert torch["ratio_low"] < 1.3 / 1.007 < torch["ratio_high"]


def test_compare_fail_on_slower_exits_1(tmp_path, capsys):
    """Two lone JSON files, the second's numpy twice as slow in every round."""
    document = {"benchmarks": [], "nnbench": {}}
    paths = []
    for name, scale in (("a", 1.0), ("b", 2.0)):
        data = [scale * 0.01 * (1 + 0.01 * i) for i in range(6)]
        document["benchmarks"] = [{
            "name": "test_train[numpy-float64-xor]", "stats": {
                "median": float(np.median(data)), "min": min(data), "rounds": 6,
                "iterations": 1, "data": data},
            "extra_info": {"kind": "train", "op": "train", "variant": "numpy", "impl": "numpy",
                           "network": "xor", "dtype": "float64", "sizes": [2, 2, 1],
                           "samples": 4, "epochs": 1, "verification": "reference"}}]
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(document))
    assert main(["compare", *map(str, paths)]) == 0
    assert main(["compare", *map(str, paths), "--fail-on-slower"]) == 1
    captured = capsys.readouterr()
    assert "1 case(s) over 1 ms got slower" in captured.err
    assert "measured each case in one process" in captured.out
    assert main(["compare", *map(str, paths), "--alpha", "2"]) == 2
    assert "--alpha must be between 0 and 1" in capsys.readouterr().err
