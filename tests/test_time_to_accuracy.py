"""Time to accuracy: the fresh-process child, its parent, and the report's table and chart."""

import numpy as np
import pandas as pd
import pytest
from nnbench.bench import tta, tta_report

SMALL = dict(train=500, test=200, hidden=16)  # a slice of MNIST that trains in a second


def test_a_fresh_process_trains_to_the_target_and_times_each_phase():
    trained = tta.run_tta("numpy", "mnist", 0.5, **SMALL, timeout_s=120)
    assert trained.error == ""
    report = trained.inner
    assert report["accuracy"][-1] >= 0.5 > max(report["accuracy"][:-1], default=0)
    assert report["epochs"] == list(range(1, len(report["epochs"]) + 1))
    moments = [report["imported_s"], report["built_s"], report["loaded_s"],
               *np.ravel(list(zip(report["trained_s"], report["evaluated_s"])))]
    assert moments == sorted(moments) and 0 < moments[0]
    assert report["reached_s"] <= trained.wall_s
    assert report["sizes"] == [784, 16, 10] and report["train_samples"] == 500


def test_an_unreachable_target_trains_every_epoch_and_says_so():
    trained = tta.run_tta("numpy", "mnist", 1.01, **SMALL, timeout_s=120)
    assert "reached_s" not in trained.inner
    assert trained.inner["epochs"] == list(range(1, trained.inner["max_epochs"] + 1))


def test_a_variant_too_slow_for_the_limit_stops_after_its_first_epoch():
    trained = tta.run_tta("numpy", "mnist", 0.97, **SMALL, limit_s=1e-3, timeout_s=120)
    assert trained.inner["too_slow"] and trained.inner["epoch_s"] > 0
    assert trained.inner["epochs"] == [1] and "reached_s" not in trained.inner


def test_a_failing_child_is_an_error_not_a_result():
    trained = tta.run_tta("no-such-variant", "mnist", 0.5, timeout_s=60)
    assert trained.error.startswith("exit status") and trained.inner == {}


def test_every_epoch_has_its_own_order_and_the_same_seed_repeats_it():
    X, Y = np.arange(20.0).reshape(10, 2), np.arange(10.0).reshape(10, 1)
    one, again = tta.epoch_data(X, Y, 0, 1, True), tta.epoch_data(X, Y, 0, 1, True)
    two = tta.epoch_data(X, Y, 0, 2, True)
    assert np.array_equal(one[0], again[0]) and not np.array_equal(one[0], two[0])
    assert np.array_equal(one[0][:, 0] / 2, one[1][:, 0])  # rows stay paired
    assert tta.epoch_data(X, Y, 0, 1, False)[0] is X


def case(variant, seconds, epochs, blocks=(1.0, 1.1, 0.9), **fields):
    """A time-to-accuracy row as bench/cases.py makes it: `seconds` scaled per block."""
    return {"kind": "time_to_accuracy", "variant": variant, "network": "mnist",
            "target": 0.97, "time_per_unit_s": seconds, "low_s": seconds * 0.9,
            "high_s": seconds * 1.1, "processes": len(blocks),
            "rounds_by_block": {b: [seconds * f] for b, f in enumerate(blocks, start=1)},
            "reached": True, "epochs": list(range(1, epochs + 1)),
            "accuracy": [0.9] * (epochs - 1) + [0.971], "loaded_s": 0.5,
            "reached_s": seconds, "evaluated_s": list(np.linspace(1, seconds, epochs)),
            "train_samples": 60000, "test_samples": 10000, "max_epochs": 5,
            "shape": "784-512-10", "dtype": "float32", **fields}


@pytest.fixture
def frames():
    cases = pd.DataFrame([case("numpy", 10.0, 4), case("torch", 20.0, 4),
                          case("keras", 40.0, 5, blocks=(1.0, 1.2, 0.8))])
    records = pd.DataFrame([
        {"kind": "time_to_accuracy", "variant": "octave", "network": "mnist", "target": 0.97,
         "epoch_s": 6.0, "loaded_s": 2.0, "refused": "over the 90 s limit"},
        {"kind": "time_to_accuracy", "variant": "python", "network": "mnist", "target": 0.97,
         "refused": "walks one sample at a time"},
        {"kind": "time_to_accuracy", "variant": "python", "network": "mnist", "target": 0.97,
         "refused": "walks one sample at a time"}])  # every block records it
    table = pd.DataFrame([
        {"variant": "python", "network": "mnist", "op": op, "shape": "784-512-10",
         "dtype": "float64", "refused": "", "time_per_unit_s": seconds}
        for op, seconds in (("train", 1e-2), ("predict", 1e-3))])
    return cases, records, table


def test_the_table_ranks_the_trained_and_estimates_the_rest(frames):
    cases, records, table = frames
    frame = tta_report.target_table("mnist", 0.97, cases, records, table)
    assert list(frame["implementation"]) == ["numpy", "torch", "keras", "octave", "python"]
    torch = frame.iloc[1]
    assert torch["ratio"] == pytest.approx(2.0) and torch["ratio_low"] < 2 < torch["ratio_high"]
    octave, python = frame.iloc[3], frame.iloc[4]
    assert octave["estimate"] and octave["time"] == pytest.approx(2.0 + 4 * 6.0)
    assert python["estimate"] and python["time"] == pytest.approx(4 * (600 + 10))
    assert "float64" in python["note"]  # its only dtype, not the run's float32
    assert frame.iloc[0]["before_first_step"] == pytest.approx(0.05)


def test_a_variant_that_reached_it_at_another_epoch_is_named(frames):
    cases, records, table = frames
    frame = tta_report.target_table("mnist", 0.97, cases, records, table)
    note = tta_report.epoch_note(frame)
    assert "epoch 4" in note and "keras at epoch 5" in note


def test_the_section_and_headline_show_every_row_and_mark_estimates(frames, tmp_path):
    cases, records, table = frames
    found = tta_report.target_tables(cases, records, table)
    lines = tta_report.section_lines(found, "CHART")
    text = "\n".join(lines)
    assert lines[0] == "## Time to accuracy" and "### 97% test accuracy" in text
    assert "| octave | ≈ " in text and "| python | ≈ " in text and "CHART" in text
    headline = tta_report.headline(found)
    assert headline[0].startswith("- 97% test accuracy on `mnist`: fastest **numpy**")
    assert "torch 2×" in headline[0] and "octave" not in headline[0]
    assert tta_report.chart(cases, tmp_path / "tta.png").stat().st_size > 0


def test_no_time_to_accuracy_cases_no_section():
    empty = pd.DataFrame(columns=["kind"])
    assert tta_report.section_lines(tta_report.target_tables(empty, empty, empty), "") == []
    assert tta_report.chart(empty, None) is None
