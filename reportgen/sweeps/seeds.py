"""Runs that differ only by their seed, as groups: their votes, majority verdict and bands.

A run's seed is its hyperparameter named `seed` or `random_seed` (also as the last part of a
dotted name: `trainer.seed`), else the end of its name that the seed pattern matches. Runs are
one group when everything else is equal: their other hyperparameters, and their names once the
seed is cut off (when the name holds it; runs whose seed is a hyperparameter and whose names do
not say it, Ray Tune's trial folders, are grouped within their parent folder).
"""

from __future__ import annotations

import math
import posixpath
import re
from collections import Counter

import numpy as np

from reportgen.findings import Verdict
from reportgen.smoothing import SMOOTHING, smooth
from reportgen.sweeps.facts import Band, RunFacts, SeedGroup, Spread, Value, Vote, is_seed, show

# The seed at the end of a run's name: `lr0.1/seed_3`, `lr0.1_seed-3`, `lr0.1_s3`, `lr0.1/s3`,
# Tune's `..._seed=3`. One home: the CLI's and the config's default.
DEFAULT_SEED_PATTERN = r"(?i)(?:^|[/_,-])(?:seed[_=-]?|s)\d+$"
VERDICT_ORDER = (Verdict.CRITICAL, Verdict.WARNINGS, Verdict.HEALTHY, Verdict.NOT_JUDGED)  # ties: the worse


def seed_of(run: RunFacts, pattern: re.Pattern[str]) -> tuple[str | None, tuple]:
    """(the run's seed, the key it shares with the runs that differ from it only by seed);
    (None, ()) for a run with no seed."""
    others = tuple(sorted((name, _hashable(value)) for name, value in run.hparams.items() if not is_seed(name)))
    seeds = [show(value) for name, value in run.hparams.items() if is_seed(name)]
    match = pattern.search(run.name)
    if match:
        digits = re.search(r"\d+$", match.group(0))
        seed = seeds[0] if seeds else (digits.group(0) if digits else match.group(0).lstrip("/_,-"))
        return seed, (run.name[:match.start()], others)
    if seeds:
        return seeds[0], (posixpath.dirname(run.name), others)
    return None, ()


def _hashable(value: Value) -> tuple[int, Value]:
    # 64 and 64.0 are the same setting; True and 1 are not.
    return (1, value) if isinstance(value, bool) else (0, value)


def seed_groups(runs: list[RunFacts], pattern: str, metric: str | None) -> list[SeedGroup]:
    """The groups of two or more runs that differ only by seed, in the order of their first run."""
    compiled = re.compile(pattern)
    members: dict[tuple, list[tuple[RunFacts, str]]] = {}
    for run in runs:
        seed, key = seed_of(run, compiled)
        if seed is not None:
            members.setdefault(key, []).append((run, seed))
    return [_group(key, found, metric) for key, found in members.items() if len(found) >= 2]


def _group(key: tuple, found: list[tuple[RunFacts, str]], metric: str | None) -> SeedGroup:
    runs = [run for run, _ in found]
    shared = {name: value for name, value in runs[0].hparams.items() if not is_seed(name)}
    prefix = key[0].rstrip("/_,-") if key[0] else ""
    name = prefix or ", ".join(f"{k}={show(v)}" for k, v in shared.items()) or runs[0].name
    counts = Counter(run.verdict for run in runs)
    verdict = max(counts, key=lambda v: (counts[v], -VERDICT_ORDER.index(v)))
    return SeedGroup(name=name, runs=[run.name for run in runs], seeds=[seed for _, seed in found],
                     hparams=shared, verdict=verdict, verdict_count=counts[verdict], votes=votes(runs),
                     bands=bands(runs), metric=spread(runs, metric))


def votes(runs: list[RunFacts]) -> list[Vote]:
    """Each (code, layer) found in any of the runs, with how many of them found it."""
    counts = Counter(pair for run in runs for pair in set(run.findings))
    ordered = sorted(counts, key=lambda pair: (-counts[pair], pair))
    return [Vote(code, layer, counts[(code, layer)], len(runs)) for code, layer in ordered]


def bands(runs: list[RunFacts], smoothing: float = SMOOTHING) -> list[Band]:
    """A band per scalar tag that two or more of the runs logged as a curve (two points or more),
    in the first run's tag order."""
    tags = list(dict.fromkeys(tag for run in runs for tag in run.curves))
    found = []
    for tag in tags:
        curves = [run.curves[tag] for run in runs if tag in run.curves and run.curves[tag].steps.size >= 2]
        if len(curves) >= 2 and curves[0].tag == tag:  # a tag that is another's alias has its band
            found.append(band(tag, [(c.steps, c.values) for c in curves], smoothing))
    return found


def band(tag: str, series: list[tuple[np.ndarray, np.ndarray]], smoothing: float = SMOOTHING) -> Band:
    """Seeds aligned by step: at every step any of them logged, the statistics over those that
    logged it (a seed that stopped early leaves the later steps to the others)."""
    steps = np.unique(np.concatenate([s for s, _ in series]))
    smoothed = np.full((len(series), steps.size), np.nan)
    raw = np.full((len(series), steps.size), np.nan)
    for i, (s, v) in enumerate(series):
        at = np.searchsorted(steps, s)
        raw[i, at] = v
        smoothed[i, at] = smooth(v, smoothing) if smoothing else v
    # Every step is some seed's, and curves hold finite values only: no column is all NaN.
    return Band(tag, steps, np.nanmean(smoothed, axis=0), np.nanstd(smoothed, axis=0), np.nanmin(smoothed, axis=0),
                np.nanmax(smoothed, axis=0), np.isfinite(smoothed).sum(axis=0), np.nanmean(raw, axis=0), smoothing)


def spread(runs: list[RunFacts], metric: str | None) -> Spread | None:
    """The metric's end values over the seeds that logged it."""
    ends = [run.curves[metric].end for run in runs if metric and metric in run.curves]
    ends = [e for e in ends if math.isfinite(e)]
    if not metric or len(ends) < 2:
        return None
    values = np.array(ends)
    return Spread(metric, float(values.mean()), float(values.std()), float(values.min()), float(values.max()))
