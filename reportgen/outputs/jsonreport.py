"""The machine-readable report (`-o report.json`)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from reportgen.baseline import Since
from reportgen.report import Chart, Report, TagInventory
from reportgen.sweeps import SeedGroup, Sweep

# Version history:
# 1: runs (inventory, warnings, files, layers with text) and findings.
# 2: added runs[].first_step/last_step/wall_start/wall_end/loss_tag/final_loss/top_findings,
#    runs[].layers[].charts (kind, tag, title, alt, error; no image bytes), comparison_charts,
#    artifacts and counts (findings per severity).
# 3: histograms[]/scalars[] `steps` counts distinct steps and `events` the values read (a step
#    logged twice is one step, two events); scalars[].role (objective, objective_component,
#    eval_loss, rl_value_loss, reward, accuracy, learning_rate, system, other); verdicts may be
#    "not judged" (the run summary says why); findings of the new code `overfitting`.
#    runs[].layers[].series[]: per histogram tag the measured features its words come from
#    (shape class, moments, quantiles, zero/bound shares, change, init match; docs/shapes.md).
# 4 (sweeps, issue 16): runs[].hparams (flat name -> value: hparams plugin records, hparams.yaml,
#    params.json, config.yaml/json; nested names dotted); seed_groups[] (runs that differ only by
#    seed: runs, seeds, shared hparams, majority verdict and its count, finding votes, the main
#    metric's spread over the seeds); sweep (null for a single run or runs with neither hparams nor
#    seeds: main metric, rows sorted best first with varying hparams, end/best values, verdict and
#    findings by code, constant hparams, best run, findings_vs_hparams with counts and sentences).
# 5 (since last night, issue 15): findings[].fingerprint (a hash of run, layer and code: the same
#    problem on two nights has the same id); runs[].metrics (the result curves and the objective:
#    role, end, best, best_step, last, higher_is_better, end_noise), runs[].main_metric_tag,
#    runs[].weights (per layer its weights tag, last kept step and 20 quantiles at
#    baseline.QUANTILE_POINTS): what a later build's --baseline compares with; since_baseline (null
#    without --baseline: new / resolved / persisting findings by fingerprint, layers with their
#    Wasserstein-1 distance and `changed`, metrics with deltas, runs_added / runs_removed, steps,
#    nothing_changed and its headline); sweep_charts and since_charts (kind, tag, title, alt);
#    history (null without --history: nights oldest first with each run's main metric at the end
#    and findings by severity, runs, each run's metric tag, first_seen: fingerprint -> night).
#    Schema: reportgen/schemas/report.schema.json.
FORMAT_VERSION = 5


def _tag(t: TagInventory) -> dict[str, Any]:
    found = {"tag": t.tag, "steps": t.steps, "events": t.events, "first_step": t.first_step, "last_step": t.last_step}
    return {**found, "role": t.role} if t.kind == "scalar" else found


def _chart(c: Chart) -> dict[str, Any]:
    return {"kind": c.kind, "run": c.run, "tag": c.tag, "title": c.title, "alt": c.alt, "error": c.error}


def _seed_group(g: SeedGroup) -> dict[str, Any]:
    return {"name": g.name, "runs": g.runs, "seeds": g.seeds, "hparams": g.hparams, "verdict": g.verdict,
            "verdict_count": g.verdict_count, "verdict_text": g.verdict_text,
            "votes": [{"code": v.code, "layer": v.layer, "runs": v.runs, "of": v.of, "text": v.text} for v in g.votes],
            "metric": ({"tag": g.metric.tag, "mean": g.metric.mean, "std": g.metric.std, "min": g.metric.low,
                        "max": g.metric.high} if g.metric else None)}


def _sweep(s: Sweep) -> dict[str, Any]:
    return {
        "metric": s.metric, "higher_is_better": s.higher_is_better, "objective": s.objective, "sort": s.sort,
        "varying": s.varying, "constant": s.constant, "best_run": s.best_run, "best_text": s.best_text,
        "codes": s.codes,
        "rows": [{"run": r.run, "hparams": r.hparams, "metric_end": r.metric_end, "metric_best": r.metric_best,
                  "objective_end": r.objective_end, "objective_best": r.objective_best, "verdict": r.verdict,
                  "findings": r.findings, "group": r.group} for r in s.rows],
        "findings_vs_hparams": [
            {"code": c.code, "runs_with": c.runs_with, "runs": c.runs, "sentence": c.sentence,
             "splits": [{"hparam": sp.hparam, "score": sp.score, "sentence": sp.sentence,
                         "parts": [asdict(p) for p in sp.parts]} for sp in c.splits]}
            for c in s.against],
    }


def _since(s: Since) -> dict[str, Any]:
    return {
        "baseline": s.baseline, "baseline_generated_at": s.baseline_generated_at,
        "headline": s.headline(), "nothing_changed": s.nothing_changed,
        "new": [asdict(f) for f in s.new], "resolved": [asdict(f) for f in s.resolved],
        "persisting": [asdict(f) for f in s.persisting],
        "layers": [{"run": c.run, "layer": c.layer, "tag": c.tag, "distance": c.distance, "threshold": c.threshold,
                    "moved_before": c.moved_before, "moved_now": c.moved_now, "changed": c.changed}
                   for c in s.layers],
        "layers_changed": [{"run": c.run, "layer": c.layer, "distance": c.distance} for c in s.layers_changed],
        "metrics": [{"run": m.run, "tag": m.tag, "role": m.role, "main": m.main, "before": m.before, "now": m.now,
                     "delta": m.delta, "relative": m.relative, "before_best": m.before_best, "now_best": m.now_best,
                     "higher_is_better": m.higher_is_better, "worse": m.worse, "moved": m.moved(), "noise": m.noise}
                    for m in s.metrics],
        "runs_added": s.runs_added, "runs_removed": s.runs_removed,
        "steps": [asdict(st) for st in s.steps],
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "reportgen_version": report.version,
        "title": report.title,
        "generated_at": report.generated_at,
        "sources": report.sources,
        "verdict": report.verdict,
        "runs": [
            {
                "name": run.name,
                "path": run.path,
                "verdict": run.verdict,
                "summary": run.summary,
                "first_step": run.first_step,
                "last_step": run.last_step,
                "wall_start": run.wall_start,
                "wall_end": run.wall_end,
                "loss_tag": run.loss_tag,
                "final_loss": run.final_loss,
                "top_findings": [f.code for f in run.top_findings],
                "histograms": [_tag(t) for t in run.histograms],
                "scalars": [_tag(t) for t in run.scalars],
                "other": [{"tag": t.tag, "kind": t.kind, "records": t.steps} for t in run.other],
                "layers": [
                    {"name": layer.name, "tags": layer.tags, "text": layer.paragraph,
                     "findings": [f.code for f in layer.findings], "charts": [_chart(c) for c in layer.charts],
                     "series": [asdict(s) for s in layer.series]}
                    for layer in run.layers
                ],
                "files": [asdict(f) for f in run.files],
                "warnings": run.warnings,
                "hparams": run.hparams,
                "main_metric_tag": run.main_result,
                "metrics": run.metrics,
                "weights": run.weights,
            }
            for run in report.runs
        ],
        "seed_groups": [_seed_group(g) for g in report.sweep.groups] if report.sweep else [],
        "sweep": _sweep(report.sweep) if report.sweep else None,
        "findings": [f.as_dict() for f in report.findings],
        "counts": {str(s): n for s, n in report.overview.severity_counts.items()},
        "comparison_charts": [_chart(c) for c in report.comparison_charts],
        "sweep_charts": [_chart(c) for c in report.sweep_charts],
        "since_charts": [_chart(c) for c in report.since_charts],
        "since_baseline": _since(report.since) if report.since else None,
        "history": asdict(report.history) if report.history else None,
        "warnings": report.warnings,
        "artifacts": report.artifacts,
    }


def _clean(value: Any) -> Any:
    """JSON has no NaN or Infinity: non-finite numbers become the strings "nan", "inf", "-inf"."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _clean(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The JSON; `pdf` is not used (the Writer protocol)."""
    text = json.dumps(_clean(report_dict(report)), indent=2, allow_nan=False, ensure_ascii=False)
    return (text + "\n").encode("utf-8")
