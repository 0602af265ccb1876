"""The claims table: every SEEDS id gets a verdict, and the cheap claims reproduce."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import claims

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "SEEDS.md"
SEEDS_IDS = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "B1", "B2", "B3", "C1", "C2", "D1"]


def test_every_seeds_id_is_a_claim():
    if SEEDS.exists():  # the ids as SEEDS.md lists them, where it sits beside the checkout
        assert re.findall(r"^- ([A-D]\d)\.", SEEDS.read_text(), re.M) == SEEDS_IDS
    assert [claim.id for claim in claims.CLAIMS if claim.id in SEEDS_IDS] == SEEDS_IDS


@pytest.fixture(scope="module")
def quick_rows(tmp_path_factory):
    """`nnbench claims --quick`, run as a user runs it."""
    out = tmp_path_factory.mktemp("claims") / "claims.json"
    result = subprocess.run([sys.executable, "-m", "bench.cli", "claims", "--quick", "--json",
                             str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "verdicts:" in result.stdout
    return json.loads(out.read_text())


def test_quick_run_gives_every_id_a_verdict(quick_rows):
    seen = {row["id"] for row in quick_rows}
    assert set(SEEDS_IDS) <= seen
    verdicts = {claims.REPRODUCED, claims.WITHIN, claims.DIFFERS, claims.NOT_RUN}
    assert all(row["verdict"] in verdicts for row in quick_rows)
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
    result = subprocess.run([sys.executable, "-m", "bench.cli", "claims", "--id", "Z9"],
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
