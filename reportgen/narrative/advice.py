"""What to try, from the evidence, and what another run of the report shows about it.

Advice is ordered by how likely it is given the measurements: a layer that is identical at every
step is most often frozen; layers that barely moved while a later one moved several times more,
under one learning rate for all, are starved of updates (the last layer takes the error signal);
a network where nothing moves has a learning-rate or gradient problem. Each item names the
measurement that motivates it, and a list shared by several layers is said once per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.diagnosis.features import RunFeatures
from reportgen.findings import Finding, Severity
from reportgen.numbers import and_list, pct

STARVED = 3.0  # a later layer moved this many times more than the slow ones: the last layer takes the error


def _moves(run: RunFeatures) -> list[tuple[str, float]]:
    """(layer, first-to-last move of its weights), in depth order."""
    return [(lf.layer.name, s.change) for lf in run.layers for s in lf.of_kind("weights")[:1]
            if np.isfinite(s.change)]


def _optimiser(hparams: dict[str, object]) -> str:
    for key, value in hparams.items():
        if key.lower().split(".")[-1] in ("optimizer", "optimiser", "optim", "opt"):
            return str(value).lower()
    return ""


def _not_learning_advice(run: RunFeatures, still: list[Finding], hparams: dict[str, object]) -> list[str]:
    slow = list(dict.fromkeys(f.layer for f in still))
    moves = dict(_moves(run))
    if all(moves.get(name, 1.0) == 0 for name in slow):
        return [f"Check that {and_list(slow)} {'is' if len(slow) == 1 else 'are'} trainable and handed to the "
                "optimiser: identical weights at every step mean no update reached them."]
    later = [(name, change) for name, change in _moves(run) if name not in slow]
    fastest = max(later, key=lambda x: x[1], default=None)
    slowest = max(moves.get(name, 0.0) for name in slow)
    optimiser = _optimiser(hparams)
    if fastest is not None and slowest > 0 and fastest[1] >= STARVED * slowest:
        head = (f"The last layer takes most of the error signal: {fastest[0]} moved {pct(fastest[1])} of its "
                f"spread, {and_list(slow)} at most {pct(slowest)}")
        if optimiser and optimiser not in ("sgd", "gradientdescent"):
            first = (f"{head}, even under {optimiser}, which scales each weight's step: log the early layers' "
                     "gradients to see whether they vanish, and check their initialisation and inputs' scale.")
        else:
            sgd = ("plain SGD gives every layer one learning rate" if optimiser else
                   "with one learning rate for every layer (plain SGD)")
            first = (f"{head}; {sgd}, and the earlier layers' updates are too small. Log their gradients to "
                     "confirm, and try Adam or a per-layer learning rate.")
        return [first, f"If the loss or reward jumps, try a smaller learning rate: {fastest[0]} moves fastest."]
    return [f"Nothing in the network moves much ({and_list(slow)} at most {pct(slowest)} of their spread): try a "
            "larger learning rate (10x), and log the gradients to see whether they vanish."]


def what_to_try(run: RunFeatures, findings: list[Finding], hparams: dict[str, object], limit: int = 3) -> list[str]:
    """Up to `limit` things to try, most likely first, each said once for the run."""
    items: list[str] = []
    severe = [f for f in findings if f.severity is not Severity.INFO]
    for code in dict.fromkeys(f.code for f in severe):
        same = [f for f in severe if f.code == code]
        if code == "not_learning":
            items += _not_learning_advice(run, same, hparams)
        elif same[0].recommendation:
            layers = list(dict.fromkeys(f.layer for f in same))
            where = f" ({and_list(layers)})" if len(layers) > 1 else ""
            items.append(same[0].recommendation[0].rstrip(".") + where + ".")
    if any(f.code == "no_bias" for f in findings):
        items.append("Add bias units to the layers: none logs a bias, and without one a unit cannot shift its output.")
    return list(dict.fromkeys(items))[:limit]


@dataclass(frozen=True)
class Comparable:
    """What `contrast` needs of a run: a few numbers, so that a sweep read run by run keeps
    these rather than every run's features."""

    verdict: str
    layers: frozenset[str]
    moves: dict[str, float]  # layer -> first-to-last move of its weights (_moves)
    has_bias: bool
    optimiser: str
    curve: tuple[str, float] | None  # the reward (else the objective): tag, end-window median


def comparable(run: RunFeatures, verdict: str, hparams: dict[str, object]) -> Comparable:
    curve = run.reward() or run.objective()
    return Comparable(verdict, frozenset(lf.layer.name for lf in run.layers), dict(_moves(run)),
                      any(lf.of_kind("bias") for lf in run.layers), _optimiser(hparams),
                      (curve.tag, curve.late) if curve is not None else None)


def contrast(name: str, runs: dict[str, Comparable], findings: list[Finding]) -> str:
    """What a healthier run of the report with the same layers shows, against this run's slow
    layers: "question_fixed, which has biases and uses adam, moved layer1 4x more (4.6% against
    1.2%) and its reward reached 0.23 against 0.14". "" when no run differs that way."""
    slow = [f.layer for f in findings if f.run == name and f.code == "not_learning"]
    if not slow:
        return ""
    mine = runs[name]
    for other, theirs in runs.items():
        if other == name or theirs.verdict != "healthy" or not mine.layers <= theirs.layers:
            continue
        first = slow[0]
        if not mine.moves.get(first) or theirs.moves.get(first, 0.0) < 2 * mine.moves[first]:
            continue
        differs = []
        if theirs.has_bias and not mine.has_bias:
            differs.append("has biases")
        if theirs.optimiser and theirs.optimiser != mine.optimiser:
            differs.append(f"uses {theirs.optimiser}")
        which = f", which {' and '.join(differs)}," if differs else ""
        text = (f"{other}{which} moved {first} {theirs.moves[first] / mine.moves[first]:.0f}x more "
                f"({pct(theirs.moves[first])} against {pct(mine.moves[first])})")
        if mine.curve is not None and theirs.curve is not None and mine.curve[0] == theirs.curve[0]:
            text += f" and its {mine.curve[0]} reached {theirs.curve[1]:.2g} against {mine.curve[1]:.2g}"
        return text + "."
    return ""
