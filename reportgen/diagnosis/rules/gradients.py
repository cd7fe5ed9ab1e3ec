"""Rules on magnitudes and gradients: values that explode, gradients that vanish."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.growth import Growth, collapsed, exploded, growths
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.roles import Role
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.diagnosis.vanishing import gradient_sizes, vanishing_layers
from reportgen.findings import Severity
from reportgen.numbers import pct, plural, short


@rule("exploding", Severity.CRITICAL, Scope.RUN,
      ("exploding_growth", "exploding_floor", "exploding_absolute", "loss_diverging_factor"))
def exploding(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Weights, activations or gradients growing by orders of magnitude and staying there.

    ## What it does
    Measures each weight, bias, normalisation, activation and gradient series' typical
    magnitude (root mean square, from the exact per-step mean and std): its start level (median
    of the first window of logged steps, floored at `exploding_floor` of the run's typical start
    level for that kind of tensor, so that a zero-initialised head or gradients that are tiny
    until learning starts do not count) and its end level (median of the last window, or the
    last step before the run broke). A series exploded when it grew `exploding_growth` times or
    more, or holds values beyond `exploding_absolute`. One finding per run names the series that
    crossed first (its layer nearest the input among equals) and lists the others. It is
    `critical` when the weights or the objective confirm it (a weight series exploded too, the
    objective ends `loss_diverging_factor` times above its start, NaN/Inf followed, or values
    passed `exploding_absolute`); growth of activations or gradients alone is a `warning` when
    no loss shows progress, and nothing when the loss falls well (learning that starts from a
    small initialisation). Without histograms: a classification objective (the run logs an
    accuracy) that ends beyond `exploding_absolute`, where a cross-entropy starts near
    ln(classes).

    ## Why is this bad
    Growth by orders of magnitude is the signature of exploding gradients or a learning rate far
    too high: updates overshoot, the loss jumps, and soon values overflow to Inf/NaN.

    ## Threshold
    Growth by `exploding_growth` or more from the floored start level (own labeled runs in
    benchmarks/diagnosis: explosions grew 6.7e8-2.2e12x before their NaN, healthy runs' largest
    growth was 49x, clipped LSTMs' bias gradients from near 0 909x with the loss falling; note
    AUTOTRAINER's exploding check is a different measure, a first/last layer gradient ratio above
    70), or any value beyond `exploding_absolute`.

    ## What to try
    Lower the learning rate (by 10x); clip gradients by norm (e.g. 1.0); check the inputs and
    labels for extreme values; add normalisation layers; use a learning-rate warm-up.
    """
    found = [g for g in growths(run, t) if exploded(g, t)]
    if not found:
        yield from _absurd_objective(run, t)
        return
    confirmed = _confirmation(run, found, t)
    if not confirmed and run.fits_data(t):
        return  # activations or gradients that grow while the loss falls well: learning, not divergence
    order = [lf.layer.name for lf in run.layers]
    found.sort(key=lambda g: (g.first_step(t), order.index(g.layer)))
    first, others = found[0], found[1:]
    then = (f" {plural(len(others), 'other series', 'other series')} followed: "
            + ", ".join(f"{g.tag} ({_how(g, t)})" for g in others[:3]) + ("..." if len(others) > 3 else ".")
            ) if others else ""
    because = ("" if confirmed.startswith(first.tag) else f" Confirmed: {confirmed}." if confirmed else
               " Neither the weights nor the loss confirm it, and no loss shows progress.")
    yield Hit(first.layer, [g.tag for g in found], (first.first_step(t), max(g.first_step(t) for g in found)),
              f"{_first_words(first, t)}{then}{because}",
              {"growth": first.factor, "start_level": first.start, "baseline": first.baseline,
               "end_level": first.end, "onset_step": first.onset, "largest_abs": first.largest,
               "exploded_series": len(found), "confirmed": bool(confirmed), "threshold_growth": t.exploding_growth},
              ("Lower the learning rate by 10x.", "Clip gradients by norm (e.g. 1.0).",
               "Check the inputs and labels for extreme values; standardise the inputs.",
               "Add normalisation layers or a learning-rate warm-up."),
              None if confirmed else Severity.WARNING)


