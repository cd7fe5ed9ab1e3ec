"""Charts: what is drawn (slice order, colour ramp, steps shown, bands), not only that it draws."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tensorboard.compat.proto import summary_pb2

from reportgen import histmath
from reportgen.charts import KINDS, ChartJob, color, run_color
from reportgen.charts.distribution import BAND_OPACITIES, distribution_bands
from reportgen.charts.offset import SLICE_HEIGHT, offset_layout
from reportgen.charts.render import render_job, render_jobs
from reportgen.charts.scalar import smooth
from reportgen.config import Options
from reportgen.diagnosis import Diagnosis, Layer
from reportgen.model import HistogramSeries, Logs, ScalarSeries
from reportgen.pipeline import plan_charts, run_colors
from reportgen.reading.loader import load
from tests.conftest import fixture_path
from tools.eventwriter import EventWriter

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Logs:
    """One run with every shape of histogram the charts must handle, written as real event files."""
    rng = np.random.default_rng(3)
    logdir = tmp_path_factory.mktemp("logs")
    with EventWriter(str(logdir), wall_time=1_700_000_000) as writer:
        for step in (0, 10, 100):  # uneven steps: offsets must follow the step, not the index
            writer.add_histogram("uneven", rng.normal(step / 50, 1, 2000), step)
        for step in range(0, 600, 3):
            writer.add_tensor_histogram("long", rng.normal(0, 1 + step / 300, 500), step)
        for step in range(5):
            writer.add_tensor_histogram("constant", np.full(100, 3.0), step)
            writer.add_tensor_histogram("empty", np.zeros(0), step)
            writer.add_histogram("layer/weights", rng.normal(0, 0.1, 300), step)
            writer.add_histogram("layer/activations", np.tanh(rng.normal(0, 2, 300)), step)
            writer.add_scalar("loss", [1.0, 0.8, float("nan"), 0.5, float("inf")][step], step)
        nan_sum = summary_pb2.HistogramProto(min=0.0, max=1.0, num=10, sum=float("nan"), sum_squares=float("nan"),
                                             bucket_limit=[0.5, 1.0], bucket=[5, 5])
        inf_edge = summary_pb2.HistogramProto(min=0.0, max=float("inf"), num=10, sum=float("inf"),
                                              sum_squares=float("inf"), bucket_limit=[0.5, float("inf")],
                                              bucket=[5, 5])
        writer.add_histogram("with_nan", rng.normal(0, 1, 100), 0)
        writer.add_histogram_proto("with_nan", nan_sum, 1)
        writer.add_histogram_proto("with_nan", inf_edge, 2)
        writer.add_histogram("with_nan", rng.normal(0, 1, 100), 3)
    return load([str(logdir)])


def hist(logs: Logs, tag: str):
    return logs.runs[0].histograms[tag]


def png_shape(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()
        return image.size


# --- colours ---------------------------------------------------------------------------------

def test_hcl_conversion_matches_cie_lab_reference_values():
    # Reference: CIE L* of sRGB white is 100, of black 0, of #777777 about 50.0 (Lab, D50).
    assert color.rgb_to_hcl(np.ones(3))[2] == pytest.approx(100, abs=0.01)
    assert color.rgb_to_hcl(np.zeros(3))[2] == pytest.approx(0, abs=0.01)
    assert color.rgb_to_hcl(color.hex_to_rgb("#777777"))[2] == pytest.approx(50.0, abs=0.1)
    for hex_color in color.PALETTE:
        assert color.rgb_to_hex(color.hcl_to_rgb(*color.rgb_to_hcl(color.hex_to_rgb(hex_color)))) == hex_color


def test_step_ramp_goes_from_lighter_oldest_to_darker_newest_by_18():
    # A grey stays inside the sRGB gamut over the whole ramp, so the lightness is exact there.
    oldest, middle, newest = color.step_ramp("#777777", np.array([0.0, 0.5, 1.0]))
    base = color.lightness_of("#777777")
    assert [color.lightness_of(c) for c in (oldest, middle, newest)] == pytest.approx(
        [base + 18, base, base - 18], abs=0.3)
    for run in color.PALETTE:  # saturated colours may be clipped at the ends, but never reversed
        shades = color.step_ramp(run, np.linspace(0, 1, 6))
        lightness = [color.lightness_of(c) for c in shades]
        assert all(a > b for a, b in zip(lightness, lightness[1:])), run
    hue = color.rgb_to_hcl(color.hex_to_rgb("#ff7043"))[0]
    newest = color.step_ramp("#ff7043", np.array([1.0]))[0]
    assert color.rgb_to_hcl(color.hex_to_rgb(newest))[0] == pytest.approx(hue, abs=3)


def test_neighbouring_run_colours_are_far_apart_in_hue():
    """TensorBoard's colours, ordered so that the first runs of a report are easy to tell apart
    (its own order made the first and third orange and red)."""
    def apart(n: int) -> float:
        hues = [color.rgb_to_hcl(color.hex_to_rgb(run_color(i)))[0] for i in range(n)]
        return min(min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(hues) for b in hues[i + 1:])
    assert apart(3) > 60 and apart(4) > 30  # TensorBoard's order: orange and red 1.3 degrees apart
    assert run_color(7) == run_color(0)


# --- offset / overlay --------------------------------------------------------------------------

def test_offset_slices_are_drawn_oldest_first_with_offsets_proportional_to_step(logs):
    layout = offset_layout(hist(logs, "uneven"), "#ff7043")
    assert layout.steps == [0, 10, 100]
    baselines = [s.baseline for s in layout.slices]
    # Newest at the bottom/front (0), oldest at the top/back; distances follow the steps.
    top = 1 - SLICE_HEIGHT
    assert baselines == pytest.approx([top, top * 90 / 100, 0.0])
    lightness = [color.lightness_of(s.color) for s in layout.slices]
    assert lightness[0] > lightness[1] > lightness[2], "the newest step must be the darkest"


def test_offset_slices_share_one_count_scale_of_height_one_over_two_and_a_half(logs):
    series = hist(logs, "uneven")
    layout = offset_layout(series, "#ff7043")
    lo, hi = histmath.global_range(series.buckets)
    expected_max = max(histmath.rebin(b, lo, hi).max() for b in series.buckets)
    assert layout.count_max == pytest.approx(expected_max)
    heights = [float((s.ys - s.baseline).max()) for s in layout.slices]
    assert max(heights) == pytest.approx(SLICE_HEIGHT)
    for s in layout.slices:
        assert s.ys[0] == s.ys[-1] == pytest.approx(s.baseline)  # the polygon starts and ends at count 0
        assert len(s.xs) == histmath.DISPLAY_BINS + 2
        np.testing.assert_allclose(s.xs[1:-1], histmath.bin_centres(lo, hi))
        assert s.counts.sum() == pytest.approx(series.count[list(series.steps).index(s.step)])


def test_offset_shows_at_most_max_steps_always_first_and_last(logs):
    series = hist(logs, "long")
    kept_steps = list(series.kept_steps())
    for limit in (51, 7, 2):
        layout = offset_layout(series, "#ff7043", max_steps=limit)
        assert len(layout.steps) <= limit
        assert layout.steps[0] == series.steps[0] and layout.steps[-1] == series.steps[-1]
        assert layout.steps == sorted(layout.steps)
        assert set(layout.steps) <= set(kept_steps)
        assert offset_layout(series, "#ff7043", max_steps=limit).steps == layout.steps  # deterministic
    assert len(offset_layout(series, "#ff7043", max_steps=51).steps) == 51


def test_overlay_puts_every_slice_on_one_baseline_in_count_units(logs):
    layout = offset_layout(hist(logs, "uneven"), "#ff7043", mode="overlay")
    assert all(s.baseline == 0 for s in layout.slices)
    assert max(float(s.ys.max()) for s in layout.slices) == pytest.approx(layout.count_max)


# --- distribution ------------------------------------------------------------------------------

def test_distribution_uses_the_per_step_quantiles_and_keeps_first_and_last(logs):
    series = hist(logs, "long")
    bands = distribution_bands(series, max_steps=50)
    assert len(bands.steps) <= 50
    assert bands.steps[0] == series.steps[0] and bands.steps[-1] == series.steps[-1]
    rows = [list(series.steps).index(s) for s in bands.steps]
    np.testing.assert_array_equal(bands.quantiles, series.quantiles[rows])
    assert len(distribution_bands(series).steps) == len(series.steps)  # 200 steps: all of them
    assert BAND_OPACITIES == (0.09, 0.54, 0.60, 0.77, 0.77, 0.60, 0.54, 0.09)


def test_distribution_of_empty_steps_is_a_gap(logs):
    bands = distribution_bands(hist(logs, "empty"))
    assert np.isnan(bands.quantiles).all()
    assert bands.empty_steps == len(bands.steps)


# --- scalars -------------------------------------------------------------------------------

def test_smoothing_is_tensorboards_debiased_ema():
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0])
    w = 0.6
    # Closed form of the debiased EMA: sum_j (1-w) w^(i-j) v_j / (1 - w^(i+1)).
    expected = [sum((1 - w) * w ** (i - j) * values[j] for j in range(i + 1)) / (1 - w ** (i + 1))
                for i in range(len(values))]
    np.testing.assert_allclose(smooth(values, w), expected)


def test_smoothing_passes_nonfinite_values_through_without_poisoning_the_rest():
    out = smooth(np.array([1.0, np.nan, 3.0, np.inf]), 0.6)
    assert np.isnan(out[1]) and out[3] == np.inf
    expected_third = ((1 - 0.6) * 0.6 * 1.0 + (1 - 0.6) * 3.0) / (1 - 0.6 ** 2)
    assert out[2] == pytest.approx(expected_third)
    np.testing.assert_array_equal(smooth(np.full(4, 0.1)), np.full(4, 0.1))  # constant stays exact


# --- rendering -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["offset", "overlay", "distribution", "heatmap"])
@pytest.mark.parametrize("tag", ["uneven", "constant", "empty", "with_nan"])
def test_every_histogram_kind_renders_edge_cases_as_a_titled_png(logs, kind, tag):
    series = hist(logs, tag)
    chart = render_job(ChartJob(kind, "run", tag, f"{tag} (run)", series, "#ff7043"))
    assert chart.error is None
    assert png_shape(chart.png) == (chart.width_px, chart.height_px)
    assert chart.width_px == 540  # 3.6 in at 150 dpi: two per row on an A4 page
    assert tag in chart.alt
    if tag == "empty":
        assert "no values" in chart.alt
    if tag == "with_nan" and kind in ("offset", "overlay", "distribution"):
        assert "NaN or Inf" in chart.alt


def test_offset_alt_text_names_steps_and_range(logs):
    chart = render_job(ChartJob("offset", "run", "uneven", "uneven (run)", hist(logs, "uneven"), "#ff7043"))
    assert "3 of 3 steps" in chart.alt and "steps 0 to 100" in chart.alt


def test_scalar_chart_marks_nonfinite_points(logs):
    series = logs.runs[0].scalars["loss"]
    chart = render_job(ChartJob("scalar", "run", "loss", "loss (run)", series, "#ff7043"))
    assert chart.error is None and png_shape(chart.png)[0] == 540
    assert "2 NaN/Inf values marked" in chart.alt


def test_rendering_is_repeatable_byte_for_byte(logs):
    job = ChartJob("offset", "run", "uneven", "uneven (run)", hist(logs, "uneven"), "#ff7043")
    assert render_job(job).png == render_job(job).png


def test_a_failing_chart_becomes_a_placeholder_with_the_error(logs):
    bad = ChartJob("offset", "run", "broken", "broken (run)", None, "#ff7043")
    unknown = ChartJob("pie", "run", "loss", "loss (run)", logs.runs[0].scalars["loss"], "#ff7043")
    for chart in (render_job(bad), render_job(unknown)):
        assert chart.error
        assert png_shape(chart.png)[0] > 100  # a readable image, not an empty one
        assert "could not be drawn" in chart.alt
    assert "pie" in render_job(unknown).error


def test_process_pool_keeps_order_and_isolates_failures(logs):
    jobs = [ChartJob(kind, "run", tag, f"{tag} (run)", hist(logs, tag), "#ff7043")
            for tag in ("uneven", "constant", "with_nan") for kind in ("offset", "distribution", "heatmap")]
    jobs.insert(4, ChartJob("heatmap", "run", "broken", "broken (run)", None, "#ff7043"))
    pooled = render_jobs(jobs, workers=2)
    views = {"offset": "Offset histogram", "distribution": "Distribution", "heatmap": "Heatmap"}
    assert all(c.alt.startswith(views[j.kind]) and f" {j.tag} " in c.alt for c, j in zip(pooled, jobs) if not c.error)
    assert [c.error is not None for c in pooled] == [j.tag == "broken" for j in jobs]
    in_process = render_jobs(jobs, workers=1)
    assert [c.png for c in pooled] == [c.png for c in in_process]


def test_work_done_meanwhile_runs_once_in_this_process_and_its_error_stops_the_drawing(logs):
    import os
    import time

    jobs = [ChartJob("heatmap", "run", "uneven", "uneven (run)", hist(logs, "uneven"), "#ff7043")] * 40
    calls: list[int] = []
    charts = render_jobs(jobs, workers=2, meanwhile=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()] and len(charts) == 40 and not any(c.error for c in charts)
    assert render_jobs(jobs[:2], workers=2, meanwhile=lambda: calls.append(0)) and calls[-1] == 0  # no pool

    def fail() -> None:
        raise ValueError("bad setting")

    began = time.monotonic()
    with pytest.raises(ValueError, match="bad setting"):
        render_jobs(jobs * 25, workers=2, meanwhile=fail)  # 1000 heatmaps: a minute if all were drawn
    assert time.monotonic() - began < 8


def test_jobs_that_meanwhile_finds_are_drawn_by_the_workers_after_the_others(logs, monkeypatch):
    import reportgen.charts.render as render

    drawn_here: list[str] = []  # forked workers append to their own copy
    draw = render.draw_job
    monkeypatch.setattr(render, "draw_job", lambda job: (drawn_here.append(job.tag), draw(job))[1])
    jobs = [ChartJob("heatmap", "run", "uneven", "uneven (run)", hist(logs, "uneven"), "#ff7043")] * 8
    found = [ChartJob(kind, "run", "constant", "constant (run)", hist(logs, "constant"), "#0077bb")
             for kind in ("offset", "distribution")]
    done: list[str] = []
    pooled = render_jobs(jobs, workers=2, on_done=lambda job: done.append(job.tag), meanwhile=lambda: found)
    assert drawn_here == []  # not one chart drawn in this process, the found ones neither
    assert len(pooled) == 10 and sorted(done) == ["constant"] * 2 + ["uneven"] * 8
    in_process = render_jobs(jobs, workers=1, meanwhile=lambda: found)
    assert drawn_here == ["uneven"] * 8 + ["constant"] * 2
    assert [c.png for c in pooled] == [c.png for c in in_process]
    assert [c.alt.split(":")[0] for c in pooled[8:]] == [render_job(j).alt.split(":")[0] for j in found]


def test_when_a_worker_dies_the_charts_are_drawn_here_and_meanwhile_is_not_run_again(logs, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    import reportgen.charts.render as render

    def dying_pool(jobs, workers, meanwhile, pixels):
        meanwhile()
        raise BrokenProcessPool("a worker was killed")
        yield  # a generator, as the real one

    monkeypatch.setattr(render, "_render_in_pool", dying_pool)
    jobs = [ChartJob("heatmap", "run", "uneven", "uneven (run)", hist(logs, "uneven"), "#ff7043")] * 8
    found = [ChartJob("offset", "run", "constant", "constant (run)", hist(logs, "constant"), "#0077bb")]
    calls: list[int] = []
    charts = render_jobs(jobs, workers=2, meanwhile=lambda: calls.append(1) or found)
    assert calls == [1] and len(charts) == 9 and not any(c.error for c in charts)
    assert charts[8].png == render_job(found[0]).png


def test_layer_row_and_compare_render(logs):
    run = logs.runs[0]
    layer = ChartJob("layer", "run", "layer", "Layer layer (run)", [run.histograms["layer/activations"],
                     run.histograms["layer/weights"]], "#ff7043",
                     tag_kinds={"layer/weights": "weights", "layer/activations": "activations"})
    compare = ChartJob("compare", "a, b", "uneven", "uneven: a vs b", [hist(logs, "uneven"), hist(logs, "long")],
                       ["#ff7043", "#0077bb"])
    for job, width in ((layer, 1050), (compare, 540)):  # a row spans the page, a comparison is half of it
        chart = render_job(job)
        assert chart.error is None and png_shape(chart.png)[0] == width
    assert render_job(layer).alt.index("layer/weights") < render_job(layer).alt.index("layer/activations")


# --- planning ------------------------------------------------------------------------------

def test_plan_draws_each_view_once_heatmaps_where_they_tell_and_compares_only_differences(logs):
    """No layer row beside the per-tag charts (each histogram drawn once per view); a heatmap only
    for a tag whose range or shape changes (all with --charts full); comparison charts only where
    the runs differ: two runs with the very same histograms get none for them, but their loss."""
    from reportgen.pipeline.plan import changes_over_run

    run = logs.runs[0]
    other = type(run)(name="b", path="", histograms=dict(run.histograms), scalars=dict(run.scalars))
    two = Logs(sources=[], runs=[run, other])
    layers = [Layer("layer", {"layer/weights": "weights", "layer/activations": "activations"}),
              Layer("uneven", {"uneven": "other"})]
    diagnosis = Diagnosis(layers={run.name: layers, "b": layers})
    jobs = plan_charts(two, diagnosis.layers, Options(), run_colors(two))
    kinds = {(j.run, j.tag, j.kind) for j in jobs}
    assert not any(kind == "layer" for _, _, kind in kinds)
    assert len(kinds) == len(jobs)  # nothing twice
    assert (run.name, "uneven", "offset") in kinds and (run.name, "uneven", "distribution") in kinds
    for tag in ("uneven", "layer/weights", "layer/activations"):
        assert ((run.name, tag, "heatmap") in kinds) == changes_over_run(run.histograms[tag])
    full = {(j.run, j.tag, j.kind) for j in plan_charts(two, diagnosis.layers, Options(charts="full"), run_colors(two))}
    assert all((run.name, tag, "heatmap") in full for tag in ("uneven", "layer/weights", "layer/activations"))
    compares = [j for j in jobs if j.kind == "compare"]
    assert [j.tag for j in compares] == ["loss"]
    assert compares[0].color == ["#ff7043", "#0077bb"] and compares[0].runs == [run.name, "b"]
    chart = render_job(compares[0])
    assert chart.error is None and "b: last" in chart.alt
    overlay = plan_charts(two, diagnosis.layers, Options(mode="overlay", max_steps=9), run_colors(two))
    assert {j.max_steps for j in overlay if j.kind == "overlay"} == {9}


def test_a_heatmap_is_planned_for_a_tag_whose_spread_changes_and_not_for_a_steady_one():
    from reportgen.pipeline.plan import changes_over_run

    rng = np.random.default_rng(1)
    def series(scale):
        rows = [rng.normal(0, scale(step), 2000) for step in range(10)]
        q = np.array([np.quantile(r, histmath.BASIS_POINTS / 10000) for r in rows])
        return HistogramSeries("r", "t", np.arange(10), np.zeros(10), np.full(10, 2000.0), q[:, 0], q[:, -1],
                               np.zeros(10), np.ones(10), q, np.zeros(10, bool), np.arange(10), [])
    assert changes_over_run(series(lambda step: 1.0 + 0.5 * step))
    assert not changes_over_run(series(lambda step: 1.0))


def test_a_sweep_gets_the_compact_chart_set(logs):
    """Above SWEEP_RUNS runs (or with charts="compact") every run still shows every histogram, in
    its layer's row or, alone, as a distribution chart, and its scalars; offset charts, heatmaps
    and comparison charts (whose legends cannot hold a sweep) are left out."""
    from reportgen.pipeline import SWEEP_RUNS

    run = logs.runs[0]
    runs = [type(run)(name=f"lr_{i}", path="", histograms=dict(run.histograms), scalars=dict(run.scalars))
            for i in range(SWEEP_RUNS + 1)]
    sweep = Logs(sources=[], runs=runs)
    layers = [Layer("layer", {"layer/weights": "weights", "layer/activations": "activations"}),
              Layer("uneven", {"uneven": "other"})]
    diagnosis = Diagnosis(layers={r.name: layers for r in runs})
    jobs = plan_charts(sweep, diagnosis.layers, Options(), run_colors(sweep))
    for r in runs:
        mine = {(j.tag, j.kind) for j in jobs if j.run == r.name}
        assert mine == {("layer", "layer"), ("uneven", "distribution"), ("loss", "scalar")}, mine
    assert not [j for j in jobs if j.kind in ("compare", "offset", "heatmap")]

    full = plan_charts(sweep, diagnosis.layers, Options(charts="full"), run_colors(sweep))
    assert {j.kind for j in full} >= {"offset", "heatmap", "compare"}
    few = Logs(sources=[], runs=runs[:2])
    assert {j.kind for j in plan_charts(few, diagnosis.layers, Options(), run_colors(few))} >= {"offset", "compare"}
    compact = plan_charts(few, diagnosis.layers, Options(charts="compact"), run_colors(few))
    assert {j.kind for j in compact} == {"layer", "distribution", "scalar"}


def test_every_chart_kind_has_a_how_to_read_note():
    assert all(len(kind.how_to_read) > 80 for kind in KINDS.values())


# --- real writers --------------------------------------------------------------------------

def test_tf1_graph_fixture_charts_all_draw():
    logs = load([str(fixture_path("tf1_graph"))])
    run = logs.runs[0]
    jobs = [ChartJob("offset", run.name, tag, tag, s, "#ff7043") for tag, s in run.histograms.items()]
    charts = render_jobs(jobs, workers=1)
    assert [c.error for c in charts] == [None] * len(jobs)
    for tag in run.histograms:
        layout = offset_layout(run.histograms[tag], "#ff7043")
        assert layout.steps[0] == 0 and layout.steps[-1] == 14 and len(layout.steps) == 15  # README: 15 steps


def test_fixed_margins_give_way_to_the_constrained_layout_when_labels_do_not_fit():
    """Charts are laid out with fixed margins (fast); a label that would be cut off at the edge of
    a one-plot figure moves its margin, and one that still does not fit or runs into the next
    panel makes to_png lay the figure out again with Matplotlib's constrained layout, so nothing
    is ever clipped."""
    from reportgen.charts.encode import labels_collide, to_png
    from reportgen.charts.style import SINGLE_SIZE, new_figure, styled

    with styled():
        plain = new_figure(SINGLE_SIZE)
        plain.subplots().plot([0, 1], [0.1, 0.2])
        to_png(plain)
        assert plain.get_layout_engine() is None and not labels_collide(plain)

        wide = new_figure(SINGLE_SIZE)
        ax = wide.subplots()
        ax.plot([0, 1], [0, 1])
        ax.set_yticks([0, 1], ["a very long tick label indeed", "1"])
        wide.canvas.draw()
        assert labels_collide(wide)
        left = wide.subplotpars.left
        png = to_png(wide)  # one plot: its left margin moves for the label (one more draw)
        assert wide.get_layout_engine() is None and wide.subplotpars.left > left and not labels_collide(wide)
        assert png_shape(png)[0] == int(SINGLE_SIZE[0] * 150)

        panels = new_figure(SINGLE_SIZE, wspace=0.1)  # several panels: the constrained layout
        for ax in panels.subplots(1, 2):
            ax.set_yticks([0, 1], ["a long label", "1"])
        to_png(panels)
        assert panels.get_layout_engine() is not None and not labels_collide(panels)

        row = new_figure(SINGLE_SIZE, wspace=0.0)
        _, right = row.subplots(1, 2)
        right.set_yticks([0, 1], ["long label into the left panel", "x"])
        row.canvas.draw()
        assert labels_collide(row)  # runs into its neighbour, though inside the figure


def test_a_title_is_raised_above_the_y_axis_offset_text():
    """Titles sit at a fixed height (Matplotlib's automatic placement is slow); values of 1e-7
    put a "1e-7" offset text above the y axis, where the left-aligned title is: the title must
    clear it, and stay inside the figure."""
    from reportgen.charts.encode import labels_collide, to_png
    from reportgen.charts.style import SINGLE_SIZE, new_figure, styled

    with styled():
        fig = new_figure(SINGLE_SIZE)
        ax = fig.subplots()
        ax.plot([0, 1, 2], [1e-7, 3e-7, 2e-7])
        ax.set_title("layer1/weights", loc="left")
        to_png(fig)
        renderer = fig.canvas.get_renderer()
        offset = ax.yaxis.offsetText
        assert offset.get_text()  # the case under test
        title_box = ax._left_title.get_window_extent(renderer)
        assert not title_box.overlaps(offset.get_window_extent(renderer))
        assert not labels_collide(fig)

        plain = new_figure(SINGLE_SIZE)  # no offset text: the title stays where it was put
        ax = plain.subplots()
        ax.plot([0, 1, 2], [1, 3, 2])
        ax.set_title("layer1/weights", loc="left")
        to_png(plain)
        assert ax._left_title.get_position()[1] == 1.0


def test_figures_share_a_renderer_without_sharing_pixels():
    """Figures of one size draw on one renderer (its text measurements are cached); a chart drawn
    after another must be exactly the chart drawn on a fresh canvas of its own."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from reportgen.charts.encode import to_png
    from reportgen.charts.style import OFFSET_SIZE, SINGLE_SIZE, new_figure, styled

    def chart(values: list[float], fresh: bool = False, size: tuple[float, float] = SINGLE_SIZE) -> bytes:
        fig = new_figure(size)
        if fresh:
            FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.plot(range(len(values)), values, color="#ff7043")
        ax.set_title(f"{len(values)} values", loc="left")
        return to_png(fig)

    with styled():
        first = chart([5, 1, 4, 2, 3])
        second = chart([0.1, 0.2])
        taller = chart([0.1, 0.2], size=OFFSET_SIZE)
        assert first != second
        assert png_shape(taller) != png_shape(second)
        assert second == chart([0.1, 0.2], fresh=True)
        assert taller == chart([0.1, 0.2], fresh=True, size=OFFSET_SIZE)
        assert first == chart([5, 1, 4, 2, 3], fresh=True)


def test_a_chart_drawn_on_a_reused_figure_is_the_chart_drawn_on_a_new_one(logs, tmp_path):
    """Each chart kind keeps its figure for the next chart of that kind (building axes and ticks
    was a quarter of the drawing time). Whatever came before, every chart must be, byte for byte,
    the chart drawn on a new figure: all kinds, with values and without, NaN notes, titles lifted
    over an offset text, layer rows with an empty panel, comparisons, and the real writers'
    fixtures, drawn in a shuffled order so that each follows charts of other shapes."""
    from reportgen.charts.reuse import POOL

    jobs = _charts_of_every_shape(logs, tmp_path)
    POOL.clear()
    hits = POOL.hits
    reused = [render_job(job) for job in jobs]
    assert POOL.hits - hits > len(jobs) // 2  # the case under test: most charts reuse a figure
    for job, chart in zip(jobs, reused):
        POOL.clear()
        assert chart.error is None
        assert chart.png == render_job(job).png, (job.kind, job.tag)


def test_text_drawn_from_the_glyph_caches_is_matplotlibs_text_pixel_for_pixel(logs, tmp_path, monkeypatch):
    """Tick labels, axis labels (the y label is turned 90 degrees), legends, titles and notes
    drawn from cached shapes and glyph bitmaps, at whatever sub-pixel positions the charts put
    them, give the same bytes as Matplotlib drawing every string itself."""
    from reportgen.charts import textcache

    if not textcache.SUPPORTED:
        pytest.skip("this Matplotlib draws its text itself")
    jobs = _charts_of_every_shape(logs, tmp_path)
    textcache.clear()
    hits = textcache.stats["glyph_hits"]
    cached = [render_job(job).png for job in jobs]
    assert textcache.stats["glyph_hits"] - hits > 10 * len(jobs)  # the case under test: glyphs reused
    monkeypatch.setattr(textcache, "SUPPORTED", False)
    for job, png in zip(jobs, cached):
        assert png == render_job(job).png, (job.kind, job.tag)


def _charts_of_every_shape(logs, tmp_path) -> list[ChartJob]:
    """Every chart kind, with values and without, NaN notes, titles lifted over an offset text,
    layer rows with an empty panel, comparisons and the real writers' fixtures, in a shuffled
    order so that each follows charts of other shapes."""
    run = logs.runs[0]
    tags = ("uneven", "long", "constant", "empty", "with_nan")
    jobs = [ChartJob(kind, "run", tag, f"{tag} (run)", hist(logs, tag), "#ff7043")
            for tag in tags for kind in ("offset", "overlay", "distribution", "heatmap")]
    jobs += [ChartJob("layer", "run", "layer", "Layer (run)", [hist(logs, a), hist(logs, b)], "#0077bb",
                      tag_kinds={a: "weights", b: "activations"})
             for a, b in (("layer/weights", "layer/activations"), ("empty", "uneven"), ("long", "constant"))]
    jobs += [ChartJob("compare", "a, b", a, a, [hist(logs, a), hist(logs, b)], ["#ff7043", "#0077bb"])
             for a, b in (("uneven", "long"), ("empty", "empty"), ("constant", "with_nan"))]
    jobs += [ChartJob("scalar", "run", "loss", "loss (run)", run.scalars["loss"], color)
             for color in ("#ff7043", "#0077bb")]
    jobs.append(ChartJob("compare", "a, b", "loss", "loss", [run.scalars["loss"]] * 2, ["#ff7043", "#0077bb"]))
    with EventWriter(str(tmp_path), wall_time=1_700_000_000) as writer:  # tiny values: a "1e-7" lifts the title
        for step in range(3):
            writer.add_histogram("tiny", np.random.default_rng(step).normal(1e-7, 1e-8, 200), step)
    tiny = load([str(tmp_path)]).runs[0].histograms["tiny"]
    jobs += [ChartJob(kind, "run", "tiny", "tiny (run)", tiny, "#ff7043") for kind in ("distribution", "heatmap")]
    for name in ("tf1_graph", "torch_writer"):
        fixture = load([str(fixture_path(name))])
        jobs += plan_charts(fixture, Diagnosis().layers, Options(), run_colors(fixture))
    order = np.random.default_rng(5).permutation(len(jobs))
    return [jobs[i] for i in order]


def test_a_figure_goes_back_to_the_pool_only_when_its_chart_was_drawn_as_planned():
    """A chart that raised, or whose figure fell back to the constrained layout, leaves its figure
    out of the pool: its state is not the one the next chart of its kind expects."""
    from reportgen.charts.reuse import POOL
    from reportgen.charts.style import SINGLE_SIZE, one_axes, styled

    POOL.clear()
    with styled():
        with pytest.raises(ValueError), POOL.reused("test", lambda: one_axes(SINGLE_SIZE)) as failed:
            raise ValueError("chart failed")
        with POOL.reused("test", lambda: one_axes(SINGLE_SIZE)) as relaid:
            assert relaid is not failed
            relaid.set_layout_engine("constrained")
        with POOL.reused("test", lambda: one_axes(SINGLE_SIZE)) as kept:
            assert kept is not relaid
        with POOL.reused("test", lambda: one_axes(SINGLE_SIZE)) as again:
            assert again is kept


def test_layer_panel_titles_drop_the_layer_scope_and_fit_their_panel():
    from reportgen.charts.layer import shared_prefix
    from reportgen.charts.style import shorten

    assert shared_prefix(["fc1.weight", "fc1.bias", "fc1.weight.grad"]) == "fc1."
    assert shared_prefix(["layer1/weights", "layer1/activations"]) == "layer1/"
    assert shared_prefix(["conv", "conv2"]) == ""  # no scope separator: nothing to drop
    assert shared_prefix(["a/b", "a/b"]) == "a/"
    assert shared_prefix(["only.one"]) == ""
    cut = shorten("gradients: encoder.block.11.attention.weight.grad", 23)
    assert len(cut) == 23 and cut.startswith("gradients") and cut.endswith("weight.grad") and "…" in cut
    assert shorten("short", 23) == "short"


@pytest.mark.parametrize("low, high, expected", [
    (1e-4, 0.3, [1e-4, 1e-3, 1e-2, 1e-1]),  # every decade inside, as plain percentages
    (0.015, 0.02, [0.015, 0.017, 0.02]),  # a near-uniform layer: no decade fits, still labelled
    (0.05, 0.4, [0.05, 0.14, 0.4]),  # one decade inside is not enough for a scale
])
def test_heatmap_colour_bar_is_labelled_however_narrow_its_range(low, high, expected):
    from reportgen.charts.heatmap import percent, share_ticks

    ticks = share_ticks(low, high)
    assert ticks == pytest.approx(expected)
    assert all(low * 0.99 <= t <= high * 1.01 for t in ticks)
    assert [percent(t) for t in (1e-4, 0.015, 1.0)] == ["0.01%", "1.5%", "100%"]


def test_a_comparison_legend_sits_in_a_strip_of_its_own_above_the_bands():
    """The ±1σ bands of a comparison fill the whole plot: the legend gets a strip above them
    instead of covering them, however many runs it lists."""
    from reportgen.charts.distribution import legend_above_the_bands
    from reportgen.charts.style import SINGLE_SIZE, one_axes, styled

    for runs in (2, 5, 12):
        with styled():
            fig = one_axes(SINGLE_SIZE)
            ax = fig.axes[0]
            steps = np.arange(100)
            for i in range(runs):
                ax.fill_between(steps, -1 - 0.01 * i, 1 + 0.01 * i, alpha=0.2)
                ax.plot(steps, np.sin(steps / 10) + 0.01 * i, label=f"run {i}")
            legend_above_the_bands(ax, "run: median and ±1σ band")
            fig.canvas.draw()
            legend = ax.get_legend().get_window_extent()
            band_top = ax.transData.transform((0, 1 + 0.01 * (runs - 1)))[1]
            assert legend.y0 >= band_top, runs
            assert legend.y1 <= ax.bbox.y1 + 1  # inside the plot, under the title
            assert len(ax.get_legend().get_texts()) == runs


def test_a_scalar_constant_but_for_rounding_is_drawn_flat_with_a_note():
    """TF1's Q is 1/3 to float32 rounding (0.33333331 to 0.33333334). Scaled to fill the plot that
    noise looked like a swing, labelled with an unreadable offset text; it is drawn flat instead,
    with a note giving the exact range. A series that really changes keeps its own range."""
    from reportgen.charts.scalar import flatten_rounding_noise
    from reportgen.charts.style import SINGLE_SIZE, one_axes, styled

    with styled():
        fig = one_axes(SINGLE_SIZE)
        ax = fig.axes[0]
        values = np.array([0.33333331, 0.33333334, 0.33333331, 0.33333334], dtype=np.float32).astype(float)
        ax.plot(range(4), values)
        notes = flatten_rounding_noise(ax, values)
        fig.canvas.draw()
        assert notes and "0.33333331" in notes[0] and "0.33333334" in notes[0]
        assert ax.yaxis.offsetText.get_text() == ""
        low, high = ax.get_ylim()
        assert low < values.min() and values.max() < high and (high - low) > 100 * np.ptp(values)

        fig = one_axes(SINGLE_SIZE)
        ax = fig.axes[0]
        changing = np.array([0.3333, 0.3334, 0.3332])
        ax.plot(range(3), changing)
        before = ax.get_ylim()
        assert flatten_rounding_noise(ax, changing) == [] and ax.get_ylim() == before
        assert flatten_rounding_noise(ax, np.full(3, 0.5)) == []  # exactly constant: Matplotlib's own range


def test_the_runs_compared_legend_sits_above_every_runs_curve(monkeypatch):
    """sample_logs' layer2/layer: question's peak ran under the legend ("best" has no empty
    corner when one run is peaked and the other broad); the y range leaves the legend a band of
    its own, and names that fit are not cut ("ques...ixed")."""
    import reportgen.charts.compare as compare
    from reportgen.diagnosis import layers_of
    from reportgen.pipeline import diagnosis_settings

    figures = []
    real = compare.to_png
    monkeypatch.setattr(compare, "to_png", lambda fig: (figures.append(fig), real(fig))[1])
    logs = load([str(Path(__file__).resolve().parents[2] / "sample_logs")])
    options = Options()
    jobs = [j for j in plan_charts(logs, layers_of(logs, diagnosis_settings(options)), options, run_colors(logs))
            if j.kind == "compare" and isinstance(j.data[0], HistogramSeries)]
    assert jobs
    for job in jobs:
        render_job(job)
        ax = figures[-1].axes[0]
        legend = ax.get_legend().get_window_extent(figures[-1].canvas.get_renderer())
        for line in ax.lines:
            points = ax.transData.transform(line.get_xydata())
            inside = ((points[:, 0] > legend.x0) & (points[:, 0] < legend.x1) & (points[:, 1] > legend.y0)
                      & (points[:, 1] < legend.y1))
            assert not inside.any(), (job.tag, line.get_label())
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "question (step 800)", "question_fixed (step 800)"]


