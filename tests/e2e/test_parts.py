"""A sweep built part by part (pipeline/parts.py) is the report `build` makes of all its runs
at once, byte for byte: the runs' numbers, colours and anchors, the findings' order, the sweep
table and seed bands, the contrast with a healthier run in another part, evaluation runs with
their training run, and add_hparams runs folded into theirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.make_sweep import write_sweep
from reportgen import pipeline
from reportgen.cli import main
from reportgen.config import Options
from reportgen.outputs import html, jsonreport
from reportgen.pipeline import parts as parts_module
from reportgen.pipeline.parts import build_in_parts, in_parts, part_bounds
from reportgen.reading.loader import TIMESTAMP_FOLDER, load, located_runs
from reportgen.report import StoredPng, section_charts
from tests.conftest import write_events, write_question_and_fix


@pytest.fixture(autouse=True)
def _reproducible(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """16 runs of a grid (add_hparams sub-runs, seeds), a Keras-style train/validation pair and
    the question with its fix: "a_slow" (plain SGD, no biases, layer1 barely moves) first in
    the order, "z_fixed" (Adam, biases, healthy) last, so that they are in different parts."""
    root = tmp_path_factory.mktemp("parts") / "logs"
    write_sweep(str(root), [0.001, 0.01, 0.1, 1.0], [8], 4, steps=40)
    write_question_and_fix(root, "a_slow", "z_fixed")
    write_events(root / "keras" / "train", scalars={"epoch_loss": lambda s: 1.0 / (1 + s)}, steps=30)
    write_events(root / "keras" / "validation", scalars={"epoch_loss": lambda s: 0.5 + 0.02 * s}, steps=30)
    return root


def both(sweep: Path, options: Options, runs_per_part: int) -> tuple[object, object]:
    """(the report of all runs at once, the report built in parts of about `runs_per_part` runs)."""
    whole = pipeline.build(load([str(sweep)], options.read_settings()), options, pixels=False)
    sources, located = located_runs([str(sweep)], options.read_settings())
    parts = in_parts(sources, located, options, runs_per_part)
    assert parts is not None and len(parts.bounds) > 3
    return whole, build_in_parts(parts.read(), sources, options, pixels=False)


@pytest.mark.parametrize("runs_per_part", [1, 3])
def test_the_report_in_parts_is_the_report_of_all_runs(sweep, runs_per_part):
    whole, in_parts_ = both(sweep, Options(), runs_per_part)
    assert jsonreport.render(in_parts_) == jsonreport.render(whole)
    assert html.render(in_parts_) == html.render(whole)
    report = json.loads(jsonreport.render(whole))
    summaries = {run["name"]: run["summary"] for run in report["runs"]}
    # What the equality covers, so that it cannot hold vacuously.
    assert "For comparison, z_fixed, which has biases and uses adam, moved layer1" in summaries["a_slow"]
    assert report["seed_groups"] and len(report["sweep"]["rows"]) == 20
    assert any("validation" in name for name in summaries) and len(summaries) == 20
    first_of_grid = next(run for run in report["runs"] if run["name"] == "lr0.001_w8/seed_0")
    assert first_of_grid["hparams"]["lr"] == 0.001  # its add_hparams sub-run's, folded in


def test_parts_with_filters_are_the_report_of_all_runs(sweep):
    """--tag and --run leave runs and tags out of some parts (colours and anchors still count
    the runs the report shows)."""
    options = Options(run="lr0.0[01]|a_slow|z_fixed|keras", tag="weights|loss|reward|acc", charts="compact")
    whole, in_parts_ = both(sweep, options, 2)
    assert jsonreport.render(in_parts_) == jsonreport.render(whole)


def test_the_charts_of_a_sweep_in_parts_wait_on_disk_and_are_the_charts_of_all_runs(sweep):
    """Each part's chart PNGs go into a temporary file (report.ChartStore), not the build's
    memory (0.14 MB a run); every writer reads the same pixels: the HTML, images inlined, is the
    one of all runs at once."""
    options = Options()
    whole = pipeline.build(load([str(sweep)], options.read_settings()), options)
    sources, located = located_runs([str(sweep)], options.read_settings())
    report = build_in_parts(in_parts(sources, located, options, 3).read(), sources, options)
    charts = [chart for run in report.runs for chart in section_charts(run)]
    assert len(charts) > 50
    assert all(isinstance(chart.__dict__["_png"], StoredPng) for chart in charts)
    assert all(chart.png.startswith(b"\x89PNG") for chart in charts)
    assert html.render(report) == html.render(whole)


def test_the_cli_builds_a_sweep_in_parts(sweep, tmp_path, monkeypatch):
    """`reportgen build` of more than SWEEP_RUNS runs goes part by part, with the same report."""
    calls = []
    real = parts_module.build_in_parts
    monkeypatch.setattr(parts_module, "build_in_parts", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert main(["build", str(sweep), "-o", str(tmp_path / "report.json"), "-q"]) == 0
    whole = pipeline.build(load([str(sweep)]), Options(), pixels=False)
    whole.artifacts = ["report.json"]
    assert calls and (tmp_path / "report.json").read_bytes() == jsonreport.render(whole)


def test_few_runs_or_full_charts_are_built_at_once(sweep, tmp_path):
    sources, located = located_runs([str(sweep)])
    assert in_parts(sources, located, Options(charts="full")) is None
    assert in_parts(sources, located, Options(run="a_slow|z_fixed")) is None
    assert in_parts(sources, located, Options(run="a_slow|z_fixed", charts="compact")) is not None
    # 16 grid runs each with its add_hparams sub-run: 36 folders, at least 20 runs after folding.
    assert len(located) == 36 and parts_module._fewest_runs(located, Options()) == 20


def test_parts_keep_runs_read_together(sweep):
    """No part ends between a run and its add_hparams sub-run, nor between a validation run and
    its training run, whatever the size asked."""
    _, located = located_runs([str(sweep)])
    names = [run.name for run in located]
    for size in (1, 2, 5):
        bounds = part_bounds(located, size)
        assert bounds[0][0] == 0 and bounds[-1][1] == len(located)
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
        part_of = {names[i]: n for n, (start, end) in enumerate(bounds) for i in range(start, end)}
        assert part_of["keras/train"] == part_of["keras/validation"]
        folded = [name for name in names if TIMESTAMP_FOLDER.fullmatch(name.rsplit("/", 1)[-1])]
        assert len(folded) == 16
        for name in folded:
            assert part_of[name] == part_of[name.rsplit("/", 1)[0]], name
    assert len(part_bounds(located, 1)) >= 18


def test_fold_parents_finds_the_pairs_may_fold_into_accepts():
    """fold_parents, linear, against may_fold_into over every pair (the quadratic way it replaces)."""
    from reportgen.reading.loader import fold_parents, may_fold_into

    paths = ["/s/a", "/s/a/1700000000.5", "/s/a/1700000001/", "/s/b/", "/s/b/1690483601.5213287", "",
             "/s/c/1700000000", "/s/a/not_a_time", "/s/a/1700000000.5/1700000002", "/s/a", "s/rel", "s/rel/1700000003"]
    expected = {i: [j for j, parent in enumerate(paths) if may_fold_into(path, parent)] for i, path in enumerate(paths)}
    assert fold_parents(paths) == {i: js for i, js in expected.items() if js}
    assert set(fold_parents(paths)) == {1, 2, 4, 8, 11}
