"""Rules on the loss curve: diverging, flat, oscillating."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from reportgen.diagnosis.features import RunFeatures, ScalarFeatures, improvement, loss_improving
from reportgen.diagnosis.registry import Hit, Scope, rule
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Severity
from reportgen.numbers import pct, short


def _loss_window(s: ScalarFeatures) -> tuple[int, int]:
    return int(s.finite_steps[0]), int(s.finite_steps[-1])


@rule("loss_diverging", Severity.CRITICAL, Scope.RUN, ("loss_diverging_factor", "min_steps"))
def loss_diverging(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
    """The loss ends far above where it started.

    ## What it does
    For scalars named like a loss (`loss`, `train/loss`, `epoch_loss`, `val_loss`, ...),
    compares the median of the last 10% of values with the median of the first 10% and fires
    when it is the threshold factor higher (positive losses only).

    ## Why is this bad
    Training is making the model worse: usually a learning rate far too high, exploding
    gradients, or a bug such as a sign error in the loss.

    ## Threshold
    `loss_diverging_factor` over at least `min_steps` values.

    ## What to try
    Lower the learning rate by 10x; clip gradients; check the sign and reduction of the loss;
    check that labels match inputs.
    """
    for s in run.losses():
        if s.values.size < t.min_steps or not s.early > 0 or s.late < t.loss_diverging_factor * s.early:
            continue
        yield Hit(s.tag, [s.tag], _loss_window(s),
                       f"{s.tag} rose from {short(s.early)} to {short(s.late)} ({s.late / s.early:.1f}x; threshold "
                       f"{t.loss_diverging_factor:g}x): training is making the model worse.",
                       {"early": s.early, "late": s.late, "factor": s.late / s.early,
                        "threshold": t.loss_diverging_factor},
                       ("Lower the learning rate by 10x.", "Clip gradients by norm.",
                        "Check the sign and reduction of the loss, and that the labels match the inputs."))


def _weights_all_still(run: RunFeatures, t: Thresholds) -> float | None:
    """The largest relative change of any weight series when every one stayed below
    `not_learning_change` (None when some moved or none was logged over `min_steps`)."""
    changes = [s.change for lf in run.layers for s in lf.of_kind("weights") if len(s.steps) >= t.min_steps]
    if not changes or not all(np.isfinite(c) and c < t.not_learning_change for c in changes):
        return None
    return max(changes)


@rule("loss_plateau", Severity.WARNING, Scope.RUN,
      ("loss_plateau_drop", "noise_multiple", "slow_loss_drop", "not_learning_change", "accuracy_ceiling", "min_steps"))
def loss_plateau(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
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
    A drop below `loss_plateau_drop` over the run, or below `noise_multiple` times the
    minibatch noise of the difference when that is larger; below `slow_loss_drop` with every
    weight series below `not_learning_change` (own labeled runs: healthy losses fell 59-99%, a
    5-step run 22% with its layers moving 9-17%; learning rates 1e-5/1e-6 moved the loss
    0.7-15% and every weight series under 0.5%). An accuracy that starts at or above
    `accuracy_ceiling` is not judged.

    ## What to try
    Raise the learning rate (try 10x); check that all layers are trainable; look at the layer
    findings (dead units, saturation, vanishing gradients); check that inputs and labels are
    paired correctly.
    """
    losses = [s for s in run.losses() if s.values.size >= t.min_steps and s.early != 0]
    accuracies = [a for a in run.scalars.values() if a.role == "accuracy"]
    judged = losses if loss_improving(run, t) and losses else [*losses, *accuracies]
    still = _weights_all_still(run, t)
    recommendation = ("Raise the learning rate (try 10x) if nothing diverges.",
                      "Check that all layers are trainable (see not_learning findings).",
                      "Look at the layer findings: dead units, saturation, vanishing gradients.",
                      "Check that inputs and labels are paired correctly.")
    for s in judged:
        if s.values.size < t.min_steps or s.early == 0:
            continue
        if s.role == "accuracy" and (s.early >= t.accuracy_ceiling or s.early <= 0):
            continue
        gain = improvement(s)
        if s.role == "loss" and s.early > 0 and s.late >= t.loss_diverging_factor * s.early:
            continue
        what = "dropped" if s.role == "loss" else "rose"
        evidence = {"early": s.early, "late": s.late, "improvement": gain, "threshold": t.loss_plateau_drop}
        if gain < max(t.loss_plateau_drop, t.noise_multiple * s.noise):
            limit = max(t.loss_plateau_drop, t.noise_multiple * s.noise)
            noise = ", twice its minibatch noise" if limit > t.loss_plateau_drop else ""
            yield Hit(s.tag, [s.tag], _loss_window(s),
                           f"{s.tag} {what} only {pct(max(gain, 0.0), limit)} over the run, from {short(s.early)} to "
                           f"{short(s.late)} (threshold {pct(limit)}{noise}): the model is not improving.",
                           evidence, recommendation)
        elif s.role == "loss" and still is not None and gain < t.slow_loss_drop:
            yield Hit(s.tag, [s.tag], _loss_window(s),
                           f"{s.tag} dropped only {pct(gain, t.slow_loss_drop)} over the run, from {short(s.early)} to "
                           f"{short(s.late)} (threshold {pct(t.slow_loss_drop)} when no weights move), while no weight "
                           f"histogram moved more than {pct(still, t.not_learning_change)} of its spread: the loss "
                           "creeps "
                           "instead of falling, as with a learning rate far too low.",
                           {**evidence, "threshold": t.slow_loss_drop, "largest_weight_change": still},
                           recommendation)


@rule("loss_oscillating", Severity.WARNING, Scope.RUN,
      ("loss_oscillation", "oscillation_direction_changes", "converged_fraction", "oscillation_min_steps", "min_steps"))
def loss_oscillating(run: RunFeatures, t: Thresholds) -> Iterator[Hit]:
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
    A typical step-to-step change of `loss_oscillation` of the level, direction changes at
    `oscillation_direction_changes` or more, over at least `oscillation_min_steps` (and
    `min_steps`) values; a
    loss already below `converged_fraction` of its start is not judged.

    ## What to try
    Lower the learning rate; use a larger batch; use learning-rate decay; for policy-gradient
    losses, normalise the advantages and watch the mean reward.
    """
    for s in run.losses():
        n = s.values.size
        if (n < max(t.min_steps, t.oscillation_min_steps) or s.roughness < t.loss_oscillation
                or s.sign_changes < t.oscillation_direction_changes):
            continue
        if s.early > 0 and s.late < t.converged_fraction * s.early:
            continue
        level = f"moves by {pct(min(s.roughness, 99.99))} of its level from one value to the next"
        yield Hit(s.tag, [s.tag], (int(s.finite_steps[n // 2]), int(s.finite_steps[-1])),
                       f"In the second half of the run {s.tag} {level}, changing direction {pct(s.sign_changes)} of "
                       "the time "
                       f"(threshold {pct(t.loss_oscillation)} of the level): no steady trend.",
                       {"roughness": s.roughness if np.isfinite(s.roughness) else "inf",
                        "direction_changes": s.sign_changes,
                        "threshold": t.loss_oscillation},
                       ("Lower the learning rate.", "Use a larger batch or learning-rate decay.",
                        "For a policy-gradient loss, normalise the advantages and watch the mean reward instead."))
