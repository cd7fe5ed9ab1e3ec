"""NaN/Inf, empty and constant histograms flow through every stage: flagged, drawn, never raised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tensorboard.compat.proto import summary_pb2

from reportgen.cli import main
from tests.conftest import fixture_path
from tools.eventwriter import EventWriter

FORMATS = ("json", "html", "pdf", "md", "eml")


def build_all(logs: Path, out: Path, *extra: str) -> dict:
    args = ["build", str(logs), "-q", *extra]
    for fmt in FORMATS:
        args += ["-o", str(out / f"r.{fmt}")]
    assert main(args) == 0
    return json.loads((out / "r.json").read_text())


def chart_errors(out: Path) -> int:
    return (out / "r.html").read_text().count("chart-error\">")


def test_nan_and_inf_are_findings_and_nothing_breaks(tmp_path):
    logs = tmp_path / "logs"
    rng = np.random.default_rng(2)
    with EventWriter(str(logs / "run"), wall_time=1.0, hostname="t") as writer:
        for step in range(6):
            values = rng.normal(0, 1, 500)
            writer.add_histogram("fc1.weight", values, step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        # a writer that let non-finite values through, in every place a proto can hold them
        writer.add_histogram_proto("fc1.weight", summary_pb2.HistogramProto(
            min=float("nan"), max=float("inf"), num=10, sum=float("nan"), sum_squares=float("inf"),
            bucket_limit=[0.0, float("inf")], bucket=[5.0, 5.0]), 6)
        writer.add_tensor_histogram("fc2.weight", None, 6, buckets=np.array([[np.nan, 1.0, 3.0], [1.0, np.inf, 2.0]]))
        writer.add_scalar("loss", float("nan"), 6)
        writer.add_scalar("loss", float("inf"), 7)
    report = build_all(logs, tmp_path)
    codes = {(f["code"], f["severity"]) for f in report["findings"]}
    assert ("nan_or_inf", "critical") in codes
    flagged = {tag for f in report["findings"] if f["code"] == "nan_or_inf" for tag in f["tags"]}
    assert {"fc1.weight", "loss"} <= flagged
    # every step is still in the inventory: nothing readable was dropped
    hist = {h["tag"]: h for h in report["runs"][0]["histograms"]}
    assert hist["fc1.weight"]["steps"] == 7
    assert {s["tag"]: s["steps"] for s in report["runs"][0]["scalars"]}["loss"] == 8


def test_tf2_fixture_with_empty_and_constant_tags(tmp_path):
    logs = fixture_path("tf2_summary")
    report = build_all(logs, tmp_path)
    tags = {h["tag"] for h in report["runs"][0]["histograms"]}
    assert {"train/empty", "train/constant"} <= tags
    html = (tmp_path / "r.html").read_text()
    for tag in ("train/empty", "train/constant"):
        assert f'data-tag="{tag}"' in html
    assert chart_errors(tmp_path) == 0
    # a constant series is not a problem in itself, and an empty histogram is not a crash
    assert not [f for f in report["findings"] if f["severity"] == "critical"]


def test_damaged_record_accounting_reaches_the_json(tmp_path):
    report = build_all(fixture_path("damaged", "bad_crc"), tmp_path)
    run = report["runs"][0]
    files = run["files"]
    assert len(files) == 1 and files[0]["records_skipped"] == 1
    assert any("byte 139748" in p for p in files[0]["problems"])
    hist = {h["tag"]: h["steps"] for h in run["histograms"]}
    assert hist["fc1.weight"] == 19 and hist["fc1.bias"] == 20
    assert any("bad CRC" in w for w in run["warnings"])
