"""Diagnosis: group tags into layers, compute features, run the rules, write the words.

`diagnose(logs, options)` is the one entry point the pipeline calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.config import ConfigError, Options
from reportgen.diagnosis.features import scalar_features, series_features
from reportgen.diagnosis.finding import SEVERITY_RANK, Finding
from reportgen.diagnosis.layers import Layer, group
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.model import Logs, Run

__all__ = ["Diagnosis", "Finding", "Layer", "check_options", "diagnose", "layers_of", "run_features"]


@dataclass
class Diagnosis:
    layers: dict[str, list[Layer]] = field(default_factory=dict)  # run -> layers, display order
    findings: list[Finding] = field(default_factory=list)  # worst first
    layer_text: dict[tuple[str, str], str] = field(default_factory=dict)  # (run, layer) -> paragraph
    run_summary: dict[str, str] = field(default_factory=dict)  # run -> paragraph
    run_verdict: dict[str, str] = field(default_factory=dict)  # run -> healthy | warnings | critical


def run_features(run: Run, options: Options, thresholds: Thresholds):
    from reportgen.diagnosis.rules import LayerFeatures, RunFeatures

    layers = group(list(run.histograms), options.layers)
    zone = thresholds.saturation_zone
    layer_features = [LayerFeatures(run.name, layer, {tag: series_features(run.histograms[tag], kind, zone, thresholds.linear_range)
                                                      for tag, kind in layer.tags.items()}) for layer in layers]
    scalars = {tag: scalar_features(s) for tag, s in run.scalars.items()}
    return RunFeatures(run.name, layer_features, scalars)


def verdict(findings: list[Finding]) -> str:
    severities = {f.severity for f in findings}
    return "critical" if "critical" in severities else "warnings" if "warning" in severities else "healthy"


def layers_of(logs: Logs, options: Options) -> dict[str, list[Layer]]:
    """Each run's layers, as `diagnose` groups them (cheap: names only, no data)."""
    return {run.name: group(list(run.histograms), options.layers) for run in logs.runs}


def check_options(options: Options) -> None:
    """Raise ConfigError for settings `diagnose` cannot use (before any slow work starts)."""
    from reportgen.diagnosis.rules import all_rules

    known = {r.code for r in all_rules()}
    unknown = [code for code in options.ignore if code not in known]
    if unknown:
        raise ConfigError(f"ignore: unknown rule code {unknown[0]!r} (see `reportgen rules`)")
    Thresholds(options.thresholds)


def diagnose(logs: Logs, options: Options) -> Diagnosis:
    from reportgen import narrative
    from reportgen.diagnosis.rules import run_rules

    check_options(options)
    thresholds = Thresholds(options.thresholds)
    result = Diagnosis()
    for run in logs.runs:
        features = run_features(run, options, thresholds)
        findings = sorted(run_rules(features, thresholds, set(options.ignore)), key=lambda f: SEVERITY_RANK[f.severity])
        result.layers[run.name] = [lf.layer for lf in features.layers]
        result.findings.extend(findings)
        for lf in features.layers:
            result.layer_text[(run.name, lf.layer.name)] = narrative.layer_paragraph(lf)
        result.run_verdict[run.name] = verdict(findings)
        result.run_summary[run.name] = narrative.run_summary(features, findings, result.run_verdict[run.name])
    result.findings.sort(key=lambda f: SEVERITY_RANK[f.severity])
    return result
