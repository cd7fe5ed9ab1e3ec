"""The plain data of a sweep: what the pipeline gives (`RunFacts`, `Curve`) and what the sweep
says (`Sweep`, its rows, seed groups, votes, bands and splits), with the sentences they read as."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from reportgen.findings import Verdict
from reportgen.smoothing import SMOOTHING

Value = float | str | bool

SEED_NAMES = frozenset({"seed", "random_seed"})  # a hyperparameter of these names (or `x.seed`) is the seed


@dataclass(frozen=True)
class Curve:
    """One scalar of a run as a sweep compares it."""

    tag: str
    role: str  # the diagnosis' role name: objective, eval_loss, accuracy, reward, ...
    higher_is_better: bool
    end: float  # the level at the end (median of the curve's end window)
    best: float  # the best point of the curve
    steps: np.ndarray  # one finite value per step
    values: np.ndarray


@dataclass(frozen=True)
class RunFacts:
    name: str
    hparams: dict[str, Value]
    verdict: Verdict
    findings: tuple[tuple[str, str], ...]  # (code, layer) of each finding
    curves: dict[str, Curve]  # tag -> curve
    results: tuple[str, ...] = ()  # tags measuring the run's result, the best measure first
    objective: str | None = None  # the training objective's tag


@dataclass
class Vote:
    code: str
    layer: str
    runs: int  # seeds with this finding
    of: int  # seeds in the group

    @property
    def text(self) -> str:
        return f"{self.code} in {self.layer}: {self.runs} of {self.of} seeds"


@dataclass
class Band:
    """A curve of a seed group: at each step logged by any seed, the mean, spread and range
    over the seeds that logged it, of each seed's curve smoothed with `smoothing`."""

    tag: str
    steps: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    seeds: np.ndarray  # how many seeds logged each step
    raw_mean: np.ndarray  # the mean of the values as logged
    smoothing: float = SMOOTHING


@dataclass
class Spread:
    """The sweep's metric at the end over a group's seeds: what "noise" means for it."""

    tag: str
    mean: float
    std: float
    low: float
    high: float


@dataclass
class SeedGroup:
    name: str
    runs: list[str]
    seeds: list[str]  # each run's seed, as its hyperparameter or its name gives it
    hparams: dict[str, Value]  # what the runs share (the seed left out)
    verdict: Verdict  # the majority's (ties: the worse)
    verdict_count: int  # runs with that verdict
    votes: list[Vote]  # most seeds first
    bands: list[Band] = field(default_factory=list)
    metric: Spread | None = None

    @property
    def verdict_text(self) -> str:
        return f"{self.verdict} ({self.verdict_count} of {len(self.runs)} seeds)"


@dataclass
class Part:
    """Runs whose hyperparameter is in one range or has one value, and how many have the finding."""

    label: str  # "lr >= 0.1", "act = tanh", "without lr"
    with_finding: int
    runs: int


@dataclass
class Split:
    code: str
    hparam: str
    parts: list[Part]  # the part where the finding is most frequent first
    score: float  # balanced accuracy of "the finding iff in the first parts": 0.5 says nothing, 1 separates

    @property
    def sentence(self) -> str:
        first, *rest = self.parts
        clauses = [f"in {first.with_finding} of {first.runs} runs with {first.label}"]
        clauses += [f"in {p.with_finding} of {p.runs} with {p.label}" for p in rest]
        return f"{self.code} " + ", ".join(clauses)


@dataclass
class CodeAgainstHparams:
    code: str
    runs_with: int
    runs: int
    splits: list[Split]  # every varying hyperparameter's, the best separating first

    @property
    def sentence(self) -> str:
        if self.runs_with == self.runs:
            return f"{self.code} in all {self.runs} runs"
        if not self.splits:
            return f"{self.code} in {self.runs_with} of {self.runs} runs"
        return self.splits[0].sentence


@dataclass
class Row:
    run: str
    hparams: dict[str, Value]  # the varying ones
    metric_end: float | None
    metric_best: float | None
    objective_end: float | None
    objective_best: float | None
    verdict: Verdict
    findings: dict[str, int]  # code -> findings (layers) of the run
    group: str | None  # its seed group's name


@dataclass
class Sweep:
    metric: str | None  # the tag the runs are ranked by
    higher_is_better: bool
    objective: str | None  # the objective's tag, when it is not the metric
    varying: list[str]  # hyperparameter names that differ between runs: the table's columns
    constant: dict[str, Value]  # the same in every run: one line
    rows: list[Row]  # sorted by `sort`, best first
    sort: str  # what the rows are sorted by: the metric, another scalar tag or a hyperparameter
    codes: list[str]  # finding codes in the sweep, most runs first
    best_run: str | None
    groups: list[SeedGroup]
    against: list[CodeAgainstHparams]

    @property
    def best_text(self) -> str:
        row = next((r for r in self.rows if r.run == self.best_run), None)
        if row is None or row.metric_end is None:
            return ""
        better = "higher" if self.higher_is_better else "lower"
        return f"Best run by {self.metric} at the end ({better} is better): {row.run}, {_number(row.metric_end)}"


def _number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def show(value: Value) -> str:
    """A hyperparameter's value as a table or a sentence shows it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def is_seed(name: str) -> bool:
    return name.rsplit(".", 1)[-1].rsplit("/", 1)[-1].lower() in SEED_NAMES
