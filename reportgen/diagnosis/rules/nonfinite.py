"""The rule on NaN and Inf, in histograms and scalars: one headline per run."""

from __future__ import annotations

from collections.abc import Iterator

from reportgen.diagnosis.breakage import NonFinite, Overflow, nonfinite_events, scaler_overflow
from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity
from reportgen.numbers import plural

SHOWN_AFTER = 4  # the consequences a message names; the evidence lists all of them


@rule("nan_or_inf", Severity.CRITICAL, Scope.RUN,
      ("histogram_stop_intervals", "histogram_stop_share", "histogram_stop_min_steps"))
def nan_or_inf(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Non-finite values (NaN or Inf) in a histogram or a scalar, or histograms that stop early.

    ## What it does
    Collects every histogram series with a step whose edges, counts or moments are NaN/Inf,
    every scalar with a NaN/Inf value, and every histogram series that ends more than
    `histogram_stop_intervals` logging intervals before the run's scalars do (the usual trace
    of a writer that refuses to write a histogram of non-finite values while the loss goes on).
    One finding per run names where it started (the first step, and at that step the layer
    nearest the input) and lists what followed, in order. When only gradients (or a gradient
    norm) overflow, at a minority of steps and finite again after each, while weights,
    activations and the objective stay finite, it is a mixed-precision grad scaler skipping
    steps: `info`, with the number of steps skipped and how often the loss scale fell.

    ## Why is this bad
    Once a NaN reaches the weights every later update spreads it: the model is broken from that
    step on, and what the histograms show afterwards is a consequence. A grad scaler's skipped
    steps are how fp16 training works (torch.amp.GradScaler skips a step whose gradients hold
    Inf and halves its scale).

    ## Threshold
    Any non-finite value; a histogram ending `histogram_stop_intervals` logging intervals (and
    `histogram_stop_share` of the run) before the scalars, over at least
    `histogram_stop_min_steps` steps. Overflow counts as the scaler's while it is at most half
    of the logged steps.

    ## What to try
    Lower the learning rate; clip gradients; look for log(0), division by zero or sqrt of a
    negative in the loss (add a small epsilon); check the inputs for NaN; with mixed precision,
    use loss scaling.
    """
    events = nonfinite_events(run.whole or run, t)
    if not events:
        return
    overflow = scaler_overflow(run.whole or run, events)
    if overflow is not None:
        yield _skipped_steps(events, overflow)
        return
    yield _headline(events)


def _where(e: NonFinite) -> str:
    if e.kind == "scalar":
        return f"the scalar {e.tag}"
    return e.tag if e.layer in e.tag else f"{e.tag} ({e.layer})"


def _headline(events: list[NonFinite]) -> Hit:
    first = events[0]
    together = [e for e in events[1:] if e.step == first.step]
    after = [e for e in events[1:] if e.step != first.step]
    if first.stops:
        start = (f"{first.tag} stops after step {first.last_logged} while the scalars go on (writers stop a "
                 "histogram once its values are NaN or Inf)")
    else:
        start = (f"NaN or Inf first appears at step {first.step} in {_where(first)} "
                 f"({first.steps} of {first.of} steps)")
    if together:
        # Logged every few steps, series that broke between two logged steps show it at once.
        start += f", and at the same step in {plural(len(together), 'more series', 'more series')}"
    shown = [f"{_where(e)} at step {e.step}" for e in after[:SHOWN_AFTER]]
    rest = len(after) - len(shown)
    then = ("; then " + ", ".join(shown) + (f" and {plural(rest, 'more series', 'more series')}" if rest > 0 else "")
            + ": consequences of the first") if after else ""
    return Hit(first.layer, [e.tag for e in events], (first.step, max(e.until for e in events)),
               f"{start}{then}.",
               {"first_nonfinite_step": first.step, "first_tag": first.tag, "first_layer": first.layer,
                "nonfinite_series": len(events), "at_first_step": 1 + len(together),
                "order": [{"tag": e.tag, "layer": e.layer, "step": e.step, "nonfinite_steps": e.steps,
                           "stops": e.stops} for e in events]},
               ("Lower the learning rate and clip gradients by norm.",
                "Look for log(0), division by zero or sqrt of negatives in the loss; add a small epsilon.",
                "Check the input data for NaN/Inf.", "With mixed precision, use (dynamic) loss scaling."))


def _skipped_steps(events: list[NonFinite], overflow: Overflow) -> Hit:
    scale = (f"; the loss scale ({overflow.scale_tag}) fell {plural(overflow.scale_drops, 'time')}"
             if overflow.scale_tag else "")
    return Hit(events[0].layer, [e.tag for e in events], (overflow.first, max(e.until for e in events)),
               f"Gradients overflowed at {overflow.skipped} of {overflow.logged} steps (first at step "
               f"{overflow.first}, in {', '.join(_where(e) for e in events[:3])}) and were finite again after "
               f"each, while weights, activations and the objective stayed finite: a mixed-precision grad "
               f"scaler skipping those steps{scale}. Nothing to fix.",
               {"skipped_steps": overflow.skipped, "logged_steps": overflow.logged,
                "first_nonfinite_step": overflow.first, "loss_scale_drops": overflow.scale_drops,
                "threshold_share": 0.5},
               ("Nothing to fix: the scaler skips overflowing steps by design.",
                "If the loss scale keeps falling towards 1, look for values fp16 cannot hold (use bf16, "
                "or keep that part in fp32)."),
               Severity.INFO)