def test_large_steps_are_labelled_in_thousands_or_millions_like_tensorboard():
    from reportgen.charts.style import StepFormatter

    labels = StepFormatter().format_ticks
    assert labels([0, 2000, 4000, 8000]) == ["0", "2000", "4000", "8000"]
    assert labels([0, 2500, 5000, 7500, 10000]) == ["0", "2.5k", "5k", "7.5k", "10k"]
    assert labels([0, 200000, 400000, 800000]) == ["0", "200k", "400k", "800k"]
    assert labels([0, 500000, 1000000, 1500000]) == ["0", "0.5M", "1M", "1.5M"]


def test_six_digit_step_ticks_do_not_run_into_each_other(monkeypatch):
    """An RLlib log of 796,000 steps: its tick labels "100000200000300000..." read as one number."""
    from reportgen.charts import encode, scalar

    drawn = []
    real = encode.to_png
    monkeypatch.setattr(scalar, "to_png", lambda fig: (drawn.append(fig), real(fig))[1])
    steps = np.arange(0, 796_001, 4000)
    series = ScalarSeries("run", "episode_reward_mean", steps, steps.astype(float), np.log1p(steps.astype(float)))
    scalar.draw(series, "#ff7043", "reward")
    ax = drawn[0].axes[0]
    renderer = drawn[0].canvas.get_renderer()
    lo, hi = ax.get_xlim()
    boxes = [t.get_window_extent(renderer) for tick in ax.xaxis.majorTicks if lo <= tick.get_loc() <= hi
             for t in (tick.label1,) if t.get_text()]
    assert len(boxes) >= 4
    gaps = [b.x0 - a.x1 for a, b in zip(boxes, boxes[1:])]
    assert min(gaps) >= 4, gaps  # pixels of space between neighbouring labels


