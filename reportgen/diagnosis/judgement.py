"""Whether a run could be judged at all, and if not, why.

A run is `healthy` only when at least one rule had something to judge: a training objective,
reward, evaluation loss or accuracy long enough for a trend (or shorter, but clearly improving:
evidence that training works); weights logged over enough steps to
see them move; activations or gradients to look at; or a finding that needed no trend (NaN).
Otherwise it is `not judged`, with the reason a reader needs ("only images and a graph", "no
loss or reward scalar", "3 points: too few to judge a trend").
"""

from __future__ import annotations

from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.roles import Role
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Finding, Severity
from reportgen.model import Run
from reportgen.numbers import and_list

JUDGED_ROLES = (Role.OBJECTIVE, Role.REWARD, Role.EVAL_LOSS, Role.ACCURACY)
_ACTIVITY = ("activations", "pre-activations", "outputs", "gradients")


def unjudged_reason(run: Run, features: RunFeatures, findings: list[Finding], t: Thresholds) -> str | None:
    """Why nothing in the run could be judged; None when something could."""
    if any(f.severity is not Severity.INFO for f in findings):
        return None
    curves = features.of_role(*JUDGED_ROLES)
    if any(c.trend_judged(t) or c.improving(t) for c in curves):  # a short curve that clearly improves is evidence
        return None
    series = [s for lf in features.layers for s in lf.series.values()]
    if any(s.kind == "weights" and len(s.steps) >= t.min_steps for s in series):
        return None
    if any(s.kind in _ACTIVITY and s.count > 0 for s in series):
        return None
    return _reason(run, features, curves, series, t)


def _reason(run: Run, features: RunFeatures, curves: list, series: list, t: Thresholds) -> str:
    if not run.scalars and not run.histograms:
        kinds = sorted(set(run.other.values()))
        if kinds:
            return "it holds only " + and_list([_KIND_WORDS.get(k, k) for k in kinds])
        read = sum(f.records_read for f in run.files)
        return "its files hold no values" + (" (only their header)" if read else " (no intact record)")
    parts = []
    if curves:
        longest = max(curves, key=lambda c: c.points)
        parts.append(f"{longest.tag} has {_points(longest.points)}: too few to judge a trend "
                     f"(at least {t.min_trend_points:g})")
    elif run.scalars:
        logged = ", ".join(list(run.scalars)[:4]) + (", ..." if len(run.scalars) > 4 else "")
        parts.append(f"no loss, reward or accuracy scalar (it logs {logged})")
    if series:
        steps = max(len(s.steps) for s in series)
        parts.append(f"its weight histograms have {_points(steps, 'step')}: too few to see them move "
                     f"(at least {t.min_steps:g})" if any(s.kind == "weights" for s in series)
                     else "its histograms hold no weights, activations or gradients to judge")
    return "; ".join(parts)


_KIND_WORDS = {"image": "images", "graph": "a graph", "audio": "audio", "text": "text", "hparams": "hparams records",
               "tensor:pr_curves": "PR curves", "tensor:text": "text", "tensor:images": "images"}


def _points(n: int, unit: str = "point") -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


