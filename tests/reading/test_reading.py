"""The reader against tensorboard's own EventAccumulator (the oracle, size_guidance 0 = keep all)."""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.util import tensor_util

from reportgen.reading.loader import load
from reportgen.reading.sources import discover_runs
from tests.conftest import fixture_path
from tests.oracles import oracle, oracle_buckets
from tools.eventwriter import EventWriter

WRITERS = ["torch_writer", "tensorboardx_writer", "tf2_summary", "tf1_graph", "keras_callback/train",
           "keras_callback/validation"]


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_matches_event_accumulator(writer):
    path = fixture_path(*writer.split("/"))
    acc = oracle(path)
    tags = acc.Tags()
    run = load([str(path)]).runs[0]
    assert not run.warnings
    hist_oracle = set(tags["histograms"]) | {t for t in tags["tensors"]
                                             if acc.SummaryMetadata(t).plugin_data.plugin_name == "histograms"}
    scalar_oracle = set(tags["scalars"]) | {t for t in tags["tensors"]
                                            if acc.SummaryMetadata(t).plugin_data.plugin_name == "scalars"}
    assert set(run.histograms) == hist_oracle
    assert set(run.scalars) == scalar_oracle
    for tag in hist_oracle:
        expected = oracle_buckets(acc, tag)
        series = run.histograms[tag]
        assert list(series.steps) == sorted(expected)
        assert len(series.kept) == len(series.steps)  # small fixtures: every step's buckets kept
        for step, buckets in zip(series.kept_steps(), series.buckets):
            np.testing.assert_allclose(buckets, expected[int(step)], rtol=1e-6, atol=1e-30)
            assert series.count[list(series.steps).index(step)] == pytest.approx(expected[int(step)][:, 2].sum())
    for tag in scalar_oracle:
        if tag in tags["scalars"]:
            events = [(e.step, e.value) for e in acc.Scalars(tag)]
        else:
            events = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]
        series = run.scalars[tag]
        assert list(series.steps) == [s for s, _ in events]
        np.testing.assert_allclose(series.values, [v for _, v in events], rtol=1e-6)


def test_fixture_step_counts_from_readme():
    counts = {"torch_writer": 20, "tensorboardx_writer": 20, "tf2_summary": 10, "tf1_graph": 15,
              "keras_callback/train": 6}
    for writer, steps in counts.items():
        run = load([str(fixture_path(*writer.split("/")))]).runs[0]
        for tag, series in run.histograms.items():
            expected = 1 if tag in ("fc1.bias_auto_bins", "train/empty") else steps
            assert len(series.steps) == expected, (writer, tag)


def test_legacy_exact_moments_are_used():
    run = load([str(fixture_path("torch_writer"))]).runs[0]
    bias = run.histograms["fc1.bias"]
    # torch wrote np.zeros(200) + 0.001 * step: exact mean and zero spread, whatever the buckets say
    np.testing.assert_allclose(bias.mean, 0.001 * np.arange(20), atol=1e-12)
    np.testing.assert_allclose(bias.std, 0, atol=1e-9)


def test_logdir_discovery_names_runs_by_relative_path(fixtures_dir):
    runs = dict(discover_runs(str(fixtures_dir)))
    assert {"torch_writer", "tf1_graph", "keras_callback/train", "keras_callback/validation",
            "damaged/restarted"} <= set(runs)
    assert [p.rsplit("/", 1)[1] for p in runs["damaged/restarted"]] == sorted(
        p.rsplit("/", 1)[1] for p in runs["damaged/restarted"])


def test_single_event_file_is_a_run():
    path = next(fixture_path("torch_writer").iterdir())
    logs = load([str(path)])
    assert len(logs.runs) == 1 and "fc1.weight" in logs.runs[0].histograms


def test_run_names_say_where_the_run_came_from(tmp_path):
    """Event files right in the logdir make a run named after the logdir (TensorBoard says "."),
    several logdirs prefix their runs, and two logdirs with the same name stay apart."""
    for folder in ("a/exp", "b/exp/seed1"):
        with EventWriter(str(tmp_path / folder), wall_time=1.0, hostname="t") as writer:
            writer.add_scalar("loss", 1.0, 0)
    assert [r.name for r in load([str(tmp_path / "a" / "exp")]).runs] == ["exp"]
    assert [r.name for r in load([str(tmp_path / "a" / "exp") + "/"]).runs] == ["exp"]
    assert [r.name for r in load([str(tmp_path / "a"), str(tmp_path / "b")]).runs] == ["a/exp", "b/exp/seed1"]
    both = [str(tmp_path / "a" / "exp"), str(tmp_path / "b" / "exp")]
    assert [r.name for r in load(both).runs] == [both[0], both[1] + "/seed1"]


def test_datatype_numbers_match_tensorboards_protos():
    from tensorboard.compat.proto import types_pb2

    from reportgen.reading import events

    for name in ("DT_FLOAT", "DT_DOUBLE", "DT_INT32", "DT_UINT8", "DT_INT16", "DT_INT8", "DT_INT64", "DT_BOOL",
                 "DT_HALF"):
        assert getattr(events, name) == getattr(types_pb2, name), name


def test_many_runs_keep_fewer_buckets_but_every_step(tmp_path):
    """Raw buckets are capped over all runs (a sweep must not hold its whole log in memory); the
    per-step statistics still cover every step, and the first and last step keep their buckets."""
    from reportgen.reading.loader import KEEP_BUDGET, MIN_KEEP

    rng = np.random.default_rng(5)
    for r in range(40):
        with EventWriter(str(tmp_path / f"run{r:02d}"), wall_time=1.0, hostname="t") as writer:
            for step in range(120):
                writer.add_histogram("w", rng.normal(0, 1, 50), step)
    one = load([str(tmp_path / "run00")]).runs[0].histograms["w"]
    assert len(one.kept) == 120  # one run: every step's buckets
    for run in load([str(tmp_path)]).runs:
        series = run.histograms["w"]
        assert len(series.steps) == 120 and np.isfinite(series.quantiles).all()
        assert MIN_KEEP // 2 <= len(series.kept) <= max(MIN_KEEP, KEEP_BUDGET // 40) + 1
        assert series.kept[0] == 0 and series.kept[-1] == 119