def test_a_charts_pixel_size_is_known_before_it_is_drawn(logs, tmp_path):
    """The PDF is laid out while the charts are drawn, from their planned sizes: every kind, layer
    rows of one to six panels, overviews of any number of layers."""
    from reportgen.charts.render import planned_size

    jobs = _charts_of_every_shape(logs, tmp_path)
    layer = [hist(logs, tag) for tag in ("uneven", "long", "constant", "with_nan", "layer/weights", "empty")]
    for n in range(1, 7):
        jobs.append(ChartJob("layer", "run", "layer", "Layer (run)", layer[:n], "#0077bb",
                             tag_kinds={s.tag: "weights" for s in layer[:n]}))
        jobs.append(ChartJob("overview", "run", "overview", "Every layer (run)", layer[:n], "#0077bb",
                             tag_kinds={s.tag: "moved 1%" for s in layer[:n]}))
    assert {job.kind for job in jobs} >= {"offset", "overlay", "distribution", "heatmap", "layer", "overview",
                                          "compare", "scalar"}
    for job in jobs:
        drawn = render_job(job)
        assert drawn.error is None
        assert planned_size(job) == (drawn.width_px, drawn.height_px), (job.kind, job.tag, len(job.data))


def test_chart_workers_forked_after_text_was_drawn_here_draw_every_chart(logs, tmp_path):
    """The glyph caches are filled in this process, then worker processes are forked to draw:
    they must not use this process' font objects (FreeType failed on them: "invalid outline")."""
    jobs = _charts_of_every_shape(logs, tmp_path)
    here = [render_job(job) for job in jobs]
    forked = render_jobs(jobs, workers=2)
    assert [c.error for c in forked] == [None] * len(jobs)
    assert [c.png for c in forked] == [c.png for c in here]


