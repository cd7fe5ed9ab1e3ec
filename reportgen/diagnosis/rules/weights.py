"""Rules on a layer's parameters: weights that do not move, still look like their
initialisation, cluster, or have no bias beside them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.curves import chance_classes
from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.growth import collapsed, growths
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.diagnosis.vanishing import vanishing_layers
from reportgen.findings import Severity
from reportgen.numbers import and_list, pct, short


@rule("not_learning", Severity.WARNING, Scope.LAYER, ("not_learning_change", "not_learning_frozen", "min_steps"))
def not_learning(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """A layer's weight distribution stays put over the run.

    ## What it does
    Compares the first and the last weight histogram (Wasserstein distance relative to the
    first step's spread) over at least `min_steps` logged steps. Fires when they are identical
    (a frozen layer), or when they are almost identical and nothing shows that training works
    otherwise: no other weight layer moved, or no loss/accuracy scalar clearly improved (absent,
    flat, or a signed surrogate objective; a reward is not enough, since it also rises with a
    policy head alone). A slow layer in a run whose loss clearly falls is left to
    `still_at_init`. Not judged: a layer whose gradient vanished (`vanishing_gradient` reports it
    with its weights), a tensor that grew by orders of magnitude (`exploding`), histograms after
    the run broke. A frozen layer whose name says it is a pretrained part (`backbone`,
    `base_model`, `features`, ...) in a run that learns is `info`: fine-tuning freezes it on
    purpose. The message says whether the weights still look like their initialisation and
    whether other layers moved.

    ## Why is this bad
    Weights that do not change learn nothing: the layer is frozen (excluded from the optimiser,
    `requires_grad=False`, `trainable=False`), its gradients vanish, or the learning rate is far
    too low. A histogram hides which weight moved where, so a tiny distance can hide small
    shuffles, but a healthy layer's histogram visibly drifts, widens or grows tails.

    ## Threshold
    A change below `not_learning_change` of the spread over at least `min_steps` logged
    steps; below `not_learning_frozen` for "identical" (own labeled runs in
    benchmarks/diagnosis and the fixtures: frozen layers moved 0.00%, far-too-low learning
    rates under 0.4%, the question's network 0.5-1%, while healthy first layers moved 0.2-8%
    with the loss clearly falling). The CS231n rule of thumb (update/weight ratio about 1e-3
    per step) gives the expected scale of healthy movement.

    ## What to try
    Check that the layer is trainable and in the optimiser; log its gradients to see whether
    they vanish; raise the learning rate (or lower it if the loss jumps); check the weight
    initialisation and the scale of the inputs.
    """
    if layer.layer.name in {g.layer for g in vanishing_layers(run, t)}:
        return  # its gradient vanished: vanishing_gradient reports the layer, with this as its consequence
    grown = {g.tag for g in growths(run, t) if g.grew(t)}
    for s in layer.of_kind("weights"):
        if (len(s.steps) < t.min_steps or not np.isfinite(s.change) or s.change >= t.not_learning_change
                or s.tag in grown):
            continue
        others = [(lf.layer.name, o) for lf in run.layers for o in lf.of_kind("weights")
                  if o.tag != s.tag and len(o.steps) >= t.min_steps]
        moving = [(name, o) for name, o in others if o.change >= t.not_learning_change]
        learns = bool(moving) and run.fits_data(t)
        if s.change >= t.not_learning_frozen and learns:
            continue  # a slow layer in a run that clearly learns: still_at_init says so as info
        init = (f" It still looks like its initialisation ({s.init.family})." if s.init and s.init.shape
                else " It still looks like its initialisation." if s.init else "")
        contrast = (f" Other layers moved: {_moved(moving)}." if moving
                    else " No weight series in this run moved much either." if others else "")
        exact = s.change == 0
        how = "is identical at" if exact else "barely changed between"
        pretrained = exact and learns and bool(PRETRAINED.search(layer.layer.name))
        note = (" Its name says it is a pretrained part, frozen while the rest is fine-tuned: as intended, if so."
                if pretrained else "")
        yield Hit(layer.layer.name, [s.tag], (s.first_step, s.last_step),
                  f"The weight histogram of {s.tag} {how} step {s.first_step} and step {s.last_step}: "
                  f"it moved {pct(s.change)} of its initial spread (threshold "
                  f"{pct(t.not_learning_change)}).{init}{contrast}{note}",
                  {"relative_change": s.change, "distance": s.change_abs, "threshold": t.not_learning_change,
                   "steps_logged": len(s.steps), "other_layers_moving": len(moving),
                   "looks_like_init": bool(s.init), "pretrained_name": pretrained},
                  _not_learning_advice(bool(moving), exact), Severity.INFO if pretrained else None)


def _moved(moving: list[tuple[str, SeriesFeatures]], named: int = 3) -> str:
    """"layer4 (9.7%)", "layer3 (2%), layer4 (9.7%) and 2 more": the layers that moved, by how much."""
    words = [f"{name} ({pct(o.change)})" for name, o in moving[:named]]
    more = len(moving) - named
    if more > 0:
        return ", ".join(words) + f" and {more} more"
    return and_list(words)


# Module names that say a part was pretrained and is meant to stay put while the rest is
# fine-tuned (torchvision's `features`, Hugging Face's base models, timm's and detectors'
# `backbone`).
PRETRAINED = re.compile(r"(^|[/._])(backbone|base_model|pretrained|frozen|feature_extractor|features|encoder_frozen|"
                        r"bert|roberta|distilbert|vit|clip|resnet\d*)($|[/._])", re.IGNORECASE)


def _not_learning_advice(others_move: bool, frozen: bool) -> tuple[str, ...]:
    """In order of likelihood: a layer identical at every step beside moving ones is most often
    frozen; one that moved a little while later layers moved more gets too small updates; a
    network where nothing moves has a learning-rate or gradient problem. A layer that moved at
    all was updated: checking that it is trainable is advice only for one that did not move."""
    trainable = "Check that the layer is trainable and handed to the optimiser."
    gradients = "Log its gradients: if they are tiny, see vanishing gradients (activations, depth, initialisation)."
    rate = "Try a different learning rate: raise it if the loss falls slowly, lower it if the loss jumps."
    init = "Check the weight initialisation and that the inputs are scaled."
    starved = ("Other layers move while this one barely does: try Adam or a per-layer learning rate, so that its "
               "small gradients still move it.")
    if others_move and frozen:
        return (trainable, gradients, rate, init)
    if others_move:
        return (gradients, starved, rate)
    return (rate, gradients, init, trainable) if frozen else (rate, gradients, init)


@rule("weight_collapse", Severity.WARNING, Scope.RUN, ("weight_collapse_shrink", "chance_tolerance"))
def weight_collapse(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Weights shrink towards 0 by orders of magnitude while the loss is stuck: weight decay or
    L2 far too strong.

    ## What it does
    Measures each weight series' typical magnitude (root mean square) over the first and the
    last window of logged steps and fires once per run when some shrank `weight_collapse_shrink`
    times or more while the objective does not improve or ends at the loss of a uniform guess
    (ln k, within `chance_tolerance`; a loss that includes the L2 penalty falls as the penalty
    does, yet the model has learned nothing).

    ## Why is this bad
    Weight decay pulls every weight towards 0 by a fixed share per step; far too strong, it wins
    over the gradient, the weights collapse, every unit's output tends to its bias and the
    network predicts a constant. The loss sits at ln(classes), gradients through the shrunk
    layers vanish as a consequence.

    ## Threshold
    A shrink by `weight_collapse_shrink` or more (two orders of magnitude).

    ## What to try
    Lower the weight decay / L2 factor by 10-100x (typical: 1e-4 to 1e-2 for L2 and SGD or Adam,
    0.01 to 0.1 for AdamW); with Adam use AdamW (decoupled weight decay); leave biases and
    normalisation parameters out of the decay.
    """
    shrunk = collapsed(run, t)
    objective = run.objective()
    if not shrunk or objective is None or not objective.points:
        return
    k = chance_classes(objective.late, t.chance_tolerance)
    if objective.improving(t) and not k:
        return
    first = shrunk[0]
    stuck = (f"ends at {short(objective.late)}, the loss of guessing among {k} classes (ln {k})" if k
             else f"does not improve ({short(objective.early)} to {short(objective.late)})")
    others = ", ".join(g.layer for g in shrunk[1:4]) + (", ..." if len(shrunk) > 4 else "")
    also = f" So did {others}." if others else ""
    yield Hit(first.layer, [g.tag for g in shrunk], run_steps(run),
              f"The weights of {first.layer} shrank {short(first.start / first.end)}x (typical size "
              f"{short(first.start)} to {short(first.end)}) while {objective.tag} {stuck}.{also} Weights "
              "collapsing towards 0 with the loss stuck point to weight decay or L2 regularisation far too strong.",
              {"shrink": first.start / first.end, "start_level": first.start, "end_level": first.end,
               "collapsed_layers": [g.layer for g in shrunk], "objective_end": objective.late,
               "chance_classes": k, "threshold": t.weight_collapse_shrink},
              ("Lower the weight decay / L2 factor by 10-100x.", "With Adam, use AdamW (decoupled weight decay).",
               "Leave biases and normalisation parameters out of the decay."))


def run_steps(run: RunFeatures) -> tuple[int, int]:
    """The first and last step of the run's weight histograms."""
    steps = [s.steps for lf in run.layers for s in lf.of_kind("weights") if s.steps.size]
    return (min(int(x[0]) for x in steps), max(int(x[-1]) for x in steps)) if steps else (0, 0)


@rule("still_at_init", Severity.INFO, Scope.LAYER, ("still_at_init_change", "not_learning_change", "min_steps"))
def still_at_init(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Weights still look like their initialisation at the end of a run that shows no progress.

    ## What it does
    When the first weight histogram matches a known initialisation (Glorot/Xavier, He, LeCun,
    PyTorch's default; uniform or normal, with the fan-in/fan-out its bound implies), the last
    one still has the same shape and moved less than `still_at_init_change` of the spread (but
    at least `not_learning_change`, below which `not_learning` speaks) over at least
    `min_steps` logged steps, and no loss or accuracy shows that the run learns, says so.
    In a run whose loss clearly falls a slowly moving layer is normal (large layers, short
    runs): the layer text mentions it and no finding is made.

    ## Why is this bad
    Not bad by itself: a short run, or a large layer with a small learning rate, moves little.
    Without a falling loss to show that training works, it is worth a look: the shape you see
    is the initialiser's, not something the layer learned.

    ## Threshold
    A change below `still_at_init_change` of the spread; the init match uses the formulas of
    Glorot & Bengio (2010), He et al. (2015) and LeCun et al. (1998).

    ## What to try
    Log the loss to see whether the run learns; train longer or with a larger learning rate if
    it falls slowly.
    """
    if run.fits_data(t):
        return
    for s in layer.of_kind("weights"):
        if (not s.init or len(s.steps) < t.min_steps or not np.isfinite(s.change) or s.shape_last != s.shape_first
                or not t.not_learning_change <= s.change < t.still_at_init_change):
            continue
        fans = f" ({s.init.fans_words()})" if s.init.shape else f" ({s.count:,.0f} values)"
        yield Hit(layer.layer.name, [s.tag], (s.first_step, s.last_step),
                       f"{s.tag} still looks like {s.init.family} initialisation{fans} at step {s.last_step}: "
                       f"it moved {pct(s.change, t.still_at_init_change)} of its spread "
                       f"(below {pct(t.still_at_init_change)}), and no loss or accuracy shows progress.",
                       {"relative_change": s.change, "init": s.init.family, "scale": s.init.scale,
                        "fans": list(s.init.shape) if s.init.shape else None, "threshold": t.still_at_init_change},
                       ("Log the loss to see whether the run learns.",
                        "Train longer or raise the learning rate if the loss falls slowly."))


@rule("redundant_units", Severity.INFO, Scope.LAYER, ("redundant_peaks", "peaks_min_values"))
def redundant_units(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """A trained weight histogram clusters around a few separate values.

    ## What it does
    Counts clear modes in the last weight histogram (30-bin view, peaks standing out beyond
    counting noise) and fires when there are `redundant_peaks` or more and the first step had
    fewer.

    ## Why is this bad
    Many weights settling on the same few values hints that units learned the same thing: the
    layer may be larger than needed, or a too-high learning rate pushed weights to a few
    attractors.

    ## Threshold
    `redundant_peaks` modes or more, in a histogram of at least `peaks_min_values` values.

    ## What to try
    Try a narrower layer and compare the validation loss; add weight decay or dropout; lower the
    learning rate.
    """
    for s in layer.of_kind("weights"):
        if s.peaks_last < t.redundant_peaks or s.shape_first in ("multimodal",) or s.count < t.peaks_min_values:
            continue
        yield Hit(layer.layer.name, [s.tag], (s.last_step, s.last_step),
                       f"The weights of {s.tag} cluster around {s.peaks_last} separate values at step {s.last_step} "
                       f"(threshold {t.redundant_peaks:g}): a hint of redundant units.",
                       {"modes": s.peaks_last, "threshold": t.redundant_peaks},
                       ("Try a narrower layer and compare the validation loss.", "Add weight decay or dropout.",
                        "Lower the learning rate."))



@rule("no_bias", Severity.INFO, Scope.RUN)
def no_bias(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """Weights are logged for some layers but no layer has a bias.

    ## What it does
    Fires once per run when at least one layer has a weight histogram and no histogram of the
    run is a bias (`bias`, `biases`, `b`, `beta`).

    ## Why is this bad
    Without a bias a unit's pre-activation is forced through 0 for a zero input, and a layer
    cannot shift its outputs; the classic question's network had none. It may also just mean
    the biases were not logged.

    ## Threshold
    None: presence only.

    ## What to try
    Add bias units (`use_bias=True`, `bias=True`, or `+ b` in the layer), initialised at 0; or
    log them if they exist.
    """
    weighted = [lf for lf in run.layers if lf.of_kind("weights")]
    if not weighted or any(lf.of_kind("bias", "norm") for lf in run.layers):  # a BatchNorm shift is a bias
        return
    steps = [s.steps for lf in weighted for s in lf.of_kind("weights") if s.steps.size]
    first = min(int(x[0]) for x in steps) if steps else 0
    last = max(int(x[-1]) for x in steps) if steps else 0
    yield Hit(weighted[0].layer.name,
                   [s.tag for lf in weighted for s in lf.of_kind("weights")], (first, last),
                   f"{len(weighted)} layers log weights but none logs a bias: the layers may have no bias units.",
                   {"layers_with_weights": len(weighted), "layers_with_bias": 0},
                   ("Add bias units to the layers (initialised at 0).", "If they exist, log them too."))
