"""A finding: one thing the diagnosis rules noticed about a layer or a scalar series."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("critical", "warning", "info")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}  # lower is worse


@dataclass(frozen=True)
class Finding:
    code: str  # e.g. "dead_units"
    severity: str  # "critical" | "warning" | "info"
    run: str
    layer: str  # layer name, or the scalar tag for loss findings
    tags: tuple[str, ...]
    steps: tuple[int, int]  # [first, last] step where it holds
    message: str  # plain words with the numbers that back it, value against threshold
    evidence: dict[str, Any] = field(default_factory=dict)
    recommendation: tuple[str, ...] = ()  # what to try, in order

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "severity": self.severity, "run": self.run, "layer": self.layer,
            "tags": list(self.tags), "steps": list(self.steps), "message": self.message,
            "evidence": self.evidence, "recommendation": list(self.recommendation),
        }


def at_or_above(finding: Finding, severity: str) -> bool:
    return SEVERITY_RANK[finding.severity] <= SEVERITY_RANK[severity]
