"""Features of one scalar curve: its role, where it starts and ends, its best point, its trend.

Every number a rule or a sentence quotes about a scalar comes from here. A curve is read one
value per step (the value written last at a step: a resumed job's, or the last batch's where a
writer logs several values at one step); values that are NaN or Inf are set aside and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reportgen.diagnosis import trends
from reportgen.diagnosis.roles import HIGHER_IS_BETTER, LOSSES, Role, ScalarRole
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.model import ScalarSeries

# Words, not verdicts: when a curve is told as "then flattened" (a curve within 10% of its
# whole change from its end level over the last 30% of its steps or more).
SETTLED_SHARE = 0.1
SETTLED_BY = 0.7


@dataclass
class ScalarFeatures:
    run: str
    tag: str
    role: Role
    evaluation: bool  # logged on held-out data
    steps: np.ndarray  # steps with a finite value, one per step, ascending
    values: np.ndarray  # the value at each of them
    events: int  # values read, repeated steps and non-finite values included
    repeated: int  # values beyond one per step
    nonfinite_steps: np.ndarray
    window: int  # points in the start and the end window
    early: float  # median of the start window
    late: float  # median of the end window
    best: float  # the best point of the smoothed curve: lowest loss, highest reward or accuracy
    best_step: int
    trend: trends.Trend
    roughness: float  # median |step-to-step change| in the second half, relative to the level
    sign_changes: float  # share of direction changes among consecutive changes in the second half
    noise: float  # standard error of (start level - end level) from the step-to-step noise, relative to |early|
    aliases: tuple[str, ...] = ()  # other tags holding the very same values

    @property
    def higher_is_better(self) -> bool:
        return self.role in HIGHER_IS_BETTER

    @property
    def is_loss(self) -> bool:
        return self.role in LOSSES

    @property
    def signed(self) -> bool:
        """Values on both sides of 0 (or all below): a surrogate objective such as a policy
        gradient loss, whose level says nothing about progress."""
        negative = self.values < 0
        return bool(negative.any() and (self.values > 0).any()) or bool(negative.all() and self.values.size)

    @property
    def points(self) -> int:
        return int(self.values.size)

    def change(self) -> float:
        """(end - start) / |start|: signed, whatever direction is better."""
        return (self.late - self.early) / abs(self.early) if self.early else 0.0

    def improvement(self) -> float:
        """The relative change in the better direction: a loss that fell 40% improved 0.4. For a
        loss, from the first value when that says more than the start window (a loss that fell
        from 1.57 at step 0 to 0.1 within the first window has improved 94%, not the window's
        18%)."""
        if self.higher_is_better:
            return self.change()
        from_window = -self.change()
        first = float(self.values[0]) if self.values.size else 0.0
        from_first = (first - self.late) / abs(first) if first else 0.0
        return max(from_window, from_first)

    def trend_judged(self, t: Thresholds) -> bool:
        """Enough points for a trend to be judged at all."""
        return self.points >= t.min_trend_points

    def improving(self, t: Thresholds) -> bool:
        """A clear move in the better direction: large enough against its noise and, on a curve
        long enough for a trend, significant (Mann-Kendall). A curve of `min_steps` to
        `min_trend_points` points counts by its size alone: evidence that training works, not a
        trend to judge."""
        if not self.trend_judged(t):
            large = self.improvement() >= max(t.loss_plateau_drop, t.noise_multiple * self.noise)
            return self.points >= t.min_steps and large
        better = 1 if self.higher_is_better else -1
        moved = self.trend.direction(t.trend_significance) == better or self.left_its_start()
        # A reward's scale is its environment's: any clear rise is progress.
        return moved and (self.role is Role.REWARD or self.improvement() >= t.loss_plateau_drop)

    def settled_step(self) -> int | None:
        """The step after which the curve stays near its end level (within `SETTLED_SHARE` of
        the whole change, smoothed over its window), when that is well before the end (in its
        first `SETTLED_BY` of steps): "fell 70%, then flattened after step 1200". None for a
        curve that kept moving."""
        if self.values.size < 2 * self.window or self.early == self.late:
            return None
        smooth = trends.rolling_median(self.values, self.window)
        near = np.abs(smooth - self.late) <= SETTLED_SHARE * abs(self.early - self.late)
        leaves = np.flatnonzero(~near)
        first = int(leaves[-1]) + 1 if leaves.size else 0
        span = float(self.steps[-1] - self.steps[0])
        if first >= self.values.size or span <= 0 or (self.steps[first] - self.steps[0]) / span > SETTLED_BY:
            return None
        return int(self.steps[first])

    def left_its_start(self) -> bool:
        """Whether the curve clearly left where it started: its start (the first value or the
        start window, whichever is worse) is beyond every value of its end window. A loss that
        fell fast and then flattened at its floor, noisy, shows no monotonic trend over the whole
        run, yet it fell: convergence, not a plateau."""
        if not self.values.size:
            return False
        end = self.values[-self.window:]
        first = float(self.values[0])
        if self.higher_is_better:
            return min(first, self.early) < float(end.min())
        return max(first, self.early) > float(end.max())


def scalar_features(series: ScalarSeries, role: ScalarRole, t: Thresholds) -> ScalarFeatures:
    steps_all, values_all = series.per_step()
    finite = np.isfinite(values_all)
    steps, values = steps_all[finite], values_all[finite]
    n = values.size
    size = trends.window(n, t.trend_window, int(t.trend_window_min))
    early, late = trends.level(values, size, at_end=False), trends.level(values, size, at_end=True)
    roughness, flips = _jitter(values[n // 2:])
    best_index = _best_index(values, higher=role.role in HIGHER_IS_BETTER)
    sigma = trends.point_noise(values)  # step-to-step noise, trend removed
    noise = sigma * math.sqrt(math.pi / 2) * math.sqrt(2 / size) / abs(early) if n and early else 0.0
    return ScalarFeatures(
        run=series.run, tag=series.tag, role=role.role, evaluation=role.evaluation, steps=steps, values=values,
        events=len(series.steps), repeated=len(series.steps) - len(steps_all), nonfinite_steps=steps_all[~finite],
        window=size, early=early, late=late, best=float(values[best_index]) if n else float("nan"),
        best_step=int(steps[best_index]) if n else 0, trend=trends.trend(steps, values),
        roughness=roughness, sign_changes=flips, noise=noise)


def chance_classes(value: float, tolerance: float) -> int | None:
    """k when a loss sits within `tolerance` (relative) of ln(k) for some k in 2..1000: the
    cross-entropy of a uniform guess among k classes (Karpathy, A Recipe for Training Neural
    Networks: "-log(1/n_classes)" at initialisation)."""
    if not 0.5 < value < 7.0:
        return None
    k = round(float(np.exp(value)))
    return k if 2 <= k <= 1000 and abs(value - np.log(k)) <= tolerance * np.log(k) else None


def _best_index(values: np.ndarray, higher: bool) -> int:
    """Where the curve is best: the best raw value in the 3-point windows where its running
    median of 3 is best. At least one neighbour is as good as that median, so a single noisy
    value far from the curve is not its best (the earliest among equals)."""
    if not values.size:
        return 0
    sign = -1.0 if higher else 1.0
    smooth = sign * trends.rolling_median(values, 3)
    near = {j for i in np.flatnonzero(smooth == smooth.min()).tolist()
            for j in range(max(0, i - 1), min(int(values.size), i + 2))}
    candidates = sorted(near)
    return candidates[int(np.argmin(sign * values[candidates]))]


def _jitter(half: np.ndarray) -> tuple[float, float]:
    """How much a curve jumps from one value to the next, relative to its level, and how often
    it turns around."""
    diffs = np.diff(half)
    level = float(np.median(np.abs(half))) if half.size else 0.0
    typical = float(np.median(np.abs(diffs))) if diffs.size else 0.0
    roughness = typical / level if level > 0 else (float("inf") if typical > 0 else 0.0)
    moving = diffs[diffs != 0]
    flips = float(np.mean(np.sign(moving[1:]) != np.sign(moving[:-1]))) if moving.size > 2 else 0.0
    return roughness, flips
