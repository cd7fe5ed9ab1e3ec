"""The rule on NaN and Inf, in histograms and scalars."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity


@rule("nan_or_inf", Severity.CRITICAL, Scope.RUN,
      ("histogram_stop_intervals", "histogram_stop_share", "histogram_stop_min_steps"))
def nan_or_inf(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Non-finite values (NaN or Inf) in a histogram or a scalar, or histograms that stop early.

    ## What it does
    Fires for every histogram series with a step whose edges, counts or moments are NaN/Inf,
    every scalar with a NaN/Inf value, and every histogram series that ends more than
    `histogram_stop_intervals` logging intervals before the run's scalars do: the usual trace of
    a writer that refuses to write a histogram of non-finite values while the loss goes on.

    ## Why is this bad
    Once a NaN appears, every later update spreads it: the model is broken from that step on.

    ## Threshold
    Any non-finite value; a histogram ending `histogram_stop_intervals` logging intervals (and
    `histogram_stop_share` of the run) before the scalars, over at least
    `histogram_stop_min_steps` steps.

    ## What to try
    Lower the learning rate; clip gradients; look for log(0), division by zero or sqrt of a
    negative in the loss (add a small epsilon); check the inputs for NaN; with mixed precision,
    use loss scaling.
    """
    recommendation = ("Lower the learning rate and clip gradients by norm.",
                      "Look for log(0), division by zero or sqrt of negatives in the loss; add a small epsilon.",
                      "Check the input data for NaN/Inf.", "With mixed precision, use (dynamic) loss scaling.")
    scalar_end = max((int(s.steps[-1]) for s in run.scalars.values() if s.steps.size), default=None)
    for lf in run.layers:
        for s in lf.series.values():
            if s.nonfinite_steps.size:
                yield Hit(lf.layer.name, [s.tag],
                               (s.nonfinite_steps[0], s.nonfinite_steps[-1]),
                               f"{s.tag} holds NaN or Inf values at {len(s.nonfinite_steps)} of {len(s.steps)} steps, "
                               f"first at step {s.nonfinite_steps[0]} (threshold: any).",
                               {"nonfinite_steps": len(s.nonfinite_steps),
                                "first_nonfinite_step": int(s.nonfinite_steps[0])},
                               recommendation)
            elif scalar_end is not None and len(s.steps) >= t.histogram_stop_min_steps:
                interval = float(np.median(np.diff(s.steps)))
                gap = scalar_end - s.last_step
                late = gap > t.histogram_stop_share * (scalar_end - s.first_step)
                if interval > 0 and gap > t.histogram_stop_intervals * interval and late:
                    yield Hit(lf.layer.name, [s.tag], (s.last_step, scalar_end),
                                   f"{s.tag} stops at step {s.last_step} while the scalars go on to step {scalar_end} "
                                   f"({gap / interval:.0f} logging intervals; threshold "
                                   f"{t.histogram_stop_intervals:g}): "
                                   "writers stop histograms when the values become NaN or Inf.",
                                   {"last_histogram_step": s.last_step, "last_scalar_step": scalar_end,
                                    "intervals_missing": gap / interval},
                                   recommendation)
    for scalar in run.scalars.values():
        if scalar.nonfinite_steps.size:
            yield Hit(scalar.tag, [scalar.tag], (scalar.nonfinite_steps[0], scalar.nonfinite_steps[-1]),
                      f"The scalar {scalar.tag} is NaN or Inf at {len(scalar.nonfinite_steps)} of {len(scalar.steps)} "
                      f"steps, first at step {scalar.nonfinite_steps[0]} (threshold: any).",
                      {"nonfinite_steps": len(scalar.nonfinite_steps),
                       "first_nonfinite_step": int(scalar.nonfinite_steps[0])},
                      recommendation)
