"""The run's numbers as OpenMetrics text (`-o report.metrics.txt`), for GitLab's
`artifacts:reports:metrics` (merge requests show what changed) or a Prometheus textfile collector.

Per run: the end value of each objective and of each evaluation metric, the findings by
severity and the verdict. Metric names are fixed (`reportgen_...`); what comes from the logs
(run names, tags) goes in label values, escaped as the format says.
"""

from __future__ import annotations

import math

from reportgen.findings import SEVERITY_ORDER, Verdict
from reportgen.report import Report, RunSection

METRIC_ROLES = ("eval_loss", "accuracy", "reward")  # roles whose end value is a result worth tracking

# name -> help text, in the order they are written.
FAMILIES = {
    "reportgen_objective_end": "The training objective's value at its last logged step.",
    "reportgen_metric_end": "An evaluation loss, accuracy or reward at its last logged step.",
    "reportgen_findings": "Findings of the diagnosis, by severity.",
    "reportgen_verdict": "1 for the run's verdict, 0 for the others.",
}


def label_value(value: object) -> str:
    """A label value as OpenMetrics quotes it: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _sample(name: str, labels: dict[str, object], value: float) -> str:
    inner = ",".join(f'{key}="{label_value(v)}"' for key, v in labels.items())
    return f"{name}{{{inner}}} {number(value)}"


def samples(run: RunSection, report: Report) -> dict[str, list[str]]:
    """The run's samples by family."""
    ends: dict[str, list[str]] = {name: [] for name in FAMILIES}
    for t in run.scalars:
        if t.last_value is None:
            continue
        if t.role == "objective":
            ends["reportgen_objective_end"].append(_sample("reportgen_objective_end", {"run": run.name, "tag": t.tag},
                                                           t.last_value))
        elif t.role in METRIC_ROLES:
            ends["reportgen_metric_end"].append(_sample("reportgen_metric_end",
                                                        {"run": run.name, "tag": t.tag, "role": t.role}, t.last_value))
    for severity in SEVERITY_ORDER:
        count = sum(f.run == run.name and f.severity == severity for f in report.findings)
        ends["reportgen_findings"].append(_sample("reportgen_findings", {"run": run.name, "severity": severity}, count))
    for verdict in Verdict:
        ends["reportgen_verdict"].append(_sample("reportgen_verdict", {"run": run.name, "verdict": verdict},
                                                 float(run.verdict == verdict)))
    return ends


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The exposition, ending in `# EOF`; `pdf` is not used (the Writer protocol)."""
    per_run = [samples(run, report) for run in report.runs]
    lines = []
    for name, help_text in FAMILIES.items():
        rows = [row for found in per_run for row in found[name]]
        if not rows:
            continue
        lines += [f"# TYPE {name} gauge", f"# HELP {name} {help_text}", *rows]
    lines.append("# EOF")
    return ("\n".join(lines) + "\n").encode("utf-8")
