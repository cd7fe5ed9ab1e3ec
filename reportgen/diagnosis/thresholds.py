"""Every threshold the rules use, in one place, each with its value, source and reason.

Users override values by name in `[tool.reportgen] thresholds = {dead_fraction = 0.8}`;
`reportgen rules` and docs/rules.md list them.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.errors import ConfigError


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    source: str
    reason: str


DEFAULTS: dict[str, Threshold] = {t.name: t for t in (
    Threshold("dead_fraction", 0.70, "DeepDiagnosis (Wardat et al., ICSE 2022; released callbacks.py): a ReLU layer's "
                                     "outputs at or below 0 for 70% or more. AUTOTRAINER's gamma = 0.7 is the same "
                                     "share of exactly-zero gradients, not of activations",
              "share of a ReLU layer's activations at exactly 0 above which most units pass no gradient"),
    Threshold("saturation_fraction", 0.50, "own labeled runs (benchmarks/diagnosis); Glorot & Bengio 2010 show "
                                           "saturated top sigmoid layers",
              "share of tanh/sigmoid activations in the outer 5% of their range (|tanh| > 0.9: slope below 0.19)"),
    Threshold("saturation_zone", 0.05, "tanh'(z) = 1 - tanh(z)^2 < 0.19 beyond |tanh| = 0.9",
              "width of the band next to each bound, as a share of the bounded range, counted as saturated"),
    Threshold("floor_zone", 0.1, "ELU'(x) = e^x: below 0.1 where ELU(x) < -0.9; the same share of SELU's floor",
              "share of an ELU/SELU floor's depth, next to the floor, counted as pinned there"),
    Threshold("linear_range", 3.0, "own, stricter than DeepDiagnosis' 5 and SageMaker Debugger's 9.4999 (tanh in "
                                   "float32 is exactly 1 there): those flag units that pass no gradient at all; beyond "
                                   "|z| = 3 tanh'(z) = 0.0099 and sigmoid'(z) = 0.045 (against 1 and 0.25 at 0), "
                                   "already too little to learn from (LeCun et al. 1998, Efficient BackProp, keep "
                                   "inputs of squashing units in their linear range)",
              "|pre-activation| beyond which a tanh/sigmoid unit is far outside its linear range"),
    Threshold("vanishing_ratio", 1e-3, "AUTOTRAINER (Zhang et al., ICSE 2021) beta_1: first/last layer gradient-norm "
                                       "ratio; its second condition (first-layer norm below 1e-4) is on a whole "
                                       "tensor's norm and is not used",
              "a layer's typical gradient size over the last layer's, below which early layers barely learn"),
    Threshold("vanishing_absolute", 1e-8, "own labeled runs: float32 updates this small change no weight",
              "root-mean-square gradient below which a layer's gradient is tiny in absolute terms"),
    Threshold("exploding_growth", 100.0, "own labeled runs (benchmarks/diagnosis: explosions grew 6.7e8-2.2e12x before "
                                         "their NaN, healthy runs at most 49x); not AUTOTRAINER's, whose exploding "
                                         "check is a first/last layer gradient ratio above 70 at one step",
              "growth of a series' root-mean-square value (weights, activations, gradients) from its floored start "
              "level to its end"),
    Threshold("exploding_floor", 0.1, "own labeled runs (benchmarks/diagnosis/torch_arch): clipped LSTMs whose bias "
                                      "gradients start 100-1000x below the run's typical gradient",
              "share of the run's typical start level (same kind of tensor) below which a tensor's start level is "
              "raised before growth is measured"),
    Threshold("weight_collapse_shrink", 100.0, "own labeled runs (benchmarks/diagnosis): weight decay 1.0 (SGD), "
                                               "L2 10 (Adam) and Keras l2(1.0) shrank weights 290x-2e12x; no other "
                                               "run shrank any weight series more than 1.3x (AdamW decay 10)",
              "shrink of a weight series' root-mean-square value from its start, at or above which the weights "
              "collapsed towards 0"),
    Threshold("exploding_absolute", 1e6, "own: far outside any sane weight, activation or gradient scale",
              "absolute value above which a weight, activation or gradient has exploded"),
    Threshold("not_learning_change", 0.015, "own labeled runs (benchmarks/diagnosis) and fixtures: healthy layers "
                                            "moved 2.5% or more of their spread, frozen or far-too-slow ones 1% or "
                                            "less",
              "first-to-last Wasserstein distance of a weight histogram, relative to its spread"),
    Threshold("not_learning_frozen", 1e-4, "own labeled runs: frozen layers 0.00%, the slowest healthy layer 0.2%",
              "relative change below which two weight histograms count as identical (a frozen layer)"),
    Threshold("still_at_init_change", 0.05, "own labeled runs",
              "relative change below which a weight histogram still shows its initialisation"),
    Threshold("min_steps", 5, "own: fewer logged steps say too little about a trend",
              "steps a series needs before trend rules (not learning, loss trends) speak"),
    Threshold("loss_diverging_factor", 2.0, "own labeled runs (learning rate far too high)",
              "late loss over early loss above which the loss is diverging"),
    Threshold("loss_plateau_drop", 0.02, "own labeled runs (frozen and far-too-low learning rate)",
              "relative drop of the loss from the start to the end below which it is a plateau"),
    Threshold("slow_loss_drop", 0.30, "own labeled runs: healthy losses fell 59-99% (a 5-step run 22%), learning rates "
                                      "1e-5/1e-6 0.7-15%; torch set measured before use",
              "relative loss drop below which a run whose weights all stay put (below not_learning_change) counts as a "
              "plateau"),
    Threshold("loss_oscillation", 0.5, "own labeled runs (learning rate too high); AUTOTRAINER flags unstable loss",
              "typical step-to-step change of the loss in the second half relative to its level"),
    Threshold("redundant_peaks", 3, "own: a trained weight histogram with 3 or more clear modes",
              "number of separate clusters in a weight histogram that hints at redundant units"),
    Threshold("histogram_stop_intervals", 3, "own: the usual trace of a writer that refused non-finite values",
              "logging intervals a histogram may end before the run's scalars before it counts as stopped"),
    Threshold("histogram_stop_share", 0.1, "own: a histogram logged less often than the scalars ends up to one "
                                           "interval early",
              "share of the run a histogram must end early, besides the intervals, before it counts as stopped"),
    Threshold("histogram_stop_min_steps", 3, "own: fewer steps give no logging interval to measure",
              "steps a histogram needs before its early end is judged"),
    Threshold("noise_multiple", 2.0, "two standard errors: a change smaller than that is within the minibatch noise",
              "how many times its noise a loss must improve by to count as improving"),
    Threshold("accuracy_ceiling", 0.99, "own: an accuracy that starts this high has no room to rise",
              "starting accuracy above which a flat accuracy is not a plateau"),
    Threshold("oscillation_min_steps", 8, "own: the second half needs a few direction changes to count",
              "values a loss needs before the oscillation rule speaks"),
    Threshold("oscillation_direction_changes", 0.5, "own: a random walk changes direction half the time",
              "share of step-to-step changes that reverse direction, at or above which the loss swings"),
    Threshold("converged_fraction", 0.2, "own: small losses near convergence jitter harmlessly",
              "late loss over early loss below which the loss has converged and its jitter is not judged"),
    Threshold("peaks_min_values", 100, "own: fewer values are too few for counting noise to separate modes",
              "values per step a histogram needs before its modes are counted (below: one mode)"),
    Threshold("few_values", 25, "the usual n >= 25-30 below which sample moments and a histogram's shape are "
                                "sampling noise (a histogram of 4 numbers shows where they are, not a shape)",
              "values per step below which a histogram is described as its values, not as a shape"),
    Threshold("spike_zero_fraction", 0.3, "own: a healthy ReLU layer has about half its activations at 0",
              "share of exact zeros at or above which a histogram's shape is a spike at zero"),
    Threshold("min_trend_points", 10, "Mann-Kendall's normal approximation wants more than about 10 points; "
                                      "exact tables cover fewer (Gilbert 1987, as R's trend::mk.test cites it)",
              "points a curve needs before its trend is judged"),
    Threshold("trend_window", 0.1, "own: a start or end level of a tenth of the run",
              "share of a curve's points in its start window and in its end window"),
    Threshold("trend_window_min", 5, "own: a median of 5 points is not one noisy value",
              "fewest points in a start or end window (a third of the curve at most)"),
    Threshold("trend_significance", 0.05, "the conventional level of the Mann-Kendall test (R trend::mk.test, "
                                          "pyMannKendall default alpha)",
              "p-value below which a curve has a trend"),
    Threshold("overfit_rise", 0.03, "own labeled runs (benchmarks/diagnosis, wild): of the evaluation losses whose "
                                    "rise after their minimum was significant while the training loss fell, those "
                                    "without overfitting rose at most 1.6%, the overfitting ones 4% to 594%; Keras' "
                                    "EarlyStopping counts any rise (min_delta 0)",
              "rise of the evaluation loss above its minimum that counts as overfitting"),
    Threshold("chance_tolerance", 0.01, "own: ln(k) within 1%; the cross-entropy of a uniform guess (Karpathy, A "
                                        "Recipe for Training Neural Networks)",
              "relative distance from ln(k) at which a loss sits at the loss of guessing among k classes"),
    Threshold("overfit_points_after", 3, "own: one or two points after a minimum may be noise",
              "evaluation points after the minimum before a rise is judged"),
    Threshold("overfit_noise_sigmas", 5.0, "extreme values of noise: the lowest of n noisy points lies about "
                                           "sqrt(2 ln n) sigma below their level (3.7 sigma at n = 1000); on the "
                                           "labeled evaluation losses the end rose 0.6-2.3 sigma above the minimum "
                                           "where nothing overfits, 3.7-60 where it does",
              "rise of the end level above the minimum, in the curve's point-to-point noise, that is no dip of noise "
              "even when the rise is not monotonic (a learning-rate drop bends it back)"),
    Threshold("overfit_trend_sigmas", 3.0, "extreme values of noise, as overfit_noise_sigmas: sqrt(2 ln n) is 3.0 "
                                           "at n = 100 points. A rising trend after the lowest point of pure noise "
                                           "is significant far more often than 5%: on flat validation losses of 5% "
                                           "noise (40 seeds each) the trend test alone fired on 5, 7 and 2 of 40 at "
                                           "20, 60 and 300 points; with this, 2, 0 and 1",
              "rise above the minimum, in the curve's point-to-point noise, that a significant rising trend "
              "also needs"),
    Threshold("overfit_train_drop", 0.02, "the same margin as loss_plateau_drop: the training loss keeps falling",
              "relative fall of the training objective after the evaluation minimum"),
    Threshold("saturated_shape_fraction", 0.5, "the same share as saturation_fraction: most values at the bounds",
              "share near the bounds at or above which a histogram's shape is saturated"),
)}


class Thresholds:
    """Threshold values by name, defaults overridden by `[tool.reportgen] thresholds`."""

    def __init__(self, overrides: dict[str, float] | None = None):
        self.values = {name: t.value for name, t in DEFAULTS.items()}
        for name, value in (overrides or {}).items():
            if name not in DEFAULTS:
                raise ConfigError(f"thresholds: unknown name {name!r} (known: {', '.join(DEFAULTS)})")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"thresholds: {name} should be a number, got {value!r}")
            self.values[name] = float(value)

    def __getattr__(self, name: str) -> float:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None
