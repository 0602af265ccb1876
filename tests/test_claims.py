"""The claims table: every SEEDS id gets a verdict, and the cheap claims reproduce."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nnbench import networks
from nnbench.bench import charts, claim_checks, claims, report, results, timing, verdicts

SEEDS = Path(__file__).resolve().parents[1] / "docs" / "seeds.md"
SEEDS_IDS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "B1", "B2", "B3", "C1", "C2", "D1"]


def test_every_seeds_id_is_a_claim():
    if SEEDS.exists():  # the ids as docs/seeds.md lists them
        assert re.findall(r"^- ([A-D]\d)\.", SEEDS.read_text(), re.M) == SEEDS_IDS
    assert [claim.id for claim in claims.CLAIMS if claim.id in SEEDS_IDS] == SEEDS_IDS


@pytest.fixture(scope="module")
def quick_rows(tmp_path_factory):
    """`nnbench claims --quick`, run as a user runs it, with the reference, pure Python (the
    per-row ports of A5, B2's loops) and the Jacobian (A2): every claim has what it needs, and
    the frameworks, held to the same results by the equivalence tests, add only time."""
    out = tmp_path_factory.mktemp("claims") / "claims.json"
    result = subprocess.run([sys.executable, "-m", "nnbench.bench.cli", "claims", "--quick",
                             "--impl", "numpy", "python", "jacobian", "--json", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "verdicts:" in result.stdout
    return json.loads(out.read_text())


def test_quick_run_gives_every_id_a_verdict(quick_rows):
    seen = {row["id"] for row in quick_rows}
    assert set(SEEDS_IDS) <= seen
    assert all(row["verdict"] in claims.VERDICTS for row in quick_rows)
    assert all(row["reason"] for row in quick_rows if row["verdict"] == claims.NOT_RUN)


def test_quick_run_reproduces_the_cheap_claims(quick_rows):
    def verdicts(claim_id, impl=None):
        return {row["verdict"] for row in quick_rows
                if row["id"] == claim_id and (impl is None or row["impl"] == impl)}

    assert verdicts("B1") == {claims.REPRODUCED}
    assert verdicts("A3") == {claims.REPRODUCED}
    assert verdicts("A5", "numpy per-row port") == {claims.REPRODUCED}
    assert verdicts("A5", "python") == {claims.REPRODUCED}


def test_unknown_claim_id_is_one_line():
    result = subprocess.run([sys.executable, "-m", "nnbench.bench.cli", "claims", "--id", "Z9",
                             "--impl", "numpy"],  # numpy alone: no framework to import
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "nnbench claims: error: unknown claim id 'Z9'; expected one of: "
        + ", ".join(sorted(claim.id for claim in claims.CLAIMS))]


def test_too_slow_runs_are_not_started():
    ctx = claims.Context(["python"], quick=True, budget=0.001)
    rows = claims.run_claims(ctx, ["D1"])
    assert rows[0]["verdict"] == claims.NOT_RUN
    assert "over the budget of 0.001 s" in rows[0]["reason"]


# ---- the claims charts, from a fixed claims file (no measurement) ----

CHARTS_FIXTURE = Path(__file__).parent / "data" / "claims_charts.json"  # A1, A2, B2, B1 rows
ALL_CHARTS = ["claims_accuracy.png", "claims_a2_jacobian.png", "claims_b2_vectorised.png"]


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def without_data(rows):
    """The rows as claims files were written before findings carried `data`."""
    return [{key: value for key, value in row.items() if key != "data"} for row in rows]


def test_a_claims_file_with_numbers_draws_every_chart_and_the_markdown_embeds_them(tmp_path):
    rows = claims.read_json(CHARTS_FIXTURE)
    drawn = charts.write_charts(rows, tmp_path / "charts")
    assert [name for _, name in drawn] == ALL_CHARTS
    assert all(is_png(tmp_path / "charts" / name) for name in ALL_CHARTS)
    markdown = "\n".join(report.claims_lines(rows, drawn))
    for caption, name in drawn:
        assert f"![{caption}](charts/{name})" in markdown
    assert "| A2 |" in markdown and "| B2 |" in markdown


def test_the_numbers_behind_a2_and_b2_survive_write_and_read(tmp_path):
    rows = claims.read_json(CHARTS_FIXTURE)
    claims.write_json(rows, tmp_path / "claims.json")
    again = claims.read_json(tmp_path / "claims.json")
    assert again == rows
    a2 = [row["data"] for row in again if row["id"] == "A2"]
    assert [d["width"] for d in a2] == [16, 32, 64, 128, 256, 512]
    from nnbench import jacobian, networks

    seed = a2[-1]
    assert seed["seed"] and seed["long_form_bytes"] == jacobian.long_form_bytes(
        networks.get("mnist").spec, "float64")  # the 1.65 GB the seed could not run
    assert seed["long_form_bytes"] > seed["budget_bytes"] == jacobian.DEFAULT_BUDGET
    b2 = {row["data"]["network"]: row["data"]["published_ratio"]
          for row in again if row["id"] == "B2"}
    assert b2 == {label: looped / vectorised if vectorised else None
                  for label, _, looped, vectorised in claim_checks.B2_NETWORKS}
    assert b2["4-layer 3-3-3-1"] == pytest.approx(70 / 46)
    assert b2["100-100-50-10"] == pytest.approx(41_000 / 84)  # ~488, "500 fold"


def test_an_old_claims_file_without_data_still_reads_and_draws_the_accuracy_chart(tmp_path):
    old = tmp_path / "claims.json"
    old.write_text(json.dumps(without_data(claims.read_json(CHARTS_FIXTURE))))
    rows = claims.read_json(old)
    drawn = charts.write_charts(rows, tmp_path / "charts")
    assert [name for _, name in drawn] == ["claims_accuracy.png"]
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["claims_accuracy.png"]
    markdown = "\n".join(report.claims_lines(rows, drawn))
    assert "| A2 |" in markdown and markdown.count("![") == 1


def test_a_claims_file_with_nothing_to_chart_draws_nothing(tmp_path):
    rows = [row for row in claims.read_json(CHARTS_FIXTURE) if row["id"] == "B1"]
    rows += [{**row, "data": None} for row in claims.read_json(CHARTS_FIXTURE)
             if row["id"] in ("A2", "B2")]
    assert charts.write_charts(rows, tmp_path / "charts") == []
    assert not (tmp_path / "charts").exists()
    assert "![" not in "\n".join(report.claims_lines(rows, []))


def test_a_width_over_the_memory_budget_is_reported_with_its_numbers(monkeypatch, tmp_path):
    monkeypatch.setenv("NNBENCH_JACOBIAN_BUDGET", "1MB")  # 784-16-10 needs 1.8 MB: refused
    rows = claims.run_claims(claims.Context(["jacobian"], quick=True), ["A2"])
    refused, seed = rows
    assert refused["verdict"] == claims.NOT_RUN and "NNBENCH_JACOBIAN_BUDGET" in refused["reason"]
    assert refused["data"]["width"] == 16 and refused["data"]["budget_bytes"] == 10**6
    assert refused["data"]["long_form_bytes"] > 10**6
    assert "long_seconds_per_sample" not in refused["data"]
    assert seed["verdict"] == claims.REPRODUCED and seed["data"]["seed"]
    drawn = charts.write_charts(rows, tmp_path)  # nothing ran: the memory panel still says why
    assert [name for _, name in drawn] == ["claims_a2_jacobian.png"]


def test_the_report_embeds_the_claims_charts_and_drops_stale_ones(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    raw = Path(__file__).parent / "data" / "bench_run_a.json"
    (run_dir / "main.json").write_text(raw.read_text())
    step = {"name": "main", "json": "main.json", "status": "ok"}
    (run_dir / "manifest.json").write_text(json.dumps(
        {"nnbench_run": 1, "run_id": "fixture", "steps": [step]}))
    (run_dir / "claims.json").write_text(CHARTS_FIXTURE.read_text())
    out = tmp_path / "out"
    written = report.write_report(results.load_run(run_dir), out)
    text = (out / "REPORT.md").read_text()
    for name in ALL_CHARTS:
        assert f"](charts/{name})" in text and is_png(out / "charts" / name)
        assert out / "charts" / name in written.files

    # The same run with an old claims file: the A2 and B2 charts of the last report go.
    (run_dir / "claims.json").write_text(json.dumps(without_data(
        claims.read_json(CHARTS_FIXTURE))))
    report.write_report(results.load_run(run_dir), out)
    assert is_png(out / "charts" / "claims_accuracy.png")
    assert not (out / "charts" / "claims_a2_jacobian.png").exists()
    assert not (out / "charts" / "claims_b2_vectorised.png").exists()


def test_the_time_estimate_counts_a_fixed_cost_per_call_once(monkeypatch):
    """Octave's XOR: 65 ms per call whatever the epochs, 0.2 ms per epoch. Extrapolating the
    first call (65 ms per epoch) would say 100,000 epochs take ~6,500 s; they take ~20 s."""
    clock = {"now": 0.0}

    class FakeOctave:
        def fit(self, X, Y, epochs, lr):
            clock["now"] += 0.065 + 0.0002 * epochs

    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock["now"])
    monkeypatch.setattr(claims.nnbench, "create", lambda *args, **kwargs: FakeOctave())
    preset = networks.get("xor")
    data = preset.load_data()
    estimate = claims.estimate_fit_seconds("octave", preset, data.X_train, data.Y_train,
                                           100_000, preset.lr, None)
    assert estimate == pytest.approx(0.065 + 0.0002 * 100_000, rel=1e-6)


def test_probing_a_slow_run_costs_little_more_than_the_budget():
    """Pure Python's MNIST step: 2 s a step, 6,000 steps, a 3 s budget. Growing the probe
    tenfold would spend 20 s on its second probe; capped, it times 1 and 2 steps."""
    counts = []

    def seconds_for(k):
        counts.append(k)
        return 2.0 * k

    cost = timing.cost_of(seconds_for, 6000, 0.05, growth=10, long_enough_s=3, cap_s=3)
    assert counts == [1, 2] and cost.seconds_for(6000) == pytest.approx(12_000)


def test_a_fixed_cost_near_the_budget_still_lets_the_probe_grow():
    """2 s per call whatever the steps, 1 us a step: after one doubling the slope is small,
    and the probe grows tenfold up to the real run's 10,000 steps (about 2.01 s)."""
    counts = []

    def seconds_for(k):
        counts.append(k)
        return 2.0 + 1e-6 * k

    cost = timing.cost_of(seconds_for, 10_000, 0.05, growth=10, long_enough_s=3, cap_s=3)
    assert counts == [1, 2, 20, 200, 2000, 10_000]
    assert cost.seconds_for(10_000) == pytest.approx(2.01)


def test_a_count_for_a_budget():
    assert timing.count_for(1.0, 0.3) == 3 and timing.count_for(1.0, 0.3, fill=True) == 4
    assert timing.count_for(1.0, 2.0) == 1 and timing.count_for(1.0, 1e-9, most=50) == 50
    assert timing.count_for(1.0, 0.0, 3, 7, fill=True) == 7


# ---- the rows' judges, on numbers given (no training) ----


@pytest.mark.parametrize("judge, value, holds", [
    (verdicts.Range(0.92, 0.95, "92-95%"), 0.95, True),
    (verdicts.Range(0.92, 0.95, "92-95%"), 0.9501, False),
    (verdicts.Near((0.079, 0.914), 0.05), [0.12, 0.90], True),
    (verdicts.Near((0.079, 0.914), 0.05), [0.13, 0.90], False),
    (verdicts.Factor(5.7e-4, 3, "5.7e-4"), 5.7e-4 * 2.9, True),
    (verdicts.Factor(5.7e-4, 3, "5.7e-4"), 5.7e-4 / 3.1, False),
    (verdicts.Classes((0, 1, 1, 0)), [0, 1, 1, 0], True),
    (verdicts.Classes((0, 1, 1, 0)), [0, 1, 1, 1], False),
    (verdicts.Cut(0.8354, 4), 0.835456, True),
    (verdicts.Cut(0.8354, 4), 0.83539, False),
    (verdicts.Holds("untouched"), True, True),
])
def test_each_judge_holds_its_figure(judge, value, holds):
    result, words = judge.judge(value)
    assert result is holds and words


def test_a_row_is_judged_from_its_quantities():
    """C2's row on a made-up run: the loss and the classes both hold, so the row's verdict;
    one class wrong, and it differs. The value is the first quantity compared (the loss)."""
    class Impl:
        def __init__(self, outputs):
            self.outputs = np.array(outputs)

        def predict(self, X):
            return self.outputs

    class History:
        loss, seconds = [1.0, 6e-4], 0.5

    row = next(claim for claim in claims.CLAIMS if claim.id == "C2")
    preset = row.get_preset()
    assert preset.lr == 1.0
    data = preset.load_data()
    good = verdicts.judge_run(row, verdicts.Trained(Impl([0.1, 0.9, 0.8, 0.2]), History(),
                                                    data, preset))
    assert good.verdict == claims.WITHIN and good.value == 6e-4 and good.seconds == 0.5
    assert "classes [0, 1, 1, 0]" in good.measured and "5,000 epochs" in good.measured
    bad = verdicts.judge_run(row, verdicts.Trained(Impl([0.1, 0.9, 0.8, 0.7]), History(),
                                                   data, preset))
    assert bad.verdict == claims.DIFFERS and "not [0, 1, 1, 0]" in bad.reason
