"""`reportgen analyse` (the map step: each run's summary) and `reportgen build` from summaries
(the reduce step): the report from the summaries is the report from the logs, byte for byte;
a summary is a small fraction of its event files; a bad one is one line and exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.make_sweep import write_sweep
from reportgen.cli import main
from reportgen.reading.loader import load
from tests.conftest import write_events

LRS, WIDTHS, SEEDS, STEPS = [0.1, 1.0], [8], 2, 40


@pytest.fixture(autouse=True)
def _reproducible(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the report's date: the same in both builds


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A small sweep with seeds, hparams.yaml and add_hparams sub-runs (folded into their runs
    by the build, not by analyse): comparison, sweep table, seed groups, contrast between runs."""
    root = tmp_path_factory.mktemp("sweep") / "logs"
    write_sweep(str(root), LRS, WIDTHS, SEEDS, steps=STEPS)
    return root


def built(tmp_path: Path, label: str, *inputs: str, extra: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
    """(report.json, report.html) of `build inputs`, written in a folder of their own under the
    same names (the report lists its outputs by name)."""
    out = tmp_path / label
    out.mkdir()
    argv = ["build", *inputs, "-o", str(out / "report.json"), "-o", str(out / "report.html"), "-q", *extra]
    assert main(argv) == 0
    return (out / "report.json").read_bytes(), (out / "report.html").read_bytes()


def analysed(*argv: str) -> None:
    assert main(["analyse", *argv, "-q"]) == 0


def test_the_report_from_one_summary_of_the_logdir_is_the_report_from_the_logdir(sweep, tmp_path):
    analysed(str(sweep), "-o", str(tmp_path / "logs.json"))
    sweep_report = built(tmp_path, "logs", str(sweep))
    from_summary = built(tmp_path, "summary", str(tmp_path / "logs.json"))
    assert from_summary[0] == sweep_report[0] and from_summary[1] == sweep_report[1]
    report = json.loads(sweep_report[0])
    assert len(report["runs"]) == len(LRS) * len(WIDTHS) * SEEDS
    assert report["seed_groups"] and report["sweep"]["rows"] and report["comparison_charts"]
    assert report["runs"][0]["hparams"]["lr"] == LRS[0]  # the add_hparams sub-run's, folded at build


def test_a_folder_of_summaries_one_per_run_holds_the_logdirs_runs(sweep, tmp_path):
    """Each run analysed on its own (where its logs are), then all of them together: the
    summaries of one LOGDIR's runs are that LOGDIR's runs again, byte for byte in the summary of
    the folder (whose build is then the logdir's: the test above). A report.json in the folder is
    not taken for a summary."""
    folder = tmp_path / "summaries"
    folder.mkdir()
    names = [run.name for run in load([str(sweep)]).runs]
    for i, name in enumerate(names):
        analysed(str(sweep), "--run", f"^{name}", "-o", str(folder / f"run{i}.json"))
    (folder / "report.json").write_text(json.dumps({"runs": []}))
    analysed(str(folder), "-o", str(tmp_path / "of-folder.json"))
    analysed(str(sweep), "-o", str(tmp_path / "of-logdir.json"))
    assert (tmp_path / "of-folder.json").read_bytes() == (tmp_path / "of-logdir.json").read_bytes()
    assert len(load([str(folder)]).runs) == len(names)


def test_summaries_and_logdirs_mix(tmp_path):
    """`build a.json b/` is `build a/ b/`: the summary's runs are named after its own LOGDIR."""
    for name, scale in (("a", 0.1), ("b", 0.3)):
        write_events(tmp_path / name / "run1", {"fc/weight": lambda step, rng, s=scale: rng.normal(0, s, 200)},
                     {"loss": lambda step: 1 / (1 + step)}, steps=15, seed=int(scale * 10))
    analysed(str(tmp_path / "a"), "-o", str(tmp_path / "a.json"))
    mixed = built(tmp_path, "mixed", str(tmp_path / "a.json"), str(tmp_path / "b"))
    assert mixed == built(tmp_path, "logs", str(tmp_path / "a"), str(tmp_path / "b"))
    assert [run["name"] for run in json.loads(mixed[0])["runs"]] == ["a/run1", "b/run1"]


def test_a_build_of_many_runs_keeps_the_buckets_reading_would_have_kept(tmp_path):
    """Summaries keep every tag's buckets for up to 501 steps; a build of more than four runs
    keeps fewer per run (loader.KEEP_BUDGET) and thins the summaries' to exactly those."""
    logdir = tmp_path / "logs"
    for i in range(6):
        write_events(logdir / f"run{i}", {"w": lambda step, rng: rng.normal(0, 1, 20)}, steps=700, seed=i)
    analysed(str(logdir), "-o", str(tmp_path / "all.json"))
    direct, summarised = load([str(logdir)]), load([str(tmp_path / "all.json")])
    for run, other in zip(direct.runs, summarised.runs, strict=True):
        h, g = run.histograms["w"], other.histograms["w"]
        assert len(h.kept) < 501 and np.array_equal(h.kept, g.kept)
        assert all(np.array_equal(a, b) for a, b in zip(h.buckets, g.buckets, strict=True))


def test_a_summary_is_a_small_fraction_of_a_histogram_heavy_log(tmp_path, capsys):
    """Torch-style histograms (TensorFlow's bucket limits) of 4 tags over 1500 steps: the summary
    holds every step's statistics and 501 steps' buckets per tag, deflated. Measured: 54 MB of
    event files, a 1.1 MB summary (8 tags: 109 MB and 2.2 MB)."""
    tags = {f"layer{i}/{kind}": (lambda step, rng, i=i: rng.normal(0, 0.05 * (1 + i), 2000))
            for i in range(2) for kind in ("weight", "grad")}
    write_events(tmp_path / "logs" / "run", tags, {"loss": lambda step: 1 / (1 + step)}, steps=1500)
    analysed(str(tmp_path / "logs"), "-o", str(tmp_path / "run.json"))
    events = sum(p.stat().st_size for p in (tmp_path / "logs" / "run").iterdir())
    summary = (tmp_path / "run.json").stat().st_size
    assert summary * 30 < events, (summary, events)


def test_analyse_says_what_it_wrote(tmp_path, capsys):
    write_events(tmp_path / "logs" / "run", {"w": lambda step, rng: rng.normal(0, 1, 50)}, steps=5)
    assert main(["analyse", str(tmp_path / "logs"), "-o", str(tmp_path / "run.json")]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"reportgen: wrote {tmp_path / 'run.json'}: 1 run, ") and "of event files" in last


def _truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def _other_version(good: bytes) -> bytes:
    return good.replace(b'"version":1,', b'"version":99,', 1)


def _flipped_array(good: bytes) -> bytes:
    document = json.loads(good)
    packed = next(iter(document["runs"][0]["histograms"].values()))["counts"]
    packed["data"] = "AAAA" + packed["data"][4:]
    return json.dumps(document).encode()


def _wrong_shape(good: bytes) -> bytes:
    document = json.loads(good)
    next(iter(document["runs"][0]["histograms"].values()))["steps"]["shape"] = [3]
    return json.dumps(document).encode()


@pytest.mark.parametrize(("spoil", "says"), [
    (_truncated, "truncated or garbled reportgen summary"),
    (_other_version, "summary format version 99"),
    (_flipped_array, "garbled reportgen summary"),
    (_wrong_shape, "garbled reportgen summary"),
    (lambda good: b"\x00\x01\x02 not json", "not a reportgen summary"),
    (lambda good: b'{"runs": []}', "not a reportgen summary"),
])
def test_a_bad_summary_is_one_line_and_exit_2(tmp_path, capsys, spoil, says):
    write_events(tmp_path / "logs" / "run", {"w": lambda step, rng: rng.normal(0, 1, 50)}, steps=5)
    analysed(str(tmp_path / "logs"), "-o", str(tmp_path / "good.json"))
    bad = tmp_path / "bad.json"
    bad.write_bytes(spoil((tmp_path / "good.json").read_bytes()))
    capsys.readouterr()
    assert main(["build", str(bad), "-o", str(tmp_path / "report.html"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"reportgen: error: {bad}: ") and says in err, err
    assert not (tmp_path / "report.html").exists()


def test_a_run_given_twice_is_one_line_and_exit_2(tmp_path, capsys):
    write_events(tmp_path / "logs" / "run", {"w": lambda step, rng: rng.normal(0, 1, 50)}, steps=5)
    logdir = str(tmp_path / "logs")
    analysed(logdir, "-o", str(tmp_path / "a.json"))
    analysed(logdir, "-o", str(tmp_path / "b.json"))
    capsys.readouterr()
    both = [str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert main(["build", *both, "-o", str(tmp_path / "r.html"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "given twice" in err and "a.json" in err and "b.json" in err


def test_analyse_writes_only_json(tmp_path, capsys):
    write_events(tmp_path / "logs" / "run", {"w": lambda step, rng: rng.normal(0, 1, 50)}, steps=5)
    assert main(["analyse", str(tmp_path / "logs"), "-o", str(tmp_path / "run.summary")]) == 2
    assert "ends in .json" in capsys.readouterr().err


def test_without_dask_the_dask_executor_says_what_to_install(tmp_path, capsys, monkeypatch):
    write_events(tmp_path / "logs" / "run", {"w": lambda step, rng: rng.normal(0, 1, 50)}, steps=5)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: importing it fails
    argv = ["analyse", str(tmp_path / "logs"), "--executor", "dask", "-o", str(tmp_path / "s.json"), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'reportgen[dask]'" in err, err