def _absurd_objective(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """A classification objective (the run logs an accuracy) that ends beyond
    `exploding_absolute`: a cross-entropy starts near ln(classes), so one of 1e9 means the
    outputs exploded, whatever its trend (a 20-layer ungated net: 1.9e12 -> 2.2e9, accuracy 0.5)."""
    objective = run.objective()
    accuracies = run.of_role(Role.ACCURACY)
    if objective is None or not objective.points or not accuracies or objective.late < t.exploding_absolute:
        return
    accuracy = max(accuracies, key=lambda a: a.points)
    yield Hit(objective.tag, [objective.tag, accuracy.tag], (int(objective.steps[0]), int(objective.steps[-1])),
              f"{objective.tag} ends at {short(objective.late)} (from {short(objective.early)}; limit "
              f"{short(t.exploding_absolute)}): a classification loss (the run logs {accuracy.tag}, which ends at "
              f"{short(accuracy.late)}) this large means the network's outputs exploded, whatever its trend.",
              {"objective_end": objective.late, "objective_start": objective.early, "accuracy_end": accuracy.late,
               "threshold": t.exploding_absolute},
              ("Lower the learning rate by 10x.", "Check the initialisation's scale: deep nets without normalisation "
               "need He/Glorot initialisation.", "Add normalisation layers.", "Clip gradients by norm (e.g. 1.0)."))


def _times(factor: float) -> str:
    return f"{factor:,.0f}x" if factor < 1e5 else f"{short(factor)}x"


def _how(g: Growth, t: Thresholds) -> str:
    return _times(g.factor) if g.grew(t) else f"values up to {short(g.largest)}"


def _first_words(g: Growth, t: Thresholds) -> str:
    what = "gradient" if g.kind == "gradients" else g.kind
    if not g.grew(t):
        return (f"{g.tag} holds values up to {short(g.largest)} from step {g.beyond} (limit "
                f"{short(t.exploding_absolute)}).")
    floored = f", floored at {short(g.baseline)}" if g.baseline > g.start else ""
    return (f"The typical {what} magnitude of {g.tag} grew {_times(g.factor)}, from {short(g.start)} (start "
            f"level{floored}) to {short(g.end)}, passing {t.exploding_growth:g}x at step {g.onset}; largest value "
            f"{short(g.largest)}.")


def _confirmation(run: RunFeatures, found: list[Growth], t: Thresholds) -> str:
    """What says the growth broke training, in words; "" when nothing does."""
    if run.broken_at is not None:
        return f"NaN/Inf follow from step {run.broken_at}"
    weights = [g for g in found if g.kind in ("weights", "norm") and g.factor >= t.exploding_growth]
    if weights:
        return f"the weights of {weights[0].layer} grew {weights[0].factor:,.0f}x"
    huge = [g for g in found if g.beyond is not None]
    if huge:
        return f"{huge[0].tag} holds values up to {short(huge[0].largest)}"
    objective = run.objective()
    if objective is not None and objective.early > 0 and objective.late >= t.loss_diverging_factor * objective.early:
        return f"the objective {objective.tag} rose from {short(objective.early)} to {short(objective.late)}"
    return ""


@rule("vanishing_gradient", Severity.WARNING, Scope.RUN,
      ("vanishing_ratio", "vanishing_absolute", "not_learning_change"))
def vanishing_gradient(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Gradients of early layers orders of magnitude below those of the last layer, or tiny.

    ## What it does
    Takes each layer's weight-gradient histograms (tags like `fc1.weight.grad`,
    `grad/fc1.weight`, `dense/kernel_0_grad`) and their typical size (median over steps of the
    root mean square), and compares every layer with the last in logging order. One finding per
    run names the layers whose gradient is below `vanishing_ratio` of the last layer's (or below
    `vanishing_absolute`), and the layers among them whose weights barely moved (below
    `not_learning_change`): those are its consequence, and `not_learning` does not report them
    again. When the run's weights collapsed (`weight_collapse`), small weights pass small
    gradients: `info`, as its consequence. This uses AUTOTRAINER's ratio; its second condition
    (a first-layer gradient norm below 1e-4) is on a norm over the whole tensor, which a
    histogram's per-value root mean square is not, so it is not used.

    ## Why is this bad
    With saturating activations (sigmoid, tanh) or poor initialisation each layer shrinks the
    gradient on its way back, so early layers get almost none and stop learning while late
    layers do all the work.

    ## Threshold
    A layer's gradient size below `vanishing_ratio` of the last layer's (AUTOTRAINER, Zhang et
    al. 2021: first/last layer gradient ratio), or a root-mean-square gradient below
    `vanishing_absolute`.

    ## What to try
    Use ReLU-family activations in deep nets; use He (ReLU) or Glorot (tanh) initialisation; add
    batch normalisation or residual connections; make the network shallower.
    """
    vanishing = vanishing_layers(run, t)
    if not vanishing:
        return
    sizes = gradient_sizes(run)
    last, first = sizes[-1], vanishing[0]
    still = _barely_moved(run, {g.layer for g in vanishing}, t)
    names = ", ".join(g.layer for g in vanishing)
    against = (f"{short(first.size / last.size)} times those of {last.layer} (typical size {short(first.size)} "
               f"against {short(last.size)}; threshold {short(t.vanishing_ratio)})" if last.size > 0 and
               first is not last else f"tiny: typical size {short(first.size)} (threshold "
               f"{short(t.vanishing_absolute)})")
    many = f" {len(vanishing)} layers get almost no gradient: {names}." if len(vanishing) > 1 else ""
    moved = (f" Their weights barely moved ({', '.join(f'{name} {pct(change)}' for name, change in still[:4])}"
             f"{', ...' if len(still) > 4 else ''} of the spread): a consequence of the vanishing gradient."
             if still else "")
    shrunk = collapsed(run, t)
    cause = (f" The weights of {shrunk[0].layer} collapsed towards 0 (see weight_collapse): small weights pass small "
             "gradients, so this is its consequence." if shrunk else "")
    layer_features = {lf.layer.name: lf for lf in run.layers}
    steps = [s.steps for g in vanishing for s in layer_features[g.layer].of_kind("gradients")]
    yield Hit(first.layer, [g.tag for g in vanishing] + ([last.tag] if last not in vanishing else []),
              (min(int(x[0]) for x in steps), max(int(x[-1]) for x in steps)),
              f"The weight gradients of {first.layer} are {against}: the early layers barely learn."
              f"{many}{moved}{cause}",
              {"ratio": first.size / last.size if last.size > 0 else None, "first_layer_rms": first.size,
               "last_layer_rms": last.size, "vanishing_layers": [g.layer for g in vanishing],
               "not_moving_layers": [name for name, _ in still], "threshold": t.vanishing_ratio},
              ("Use ReLU-family activations instead of sigmoid/tanh in deep nets.",
               "Use He initialisation for ReLU layers, Glorot for tanh/sigmoid.",
               "Add batch normalisation or residual connections.", "Try a shallower network."),
              Severity.INFO if shrunk else None)


def _barely_moved(run: RunFeatures, layers: set[str], t: Thresholds) -> list[tuple[str, float]]:
    return [(lf.layer.name, s.change) for lf in run.layers if lf.layer.name in layers
            for s in lf.of_kind("weights")[:1] if np.isfinite(s.change) and s.change < t.not_learning_change]
