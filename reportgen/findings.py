"""What the diagnosis says, as plain values: severities, verdicts and findings.

These are the model layer's value types: the diagnosis makes them, the report view-model and
every output writer show them, and none of those needs to import the diagnosis.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    """How bad one finding is, worst first."""

    CRITICAL = "critical"  # the run is broken
    WARNING = "warning"  # training runs, but something holds it back
    INFO = "info"  # worth knowing, nothing to fix

    @property
    def rank(self) -> int:
        """0 for the worst: sort findings by it."""
        return SEVERITY_ORDER.index(self)

    def at_or_above(self, other: Severity | str) -> bool:
        return self.rank <= Severity(other).rank


SEVERITY_ORDER = tuple(Severity)


class Verdict(enum.StrEnum):
    """One word for a run or a report, from its findings."""

    HEALTHY = "healthy"
    WARNINGS = "warnings"
    CRITICAL = "critical"
    NOT_JUDGED = "not judged"  # nothing in it could be judged: never called healthy

    @classmethod
    def overall(cls, verdicts: Any) -> Verdict:
        """A report's verdict from its runs': the worst; healthy when some run is healthy and the
        others could not be judged; not judged when none could (or there are no runs)."""
        seen = set(verdicts)
        for verdict in (cls.CRITICAL, cls.WARNINGS, cls.HEALTHY):
            if verdict in seen:
                return verdict
        return cls.NOT_JUDGED

    @classmethod
    def of(cls, severities: Any) -> Verdict:
        """The verdict of findings of these severities (an iterable of Severity or str)."""
        seen = set(severities)
        if Severity.CRITICAL in seen:
            return cls.CRITICAL
        if Severity.WARNING in seen:
            return cls.WARNINGS
        return cls.HEALTHY


@dataclass(frozen=True)
class Finding:
    code: str  # e.g. "dead_units"
    severity: Severity
    run: str
    layer: str  # layer name, or the scalar tag for loss findings
    tags: tuple[str, ...]
    steps: tuple[int, int]  # [first, last] step where it holds
    message: str  # plain words with the numbers that back it, value against threshold
    evidence: dict[str, Any] = field(default_factory=dict)
    recommendation: tuple[str, ...] = ()  # what to try, in order

    @property
    def fingerprint(self) -> str:
        """A stable id of this problem: a hash of run, layer and code, no values, so the same
        problem found on two nights has the same id (baselines, Code Quality, JUnit)."""
        return fingerprint(self.run, self.layer, self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint, "code": self.code, "severity": str(self.severity), "run": self.run,
            "layer": self.layer,
            "tags": list(self.tags), "steps": list(self.steps), "message": self.message,
            "evidence": self.evidence, "recommendation": list(self.recommendation),
        }

    def at_or_above(self, severity: Severity | str) -> bool:
        return Severity(self.severity).at_or_above(severity)


def worst_first(findings: list[Finding]) -> list[Finding]:
    """The findings sorted by severity, worst first; equal ones keep their order."""
    return sorted(findings, key=lambda f: Severity(f.severity).rank)


def fingerprint(run: str, layer: str, code: str) -> str:
    """16 hex digits of SHA-256 over run, layer and code (unit-separated, so no two triples collide
    by concatenation)."""
    return hashlib.sha256("\x1f".join((run, layer, code)).encode("utf-8")).hexdigest()[:16]
