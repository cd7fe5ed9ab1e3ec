"""Rules on what flows through a layer: dead units and saturated activations."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.families import LowGradient, families, low_gradient, recurrent_or_gated
from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.growth import collapsed
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity
from reportgen.numbers import pct, short


@rule("dead_units", Severity.WARNING, Scope.LAYER, ("dead_fraction",))
def dead_units(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Most of a ReLU-family layer's activations are exactly 0.

    ## What it does
    Measures, at every kept step, the share of an activation (or output) histogram that is
    exactly 0 (legacy buckets: the [0, 1e-12] bucket; TF2 equal buckets: the excess of the bucket
    holding 0 over its neighbour) and fires when the last step is at or above the threshold.
    Only for ReLU-family activations (or activations of unknown family whose values are never
    negative): the zeros of LSTM/GRU outputs, gates, attention weights and dropout are not dead
    units, and other families' low-gradient regions are the saturation rule's. When the run's
    weights collapsed (`weight_collapse`), the zeros are its consequence: `info`.

    ## Why is this bad
    A ReLU unit whose input is negative for every example outputs 0 and gets no gradient: it is
    dead and stays dead. A healthy ReLU layer has about half its activations at 0; far more
    means most units no longer learn.

    ## Threshold
    `dead_fraction` of the activations at exactly 0, at the last step.

    ## What to try
    Lower the learning rate; initialise biases at 0 or slightly positive, not negative; use He
    initialisation; try LeakyReLU/ELU/GELU; add batch normalisation before the activation.
    """
    known = families(run)
    collapse = collapsed(run, t)
    for s in layer.of_kind("activations", "outputs"):
        if not s.zero_fraction.size or s.zero_fraction[-1] < t.dead_fraction or recurrent_or_gated(layer, s):
            continue
        family = known.get(s.tag)
        if (family is not None and family.name not in ("relu", "relu6", "")) or float(np.nanmin(s.min)) < 0:
            continue
        holds = s.kept_steps[s.zero_fraction >= t.dead_fraction]
        cause = (f" A consequence of the collapsed weights of {collapse[0].layer} (see weight_collapse)."
                 if collapse else "")
        yield Hit(layer.layer.name, [s.tag], (holds[0], holds[-1]),
                       f"{pct(s.zero_fraction[-1])} of {s.tag} is exactly 0 at step {s.last_step} "
                       f"(threshold {pct(t.dead_fraction)}): most units are dead ReLUs that pass no gradient.{cause}",
                       {"zero_fraction": s.zero_fraction[-1], "zero_fraction_first": s.zero_fraction[0],
                        "threshold": t.dead_fraction},
                       ("Lower the learning rate (dead units often follow a too-large update).",
                        "Initialise biases at 0 or slightly positive; use He initialisation for ReLU layers.",
                        "Try LeakyReLU, ELU or GELU, which keep a gradient for negative inputs.",
                        "Add batch normalisation before the activation."),
                       Severity.INFO if collapse else None)


_SQUASHING_NAME = re.compile(r"tanh|sigmoid", re.IGNORECASE)


def _trailing_index(name: str) -> tuple[str, int] | None:
    match = re.search(r"^(.*?)(\d+)$", name)
    return (match.group(1), int(match.group(2))) if match else None


def is_output_activation(layer: LayerFeatures, run: RunFeatures) -> bool:
    """An activation-only layer numbered after every weight layer of its container (`net.5` after
    `net.4.weight` in an nn.Sequential): the network's output, where bounds mean confidence."""
    key = _trailing_index(layer.layer.name)
    if layer.of_kind("weights") or not key:
        return False
    numbered = [_trailing_index(lf.layer.name) for lf in run.layers if lf.of_kind("weights")]
    same = [index for prefix, index in filter(None, numbered) if prefix == key[0]]
    return bool(same) and key[1] > max(same)


def _squashing(layer: LayerFeatures) -> str:
    """tanh | sigmoid when the layer's activation function is known to be one, else ''."""
    bounds = {s.bound for s in layer.of_kind("activations") if s.bound}
    if len(bounds) == 1:
        return bounds.pop()
    match = _SQUASHING_NAME.search(layer.layer.name + " " + " ".join(layer.series))
    return match.group(0).lower() if match else ""


@rule("saturation", Severity.WARNING, Scope.LAYER,
      ("saturation_fraction", "saturation_zone", "floor_zone", "dead_fraction", "linear_range"))
