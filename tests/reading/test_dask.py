"""`--executor dask`: runs read on the workers of a Dask cluster, from the S3 test server through
fsspec, and sent back as their summaries; the report is the one reading them here gives."""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("moto.server")
pytest.importorskip("s3fs")

from reportgen.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def scheduler():
    """A cluster in this process (threads, not processes: it starts in a second)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as c:
        yield c.scheduler_address


@pytest.fixture(autouse=True)
def _reproducible(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def report_of(tmp_path, label: str, *argv: str) -> bytes:
    out = tmp_path / label
    out.mkdir()
    assert main(["build", *argv, "-o", str(out / "report.json"), "-q"]) == 0
    return (out / "report.json").read_bytes()


def test_a_bucket_analysed_on_a_dask_cluster_builds_the_report_of_the_bucket(bucket, scheduler, tmp_path):
    summary = tmp_path / "logs.json"
    assert main(["analyse", bucket, "--executor", "dask", "--scheduler", scheduler, "-o", str(summary), "-q"]) == 0
    assert report_of(tmp_path, "summary", str(summary)) == report_of(tmp_path, "bucket", bucket)
    assert b"s3://training-logs/logs/baseline" in summary.read_bytes()  # read on the workers, from the bucket


def test_a_build_reading_on_a_dask_cluster_is_the_build_reading_here(bucket, scheduler, tmp_path):
    on_dask = report_of(tmp_path, "dask", bucket, "--executor", "dask", "--scheduler", scheduler)
    assert on_dask == report_of(tmp_path, "here", bucket)


def test_an_unreachable_scheduler_is_one_line_and_exit_2(local_logs, tmp_path, capsys):
    import dask

    argv = ["analyse", str(local_logs), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "-o",
            str(tmp_path / "s.json"), "-q"]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):  # dask's own setting (30 s by default)
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Dask scheduler at tcp://127.0.0.1:9" in err, err
    assert not (tmp_path / "s.json").exists()


def test_without_a_scheduler_a_local_cluster_of_processes_reads_what_this_process_reads(local_logs, tmp_path):
    here, there = tmp_path / "here.json", tmp_path / "dask.json"
    assert main(["analyse", str(local_logs), "-o", str(here), "-q"]) == 0
    assert main(["analyse", str(local_logs), "--executor", "dask", "-o", str(there), "-q"]) == 0
    assert there.read_bytes() == here.read_bytes()