def test_the_overview_of_a_run_with_more_steps_than_it_keeps_buckets_of_is_drawn(tmp_path):
    """A run logs more steps than the buckets kept (501 by default; here 5): the overview looked
    up the last step's buckets by its index among all steps, failed with IndexError on every
    long run (the 1000-step benchmark log) and showed an error in place of the run's first chart."""
    from reportgen.charts import overview
    from reportgen.reading.loader import ReadSettings

    rng = np.random.default_rng(0)
    with EventWriter(str(tmp_path), wall_time=1_700_000_000) as writer:
        for step in range(40):
            writer.add_histogram("fc1/weight", rng.normal(0, 0.1 + step / 20, 500), step)
    series = load([str(tmp_path)], ReadSettings(keep=5)).runs[0].histograms["fc1/weight"]
    assert len(series.kept) < len(series.steps)  # the case under test
    job = ChartJob("overview", "run", "overview", "Every layer (run)", [series], "#0077bb",
                   tag_kinds={"fc1": "moved 1%"})
    drawn = render_job(job)
    assert drawn.error is None
    lo, hi = overview._range(series)
    assert lo < -1.5 and hi > 1.5  # the last step's spread (std ~2): the range takes the last kept step
    ends = series.first_and_last()  # what the pipeline sends the workers: the same chart
    assert len(ends.kept) == 2 and list(ends.steps) == [series.steps[series.kept[0]], series.steps[series.kept[-1]]]
    assert render_job(replace(job, data=[ends])).png == drawn.png


