"""The diagnosis rules: one small pure function each, registered with `@rule`.

A layer rule gets one layer's features (and the run's, for contrast); a run rule gets the run's
features (scalars, all layers). Each returns findings. Docstrings use fixed headings (What it
does / Why is this bad / Threshold / What to try); docs/rules.md is generated from them by
`python -m reportgen.diagnosis.docs`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from reportgen.diagnosis.features import ScalarFeatures, SeriesFeatures
from reportgen.diagnosis.finding import Finding
from reportgen.diagnosis.layers import Layer
from reportgen.diagnosis.thresholds import Thresholds


@dataclass
class LayerFeatures:
    run: str
    layer: Layer
    series: dict[str, SeriesFeatures]  # tag -> features

    def of_kind(self, *kinds: str) -> list[SeriesFeatures]:
        return [s for s in self.series.values() if s.kind in kinds]


@dataclass
class RunFeatures:
    name: str
    layers: list[LayerFeatures]
    scalars: dict[str, ScalarFeatures] = field(default_factory=dict)

    def losses(self) -> list[ScalarFeatures]:
        """Loss-named scalars whose level means something (never negative)."""
        return [s for s in self.scalars.values() if s.role == "loss" and not s.signed]


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    scope: str  # "layer" | "run"
    thresholds: tuple[str, ...]
    check: Callable[..., Iterable[Finding]]

    @property
    def doc(self) -> str:
        return _dedent(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]


_REGISTRY: dict[str, Rule] = {}


def rule(code: str, severity: str, scope: str, thresholds: tuple[str, ...] = ()):
    def register(check):
        _REGISTRY[code] = Rule(code, severity, scope, thresholds, check)
        return check
    return register


def all_rules() -> list[Rule]:
    return list(_REGISTRY.values())


def _dedent(text: str) -> str:
    import inspect
    return inspect.cleandoc(text)


def num(x: float) -> float:
    """A number for JSON evidence: 4 significant digits, finite or None-like strings avoided."""
    x = float(x)
    return float(f"{x:.4g}") if np.isfinite(x) else x


def _pct_text(value: float, digits: int) -> str:
    return f"{value:.{digits}f}%"


def _default_digits(value: float) -> int:
    return 1 if (0 < abs(value) < 10 or 99 < value < 100) else 0


def pct(x: float, against: float | None = None) -> str:
    """A percentage; next to a threshold (`against`) with enough digits that the two never
    look equal or in the wrong order (1.46% is not printed as 1.5% against 1.5%)."""
    value = 100 * float(x)
    if not np.isfinite(value):
        return "inf%" if value > 0 else "NaN%"
    if against is None:
        text = _pct_text(value, _default_digits(value))
        return text.replace(".0%", "%") if text.endswith(".0%") else text
    limit = 100 * float(against)
    limit_text = pct(against)
    digits = max(_default_digits(value), len(limit_text[:-1].partition(".")[2]))
    while digits < 4:
        shown = round(value, digits)
        if (value < limit) == (shown < limit) and (value > limit) == (shown > limit):
            break
        digits += 1
    return _pct_text(value, digits)


def g(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.3g}"


def _finding(r: str, severity: str, run: str, layer: str, tags, steps, message: str, evidence: dict,
             recommendation: tuple[str, ...]) -> Finding:
    return Finding(r, severity, run, layer, tuple(tags), (int(steps[0]), int(steps[1])), message,
                   {k: num(v) if isinstance(v, (float, np.floating)) else v for k, v in evidence.items()},
                   recommendation)


# Layer rules -------------------------------------------------------------------------------


@rule("dead_units", "warning", "layer", ("dead_fraction",))
def dead_units(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """Most of a ReLU-family layer's activations are exactly 0.

    ## What it does
    Measures, at every kept step, the share of an activation (or output) histogram that is
    exactly 0 (legacy buckets: the [0, 1e-12] bucket; TF2 equal buckets: the excess of the bucket
    holding 0 over its neighbour) and fires when the last step is at or above the threshold.

    ## Why is this bad
    A ReLU unit whose input is negative for every example outputs 0 and gets no gradient: it is
    dead and stays dead. A healthy ReLU layer has about half its activations at 0; far more
    means most units no longer learn.

    ## Threshold
    `dead_fraction` = 0.70 (AUTOTRAINER's dying-ReLU ratio; DeepDiagnosis uses the same).

    ## What to try
    Lower the learning rate; initialise biases at 0 or slightly positive, not negative; use He
    initialisation; try LeakyReLU/ELU/GELU; add batch normalisation before the activation.
    """
    for s in layer.of_kind("activations", "outputs", "pre-activations", "other"):
        if not s.zero_fraction.size or s.zero_fraction[-1] < t.dead_fraction:
            continue
        holds = s.kept_steps[s.zero_fraction >= t.dead_fraction]
        yield _finding("dead_units", "warning", run.name, layer.layer.name, [s.tag], (holds[0], holds[-1]),
                       f"{pct(s.zero_fraction[-1])} of {s.tag} is exactly 0 at step {s.last_step} "
                       f"(threshold {pct(t.dead_fraction)}): most units are dead ReLUs that pass no gradient.",
                       {"zero_fraction": s.zero_fraction[-1], "zero_fraction_first": s.zero_fraction[0],
                        "threshold": t.dead_fraction},
                       ("Lower the learning rate (dead units often follow a too-large update).",
                        "Initialise biases at 0 or slightly positive; use He initialisation for ReLU layers.",
                        "Try LeakyReLU, ELU or GELU, which keep a gradient for negative inputs.",
                        "Add batch normalisation before the activation."))


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


@rule("saturation", "warning", "layer", ("saturation_fraction", "saturation_zone", "linear_range"))
def saturation(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """tanh/sigmoid activations piled at the bounds of their range, or pre-activations far beyond the linear range.

    ## What it does
    For activations whose values stay inside [-1, 1] (tanh) or [0, 1] (sigmoid), or whose name
    says tanh/sigmoid, measures the share within 5% of the range from either bound
    (|tanh| > 0.9, sigmoid < 0.05 or > 0.95); for the pre-activations of a layer known to use
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
    `saturation_fraction` = 0.50 of the activations in the outer `saturation_zone` = 5% of the
    range on each side, or of the pre-activations beyond `linear_range` = 3 (own labeled runs in
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
    learning = loss_improving(run, t)
    reported = False
    for s in layer.of_kind("activations"):
        if not s.bound or not s.bound_fraction.size or s.bound_fraction[-1] < t.saturation_fraction:
            continue
        reported = True
        near = "within 0.1 of -1 or 1" if s.bound == "tanh" else "below 0.05 or above 0.95"
        yield _saturation_finding(layer, run, t, s, s.bound_fraction, f"lie {near}", f"the {s.bound} units are saturated",
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


def _saturation_finding(layer: LayerFeatures, run: RunFeatures, t: Thresholds, s: SeriesFeatures, share: np.ndarray,
                        where: str, meaning: str, learning: bool, recommendation: tuple[str, ...]) -> Finding:
    holds = s.kept_steps[share >= t.saturation_fraction]
    from_start = share[0] >= t.saturation_fraction
    head = f"{pct(share[-1], t.saturation_fraction)} of {s.tag} {where} at step {s.last_step} (threshold {pct(t.saturation_fraction)})"
    if from_start or not learning:
        since = f", already {pct(share[0])} at step {s.first_step}" if from_start and len(s.steps) > 1 else ""
        return _finding("saturation", "warning", run.name, layer.layer.name, [s.tag], (holds[0], holds[-1]),
                        f"{head}{since}: {meaning} and pass almost no gradient.",
                        {"saturated_fraction": share[-1], "saturated_fraction_first": share[0],
                         "threshold": t.saturation_fraction, "from_first_step": bool(from_start)}, recommendation)
    return _finding("saturation", "info", run.name, layer.layer.name, [s.tag], (holds[0], holds[-1]),
                    f"{head}, up from {pct(share[0])} at step {s.first_step}: the units grew confident while the loss "
                    "fell. Fine while the loss keeps falling; if it stalls, these units pass little gradient.",
                    {"saturated_fraction": share[-1], "saturated_fraction_first": share[0],
                     "threshold": t.saturation_fraction, "from_first_step": False},
                    ("If the loss stalls: lower the learning rate or add normalisation before the activation.",))


_EXPLODING_KINDS = ("weights", "activations", "pre-activations", "outputs", "gradients")


@rule("exploding", "critical", "layer", ("exploding_growth", "exploding_absolute"))
def exploding(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
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
    `exploding_growth` = 100 (two orders of magnitude, AUTOTRAINER's exploding-gradient
    symptom; checked on own labeled runs); `exploding_absolute` = 1e6.

    ## What to try
    Lower the learning rate (by 10x); clip gradients by norm (e.g. 1.0); check the inputs and
    labels for extreme values; add normalisation layers; use a learning-rate warm-up.
    """
    for s in layer.of_kind(*_EXPLODING_KINDS):
        growth = s.growth()
        biggest = float(np.nanmax(np.abs(np.concatenate((s.min, s.max)))[np.isfinite(np.concatenate((s.min, s.max)))], initial=0.0))
        if growth < t.exploding_growth and biggest < t.exploding_absolute:
            continue
        rms = np.where(np.isfinite(s.rms), s.rms, np.nan)
        first_rms = float(rms[np.flatnonzero(rms > 0)[0]]) if (rms > 0).any() else 0.0
        big = np.flatnonzero((rms >= first_rms * t.exploding_growth) | (np.maximum(np.abs(s.min), np.abs(s.max)) >= t.exploding_absolute))
        steps = (s.steps[big[0]], s.steps[big[-1]]) if big.size else (s.first_step, s.last_step)
        what = "gradient" if s.kind == "gradients" else s.kind
        yield _finding("exploding", "critical", run.name, layer.layer.name, [s.tag], steps,
                       f"The typical {what} magnitude of {s.tag} grew {growth:,.0f}x from {g(first_rms)} "
                       f"(threshold {t.exploding_growth:g}x); largest value {g(biggest)} (limit {g(t.exploding_absolute)}).",
                       {"growth": growth, "first_rms": first_rms, "max_rms": float(np.nanmax(rms)) if np.isfinite(rms).any() else 0.0,
                        "largest_abs": biggest, "threshold_growth": t.exploding_growth},
                       ("Lower the learning rate by 10x.", "Clip gradients by norm (e.g. 1.0).",
                        "Check the inputs and labels for extreme values; standardise the inputs.",
                        "Add normalisation layers or a learning-rate warm-up."))


@rule("not_learning", "warning", "layer", ("not_learning_change", "not_learning_frozen", "min_steps"))
def not_learning(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """A layer's weight distribution stays put over the run.

    ## What it does
    Compares the first and the last weight histogram (Wasserstein distance relative to the
    spread) over at least `min_steps` logged steps. Fires when they are identical (a frozen
    layer), or when they are almost identical and nothing shows that training works otherwise:
    no other weight layer moved, or no loss/accuracy scalar clearly improved (absent, flat, or a
    signed surrogate objective). A slow layer in a run whose loss clearly falls is left to
    `still_at_init`. The message says whether the weights still look like their initialisation
    and whether other layers moved.

    ## Why is this bad
    Weights that do not change learn nothing: the layer is frozen (excluded from the optimiser,
    `requires_grad=False`, `trainable=False`), its gradients vanish, or the learning rate is far
    too low. A histogram hides which weight moved where, so a tiny distance can hide small
    shuffles, but a healthy layer's histogram visibly drifts, widens or grows tails.

    ## Threshold
    `not_learning_change` = 0.015 of the spread, over at least `min_steps` = 5 logged steps;
    `not_learning_frozen` = 1e-4 for "identical" (own labeled runs in benchmarks/diagnosis and
    the fixtures: frozen layers moved 0.00%, far-too-low learning rates under 0.4%, the question's
    network 0.5-1%, while healthy first layers moved 0.2-8% with the loss clearly falling). The CS231n rule of thumb (update/weight ratio about 1e-3 per step) gives the
    expected scale of healthy movement.

    ## What to try
    Check that the layer is trainable and in the optimiser; log its gradients to see whether
    they vanish; raise the learning rate (or lower it if the loss jumps); check the weight
    initialisation and the scale of the inputs.
    """
    for s in layer.of_kind("weights"):
        if len(s.steps) < t.min_steps or not np.isfinite(s.change) or s.change >= t.not_learning_change:
            continue
        others = [o for lf in run.layers for o in lf.of_kind("weights") if o.tag != s.tag and len(o.steps) >= t.min_steps]
        moving = [o for o in others if o.change >= t.not_learning_change]
        if s.change >= t.not_learning_frozen and moving and loss_improving(run, t):
            continue  # a slow layer in a run that clearly learns: still_at_init says so as info
        init = (f" It still looks like its initialisation ({s.init.family})." if s.init and s.init.shape
                else " It still looks like its initialisation." if s.init else "")
        contrast = (f" Other layers moved ({len(moving)} of {len(others)} weight series changed more)."
                    if moving else " No weight series in this run moved much either." if others else "")
        exact = s.change == 0
        how = "is identical at" if exact else "barely changed between"
        yield _finding("not_learning", "warning", run.name, layer.layer.name, [s.tag], (s.first_step, s.last_step),
                       f"The weight histogram of {s.tag} {how} step {s.first_step} and step {s.last_step}: "
                       f"it moved {pct(s.change)} of its spread (threshold {pct(t.not_learning_change)}).{init}{contrast}",
                       {"relative_change": s.change, "distance": s.change_abs, "threshold": t.not_learning_change,
                        "steps_logged": len(s.steps), "other_layers_moving": len(moving),
                        "looks_like_init": bool(s.init)},
                       _not_learning_advice(bool(moving)))


def _not_learning_advice(others_move: bool) -> tuple[str, ...]:
    """A layer left behind by moving ones is most often frozen; a network where nothing moves
    most often has a learning-rate or gradient problem."""
    trainable = "Check that the layer is trainable and handed to the optimiser."
    gradients = "Log its gradients: if they are tiny, see vanishing gradients (activations, depth, initialisation)."
    rate = "Try a different learning rate: raise it if the loss falls slowly, lower it if the loss jumps."
    init = "Check the weight initialisation and that the inputs are scaled."
    return (trainable, gradients, rate, init) if others_move else (rate, gradients, trainable, init)


@rule("still_at_init", "info", "layer", ("still_at_init_change", "not_learning_change", "min_steps"))
def still_at_init(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
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
    `still_at_init_change` = 0.05 of the spread (own labeled runs); the init match uses the
    formulas of Glorot & Bengio (2010), He et al. (2015) and LeCun et al. (1998).

    ## What to try
    Log the loss to see whether the run learns; train longer or with a larger learning rate if
    it falls slowly.
    """
    if loss_improving(run, t):
        return
    for s in layer.of_kind("weights"):
        if (not s.init or len(s.steps) < t.min_steps or not np.isfinite(s.change) or s.shape_last != s.shape_first
                or not t.not_learning_change <= s.change < t.still_at_init_change):
            continue
        fans = f" of a {s.init.shape[0]}x{s.init.shape[1]} layer" if s.init.shape else ""
        yield _finding("still_at_init", "info", run.name, layer.layer.name, [s.tag], (s.first_step, s.last_step),
                       f"{s.tag} still looks like {s.init.family} initialisation{fans} at step {s.last_step}: "
                       f"it moved {pct(s.change, t.still_at_init_change)} of its spread "
                       f"(below {pct(t.still_at_init_change)}), and no loss or accuracy shows progress.",
                       {"relative_change": s.change, "init": s.init.family, "scale": s.init.scale,
                        "fans": list(s.init.shape) if s.init.shape else None, "threshold": t.still_at_init_change},
                       ("Log the loss to see whether the run learns.",
                        "Train longer or raise the learning rate if the loss falls slowly."))


@rule("redundant_units", "info", "layer", ("redundant_peaks",))
def redundant_units(layer: LayerFeatures, run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
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
    `redundant_peaks` = 3 modes (own).

    ## What to try
    Try a narrower layer and compare the validation loss; add weight decay or dropout; lower the
    learning rate.
    """
    for s in layer.of_kind("weights"):
        if s.peaks_last < t.redundant_peaks or s.shape_first in ("multimodal",) or s.count < 100:
            continue
        yield _finding("redundant_units", "info", run.name, layer.layer.name, [s.tag], (s.last_step, s.last_step),
                       f"The weights of {s.tag} cluster around {s.peaks_last} separate values at step {s.last_step} "
                       f"(threshold {t.redundant_peaks:g}): a hint of redundant units.",
                       {"modes": s.peaks_last, "threshold": t.redundant_peaks},
                       ("Try a narrower layer and compare the validation loss.", "Add weight decay or dropout.",
                        "Lower the learning rate."))


# Run rules ---------------------------------------------------------------------------------


@rule("nan_or_inf", "critical", "run", ("histogram_stop_intervals",))
def nan_or_inf(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """Non-finite values (NaN or Inf) in a histogram or a scalar, or histograms that stop early.

    ## What it does
    Fires for every histogram series with a step whose edges, counts or moments are NaN/Inf,
    every scalar with a NaN/Inf value, and every histogram series that ends more than
    `histogram_stop_intervals` logging intervals before the run's scalars do: the usual trace of
    a writer that refuses to write a histogram of non-finite values while the loss goes on.

    ## Why is this bad
    Once a NaN appears, every later update spreads it: the model is broken from that step on.

    ## Threshold
    Any non-finite value; `histogram_stop_intervals` = 3 (own).

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
                yield _finding("nan_or_inf", "critical", run.name, lf.layer.name, [s.tag],
                               (s.nonfinite_steps[0], s.nonfinite_steps[-1]),
                               f"{s.tag} holds NaN or Inf values at {len(s.nonfinite_steps)} of {len(s.steps)} steps, "
                               f"first at step {s.nonfinite_steps[0]} (threshold: any).",
                               {"nonfinite_steps": len(s.nonfinite_steps), "first_nonfinite_step": int(s.nonfinite_steps[0])},
                               recommendation)
            elif scalar_end is not None and len(s.steps) >= 3:
                interval = float(np.median(np.diff(s.steps)))
                gap = scalar_end - s.last_step
                if interval > 0 and gap > t.histogram_stop_intervals * interval and gap > 0.1 * (scalar_end - s.first_step):
                    yield _finding("nan_or_inf", "critical", run.name, lf.layer.name, [s.tag], (s.last_step, scalar_end),
                                   f"{s.tag} stops at step {s.last_step} while the scalars go on to step {scalar_end} "
                                   f"({gap / interval:.0f} logging intervals; threshold {t.histogram_stop_intervals:g}): "
                                   "writers stop histograms when the values become NaN or Inf.",
                                   {"last_histogram_step": s.last_step, "last_scalar_step": scalar_end,
                                    "intervals_missing": gap / interval},
                                   recommendation)
    for s in run.scalars.values():
        if s.nonfinite_steps.size:
            yield _finding("nan_or_inf", "critical", run.name, s.tag, [s.tag], (s.nonfinite_steps[0], s.nonfinite_steps[-1]),
                           f"The scalar {s.tag} is NaN or Inf at {len(s.nonfinite_steps)} of {len(s.steps)} steps, "
                           f"first at step {s.nonfinite_steps[0]} (threshold: any).",
                           {"nonfinite_steps": len(s.nonfinite_steps), "first_nonfinite_step": int(s.nonfinite_steps[0])},
                           recommendation)


def _weight_gradient_rms(lf: LayerFeatures) -> SeriesFeatures | None:
    grads = [s for s in lf.of_kind("gradients") if lf.layer.gradient_of.get(s.tag) == "weights"]
    return grads[0] if grads else None


@rule("vanishing_gradient", "warning", "run", ("vanishing_ratio", "vanishing_absolute"))
def vanishing_gradient(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
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
    `vanishing_ratio` = 1e-3 first/last (AUTOTRAINER); `vanishing_absolute` = 1e-8 root mean
    square (own).

    ## What to try
    Use ReLU-family activations in deep nets; use He (ReLU) or Glorot (tanh) initialisation; add
    batch normalisation or residual connections; make the network shallower.
    """
    layered = [(lf, g_) for lf in run.layers if (g_ := _weight_gradient_rms(lf)) is not None]
    recommendation = ("Use ReLU-family activations instead of sigmoid/tanh in deep nets.",
                      "Use He initialisation for ReLU layers, Glorot for tanh/sigmoid.",
                      "Add batch normalisation or residual connections.", "Try a shallower network.")
    size = {lf.layer.name: float(np.nanmedian(s.rms)) if np.isfinite(s.rms).any() else float("nan") for lf, s in layered}
    reported = set()
    if len(layered) >= 2:
        (first, fg), (last, lg) = layered[0], layered[-1]
        a, b = size[first.layer.name], size[last.layer.name]
        if b > 0 and np.isfinite(a) and a / b < t.vanishing_ratio:
            reported.add(first.layer.name)
            yield _finding("vanishing_gradient", "warning", run.name, first.layer.name, [fg.tag, lg.tag],
                           (fg.first_step, fg.last_step),
                           f"The weight gradients of {first.layer.name} are {g(a / b)} times those of {last.layer.name} "
                           f"(typical size {g(a)} against {g(b)}; threshold {g(t.vanishing_ratio)}): the early layers barely learn.",
                           {"ratio": a / b, "first_layer_rms": a, "last_layer_rms": b, "threshold": t.vanishing_ratio},
                           recommendation)
    for lf, s in layered:
        value = size[lf.layer.name]
        if lf.layer.name not in reported and np.isfinite(value) and value < t.vanishing_absolute:
            yield _finding("vanishing_gradient", "warning", run.name, lf.layer.name, [s.tag], (s.first_step, s.last_step),
                           f"The weight gradients of {lf.layer.name} are tiny: typical size {g(value)} "
                           f"(threshold {g(t.vanishing_absolute)}).",
                           {"rms": value, "threshold": t.vanishing_absolute}, recommendation)


def _improvement(s: ScalarFeatures) -> float:
    """Relative improvement from the first to the last part: loss down, accuracy up."""
    return (s.early - s.late if s.role == "loss" else s.late - s.early) / abs(s.early) if s.early else 0.0


def loss_improving(run: RunFeatures, t: Thresholds) -> bool:
    """Whether some loss (or accuracy) clearly improved: evidence that training works."""
    scalars = [*run.losses(), *(a for a in run.scalars.values() if a.role == "accuracy")]
    return any(s.values.size >= t.min_steps and _improvement(s) >= max(t.loss_plateau_drop, 2 * s.noise) for s in scalars)


def _loss_window(s: ScalarFeatures) -> tuple[int, int]:
    return int(s.finite_steps[0]), int(s.finite_steps[-1])


@rule("loss_diverging", "critical", "run", ("loss_diverging_factor", "min_steps"))
def loss_diverging(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """The loss ends far above where it started.

    ## What it does
    For scalars named like a loss (`loss`, `train/loss`, `epoch_loss`, `val_loss`, ...),
    compares the median of the last 10% of values with the median of the first 10% and fires
    when it is the threshold factor higher (positive losses only).

    ## Why is this bad
    Training is making the model worse: usually a learning rate far too high, exploding
    gradients, or a bug such as a sign error in the loss.

    ## Threshold
    `loss_diverging_factor` = 2 over at least `min_steps` = 5 values (own labeled runs).

    ## What to try
    Lower the learning rate by 10x; clip gradients; check the sign and reduction of the loss;
    check that labels match inputs.
    """
    for s in run.losses():
        if s.values.size < t.min_steps or not s.early > 0 or s.late < t.loss_diverging_factor * s.early:
            continue
        yield _finding("loss_diverging", "critical", run.name, s.tag, [s.tag], _loss_window(s),
                       f"{s.tag} rose from {g(s.early)} to {g(s.late)} ({s.late / s.early:.1f}x; threshold "
                       f"{t.loss_diverging_factor:g}x): training is making the model worse.",
                       {"early": s.early, "late": s.late, "factor": s.late / s.early, "threshold": t.loss_diverging_factor},
                       ("Lower the learning rate by 10x.", "Clip gradients by norm.",
                        "Check the sign and reduction of the loss, and that the labels match the inputs."))


def _weights_all_still(run: RunFeatures, t: Thresholds) -> float | None:
    """The largest relative change of any weight series when every one stayed below
    `not_learning_change` (None when some moved or none was logged over `min_steps`)."""
    changes = [s.change for lf in run.layers for s in lf.of_kind("weights") if len(s.steps) >= t.min_steps]
    if not changes or not all(np.isfinite(c) and c < t.not_learning_change for c in changes):
        return None
    return max(changes)


@rule("loss_plateau", "warning", "run", ("loss_plateau_drop", "slow_loss_drop", "not_learning_change", "min_steps"))
def loss_plateau(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """The loss (or accuracy) does not improve over the run, or falls slowly while no weight moves.

    ## What it does
    For loss-named scalars, the relative drop from the median of the first 10% of values to the
    median of the last 10%; for accuracy-named scalars, the relative rise (judged only when no
    loss clearly improves: a falling loss shows that training works, and an accuracy read from
    one minibatch is noisy). Fires when it is below the threshold over at least `min_steps`
    values, or when the loss fell less than `slow_loss_drop` while every weight histogram of
    the run stayed within `not_learning_change` of its start (the loss creeps down because the
    learning rate is far too low).

    ## Why is this bad
    A flat loss means the model is not learning: learning rate far too low, frozen layers,
    vanishing gradients, dead units, or a target the inputs cannot predict.

    ## Threshold
    `loss_plateau_drop` = 2% over the run, or less than twice the minibatch noise of the
    difference when that is larger; `slow_loss_drop` = 30% with every weight series below
    `not_learning_change` (own labeled runs: healthy losses fell 59-99%, a 5-step run 22% with
    its layers moving 9-17%; learning rates 1e-5/1e-6 moved the loss 0.7-15% and every weight
    series under 0.5%).

    ## What to try
    Raise the learning rate (try 10x); check that all layers are trainable; look at the layer
    findings (dead units, saturation, vanishing gradients); check that inputs and labels are
    paired correctly.
    """
    losses = [s for s in run.losses() if s.values.size >= t.min_steps and s.early != 0]
    judged = losses if loss_improving(run, t) and losses else [*losses, *(a for a in run.scalars.values() if a.role == "accuracy")]
    still = _weights_all_still(run, t)
    recommendation = ("Raise the learning rate (try 10x) if nothing diverges.",
                      "Check that all layers are trainable (see not_learning findings).",
                      "Look at the layer findings: dead units, saturation, vanishing gradients.",
                      "Check that inputs and labels are paired correctly.")
    for s in judged:
        if s.values.size < t.min_steps or s.early == 0:
            continue
        if s.role == "accuracy" and (s.early >= 0.99 or s.early <= 0):
            continue
        improvement = _improvement(s)
        if s.role == "loss" and s.early > 0 and s.late >= t.loss_diverging_factor * s.early:
            continue
        what = "dropped" if s.role == "loss" else "rose"
        evidence = {"early": s.early, "late": s.late, "improvement": improvement, "threshold": t.loss_plateau_drop}
        if improvement < max(t.loss_plateau_drop, 2 * s.noise):
            limit = max(t.loss_plateau_drop, 2 * s.noise)
            noise = ", twice its minibatch noise" if limit > t.loss_plateau_drop else ""
            yield _finding("loss_plateau", "warning", run.name, s.tag, [s.tag], _loss_window(s),
                           f"{s.tag} {what} only {pct(max(improvement, 0.0), limit)} over the run, from {g(s.early)} to "
                           f"{g(s.late)} (threshold {pct(limit)}{noise}): the model is not improving.",
                           evidence, recommendation)
        elif s.role == "loss" and still is not None and improvement < t.slow_loss_drop:
            yield _finding("loss_plateau", "warning", run.name, s.tag, [s.tag], _loss_window(s),
                           f"{s.tag} dropped only {pct(improvement, t.slow_loss_drop)} over the run, from {g(s.early)} to "
                           f"{g(s.late)} (threshold {pct(t.slow_loss_drop)} when no weights move), while no weight "
                           f"histogram moved more than {pct(still, t.not_learning_change)} of its spread: the loss creeps "
                           "instead of falling, as with a learning rate far too low.",
                           {**evidence, "threshold": t.slow_loss_drop, "largest_weight_change": still},
                           recommendation)


@rule("loss_oscillating", "warning", "run", ("loss_oscillation", "min_steps"))
def loss_oscillating(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
    """The loss jumps up and down by a large share of its level without settling.

    ## What it does
    In the second half of a loss-named scalar, takes the median step-to-step change relative to
    the median level, and the share of direction changes. Fires when the change is at or above
    the threshold, the direction flips at least half the time, and the loss has not already
    fallen by 80% from its start (small losses near convergence jitter harmlessly).

    ## Why is this bad
    Large jumps mean the updates overshoot: learning rate too high or batch too small. A loss
    that swings around 0 (a policy-gradient objective weighted by signed advantages) says little
    about progress, so losses with negative values are not judged by the loss rules at all.

    ## Threshold
    `loss_oscillation` = 0.5 of the level (own labeled runs; AUTOTRAINER also flags unstable
    loss), over at least `min_steps` = 5 values.

    ## What to try
    Lower the learning rate; use a larger batch; use learning-rate decay; for policy-gradient
    losses, normalise the advantages and watch the mean reward.
    """
    for s in run.losses():
        n = s.values.size
        if n < max(t.min_steps, 8) or s.roughness < t.loss_oscillation or s.sign_changes < 0.5:
            continue
        if s.early > 0 and s.late < 0.2 * s.early:
            continue
        level = f"moves by {pct(min(s.roughness, 99.99))} of its level from one value to the next"
        yield _finding("loss_oscillating", "warning", run.name, s.tag, [s.tag], (int(s.finite_steps[n // 2]), int(s.finite_steps[-1])),
                       f"In the second half of the run {s.tag} {level}, changing direction {pct(s.sign_changes)} of the time "
                       f"(threshold {pct(t.loss_oscillation)} of the level): no steady trend.",
                       {"roughness": s.roughness if np.isfinite(s.roughness) else "inf", "direction_changes": s.sign_changes,
                        "threshold": t.loss_oscillation},
                       ("Lower the learning rate.", "Use a larger batch or learning-rate decay.",
                        "For a policy-gradient loss, normalise the advantages and watch the mean reward instead."))


@rule("no_bias", "info", "run")
def no_bias(run: RunFeatures, t: Thresholds) -> Iterable[Finding]:
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
    if not weighted or any(lf.of_kind("bias") for lf in run.layers):
        return
    steps = [s.steps for lf in weighted for s in lf.of_kind("weights") if s.steps.size]
    first = min(int(x[0]) for x in steps) if steps else 0
    last = max(int(x[-1]) for x in steps) if steps else 0
    yield _finding("no_bias", "info", run.name, weighted[0].layer.name,
                   [s.tag for lf in weighted for s in lf.of_kind("weights")], (first, last),
                   f"{len(weighted)} layers log weights but none logs a bias: the layers may have no bias units.",
                   {"layers_with_weights": len(weighted), "layers_with_bias": 0},
                   ("Add bias units to the layers (initialised at 0).", "If they exist, log them too."))


def run_rules(run: RunFeatures, t: Thresholds, ignore: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    for r in all_rules():
        if r.code in ignore:
            continue
        if r.scope == "layer":
            for lf in run.layers:
                findings.extend(r.check(lf, run, t))
        else:
            findings.extend(r.check(run, t))
    return findings
