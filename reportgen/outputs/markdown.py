"""The GitHub-flavoured Markdown digest (`-o summary.md`), for `$GITHUB_STEP_SUMMARY`.

Text and tables only: GitHub strips `data:` images, and a step summary is capped at 1 MiB, so
the findings table is capped too; the artifact names point to the full report.
"""

from __future__ import annotations

from reportgen.outputs.sweepmd import sweep_section
from reportgen.outputs.templating import markdown_environment
from reportgen.report import Report

MAX_FINDINGS = 100  # rows in the findings table; ~300 bytes each keeps the file far under 1 MiB
MAX_WARNINGS = 50
VERDICT_ICON = {"healthy": "🟢", "warnings": "🟡", "critical": "🔴", "not judged": "⚪"}
SEVERITY_ICON = {"critical": "🔴", "warning": "🟡", "info": "🔵"}
FULL_REPORT = "### Full report"  # the template's last heading: the sweep section goes before it


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The digest; `pdf` is not used (the Writer protocol)."""
    warnings = report.warnings + [f"{run.name}: {w}" for run in report.runs for w in run.warnings]
    findings = report.findings[:MAX_FINDINGS]
    text = markdown_environment().get_template("summary.md").render(
        report=report, overview=report.overview, findings=findings,
        hidden_findings=len(report.findings) - len(findings),
        findings_per_run={run.name: str(sum(f.run == run.name for f in report.findings)) for run in report.runs},
        warnings=warnings[:MAX_WARNINGS],
        artifacts=[a for a in report.artifacts if a.lower().endswith((".html", ".htm", ".pdf"))],
        verdict_icon=VERDICT_ICON, severity_icon=SEVERITY_ICON,
    )
    if report.sweep:  # before the link to the full report, which closes the digest
        section = sweep_section(report.sweep, VERDICT_ICON)
        head, mark, tail = text.rpartition(FULL_REPORT)
        text = f"{head}{section}\n{mark}{tail}" if mark else f"{text.rstrip()}\n\n{section}"
    return (text.strip() + "\n").encode("utf-8")
