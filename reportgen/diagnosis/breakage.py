"""Where a run broke: its non-finite values in the order they appeared, and the mixed-precision
overflow that is not a break.

A NaN spreads: once one tensor holds it, the next update carries it into every layer it touches.
The reader needs where it started (DeepLocalize's "which layer went first", from logs alone);
everything after is a consequence. fp16 training with a grad scaler overflows on purpose: the
scaler skips each step whose gradients hold Inf and lowers its scale (torch.amp.GradScaler:
backoff 0.5), so Inf gradients at a few steps, with finite weights and loss, are how it works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.thresholds import Thresholds

GRAD_NORM = re.compile(r"grad(ient)?s?[_-]?norm|gnorm", re.IGNORECASE)
LOSS_SCALE = re.compile(r"loss[_-]?scale|grad[_-]?scaler?|(^|[/_])scale$", re.IGNORECASE)
# The scaler pattern holds while overflowing steps stay a minority: a run whose gradients are Inf
# at most steps is not skipping now and then, it is not training.
MOST_STEPS = 0.5


@dataclass(frozen=True)
class NonFinite:
    """One series' non-finite values: from which step, at how many of its steps."""

    step: int  # first step with a NaN/Inf (for a histogram that stops: the step after its last)
    layer: str  # the layer, or the scalar's tag
    tag: str
    kind: str  # the histogram's kind, or "scalar"
    steps: int  # steps holding NaN/Inf
    of: int  # steps logged
    order: int  # the layer's position in the network (scalars after every layer): ties at one step
    stops: bool = False  # a histogram that ends early (writers stop when values turn NaN)
    recovers: bool = False  # finite again at its last step
    last_logged: int = 0  # for a histogram that stops: its last step
    until: int = 0  # the last step with a NaN/Inf (for a histogram that stops: the scalars' last)


def nonfinite_events(run: RunFeatures, t: Thresholds) -> list[NonFinite]:
    """Every series of the run that holds NaN/Inf (or, for histograms, stops early), first first."""
    events = []
    scalar_end = max((int(s.steps[-1]) for s in run.scalars.values() if s.steps.size), default=None)
    for position, lf in enumerate(run.layers):
        for s in lf.series.values():
            if s.nonfinite_steps.size:
                events.append(NonFinite(int(s.nonfinite_steps[0]), lf.layer.name, s.tag, s.kind,
                                        len(s.nonfinite_steps), len(s.steps), position,
                                        recovers=int(s.nonfinite_steps[-1]) < s.last_step,
                                        until=int(s.nonfinite_steps[-1])))
            elif scalar_end is not None and len(s.steps) >= t.histogram_stop_min_steps:
                interval = float(np.median(np.diff(s.steps)))
                gap = scalar_end - s.last_step
                late = gap > t.histogram_stop_share * (scalar_end - s.first_step)
                if interval > 0 and gap > t.histogram_stop_intervals * interval and late:
                    events.append(NonFinite(s.last_step + int(interval), lf.layer.name, s.tag, s.kind, 0,
                                            len(s.steps), position, stops=True, last_logged=s.last_step,
                                            until=scalar_end))
    for scalar in run.scalars.values():
        if scalar.nonfinite_steps.size:
            last = max(int(scalar.steps[-1]) if scalar.steps.size else -1, int(scalar.nonfinite_steps[-1]))
            events.append(NonFinite(int(scalar.nonfinite_steps[0]), scalar.tag, scalar.tag, "scalar",
                                    len(scalar.nonfinite_steps), scalar.events, len(run.layers),
                                    recovers=int(scalar.nonfinite_steps[-1]) < last,
                                    until=int(scalar.nonfinite_steps[-1])))
    return sorted(events, key=lambda e: (e.step, e.stops, e.order))  # a value seen before a histogram missed


@dataclass(frozen=True)
class Overflow:
    """Gradient overflow that a grad scaler skipped."""

    skipped: int  # steps with a non-finite gradient (or gradient norm)
    logged: int  # steps of the series that counted them
    first: int
    scale_tag: str  # the loss-scale scalar, when logged
    scale_drops: int  # how often it fell


def scaler_overflow(run: RunFeatures, events: list[NonFinite]) -> Overflow | None:
    """The grad-scaler pattern: only gradients (histograms or a gradient-norm scalar) hold NaN/Inf,
    at a minority of steps, finite again afterwards, while every weight, activation and the
    objective stay finite. None when the values say anything else."""
    if not events:
        return None
    for e in events:
        gradient = e.kind == "gradients" or (e.kind == "scalar" and GRAD_NORM.search(e.tag))
        if e.stops or not gradient or not e.recovers or e.steps > MOST_STEPS * e.of:
            return None
    objective = run.objective()
    if objective is not None and objective.nonfinite_steps.size:
        return None
    norms = [e for e in events if e.kind == "scalar"]
    counted = max(norms or events, key=lambda e: e.of)
    scales = [s for s in run.scalars.values() if LOSS_SCALE.search(s.tag) and s.points > 1]
    scale = max(scales, key=lambda s: s.points) if scales else None
    drops = int((np.diff(scale.values) < 0).sum()) if scale is not None else 0
    return Overflow(counted.steps, counted.of, events[0].step, scale.tag if scale is not None else "", drops)


def broken_from(run: RunFeatures, t: Thresholds) -> int | None:
    """The first step from which the run is broken (a weight, activation or the objective NaN/Inf,
    or a histogram that stops early); None when nothing broke or only a grad scaler overflowed.
    What the histograms show after it is a consequence, not a finding of its own."""
    events = nonfinite_events(run, t)
    if not events or scaler_overflow(run, events) is not None:
        return None
    objective = run.objective()
    relevant = [e for e in events if e.kind != "scalar" or (objective is not None and e.tag == objective.tag)]
    return relevant[0].step if relevant else None