def saturation(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Activations piled where their function passes almost no gradient: tanh/sigmoid bounds,
    ELU/SELU floors, leaky ReLU's negative side, ReLU6's cap; or pre-activations far beyond
    the linear range.

    ## What it does
    Reads each activation series' family from its values or its name (see
    reportgen/diagnosis/families.py). For activations whose values stay inside [-1, 1] (tanh) or
    [0, 1] (sigmoid), or whose name says tanh/sigmoid, measures the share within 5% of the range
    from either bound (|tanh| > 0.9, sigmoid < 0.05 or > 0.95); for ELU and SELU the share
    within `floor_zone` of their floor (ELU below -0.9, where its slope e^x is under 0.1); for
    leaky ReLU the share on its negative side (slope 0.01), judged against `dead_fraction` as
    ReLU's zeros are; for ReLU6 the share at its cap. For the pre-activations of a layer known to use
    tanh/sigmoid (its activations, or its name, say so) and whose activations are not logged
    or not saturated, the share with |z| > `linear_range`. Fires when the last step is at or
    above the threshold. It is a warning when the units were saturated from the first logged
    step (initialisation or input scale) or when no loss/accuracy clearly improves; saturation
    that developed while the loss clearly fell (units grown confident) is only noted (info).
    The network's output is left alone: softmax/prediction tags, and an activation-only layer
    numbered after every weight layer (`net.5` after `net.4.weight`), whose values sit at the
    bounds when predictions are confident.

    ## Why is this bad
    Where tanh is above 0.9 in magnitude its slope is below 0.19 (sigmoid's below 0.05); beyond
    |z| = 3 the slopes are 0.0099 and 0.045: the gradient through a saturated unit nearly
    vanishes, so the layers below it stop learning (Glorot & Bengio, 2010). It usually comes
    from large initial weights or unscaled inputs.

    ## Threshold
    `saturation_fraction` of the activations in the outer `saturation_zone` of the range on
    each side, or of the pre-activations beyond `linear_range` (own labeled runs in
    benchmarks/diagnosis: saturated-by-init layers 64-99% from the first step; a healthy tanh
    net trained long reached 51% at the end, with the loss down 71%).

    ## What to try
    Standardise the inputs (zero mean, unit variance); use Glorot/Xavier initialisation (smaller
    initial weights); lower the learning rate; add batch or layer normalisation before the
    activation; for deep nets prefer ReLU-family activations.
    """
    if is_output_activation(layer, run):
        return
    recommendation = ("Standardise the inputs to zero mean and unit variance.",
                      "Use Glorot/Xavier initialisation (smaller initial weights).",
                      "Lower the learning rate.",
                      "Add batch or layer normalisation before the activation, or use ReLU-family activations.")
    learning = run.fits_data(t)
    reported = False
    known = families(run)
    for s in layer.of_kind("activations"):
        family = known.get(s.tag)
        low = low_gradient(family, s, t.floor_zone) if family is not None else None
        limit = t.dead_fraction if family is not None and family.name == "leaky" else t.saturation_fraction
        if family is None or low is None or low.share_last < limit:
            continue
        reported = True
        yield _pinned_finding(layer, s, low, limit, family.words, learning, recommendation)
    for s in layer.of_kind("activations"):
        if not s.bound or not s.bound_fraction.size or s.bound_fraction[-1] < t.saturation_fraction:
            continue
        reported = True
        zone = t.saturation_zone
        near = (f"within {short(2 * zone)} of -1 or 1" if s.bound == "tanh"
                else f"below {short(zone)} or above {short(1 - zone)}")
        yield _saturation_finding(layer, run, t, s, s.bound_fraction, f"lie {near}",
                                  f"the {s.bound} units are saturated",
                                  learning, recommendation)
    function = _squashing(layer)
    if reported or not function:
        return
    for s in layer.of_kind("pre-activations"):
        if not s.beyond_linear.size or s.beyond_linear[-1] < t.saturation_fraction:
            continue
        yield _saturation_finding(layer, run, t, s, s.beyond_linear, f"lie beyond |z| = {t.linear_range:g}",
                                  f"far outside the linear range of {function}, the units are saturated", learning,
                                  recommendation)


def _pinned_finding(layer: LayerFeatures, s: SeriesFeatures, low: LowGradient, limit: float, words: str,
                    learning: bool, recommendation: tuple[str, ...]) -> Hit:
    from_start = low.share_first >= limit
    since = f", already {pct(low.share_first)} at step {s.first_step}" if from_start and len(s.steps) > 1 else ""
    severity = None if from_start or not learning else Severity.INFO
    return Hit(layer.layer.name, [s.tag], (s.first_step if from_start else s.last_step, s.last_step),
               f"{pct(low.share_last, limit)} of {s.tag}'s values sit {low.where} at step {s.last_step} (threshold "
               f"{pct(limit)}){since}: these {words} units pass almost no gradient.",
               {"saturated_fraction": low.share_last, "saturated_fraction_first": low.share_first,
                "threshold": limit, "family": words, "from_first_step": bool(from_start)},
               ("Check the biases and the inputs' scale: negative pre-activations pin the units there.",
                *recommendation[1:]), severity)


def _saturation_finding(layer: LayerFeatures, run: RunFeatures, t: Thresholds, s: SeriesFeatures, share: np.ndarray,
                        where: str, meaning: str, learning: bool, recommendation: tuple[str, ...]) -> Hit:
    holds = s.kept_steps[share >= t.saturation_fraction]
    from_start = share[0] >= t.saturation_fraction
    head = (f"{pct(share[-1], t.saturation_fraction)} of {s.tag} {where} at step {s.last_step} "
            f"(threshold {pct(t.saturation_fraction)})")
    if from_start or not learning:
        since = f", already {pct(share[0])} at step {s.first_step}" if from_start and len(s.steps) > 1 else ""
        return Hit(layer.layer.name, [s.tag], (holds[0], holds[-1]),
                        f"{head}{since}: {meaning} and pass almost no gradient.",
                        {"saturated_fraction": share[-1], "saturated_fraction_first": share[0],
                         "threshold": t.saturation_fraction, "from_first_step": bool(from_start)}, recommendation)
    return Hit(layer.layer.name, [s.tag], (holds[0], holds[-1]),
                    f"{head}, up from {pct(share[0])} at step {s.first_step}: the units grew confident while the loss "
                    "fell. Fine while the loss keeps falling; if it stalls, these units pass little gradient.",
                    {"saturated_fraction": share[-1], "saturated_fraction_first": share[0],
                     "threshold": t.saturation_fraction, "from_first_step": False},
                    ("If the loss stalls: lower the learning rate or add normalisation before the activation.",),
               severity=Severity.INFO)
