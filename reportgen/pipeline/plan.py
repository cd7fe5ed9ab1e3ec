"""Which charts a report draws: the plan the worker processes draw from.

Per histogram tag its offset (or overlay) view and its distribution, and its heatmap only where
it shows what those two do not (the tag's range or shape changes over the run; all of them
with `--charts full`); per scalar a line chart; per tag several runs share, one comparison
chart; per run, after the diagnosis, one overview of every layer (first step against last).
Sweeps (the compact set) draw a row of distribution panels per layer instead of per-tag charts.
"""

from __future__ import annotations

import numpy as np

from reportgen.charts import PER_TAG_KINDS, ChartJob, run_color
from reportgen.charts.overview import moved_words
from reportgen.charts.sweep import MetricPoints
from reportgen.config import Options
from reportgen.diagnosis import Diagnosis, Layer
from reportgen.diagnosis.roles import Role, classify
from reportgen.findings import Severity
from reportgen.model import HistogramSeries, Logs, ScalarSeries
from reportgen.sweeps import AGAINST_MIN_RUNS, Sweep
from reportgen.sweeps.facts import is_seed


def compact_charts(logs: Logs, options: Options) -> bool:
    """Whether the report draws the compact chart set (see SWEEP_RUNS and --charts)."""
    return options.compact_for(len(logs.runs))


def plan_charts(logs: Logs, layers: dict[str, list[Layer]], options: Options, colors: dict[str, str]) -> list[ChartJob]:
    """Every chart drawn before the diagnosis (see the module's docstring); the compact set
    (sweeps) keeps the layer rows and the scalar charts, draws a distribution for a histogram
    that is not in any row, and no comparison charts."""
    compact = compact_charts(logs, options)
    jobs: list[ChartJob] = []
    steps = {"offset": options.max_steps, "overlay": options.max_steps, "distribution": options.max_distribution_steps}
    hidden = ("heatmap", "overlay" if options.mode == "offset" else "offset")  # heatmaps: only where they tell
    views = [kind for kind in PER_TAG_KINDS if kind not in hidden]
    for run in logs.runs:
        color = colors[run.name]
        for layer in layers.get(run.name, []):
            layer_series = [run.histograms[tag] for tag in layer.tags if tag in run.histograms]
            if compact:
                if len(layer_series) >= 2:
                    jobs.append(ChartJob("layer", run.name, layer.name, f"Layer {layer.name} ({run.name})",
                                         layer_series, color, max_steps=options.max_distribution_steps,
                                         tag_kinds=dict(layer.tags)))
                else:
                    jobs += [ChartJob("distribution", run.name, s.tag, f"{s.tag} ({run.name})", s, color,
                                      max_steps=options.max_distribution_steps) for s in layer_series]
                continue
            for series in layer_series:
                kinds = views + (["heatmap"] if options.charts == "full" or changes_over_run(series) else [])
                jobs += [ChartJob(kind, run.name, series.tag, f"{series.tag} ({run.name})", series, color,
                                  max_steps=steps.get(kind)) for kind in kinds]
        for tag, scalar in run.scalars.items():
            jobs.append(ChartJob("scalar", run.name, tag, f"{tag} ({run.name})", scalar, color))
    if not compact:
        jobs.extend(_comparison_jobs(logs, options, colors))
    return jobs


# A heatmap earns its place when the tag's range or shape changes a lot over the run: its median
# moves by this share of the first step's spread (6.68%..93.32%), its shape by this share, or its
# spread grows or shrinks by more than this factor. Smaller changes, and a tag that starts
# constant (a zero-initialised bias), show as well in its distribution chart.
HEATMAP_MOVE = 1.0
HEATMAP_SPREAD = 3.0


def changes_over_run(series: HistogramSeries) -> bool:
    """Whether the tag's range or shape changes enough over the run for a heatmap to show more
    than its distribution chart does."""
    if len(series.steps) < 3 or not len(series.quantiles):
        return False
    first, last = series.quantiles[0], series.quantiles[-1]
    if not (np.isfinite(first).all() and np.isfinite(last).all()):
        return True  # it broke: the heatmap shows where
    spread0, spread1 = first[7] - first[1], last[7] - last[1]
    if spread0 <= 0:
        return False
    if max(spread1 / spread0, spread0 / max(spread1, 1e-300)) > HEATMAP_SPREAD:
        return True
    shape0, shape1 = (first - first[4]) / spread0, (last - last[4]) / max(spread1, 1e-300)
    moved = abs(last[4] - first[4]) / spread0
    return bool(moved > HEATMAP_MOVE or np.abs(shape0 - shape1)[1:-1].max() > HEATMAP_MOVE)


