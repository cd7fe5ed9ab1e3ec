"""One run's section of the report: its layers with their words and charts, its inventory and
the numbers the tables show, from the run, its analysis and its drawn charts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from reportgen.charts import PER_TAG_KINDS
from reportgen.diagnosis.curves import ScalarFeatures
from reportgen.diagnosis.features import SeriesFeatures
from reportgen.diagnosis.roles import Role
from reportgen.findings import Verdict, worst_first
from reportgen.histmath import BASIS_POINTS
from reportgen.model import HistogramSeries, Run, ScalarSeries
from reportgen.pipeline.snapshot import last_weights, main_result, result_metrics
from reportgen.report import Chart, FileInventory, LayerSection, RunSection, SeriesSummary, TagInventory

if TYPE_CHECKING:
    from reportgen.pipeline import Analysis


def _anchor(prefix: str, *indices: int) -> str:
    # Anchors are made from positions, never from tag text, so they are always safe ids.
    return prefix + "-" + "-".join(str(i) for i in indices)


def _inventory(series: HistogramSeries | ScalarSeries, role: str = "") -> TagInventory:
    n = len(series.steps)
    kind = "histogram" if isinstance(series, HistogramSeries) else "scalar"
    distinct = len(np.unique(series.steps))
    last = float(series.values[-1]) if isinstance(series, ScalarSeries) and n else None
    return TagInventory(series.tag, kind, distinct, int(series.steps[0]) if n else None,
                        int(series.steps[-1]) if n else None, events=n, role=role, last_value=last)


def _series_summary(s: SeriesFeatures) -> SeriesSummary:
    """The measured features the words about one tag come from, as plain numbers."""
    finite = lambda x: float(x) if np.isfinite(x) else None
    init = ({"family": s.init.family, "scale": s.init.scale, "fans": list(s.init.shape) if s.init.shape else None}
            if s.init else None)
    return SeriesSummary(
        tag=s.tag, kind=s.kind, shape=s.shape_last, shape_first=s.shape_first, values=s.count,
        mean=finite(s.mean[-1]) if s.mean.size else None, std=finite(s.std[-1]) if s.std.size else None,
        skewness=s.moments_last[0], excess_kurtosis=s.moments_last[1],
        quantiles={f"{bp / 100:g}%": finite(v) for bp, v in zip(BASIS_POINTS, s.q_last)},
        zero_fraction=float(s.zero_fraction[-1]) if s.zero_fraction.size else 0.0,
        bound_fraction=float(s.bound_fraction[-1]) if s.bound_fraction.size else 0.0,
        change=finite(s.change), init=init)


def run_section(index: int, run: Run, analysis: Analysis, charts_by_key: dict[tuple[str, str, str], Chart],
                 color: str) -> RunSection:
    diagnosis = analysis.diagnosis
    run_findings = [f for f in diagnosis.findings if f.run == run.name]
    layers = []
    for j, layer in enumerate(diagnosis.layers.get(run.name, [])):
        # The layer row (all of the layer's tags side by side) first, then each tag's charts.
        row = charts_by_key.get((run.name, layer.name, "layer"))
        layer_charts = ([row] if row else []) + [
            charts_by_key[(run.name, tag, kind)] for tag in layer.tags
            for kind in PER_TAG_KINDS if (run.name, tag, kind) in charts_by_key]
        features = diagnosis.features.get(run.name)
        measured = next((lf for lf in features.layers if lf.layer.name == layer.name), None) if features else None
        layers.append(LayerSection(
            run=run.name, name=layer.name, anchor=_anchor("layer", index, j), tags=layer.tags,
            paragraph=analysis.layer_text.get((run.name, layer.name), ""),
            findings=[f for f in run_findings if f.layer == layer.name], charts=layer_charts,
            series=[_series_summary(s) for s in measured.series.values()] if measured else [],
        ))
    all_steps = [s.steps for s in run.series() if len(s.steps)]
    span = run.wall_span()
    curve = _progress_curve(analysis, run.name)
    trend_tag = curve.tag if curve is not None else ""
    summary = analysis.summary_parts.get(run.name, [])
    return RunSection(
        name=run.name, anchor=_anchor("run", index), color=color, path=run.path,
        verdict=diagnosis.run_verdict.get(run.name, Verdict.HEALTHY), summary=" ".join(summary),
        summary_parts=summary,
        top_findings=worst_first(run_findings)[:3], layers=layers,
        scalar_charts=[charts_by_key[(run.name, t, "scalar")] for t in run.scalars
                       if (run.name, t, "scalar") in charts_by_key and t != trend_tag],
        overview=charts_by_key.get((run.name, "overview", "overview")),
        trend=charts_by_key.get((run.name, trend_tag, "scalar")) if trend_tag else None,
        main_metric=_main_metric(analysis, run.name),
        histograms=[_inventory(s) for s in run.histograms.values()],
        scalars=[_inventory(s, _role_of(analysis, run.name, s.tag)) for s in run.scalars.values()],
        other=[TagInventory(tag, "other: " + kind, run.other_counts.get(tag, 0), None, None)
               for tag, kind in run.other.items()],
        files=[FileInventory(f.path, f.size, f.records_read, f.records_skipped, list(f.problems)) for f in run.files],
        warnings=list(run.warnings), hparams=dict(run.hparams),
        first_step=int(min(s[0] for s in all_steps)) if all_steps else None,
        last_step=int(max(s[-1] for s in all_steps)) if all_steps else None,
        wall_start=span[0] if span else None, wall_end=span[1] if span else None,
        not_judged=diagnosis.not_judged.get(run.name, ""), checked=diagnosis.checked.get(run.name, []),
        metrics=result_metrics(diagnosis, run.name), main_result=main_result(diagnosis, run.name),
        weights=last_weights(run, diagnosis), **_final_loss(run),
    )


def _progress_curve(analysis: Analysis, run: str) -> ScalarFeatures | None:
    """The curve that says how training went: the reward in an RL run, else the objective unless
    it is a signed surrogate, else an evaluation loss or an accuracy."""
    features = analysis.diagnosis.features.get(run)
    if features is None:
        return None
    objective = features.objective()
    if features.reward() is not None:
        return features.reward()
    if objective is not None and not objective.signed:
        return objective
    others = [*features.of_role(Role.EVAL_LOSS), *features.of_role(Role.ACCURACY)]
    return max(others, key=lambda c: c.points, default=objective)


def _main_metric(analysis: Analysis, run: str) -> str:
    curve = _progress_curve(analysis, run)
    if curve is None or not curve.points:
        return ""
    best = f" (best {curve.best:.3g} at step {curve.best_step})" if f"{curve.best:.3g}" != f"{curve.late:.3g}" else ""
    return f"{curve.tag} {curve.late:.3g}{best}"  # the end window's median, as the trend and the sweep say it


def _role_of(analysis: Analysis, run: str, tag: str) -> str:
    """A scalar's role; a tag folded into another as its alias has that one's."""
    for curve in analysis.diagnosis.features[run].scalars.values() if run in analysis.diagnosis.features else ():
        if curve.tag == tag or tag in curve.aliases:
            return str(curve.role)
    return ""


def _final_loss(run: Run) -> dict:
    """The last value of the scalar that reads as the training loss: a tag with "loss" in it,
    preferring ones that do not say val/eval/test."""
    tags = [t for t, s in run.scalars.items() if "loss" in t.lower() and len(s.steps)]
    tags.sort(key=lambda t: (bool(re.search(r"val|eval|test", t, re.I)), len(t)))
    if not tags:
        return {"loss_tag": None, "final_loss": None}
    return {"loss_tag": tags[0], "final_loss": float(run.scalars[tags[0]].values[-1])}