def _tick_label_gaps(fig) -> list[float]:
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    lo, hi = ax.get_xlim()
    drawn = ax.xaxis.majorTicks[:len(ax.xaxis.get_majorticklocs())]  # a reused figure keeps spare ticks
    boxes = [tick.label1.get_window_extent(renderer) for tick in drawn
             if lo <= tick.get_loc() <= hi and tick.label1.get_text()]
    assert len(boxes) >= 3
    return [b.x0 - a.x1 for a, b in zip(boxes, boxes[1:])]


@pytest.mark.parametrize("mode", ["offset", "overlay"])
def test_value_tick_labels_do_not_run_into_each_other(tmp_path, monkeypatch, mode):
    """A 10-value bias of a real tensorboardX log (wild/tbx_mnist_motokimura, conv1/bias) spans
    -0.26..0.19: Matplotlib's own ticks there read "-0.25-0.20-0.15-0.10" as one string."""
    from reportgen.charts import encode, offset

    rng = np.random.default_rng(5)
    with EventWriter(str(tmp_path), wall_time=1_700_000_000) as writer:
        for step in range(10):
            writer.add_histogram("conv1/bias", np.concatenate([[-0.26, 0.186], rng.uniform(-0.25, 0.18, 8)]), step)
    series = load([str(tmp_path)]).runs[0].histograms["conv1/bias"]
    drawn = []
    monkeypatch.setattr(offset, "to_png", lambda fig: (drawn.append(fig), encode.to_png(fig))[1])
    offset.draw(series, "#ff7043", "conv1/bias", mode=mode)
    assert min(_tick_label_gaps(drawn[0])) >= 4  # pixels of space between neighbouring labels


def test_value_ticks_that_fit_are_matplotlibs_own():
    from matplotlib.ticker import AutoLocator

    from reportgen.charts.style import OFFSET_SIZE, one_axes, styled, value_axis

    with styled():
        fig = one_axes(OFFSET_SIZE, left=0.25, right=0.7)
        ax = fig.axes[0]
        ax.set_xlim(-0.4, 0.5)
        expected = [t for t in AutoLocator().tick_values(-0.4, 0.5) if -0.4 <= t <= 0.5]
        value_axis(ax)
        assert [t for t in ax.xaxis.get_major_locator()() if -0.4 <= t <= 0.5] == pytest.approx(expected)
        assert len(expected) >= 5
