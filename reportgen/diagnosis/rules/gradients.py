"""Rules on magnitudes and gradients: values that explode, gradients that vanish."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity
from reportgen.numbers import short

_EXPLODING_KINDS = ("weights", "activations", "pre-activations", "outputs", "gradients")


@rule("exploding", Severity.CRITICAL, Scope.LAYER, ("exploding_growth", "exploding_absolute"))
def exploding(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Weights, activations or gradients growing by orders of magnitude.

    ## What it does
    Follows the typical magnitude (root mean square, from the exact per-step mean and std) of
    every weight, activation, pre-activation, output and gradient series and fires when it grows
    by the threshold factor or more from its first non-zero step, or when any value exceeds the
    absolute limit. Biases are left out (they start at 0, so any growth is infinite).

    ## Why is this bad
    Growth by orders of magnitude is the signature of exploding gradients or a learning rate far
    too high: updates overshoot, the loss jumps, and soon values overflow to Inf/NaN.

    ## Threshold
    Growth by `exploding_growth` or more, or any value beyond `exploding_absolute`.

    ## What to try
    Lower the learning rate (by 10x); clip gradients by norm (e.g. 1.0); check the inputs and
    labels for extreme values; add normalisation layers; use a learning-rate warm-up.
    """
    for s in layer.of_kind(*_EXPLODING_KINDS):
        growth = s.growth()
        extremes = np.concatenate((s.min, s.max))
        biggest = float(np.nanmax(np.abs(extremes)[np.isfinite(extremes)], initial=0.0))
        if growth < t.exploding_growth and biggest < t.exploding_absolute:
            continue
        rms = np.where(np.isfinite(s.rms), s.rms, np.nan)
        first_rms = float(rms[np.flatnonzero(rms > 0)[0]]) if (rms > 0).any() else 0.0
        largest = np.maximum(np.abs(s.min), np.abs(s.max))
        big = np.flatnonzero((rms >= first_rms * t.exploding_growth) | (largest >= t.exploding_absolute))
        steps = (s.steps[big[0]], s.steps[big[-1]]) if big.size else (s.first_step, s.last_step)
        what = "gradient" if s.kind == "gradients" else s.kind
        yield Hit(layer.layer.name, [s.tag], steps,
                       f"The typical {what} magnitude of {s.tag} grew {growth:,.0f}x from {short(first_rms)} "
                       f"(threshold {t.exploding_growth:g}x); largest value {short(biggest)} (limit "
                       f"{short(t.exploding_absolute)}).",
                       {"growth": growth, "first_rms": first_rms,
                        "max_rms": float(np.nanmax(rms)) if np.isfinite(rms).any() else 0.0,
                        "largest_abs": biggest, "threshold_growth": t.exploding_growth},
                       ("Lower the learning rate by 10x.", "Clip gradients by norm (e.g. 1.0).",
                        "Check the inputs and labels for extreme values; standardise the inputs.",
                        "Add normalisation layers or a learning-rate warm-up."))



def _weight_gradient_rms(lf: LayerFeatures) -> SeriesFeatures | None:
    grads = [s for s in lf.of_kind("gradients") if lf.layer.gradient_of.get(s.tag) == "weights"]
    return grads[0] if grads else None


@rule("vanishing_gradient", Severity.WARNING, Scope.RUN, ("vanishing_ratio", "vanishing_absolute"))
def vanishing_gradient(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Gradients of early layers orders of magnitude below those of late layers, or tiny.

    ## What it does
    Takes each layer's weight-gradient histograms (tags like `fc1.weight.grad`,
    `grad/fc1.weight`, `dense/kernel_0_grad`), their typical size (median over steps of the root
    mean square), and compares the first layer with the last in logging order. Also fires for
    any layer whose weight gradient is tiny in absolute terms.

    ## Why is this bad
    With saturating activations (sigmoid, tanh) or poor initialisation each layer shrinks the
    gradient on its way back, so early layers get almost none and stop learning while late
    layers do all the work.

    ## Threshold
    First/last layer gradient size below `vanishing_ratio`, or a layer's root-mean-square
    gradient below `vanishing_absolute`.

    ## What to try
    Use ReLU-family activations in deep nets; use He (ReLU) or Glorot (tanh) initialisation; add
    batch normalisation or residual connections; make the network shallower.
    """
    layered = [(lf, g_) for lf in run.layers if (g_ := _weight_gradient_rms(lf)) is not None]
    recommendation = ("Use ReLU-family activations instead of sigmoid/tanh in deep nets.",
                      "Use He initialisation for ReLU layers, Glorot for tanh/sigmoid.",
                      "Add batch normalisation or residual connections.", "Try a shallower network.")
    size = {lf.layer.name: float(np.nanmedian(s.rms)) if np.isfinite(s.rms).any() else float("nan")
            for lf, s in layered}
    reported = set()
    if len(layered) >= 2:
        (first, fg), (last, lg) = layered[0], layered[-1]
        a, b = size[first.layer.name], size[last.layer.name]
        if b > 0 and np.isfinite(a) and a / b < t.vanishing_ratio:
            reported.add(first.layer.name)
            yield Hit(first.layer.name, [fg.tag, lg.tag],
                           (fg.first_step, fg.last_step),
                           f"The weight gradients of {first.layer.name} are {short(a / b)} times those of "
                           f"{last.layer.name} "
                           f"(typical size {short(a)} against {short(b)}; threshold {short(t.vanishing_ratio)}): the "
                           "early layers barely learn.",
                           {"ratio": a / b, "first_layer_rms": a, "last_layer_rms": b, "threshold": t.vanishing_ratio},
                           recommendation)
    for lf, s in layered:
        value = size[lf.layer.name]
        if lf.layer.name not in reported and np.isfinite(value) and value < t.vanishing_absolute:
            yield Hit(lf.layer.name, [s.tag], (s.first_step, s.last_step),
                           f"The weight gradients of {lf.layer.name} are tiny: typical size {short(value)} "
                           f"(threshold {short(t.vanishing_absolute)}).",
                           {"rms": value, "threshold": t.vanishing_absolute}, recommendation)
