"""Long run and tag names (Ray Tune's trial folders are ~100 characters, RLlib's tags ~60): every
chart kind cuts its titles and legend entries to fit its figure, and no Matplotlib warning (a
layout "collapsed to zero") gets out."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

from reportgen.charts import ChartJob
from reportgen.charts import encode as encode_module
from reportgen.charts.render import render_job
from reportgen.reading.loader import load
from tools.eventwriter import EventWriter

RUN = "PPO_CartPole-v1_3a7f2_00000_0_lr=0.0001,num_sgd_iter=30,sgd_minibatch_size=128,seed=0_2024-01-15_10-22-33"
TAG = "ray/tune/info/learner/default_policy/learner_stats/" + "very_long_name_of_a_quantity_" * 4 + "vf_loss"
assert len(RUN) >= 100 and 150 <= len(TAG) <= 200


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    rng = np.random.default_rng(7)
    logdir = tmp_path_factory.mktemp("long")
    for r in range(2):
        with EventWriter(str(logdir / f"{RUN}_{r}"), wall_time=1_700_000_000) as writer:
            for step in range(0, 400, 4):
                writer.add_scalar(TAG, 800_000 * step / 400 + rng.normal(), step * 1000)
                writer.add_histogram(f"{TAG}/weight", rng.normal(r, 1 + step / 200, 500), step * 1000)
                writer.add_histogram(f"{TAG}/bias", rng.normal(0, 0.1, 50), step * 1000)
    return load([str(logdir)]).runs


def jobs(runs) -> list[ChartJob]:
    a, b = runs
    weight, bias = f"{TAG}/weight", f"{TAG}/bias"
    title = f"{weight} ({a.name})"
    out = [ChartJob(kind, a.name, weight, title, a.histograms[weight], "#ff7043")
           for kind in ("offset", "overlay", "distribution", "heatmap")]
    out.append(ChartJob("scalar", a.name, TAG, f"{TAG} ({a.name})", a.scalars[TAG], "#ff7043"))
    out.append(ChartJob("layer", a.name, TAG, f"Layer {TAG} ({a.name})", [a.histograms[weight], a.histograms[bias]],
                        "#ff7043", tag_kinds={weight: "weights", bias: "bias"}))
    names = [a.name, b.name]
    for tag in (TAG, weight):
        series = [r.scalars[tag] if tag == TAG else r.histograms[tag] for r in runs]
        out.append(ChartJob("compare", ", ".join(names), tag, f"{tag}: " + " vs ".join(names), series,
                            ["#ff7043", "#0077bb"], runs=names))
    out.append(ChartJob("overview", a.name, "overview", f"Every layer's weights, first step against last ({a.name})",
                        [a.histograms[weight], a.histograms[bias]], "#ff7043",
                        tag_kinds={TAG + "/one": "moved 3%", TAG + "/two": "moved 1%"}, runs=[TAG + "/two"]))
    return out


@pytest.mark.parametrize("index", range(9))
def test_long_names_are_cut_to_fit_and_no_warning_gets_out(runs, index, monkeypatch):
    job = jobs(runs)[index]
    seen: list = []

    def recording(fig):
        png = real(fig)
        renderer = fig.canvas.get_renderer()
        texts = [fig._suptitle] if fig._suptitle is not None else []
        for ax in fig.axes:
            texts += [t for t in (ax.title, ax._left_title, ax._right_title) if t.get_text()]
            if ax.get_legend() is not None:
                texts += list(ax.get_legend().get_texts())
        seen.append((fig, [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible()]))
        return png

    real = encode_module.to_png
    module = importlib.import_module(f"reportgen.charts.{job.kind if job.kind != 'overlay' else 'offset'}")
    monkeypatch.setattr(module, "to_png", recording)
    if job.kind == "compare":
        for name in ("scalar", "distribution"):
            monkeypatch.setattr(importlib.import_module(f"reportgen.charts.{name}"), "to_png", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chart = render_job(job)
    assert chart.error is None, chart.error
    assert TAG in chart.alt or job.kind in ("overview", "layer")  # the full name is in the words
    (fig, texts), = seen
    assert fig.get_layout_engine() is None  # fixed margins held: no fallback to the constrained layout
    assert texts
    width = fig.bbox.width
    for text, box in texts:
        assert len(text) <= 110, (job.kind, text)
        assert box.x0 >= -0.5 and box.x1 <= width + 0.5, (job.kind, text)
    assert any("…" in text for text, _ in texts), job.kind  # something was cut: the case under test


def test_fit_keeps_the_prefix_and_cuts_the_rest_first():
    from reportgen.charts.style import fit, text_width

    title = f"{TAG} ({RUN})"
    cut = fit(title, 2.9, 7.5, True, keep="ray/tune/episode")
    assert text_width(cut, 7.5, True) <= 2.9 and "…" in cut
    short = "ray/tune/episode_reward_mean"
    cut = fit(f"{short} ({RUN})", 3.0, 7.5, True, keep=short)
    assert cut.startswith(short + " (") and cut.endswith(")") and text_width(cut, 7.5, True) <= 3.0
    assert fit("loss (run)", 2.9, 7.5, True, keep="loss") == "loss (run)"


def test_chart_workers_forked_after_long_names_were_drawn_here_draw_every_chart(runs):
    """The text caches are filled in this process (titles cut with an ellipsis, legends), then
    worker processes are forked to draw: FreeType failed in them on this process' font objects
    ("invalid outline", "too many hints"), and charts became error placeholders."""
    from reportgen.charts.render import render_jobs

    every = jobs(runs) * 3
    here = [render_job(job) for job in every]
    forked = render_jobs(every, workers=2)
    assert [c.error for c in forked] == [None] * len(every)
    assert [c.png for c in forked] == [c.png for c in here]


def test_text_is_shaped_again_in_the_fonts_matplotlib_opens_after_dropping_its_own(runs):
    """What Matplotlib does in a forked process, and when its font cache is full: it opens its
    fonts again. Cached shapes of the old font objects are not used with the new ones."""
    import gc

    from matplotlib import font_manager

    from reportgen.charts import textcache

    before = [render_job(job) for job in jobs(runs)]
    again = [render_job(job) for job in jobs(runs)]
    shaped = textcache.stats["shapes"]
    [render_job(job) for job in jobs(runs)]
    assert textcache.stats["shapes"] == shaped  # drawn again with the same fonts: every shape kept
    font_manager._get_font.cache_clear()
    gc.collect()
    after = [render_job(job) for job in jobs(runs)]
    assert textcache.stats["shapes"] > shaped  # shaped again in the new font objects
    assert [c.png for c in after] == [c.png for c in before] == [c.png for c in again]
    assert all(c.error is None for c in after)
