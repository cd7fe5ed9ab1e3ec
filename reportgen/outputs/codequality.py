"""The findings as a GitLab Code Quality report (`-o report.codequality.json`), for
`artifacts:reports:codequality`: merge requests then show which findings are new or gone.

A JSON array of issues with the fields GitLab reads (its docs, "Code Quality report format",
a subset of the Code Climate issue spec): description, check_name (the rule code), fingerprint
(Finding.fingerprint: run, layer and code, so the same problem keeps its id from night to night),
severity, and location: the run's folder relative to the working directory (the repository's
root in CI), line 1, since a run has no lines.
"""

from __future__ import annotations

import json
import os

from reportgen.findings import Finding, Severity
from reportgen.report import Report

# Ours to GitLab's (info, minor, major, critical, blocker): a warning holds training back (major),
# a critical finding means the run is broken (critical); blocker is left for nothing we find.
SEVERITY = {Severity.INFO: "info", Severity.WARNING: "major", Severity.CRITICAL: "critical"}


def location(path: str) -> str:
    """A run's folder as GitLab wants a path: relative, with forward slashes."""
    if not path:
        return "."
    try:
        relative = os.path.relpath(path) if os.path.isabs(path) else os.path.normpath(path)
    except ValueError:  # another drive (Windows): keep it as given
        relative = path
    return relative.replace(os.sep, "/")


def issue(finding: Finding, path: str) -> dict[str, object]:
    return {
        "type": "issue",
        "check_name": finding.code,
        "description": f"{finding.run}: {finding.layer}: {finding.message}",
        "fingerprint": finding.fingerprint,
        "severity": SEVERITY[Severity(finding.severity)],
        "location": {"path": location(path), "lines": {"begin": 1}},
    }


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The JSON array, worst first; `pdf` is not used (the Writer protocol)."""
    paths = {run.name: run.path for run in report.runs}
    issues = [issue(f, paths.get(f.run, "")) for f in report.findings]
    return (json.dumps(issues, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
