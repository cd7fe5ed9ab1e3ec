"""Rules on the curves that say whether training works: the training objective (or, in an RL run,
the reward), and the evaluation loss against it.

Only the run's one training objective (`RunFeatures.objective`) is judged for divergence, a
plateau or oscillation: components of it (regularisation, box, KL), value losses of RL runs
and evaluation losses are described in the report, not judged on their own. Curves with fewer
than `min_trend_points` points are too short for a trend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis import trends
from reportgen.diagnosis.curves import ScalarFeatures, chance_classes
from reportgen.diagnosis.features import RunFeatures
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.roles import Role
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity
from reportgen.numbers import pct, readable, short


def _window(s: ScalarFeatures) -> tuple[int, int]:
    return int(s.steps[0]), int(s.steps[-1])


def _moved(s: ScalarFeatures) -> str:
    """The real change from start to end, with its sign: "fell 70%", "rose 34%"."""
    change = s.change()
    if abs(change) < 0.005:
        return "stayed flat"
    return f"{'rose' if change > 0 else 'fell'} {pct(abs(change))}"


def progress_curve(run: RunFeatures) -> ScalarFeatures | None:
    """The curve that says whether training works: the reward in a run that logs one (a value
    loss rises while returns grow; a policy loss is a signed surrogate), else the objective."""
    return run.reward() or run.objective()


@rule("loss_diverging", Severity.CRITICAL, Scope.RUN,
      ("loss_diverging_factor", "min_trend_points", "trend_significance", "trend_window_min"))
def loss_diverging(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """The training objective ends far above where it started.

    ## What it does
    Judges the run's training objective (not its components, evaluation losses or, in an RL
    run, its value losses): the median of its end window against the median of its start
    window. Fires when the end is `loss_diverging_factor` times the start and the curve rises
    significantly after its lowest point (Mann-Kendall at `trend_significance`, over at least
    `trend_window_min` points after it), on a curve of at least `min_trend_points` points.
    Positive objectives only; runs that log a reward are judged by the reward instead.

    ## Why is this bad
    Training is making the model worse: usually a learning rate far too high, exploding
    gradients, or a bug such as a sign error in the loss.

    ## Threshold
    `loss_diverging_factor` times the start, on a curve of at least `min_trend_points` points
    rising at `trend_significance`.

    ## What to try
    Lower the learning rate by 10x; clip gradients; check the sign and reduction of the loss;
    check that labels match inputs.
    """
    s = run.objective()
    if run.reward() is not None or s is None or s.signed or not s.trend_judged(t) or not s.early > 0:
        return
    after = s.values[s.steps >= s.best_step]
    if s.late < t.loss_diverging_factor * s.early or after.size < t.trend_window_min or _direction(after, t) <= 0:
        return
    yield Hit(s.tag, [s.tag, *s.aliases], _window(s),
              f"{s.tag} rose from {short(s.early)} at the start to {short(s.late)} at the end "
              f"({s.late / s.early:.1f}x; threshold {t.loss_diverging_factor:g}x), rising from its lowest point at "
              f"step {s.best_step} on: training is making the model worse.",
              {"start": s.early, "best": s.best, "best_step": s.best_step, "end": s.late, "factor": s.late / s.early,
               "threshold": t.loss_diverging_factor},
              ("Lower the learning rate by 10x.", "Clip gradients by norm.",
               "Check the sign and reduction of the loss, and that the labels match the inputs."))


def _direction(values: np.ndarray, t: Thresholds) -> int:
    return trends.trend(np.arange(values.size), values).direction(t.trend_significance)


def _weights_all_still(run: RunFeatures, t: Thresholds) -> float | None:
    """The largest relative change of any weight series when every one stayed below
    `not_learning_change` (None when some moved or none was logged over `min_steps`)."""
    changes = [s.change for lf in run.layers for s in lf.of_kind("weights") if len(s.steps) >= t.min_steps]
    if not changes or not all(np.isfinite(c) and c < t.not_learning_change for c in changes):
        return None
    return max(changes)


def _chance_words(value: float, t: Thresholds) -> str:
    k = chance_classes(value, t.chance_tolerance)
    return f", the loss of guessing among {k} classes (ln {k})" if k else ""


def at_chance(s: ScalarFeatures, t: Thresholds) -> bool:
    """A loss that starts and ends at the loss of a uniform guess: it never learned, whatever a
    slight drift makes of its trend (a binary task's loss going 0.697 -> 0.695)."""
    k = chance_classes(s.late, t.chance_tolerance)
    return bool(k) and chance_classes(s.early, t.chance_tolerance) == k


@rule("loss_plateau", Severity.WARNING, Scope.RUN,
      ("loss_plateau_drop", "min_trend_points", "trend_significance", "chance_tolerance",
       "slow_loss_drop", "not_learning_change", "accuracy_ceiling", "min_steps"))
def loss_plateau(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """The training objective (or, in an RL run, the reward) never improves, or creeps while no weight moves.

    ## What it does
    Judges the curve that says whether training works: the reward in a run that logs one,
    else the training objective, else (no loss at all) an accuracy. It is a plateau when the
    curve neither improves significantly over the run (one-sided Mann-Kendall at
    `trend_significance`) nor clearly leaves its start (every value of its end window better
    than where it started), by at least `loss_plateau_drop` (rewards: any amount), over at least
    `min_trend_points` points. A loss that fell and
    then flattened near its floor improved over the run and is not a plateau; a loss that starts
    and ends within `chance_tolerance` of ln(k), the loss of a uniform guess among k classes, is
    one whatever its drift. A second form: the
    loss fell less than `slow_loss_drop` while every weight histogram of the run stayed within
    `not_learning_change` of its start, over at least `min_steps` steps (a learning rate far
    too low). An accuracy that starts at or above `accuracy_ceiling` has no room to rise.

    ## Why is this bad
    A flat objective means the model is not learning: learning rate far too low, frozen layers,
    vanishing gradients, dead units, or a target the inputs cannot predict. A loss stuck at
    ln(number of classes) is the loss of a uniform guess.

    ## Threshold
    An improvement below `loss_plateau_drop`, or not significant at `trend_significance`, over at
    least `min_trend_points` points; a drop below
    `slow_loss_drop` with every weight series below `not_learning_change` (own labeled runs:
    healthy losses fell 59-99%, a 5-step run 22% with its layers moving 9-17%; learning rates
    1e-5/1e-6 moved the loss 0.7-15% and every weight series under 0.5%).

    ## What to try
    Raise the learning rate (try 10x); check that all layers are trainable; look at the layer
    findings (dead units, saturation, vanishing gradients); check that inputs and labels are
    paired correctly.
    """
    if run.training is not None:
        return  # an evaluation run: its training run is judged
    s = progress_curve(run)
    if s is None:  # no loss and no reward: judged by the accuracies, a plateau only if none improves
        accuracies = [a for a in run.of_role(Role.ACCURACY, evaluation=False) if a.points]
        if not accuracies or any(a.improving(t) for a in accuracies):
            return
        s = max(accuracies, key=lambda a: (a.points, -len(a.tag)))
    if (s.is_loss and s.signed) or not s.early:
        return
    recommendation = ("Raise the learning rate (try 10x) if nothing diverges.",
                      "Check that all layers are trainable (see not_learning findings).",
                      "Look at the layer findings: dead units, saturation, vanishing gradients.",
                      "Check that inputs and labels are paired correctly.")
    if s.role is Role.ACCURACY and (s.early >= t.accuracy_ceiling or s.early <= 0):
        return
    gain = s.improvement()
    evidence = {"start": s.early, "end": s.late, "change": s.change(), "points": s.points,
                "p_value": s.trend.p, "threshold": t.loss_plateau_drop}
    stuck = s.is_loss and s.trend_judged(t) and at_chance(s, t)
    if stuck or (s.trend_judged(t) and not s.improving(t)
                 and not (s.is_loss and s.late >= t.loss_diverging_factor * s.early)):
        if stuck:
            k = chance_classes(s.late, t.chance_tolerance)
            message = (f"{s.tag} starts at {short(s.early)} and ends at {short(s.late)} ({s.points} points): the "
                       f"loss of guessing among {k} classes (ln {k} = {np.log(k or 1):.3g}) from start to end: the "
                       "model has learned nothing.")
        else:
            better = "rise" if s.higher_is_better else "fall"
            size = "" if s.role is Role.REWARD else f" of at least {pct(t.loss_plateau_drop)}"
            message = (f"{s.tag} {_moved(s)} over the run, from {short(s.early)} to {short(s.late)}"
                       f"{_chance_words(s.late, t)} ({s.points} points; improving needs a significant {better}{size}, "
                       f"Mann-Kendall p = {s.trend.p:.2g}): the model is not improving.")
        yield Hit(s.tag, [s.tag, *s.aliases], _window(s), message, evidence, recommendation)
        return
    still = _weights_all_still(run, t)
    if s.is_loss and still is not None and s.points >= t.min_steps and gain < t.slow_loss_drop:
        yield Hit(s.tag, [s.tag, *s.aliases], _window(s),
                  f"{s.tag} {_moved(s)} over the run, from {short(s.early)} to {short(s.late)} (a drop below "
                  f"{pct(t.slow_loss_drop)} while no weight moves), and no weight histogram moved more than "
                  f"{pct(still, t.not_learning_change)} of its spread: the loss creeps instead of falling, as with a "
                  "learning rate far too low.",
                  {**evidence, "threshold": t.slow_loss_drop, "largest_weight_change": still}, recommendation)


@rule("loss_oscillating", Severity.WARNING, Scope.RUN,
      ("loss_oscillation", "oscillation_direction_changes", "converged_fraction", "oscillation_min_steps", "min_steps"))
def loss_oscillating(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """The training objective jumps up and down by a large share of its level without settling.

    ## What it does
    In the second half of the run's training objective, takes the median step-to-step change
    relative to the median level, and the share of direction changes. Fires when the change is
    at or above `loss_oscillation` of the level, the direction turns at least
    `oscillation_direction_changes` of the time, over at least `oscillation_min_steps` (and
    `min_steps`) values, the loss does not clearly fall over the run (minibatch noise around a
    falling loss is not an oscillation), and it has not already fallen below
    `converged_fraction` of its start (small losses near convergence jitter harmlessly).
    Objectives with negative values (a policy-gradient surrogate) and the losses of RL runs are
    not judged.

    ## Why is this bad
    Large jumps mean the updates overshoot: learning rate too high or batch too small.

    ## Threshold
    A typical change of `loss_oscillation` of the level with direction changes at
    `oscillation_direction_changes` or more (own labeled runs).

    ## What to try
    Lower the learning rate; use a larger batch; use learning-rate decay.
    """
    s = run.objective()
    if s is None or s.signed or run.reward() is not None or s.improving(t):
        return  # minibatch noise around a loss that clearly falls is not an oscillation
    n = s.points
    if (n < max(t.min_steps, t.oscillation_min_steps) or s.roughness < t.loss_oscillation
            or s.sign_changes < t.oscillation_direction_changes):
        return
    if s.early > 0 and s.late < t.converged_fraction * s.early:
        return
    level = f"moves by {pct(min(s.roughness, 99.99))} of its level from one value to the next"
    yield Hit(s.tag, [s.tag, *s.aliases], (int(s.steps[n // 2]), int(s.steps[-1])),
              f"In the second half of the run {s.tag} {level}, changing direction {pct(s.sign_changes)} of the time "
              f"(threshold {pct(t.loss_oscillation)} of the level): no steady trend.",
              {"roughness": s.roughness if np.isfinite(s.roughness) else "inf",
               "direction_changes": s.sign_changes, "threshold": t.loss_oscillation},
              ("Lower the learning rate.", "Use a larger batch or learning-rate decay."))


def _training_objective(run: RunFeatures) -> ScalarFeatures | None:
    return run.objective() or (run.training.objective() if run.training else None)


@rule("overfitting", Severity.WARNING, Scope.RUN,
      ("overfit_rise", "overfit_points_after", "overfit_train_drop", "trend_significance", "overfit_noise_sigmas",
       "overfit_trend_sigmas"))
def overfitting(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """The evaluation loss rises from its minimum while the training objective keeps falling.

    ## What it does
    For each evaluation loss (`val_loss`, `eval/loss`, Keras' `validation/epoch_loss`, paired
    with the training objective of the same run or of its `train/` sibling), finds the lowest
    point of its smoothed curve. Fires when, after it, there are at least
    `overfit_points_after` evaluation points, the end level is at least `overfit_rise` above
    the minimum, the end stands above the minimum by `overfit_noise_sigmas` of the curve's
    point-to-point noise, or by `overfit_trend_sigmas` with a rising trend after the minimum
    (Mann-Kendall at `trend_significance`): the lowest point of a flat noisy curve is a dip of
    noise, and a loss that jumped after its minimum and came partly back when the learning rate
    dropped (still 25% above it) is no monotonic trend. And the training objective fell by at
    least `overfit_train_drop` over the same steps. Per-batch evaluation losses logged against a
    batch index (Lightning's `*_step` in validation) are not a training curve and are left out.

    ## Why is this bad
    The model learns the training set by heart instead of what generalises: past the minimum
    every step makes the model that would be deployed worse. The best model is the one at the
    minimum of the evaluation loss: the early-stopping point.

    ## Threshold
    A rise of `overfit_rise` over the minimum, beyond noise (`overfit_noise_sigmas`, or
    `overfit_trend_sigmas` with a significant trend), with `overfit_points_after` points after it
    and a training drop of `overfit_train_drop` meanwhile. On the labeled runs the evaluation
    losses that rose significantly after their minimum while the training loss fell rose at most
    1.6% where nothing overfits, and 4% to 594% where the data shows overfitting; their ends stood
    0.6-2.3 sigma of noise above the minimum where nothing overfits, 3.7-60 where it does.

    ## What to try
    Stop at the step of the minimum (early stopping, restoring the best weights); add
    regularisation (dropout, weight decay, data augmentation); use more training data or a
    smaller model.
    """
    train = _training_objective(run)
    if train is None or train.signed:
        return
    for s in run.of_role(Role.EVAL_LOSS):
        if s.signed or re.search(r"_step($|/)", s.tag) or not s.best > 0:
            continue  # Lightning's per-batch validation loss runs over a batch index, not training
        after = s.values[s.steps > s.best_step]
        if after.size < t.overfit_points_after or s.late < (1 + t.overfit_rise) * s.best:
            continue
        since_best = s.values[s.steps >= s.best_step]
        sigmas = _sigmas_above(since_best, s.late - s.best)
        if sigmas < t.overfit_noise_sigmas and (_direction(since_best, t) <= 0 or sigmas < t.overfit_trend_sigmas):
            continue
        train_then = _level_at(train, s.best_step)
        if not train_then > 0 or (train_then - train.late) / train_then < t.overfit_train_drop:
            continue
        rise = s.late / s.best - 1
        yield Hit(s.tag, [s.tag, *s.aliases, train.tag], (s.best_step, int(s.steps[-1])),
                  f"{s.tag} fell to {short(s.best)} at step {s.best_step}, then rose {pct(rise)} to {short(s.late)} "
                  f"by step {int(s.steps[-1])} (threshold {pct(t.overfit_rise)}), while {train.tag} kept falling, "
                  f"from {readable(train_then)} to {readable(train.late)}: the model overfits from step {s.best_step}; "
                  f"the best model is the one at step {s.best_step}.",
                  {"best": s.best, "best_step": s.best_step, "end": s.late, "rise": rise,
                   "train_at_best": train_then, "train_end": train.late, "threshold": t.overfit_rise},
                  (f"Stop training at the minimum (early stopping around step {s.best_step}, restoring the best "
                   "weights).", "Add regularisation: dropout, weight decay, data augmentation.",
                   "Use more training data or a smaller model."))


def _sigmas_above(values: np.ndarray, rise: float) -> float:
    """`rise` in units of the point-to-point noise of `values` (trends.point_noise)."""
    sigma = trends.point_noise(values)
    return rise / sigma if sigma > 0 else (float("inf") if rise > 0 else 0.0)


def _level_at(s: ScalarFeatures, step: int) -> float:
    """The curve's level around `step`: the median of the window of points nearest it."""
    nearest = np.argsort(np.abs(s.steps - step), kind="stable")[: s.window]
    return float(np.median(s.values[nearest])) if nearest.size else float("nan")
