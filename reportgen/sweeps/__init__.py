"""What a sweep's runs say together: the table of runs by their hyperparameters, the groups of
runs that differ only by seed (seeds.py), and which settings the findings come with (against.py).

Pure functions of plain data (`RunFacts`: a run's name, hyperparameters, verdict, findings and
result curves), like histmath: the pipeline makes the facts from the diagnosis, the Report holds
the `Sweep`, every output formats it. Nothing here reads files or knows a rule.

The runs are ranked by one metric, the same for all: of each run's result curves (an evaluation
metric, else an evaluation loss, the reward of an RL run, the objective: see
`RunFeatures.results`), the tag that most runs have as their first. Its level at the end (the
median of the curve's end window) ranks them, best first; `sort` ranks them by another scalar tag
(its direction from its role) or by a hyperparameter (ascending; equals by the metric).
"""

from __future__ import annotations

import math
from collections import Counter

from reportgen.errors import ConfigError
from reportgen.findings import Verdict
from reportgen.sweeps.against import against_hparams, varying
from reportgen.sweeps.facts import (
    Band,
    CodeAgainstHparams,
    Curve,
    Part,
    Row,
    RunFacts,
    SeedGroup,
    Split,
    Spread,
    Sweep,
    Vote,
    show,
)
from reportgen.sweeps.seeds import DEFAULT_SEED_PATTERN, seed_groups

__all__ = ["AGAINST_MIN_RUNS", "DEFAULT_SEED_PATTERN", "Band", "CodeAgainstHparams", "Curve", "Part", "Row", "RunFacts",
           "SeedGroup", "Split", "Spread", "Sweep", "Vote", "build_sweep", "show", "sort_error"]


# Anything against a setting needs three runs at least. A chart of the metric against it: two
# points draw a line that says only that two runs differ, and they usually differ in more than
# that setting. Findings against it (judged runs): with two, each side of a split is one run, and
# "in 1 of 1 runs with biases = False, in 0 of 1 with biases = True" only restates which run has
# the finding, which the sweep table's Findings column says already.
AGAINST_MIN_RUNS = 3


def build_sweep(runs: list[RunFacts], seed_pattern: str = DEFAULT_SEED_PATTERN, sort: str = "") -> Sweep | None:
    """The sweep of these runs; None for fewer than two runs, or runs with neither
    hyperparameters nor seeds to compare them by. ConfigError for a `sort` that is neither a
    scalar tag nor a hyperparameter of the runs."""
    if len(runs) < 2:
        return None
    metric = main_metric(runs)
    groups = seed_groups(runs, seed_pattern, metric)
    if not groups and not any(run.hparams for run in runs):
        return None
    columns = varying(runs)
    names = list(dict.fromkeys(name for run in runs for name in run.hparams))
    constant = {n: runs[0].hparams[n] for n in names if n not in columns}
    higher = _higher_is_better(runs, metric)
    objectives = Counter(run.objective for run in runs if run.objective)
    objective = objectives.most_common(1)[0][0] if objectives else None
    group_of = {name: group.name for group in groups for name in group.runs}
    rows = [_row(run, columns, metric, objective if objective != metric else None, group_of.get(run.name))
            for run in runs]
    ranked = sorted(rows, key=lambda r: _metric_key(r.metric_end, higher))
    best = ranked[0].run if ranked and ranked[0].metric_end is not None else None
    shown_sort = metric or ""
    rows = ranked
    if sort and sort != metric:
        rows = _sorted_by(sort, ranked, runs)  # stable: the metric's order among equals
        shown_sort = sort
    # Runs that were not judged can have no finding: counting them "without" it would be a claim.
    judged = [run for run in runs if run.verdict != Verdict.NOT_JUDGED]
    against = against_hparams(judged, columns) if len(judged) >= AGAINST_MIN_RUNS else []
    return Sweep(metric=metric, higher_is_better=higher, objective=objective if objective != metric else None,
                 varying=columns, constant=constant, rows=rows, sort=shown_sort, codes=[c.code for c in against],
                 best_run=best, groups=groups, against=against)


def main_metric(runs: list[RunFacts]) -> str | None:
    """The tag most runs have as their first result curve (ties: the one more runs have at all,
    then by name)."""
    firsts = Counter(run.results[0] for run in runs if run.results)
    if not firsts:
        return None
    anywhere = Counter(tag for run in runs for tag in run.results)
    return min(firsts, key=lambda tag: (-firsts[tag], -anywhere[tag], tag))


def _higher_is_better(runs: list[RunFacts], tag: str | None) -> bool:
    curves = [run.curves[tag] for run in runs if tag and tag in run.curves]
    return bool(curves) and Counter(c.higher_is_better for c in curves).most_common(1)[0][0]


def _row(run: RunFacts, columns: list[str], metric: str | None, objective: str | None, group: str | None) -> Row:
    def ends(tag: str | None) -> tuple[float | None, float | None]:
        curve = run.curves.get(tag) if tag else None
        return (curve.end, curve.best) if curve else (None, None)

    metric_end, metric_best = ends(metric)
    objective_end, objective_best = ends(objective)
    return Row(run=run.name, hparams={n: run.hparams[n] for n in columns if n in run.hparams},
               metric_end=metric_end, metric_best=metric_best, objective_end=objective_end,
               objective_best=objective_best, verdict=run.verdict,
               findings=dict(Counter(code for code, _ in run.findings)), group=group)


def _metric_key(value: float | None, higher: bool) -> tuple[int, float]:
    """Best first; runs without the metric, or with a non-finite end, last."""
    if value is None or not math.isfinite(value):
        return (1, 0.0)
    return (0, -value if higher else value)


def _sorted_by(sort: str, rows: list[Row], runs: list[RunFacts]) -> list[Row]:
    by_name = {run.name: run for run in runs}
    tags = {tag for run in runs for tag in run.curves}
    if sort in tags:
        higher = _higher_is_better(runs, sort)
        ends = {run.name: run.curves[sort].end if sort in run.curves else None for run in runs}
        return sorted(rows, key=lambda r: _metric_key(ends[r.run], higher))
    names = {name for run in runs for name in run.hparams}
    if sort in names:
        def key(row: Row) -> tuple[int, float, str]:
            value = by_name[row.run].hparams.get(sort)
            if value is None:
                return (2, 0.0, "")
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            return (0, float(value), "") if numeric else (1, 0.0, show(value))
        return sorted(rows, key=key)
    raise ConfigError(sort_error(sort, tags, names) or sort)


def sort_error(sort: str, tags: set[str], names: set[str]) -> str | None:
    """Why `sort` cannot sort runs with these scalar tags and hyperparameter names; None if it can."""
    if not sort or sort in tags or sort in names:
        return None
    known = ", ".join(sorted(tags)[:6] + sorted(names)[:6])
    return (f"--sort {sort!r} is neither a scalar tag nor a hyperparameter of these runs "
            f"(some that are: {known or 'none'})")
