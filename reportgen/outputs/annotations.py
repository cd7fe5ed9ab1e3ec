"""GitHub Actions annotations for the top findings: `::error`, `::warning` and `::notice`
workflow commands that `reportgen build` prints to stdout (under GITHUB_ACTIONS=true, or with
--annotations), so the findings show on the run's page and in pull requests.

GitHub shows at most 10 annotations of each type per step (and 50 per job), so at most
MAX_PER_TYPE of each are printed, most severe first, and a last notice says how many more the
report holds (a notice slot is kept for it).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.findings import Finding, Severity

MAX_PER_TYPE = 10  # GitHub's limit per type and step
COMMAND = {Severity.CRITICAL: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """A command's message, escaped as the runner reads it (% first, then the line breaks)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value (title=...): as a message, and `:` and `,`, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding) -> str:
    kind = COMMAND[Severity(finding.severity)]
    title = f"{finding.code} in {finding.run}, {finding.layer}"
    return f"::{kind} title={escape_property(title)}::{escape_data(finding.message)}"


def workflow_commands(findings: list[Finding], report_files: Sequence[str] = ()) -> list[str]:
    """The lines to print for `findings` (worst first), capped, with the closing notice when some are left out."""
    ordered = sorted(findings, key=lambda f: Severity(f.severity).rank)
    shown: dict[str, list[Finding]] = {kind: [] for kind in COMMAND.values()}
    for finding in ordered:
        kind = COMMAND[Severity(finding.severity)]
        if len(shown[kind]) < MAX_PER_TYPE:
            shown[kind].append(finding)
    hidden = len(ordered) - sum(len(found) for found in shown.values())
    if hidden and len(shown["notice"]) == MAX_PER_TYPE:  # the closing notice needs a slot of its own
        shown["notice"].pop()
        hidden += 1
    keep = {id(f) for found in shown.values() for f in found}
    lines = [command(f) for f in ordered if id(f) in keep]
    if hidden:
        where = f" ({', '.join(report_files)})" if report_files else ""
        more = "1 more finding is" if hidden == 1 else f"{hidden} more findings are"
        lines.append(f"::notice::{escape_data(f'{more} in the report{where}')}")
    return lines
