"""What a later night compares against (reportgen.baseline): per run its result metrics and its
layers' last-step weight quantiles, made from the diagnosis and the logs as report.json keeps them."""

from __future__ import annotations

import numpy as np

from reportgen.baseline import weight_quantiles
from reportgen.diagnosis import Diagnosis
from reportgen.model import Run
from reportgen.report import Report


def result_metrics(diagnosis: Diagnosis, run: str) -> dict[str, dict]:
    """The curves a later night is compared by: the run's results and its objective (unless a
    signed surrogate), each at the end (the end window's median), at its best, and the noise of
    its end window."""
    features = diagnosis.features.get(run)
    if features is None:
        return {}
    objective = features.objective()  # a signed surrogate (a policy-gradient loss) says nothing by its level
    curves = [*features.results(), *([objective] if objective is not None and not objective.signed else [])]
    out = {}
    for c in curves:
        if not c.points:
            continue
        end = c.values[-max(c.window, 1):]
        out[c.tag] = {"role": str(c.role), "end": float(c.late), "best": float(c.best), "best_step": int(c.best_step),
                      "last": float(c.values[-1]), "higher_is_better": c.higher_is_better,
                      "end_noise": float(np.std(end)) if len(end) > 1 else 0.0}
    return out


def main_result(diagnosis: Diagnosis, run: str) -> str | None:
    features = diagnosis.features.get(run)
    results = [c for c in features.results() if c.points] if features is not None else []
    return results[0].tag if results else None


def last_weights(run: Run, diagnosis: Diagnosis) -> dict[str, dict]:
    """Per layer, its weights tag and the quantiles of its last kept step (baseline.QUANTILE_POINTS)."""
    features = diagnosis.features.get(run.name)
    out = {}
    for lf in features.layers if features is not None else []:
        for s in lf.of_kind("weights")[:1]:
            series = run.histograms.get(s.tag)
            if series is not None and len(series.buckets):
                quantiles = weight_quantiles(np.asarray(series.buckets[-1]))
                if quantiles:
                    moved = float(s.change) if s.change is not None and np.isfinite(s.change) else None
                    out[lf.layer.name] = {"tag": s.tag, "step": int(series.kept_steps()[-1]),
                                          "values": float(series.count[series.kept[-1]]), "moved": moved,
                                          "quantiles": quantiles}
    return out


def snapshot(report: Report) -> dict:
    """The runs' and findings' fields of report.json that baseline.compare reads, made from the
    report as report.json makes them."""
    return {
        "generated_at": report.generated_at,
        "runs": [{"name": run.name, "last_step": run.last_step, "main_metric_tag": run.main_result,
                  "metrics": run.metrics, "weights": run.weights} for run in report.runs],
        "findings": [f.as_dict() for f in report.findings],
    }