def overview_jobs(logs: Logs, diagnosis: Diagnosis, colors: dict[str, str]) -> list[ChartJob]:
    """Per run with weights, the overview of every layer: first step against last, layers with
    a warning or worse marked (drawn after the diagnosis, which says which). The jobs carry
    only those two steps of each series: they are sent to the workers."""
    jobs = []
    for run in logs.runs:
        features = diagnosis.features.get(run.name)
        if features is None:
            continue
        weights = [(lf.layer.name, s) for lf in features.layers for s in lf.of_kind("weights")[:1]
                   if s.tag in run.histograms and len(run.histograms[s.tag].kept)]
        if not weights:
            continue
        flagged = sorted({f.layer for f in diagnosis.findings if f.run == run.name and f.severity is not Severity.INFO})
        ends = [run.histograms[s.tag].first_and_last() for _, s in weights]
        jobs.append(ChartJob("overview", run.name, "overview", f"Every layer's weights, first step against last "
                             f"({run.name})", ends, colors[run.name],
                             tag_kinds={name: moved_words(s.change) for name, s in weights}, runs=flagged))
    return jobs


# Runs' last-step distributions differ when their quantiles (6.68%..93.32%) are apart by this
# share of the spread on average: below it, their comparison chart would show lines on top of
# each other, and the table says the same.
COMPARE_DIFFERS = 0.1
COMPARED_ROLES = (Role.OBJECTIVE, Role.EVAL_LOSS, Role.REWARD, Role.ACCURACY)


def differ(series: list[HistogramSeries]) -> bool:
    """Whether some two runs' last-step distributions of one tag are visibly apart."""
    last = [s.quantiles[-1][1:-1] for s in series if len(s.quantiles) and np.isfinite(s.quantiles[-1]).all()]
    if len(last) < 2:
        return False
    spread = float(np.mean([q[-1] - q[0] for q in last]))
    if spread <= 0:
        return any(not np.array_equal(last[0], q) for q in last[1:])
    return any(float(np.abs(a - b).mean()) / spread > COMPARE_DIFFERS for i, a in enumerate(last) for b in last[i + 1:])


def _comparison_jobs(logs: Logs, options: Options, colors: dict[str, str]) -> list[ChartJob]:
    """One comparison chart per tag that several runs have, where they differ: histograms whose
    last steps are apart, and the curves that say how training went (objective, reward,
    evaluation loss, accuracy)."""
    jobs = []
    histograms: dict[str, list[tuple[str, HistogramSeries | ScalarSeries]]] = {}
    scalars: dict[str, list[tuple[str, HistogramSeries | ScalarSeries]]] = {}
    for run in logs.runs:
        for tag, series in run.histograms.items():
            histograms.setdefault(tag, []).append((run.name, series))
        for tag, scalar in run.scalars.items():
            if classify(tag, run.name).role in COMPARED_ROLES:
                scalars.setdefault(tag, []).append((run.name, scalar))
    for tag, group in [*histograms.items(), *scalars.items()]:
        if len(group) < 2 or (tag in histograms and not differ([s for _, s in group])):  # type: ignore[misc]
            continue
        names = [name for name, _ in group]
        title = f"{tag}: " + " vs ".join(n or "." for n in names)
        jobs.append(ChartJob("compare", ", ".join(names), tag, title, [s for _, s in group], [colors[n] for n in names],
                             max_steps=options.max_distribution_steps, runs=names))
    return jobs


SWEEP_KINDS = ("against", "seeds")


def sweep_jobs(sweep: Sweep | None, colors: dict[str, str]) -> list[ChartJob]:
    """A sweep's charts: its metric at the end against each numeric hyperparameter that varies
    (not the seed: seed noise is what the bands show), then per seed group the metric's band."""
    if sweep is None or not sweep.metric:
        return []
    metric = sweep.metric
    jobs = []
    for name in sweep.varying:
        rows = [r for r in sweep.rows if r.metric_end is not None and name in r.hparams]
        values = [r.hparams[name] for r in rows]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if is_seed(name) or not numeric or len(set(values)) < 2 or len(rows) < AGAINST_MIN_RUNS:
            continue
        points = MetricPoints(hparam=name, metric=metric, higher_is_better=sweep.higher_is_better,
                              values=[float(v) for v in values],
                              ends=[float(r.metric_end) for r in rows if r.metric_end is not None],
                              runs=[r.run for r in rows], best_run=sweep.best_run)
        jobs.append(ChartJob("against", "", name, f"{metric} against {name}", points, run_color(0)))
    for group in sweep.groups:
        band = next((b for b in group.bands if b.tag == metric), None)
        if band is not None:
            jobs.append(ChartJob("seeds", group.name, metric, f"{metric}: {group.name} ({len(group.runs)} seeds)",
                                 band, colors.get(group.runs[0], run_color(0)), runs=group.runs))
    return jobs
