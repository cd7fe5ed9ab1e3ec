"""The sweep's part of the Markdown digest: its table, findings against hyperparameters, seed groups.

Markup in Python, for now, unlike the rest of the digest (templates/summary.md): the templates
belong to the presentation of sweeps, which comes next, and this section moves into them then.
Every value goes through `markdown_text`, as the template's `finalize` does.
"""

from __future__ import annotations

from reportgen.numbers import measured
from reportgen.outputs.templating import markdown_text as md
from reportgen.sweeps import Sweep, show

MAX_ROWS = 50  # table rows; a 200-run sweep's table would be most of a step summary's 1 MiB
MAX_GROUPS = 30
MAX_VOTES = 4  # per group, most seeds first


def sweep_section(sweep: Sweep, verdict_icon: dict[str, str]) -> str:
    lines = ["### Sweep", ""]
    if sweep.metric:
        better = "higher" if sweep.higher_is_better else "lower"
        order = f"by **{md(sweep.sort)}**" if sweep.sort != sweep.metric else "best first"
        lines.append(f"{len(sweep.rows)} runs, compared by **{md(sweep.metric)}** at the end ({better} is better), "
                     f"{order}.")
    if sweep.best_text:
        lines += ["", md(sweep.best_text) + "."]
    if sweep.constant:
        same = " · ".join(f"{md(name)} {md(show(value))}" for name, value in sweep.constant.items())
        lines += ["", f"Same in every run: {same}"]
    lines += ["", *_table(sweep, verdict_icon)]
    if sweep.against:
        lines += ["", "#### Findings against hyperparameters", ""]
        lines += [f"- {md(c.sentence)}" for c in sweep.against]
    if sweep.groups:
        lines += ["", *_groups(sweep)]
    return "\n".join(lines) + "\n"


def _table(sweep: Sweep, verdict_icon: dict[str, str]) -> list[str]:
    metric = [f"{md(sweep.metric)} end", "best"] if sweep.metric else []
    objective = [f"{md(sweep.objective)} end"] if sweep.objective else []
    header = ["Run", *(md(name) for name in sweep.varying), *metric, *objective, "Verdict", "Findings"]
    align = ["---", *("--:" for _ in sweep.varying), *("--:" for _ in metric + objective), "---", "---"]
    rows = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for row in sweep.rows[:MAX_ROWS]:
        values = [md(show(row.hparams[n])) if n in row.hparams else "" for n in sweep.varying]
        numbers = ([measured(row.metric_end), measured(row.metric_best)] if sweep.metric else []) + (
            [measured(row.objective_end)] if sweep.objective else [])
        findings = ", ".join(md(code) + (f" ×{n}" if n > 1 else "") for code, n in row.findings.items()) or "none"
        cells = [md(row.run), *values, *numbers, f"{verdict_icon.get(row.verdict, '')} {md(row.verdict)}", findings]
        rows.append("| " + " | ".join(cells) + " |")
    hidden = len(sweep.rows) - MAX_ROWS
    if hidden > 0:
        rows += ["", f"{hidden} more run{'s' if hidden != 1 else ''} in the full report and report.json."]
    return rows


def _groups(sweep: Sweep) -> list[str]:
    metric = f" | {md(sweep.metric)} at the end: mean (min–max)" if sweep.metric else ""
    lines = ["#### Seed groups", "", f"| Group | Seeds | Verdict{metric} | Findings by seed |",
             "|---|--:|---|" + ("--:|" if sweep.metric else "") + "---|"]
    for group in sweep.groups[:MAX_GROUPS]:
        spread = group.metric
        value = (f" | {measured(spread.mean)} ({measured(spread.low)}–{measured(spread.high)})" if spread
                 else " | n/a") if sweep.metric else ""
        votes = "; ".join(md(v.text) for v in group.votes[:MAX_VOTES]) or "none"
        if len(group.votes) > MAX_VOTES:
            votes += f"; {len(group.votes) - MAX_VOTES} more"
        lines.append(f"| {md(group.name)} | {len(group.runs)} | {md(group.verdict_text)}{value} | {votes} |")
    hidden = len(sweep.groups) - MAX_GROUPS
    if hidden > 0:
        lines += ["", f"{hidden} more group{'s' if hidden != 1 else ''} in report.json."]
    return lines
