"""The rule registry: `@rule` registers a check with its code, severity, scope and thresholds.

A check is a small pure function that yields `Hit`s: where a problem holds and the words and
numbers that back it. The registry turns each into a `Finding` carrying the rule's code and
severity (a hit may only soften the severity, e.g. saturation that grew while the loss fell is
info), so a rule never retypes either.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reportgen.diagnosis.features import LayerFeatures, RunFeatures
from reportgen.diagnosis.roles import Role
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Finding, Severity
from reportgen.numbers import evidence as evidence_value


class Scope(enum.StrEnum):
    LAYER = "layer"  # check(layer, run, thresholds): once per layer
    RUN = "run"  # check(run, thresholds): once per run


@dataclass(frozen=True)
class Hit:
    """What a check found: where, and the words and numbers that back it."""

    layer: str  # layer name, or the scalar tag for loss findings
    tags: Sequence[str]
    steps: tuple[Any, Any]  # [first, last] step where it holds
    message: str
    evidence: dict[str, Any]
    recommendation: tuple[str, ...]
    severity: Severity | None = None  # softer than the rule's own, when the evidence says so


@dataclass(frozen=True)
class Rule:
    code: str
    severity: Severity
    scope: Scope
    thresholds: tuple[str, ...]
    check: Callable[..., Iterable[Hit]] = field(repr=False)

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.check.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]

    def finding(self, run: str, hit: Hit) -> Finding:
        severity = self.severity if hit.severity is None else hit.severity
        if severity.rank < self.severity.rank:
            raise ValueError(f"rule {self.code}: a hit may soften the severity, not raise it")
        return Finding(self.code, severity, run, hit.layer, tuple(hit.tags), (int(hit.steps[0]), int(hit.steps[1])),
                       hit.message,
                       {k: evidence_value(float(v)) if isinstance(v, (float, np.floating)) else v
                        for k, v in hit.evidence.items()},
                       hit.recommendation)


_REGISTRY: dict[str, Rule] = {}


def rule(code: str, severity: Severity, scope: Scope, thresholds: tuple[str, ...] = ()):
    """Register the decorated check under `code`; findings are listed in registration order
    within a severity, so the order rules are imported in (rules/__init__.py) is the report's."""
    def register(check: Callable[..., Iterable[Hit]]) -> Callable[..., Iterable[Hit]]:
        if code in _REGISTRY:
            raise ValueError(f"rule code {code!r} is registered twice")
        _REGISTRY[code] = Rule(code, severity, scope, thresholds, check)
        return check
    return register


def all_rules() -> list[Rule]:
    """Every registered rule (the diagnosis package imports reportgen.diagnosis.rules, which
    registers them all), in registration order."""
    return list(_REGISTRY.values())


def run_rules(run: RunFeatures, t: Thresholds, ignore: frozenset[str] | set[str] = frozenset()) -> list[Finding]:
    """Every finding of the rules not in `ignore`, in registration order (layers in order): one
    per rule and layer, its repeats folded in as evidence."""
    findings: list[Finding] = []
    for r in all_rules():
        if r.code in ignore:
            continue
        if r.scope is Scope.LAYER:
            hits = [hit for lf in run.layers for hit in r.check(lf, run, t)]
        else:
            hits = list(r.check(run, t))
        findings.extend(r.finding(run.name, hit) for hit in merged(hits, r.severity))
    return findings


# The scalar roles the rules of rules/scalars.py judge: the objective, evaluation losses, rewards, accuracies.
JUDGED_ROLES = frozenset({Role.OBJECTIVE, Role.EVAL_LOSS, Role.REWARD, Role.ACCURACY})


def about_scalars(r: Rule) -> bool:
    """Whether the rule's findings name a scalar tag (the rules of rules/scalars.py) rather than a layer."""
    return r.check.__module__.rpartition(".")[2] == "scalars"


def checked(run: RunFeatures, ignore: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
    """(layer or scalar tag, rule code) for what the rules not in `ignore` checked in this run, layers first.

    The registry knows which rules run, not which series a check then looked at (dead_units reads
    only activations, vanishing_gradient only gradients), so this is an upper bound: every histogram
    layer counts as checked by every rule about layers, and every scalar of a role the loss rules
    judge (JUDGED_ROLES) by every rule about scalars."""
    rules = [r for r in all_rules() if r.code not in ignore]
    scalars = [s.tag for s in run.scalars.values() if s.role in JUDGED_ROLES]
    return ([(lf.layer.name, r.code) for lf in run.layers for r in rules if not about_scalars(r)]
            + [(tag, r.code) for tag in scalars for r in rules if about_scalars(r)])


def merged(hits: list[Hit], severity: Severity) -> list[Hit]:
    """One hit per layer: the worst (the first among equals) speaks, the others' tags and steps
    join it, and what each said is kept in its evidence as `also`. A dead ReLU layer whose
    activations are logged under two names is one finding, not two."""
    by_layer: dict[str, list[Hit]] = {}
    for hit in hits:
        by_layer.setdefault(hit.layer, []).append(hit)
    result = []
    for group in by_layer.values():
        if len(group) == 1:
            result.append(group[0])
            continue
        rank = [(hit.severity or severity).rank for hit in group]
        lead = group[rank.index(min(rank))]
        others = [hit for hit in group if hit is not lead]
        tags = list(dict.fromkeys(tag for hit in (lead, *others) for tag in hit.tags))
        steps = (min(int(hit.steps[0]) for hit in group), max(int(hit.steps[1]) for hit in group))
        also = [{"tags": list(hit.tags), "steps": [int(hit.steps[0]), int(hit.steps[1])], "message": hit.message}
                for hit in others]
        more = ", ".join(tag for tag in tags if tag not in lead.tags)
        message = f"{lead.message} The same holds for {more}." if more else lead.message
        result.append(Hit(lead.layer, tags, steps, message, {**lead.evidence, "also": also}, lead.recommendation,
                          lead.severity))
    return result


__all__ = ["Hit", "LayerFeatures", "Rule", "RunFeatures", "Scope", "all_rules", "checked", "rule", "run_rules"]
