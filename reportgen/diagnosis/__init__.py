"""Diagnosis: group tags into layers, compute features, run the rules, write the words.

`diagnose(logs, options)` is the one entry point the pipeline calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.config import Options
from reportgen.diagnosis.finding import SEVERITY_RANK, Finding
from reportgen.model import Logs


@dataclass
class Layer:
    name: str
    tags: dict[str, str]  # tag -> kind: weights, bias, pre-activations, activations, gradients, outputs, other


@dataclass
class Diagnosis:
    layers: dict[str, list[Layer]] = field(default_factory=dict)  # run -> layers, display order
    findings: list[Finding] = field(default_factory=list)  # worst first
    layer_text: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, layer) -> paragraph
    run_summary: dict[str, str] = field(default_factory=dict)  # run -> paragraph
    run_verdict: dict[str, str] = field(default_factory=dict)  # run -> healthy | warnings | critical


def diagnose(logs: Logs, options: Options) -> Diagnosis:
    """Placeholder until the rules land: one layer per histogram tag, no findings."""
    result = Diagnosis()
    for run in logs.runs:
        result.layers[run.name] = [Layer(tag, {tag: "other"}) for tag in run.histograms]
        result.run_verdict[run.name] = "healthy"
        result.run_summary[run.name] = ""
    result.findings.sort(key=lambda f: SEVERITY_RANK[f.severity])
    return result
