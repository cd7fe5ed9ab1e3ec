"""Logs in an S3 bucket, read through fsspec/s3fs from a real S3-compatible server (moto's
server mode, started here on localhost): same runs, tags, steps and buckets as the same files
read from local disk."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("moto.server")
s3fs = pytest.importorskip("s3fs")

from reportgen.cli import main  # noqa: E402
from reportgen.reading.loader import load  # noqa: E402
from reportgen.reading.sources import InputError, discover_runs  # noqa: E402
from tests.reading.conftest import BUCKET  # noqa: E402


def test_runs_are_discovered_in_a_bucket_as_on_disk(bucket, local_logs):
    remote = discover_runs(bucket)
    local = discover_runs(str(local_logs))
    assert [name for name, _ in remote] == [name for name, _ in local] == ["baseline", "sweep/lr_0.1"]
    assert [[os.path.basename(f) for f in files] for _, files in remote] == \
           [[os.path.basename(f) for f in files] for _, files in local]
    assert all(f.startswith(f"{bucket}/") for _, files in remote for f in files)


def test_a_bucket_reads_exactly_like_the_same_files_on_disk(bucket, local_logs):
    remote, local = load([bucket]), load([str(local_logs)])
    for r, here in zip(remote.runs, local.runs, strict=True):
        assert r.name == here.name and not r.warnings and r.path.startswith("s3://")
        assert set(r.histograms) == set(here.histograms) == {"fc1.weight", "fc1.out"}
        for tag, series in here.histograms.items():
            np.testing.assert_array_equal(r.histograms[tag].steps, series.steps)
            np.testing.assert_array_equal(r.histograms[tag].quantiles, series.quantiles)
            for a, b in zip(r.histograms[tag].buckets, series.buckets, strict=True):
                np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(r.scalars["loss"].values, here.scalars["loss"].values)


def test_cli_inspect_and_build_read_a_bucket(bucket, tmp_path, capsys):
    assert main(["inspect", bucket, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [run["name"] for run in listed["runs"]] == ["baseline", "sweep/lr_0.1"]
    assert {t["tag"]: t["steps"] for t in listed["runs"][0]["tags"]} == {"fc1.weight": 12, "fc1.out": 12, "loss": 12}
    out = tmp_path / "report.json"
    assert main(["build", bucket, "-o", str(out), "--quiet"]) == 0
    report = json.loads(out.read_text())
    assert [run["name"] for run in report["runs"]] == ["baseline", "sweep/lr_0.1"]


def test_a_missing_bucket_path_is_a_clear_input_error(bucket, capsys):
    with pytest.raises(InputError, match="no such file or directory"):
        discover_runs(f"s3://{BUCKET}/not-there")
    assert main(["inspect", f"s3://{BUCKET}/not-there"]) == 2
    assert "not-there" in capsys.readouterr().err


def test_the_baseline_report_json_is_read_from_the_bucket(bucket, local_logs, tmp_path):
    """Last night's report.json kept in a bucket, passed as --baseline by its s3:// URL: the same
    logs compared with their own report change nothing."""
    first = tmp_path / "last-night.json"
    assert main(["build", str(local_logs), "-o", str(first), "-q"]) == 0
    fs = s3fs.S3FileSystem()
    fs.put_file(str(first), f"{BUCKET}/reports/report.json")
    out = tmp_path / "tonight.json"
    assert main(["build", str(local_logs), "-o", str(out), "-q", "--baseline", f"s3://{BUCKET}/reports/report.json",
                 "--fail-on", "regression"]) == 0
    since = json.loads(out.read_text())["since_baseline"]
    assert since["baseline"] == f"s3://{BUCKET}/reports/report.json"
    assert since["nothing_changed"] and len(since["steps"]) == 2
    assert main(["build", str(local_logs), "-o", str(out), "-q", "--baseline", f"s3://{BUCKET}/reports/none.json"]) == 2


def test_the_history_lives_in_a_bucket(bucket, local_logs, tmp_path):
    """--save-history writes each night's report.json under a bucket prefix; --history reads them."""
    prefix = f"s3://{BUCKET}/history"
    for _ in range(2):
        assert main(["build", str(local_logs), "-o", str(tmp_path / "r.json"), "-q", "--history", prefix,
                     "--save-history"]) == 0
    assert len(s3fs.S3FileSystem().ls(f"{BUCKET}/history")) == 2
    history = json.loads((tmp_path / "r.json").read_text())["history"]
    assert len(history["nights"]) == 2 and history["runs"] == ["baseline", "sweep/lr_0.1"]


def test_summaries_in_a_bucket_build_the_report_of_their_logs(bucket, local_logs, tmp_path, monkeypatch):
    """Each node analyses its runs and copies the summary into a bucket; the report is built
    from the bucket prefix (summaries only: no event file there)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for run in ("baseline", "sweep"):
        assert main(["analyse", str(local_logs), "--run", f"^{run}", "-o", str(tmp_path / f"{run}.json"), "-q"]) == 0
        s3fs.S3FileSystem().put_file(str(tmp_path / f"{run}.json"), f"{BUCKET}/summaries/{run}.json")
    reports = []
    for label, source in (("logs", str(local_logs)), ("bucket", f"s3://{BUCKET}/summaries/")):
        (tmp_path / label).mkdir()
        assert main(["build", source, "-o", str(tmp_path / label / "report.json"), "-q"]) == 0
        reports.append((tmp_path / label / "report.json").read_bytes())
    assert reports[0] == reports[1]
