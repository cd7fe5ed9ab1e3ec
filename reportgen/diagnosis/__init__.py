"""Diagnosis: group tags into layers, compute features, run the rules.

`diagnose(logs, settings)` is the one entry point the pipeline calls; the words that explain
its result are written by `reportgen.narrative`, which the pipeline calls next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reportgen.diagnosis import rules as _rules  # noqa: F401  # registers every rule
from reportgen.diagnosis.features import RunFeatures, run_features
from reportgen.diagnosis.layers import Layer, compile_overrides, group
from reportgen.diagnosis.registry import all_rules, run_rules
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.errors import ConfigError
from reportgen.findings import Finding, Verdict, worst_first
from reportgen.model import Logs

__all__ = ["Diagnosis", "DiagnosisSettings", "Finding", "Layer", "diagnose", "layers_of"]


@dataclass(frozen=True)
class DiagnosisSettings:
    """What the diagnosis needs from the user's settings, checked when made (`create`)."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    ignore: frozenset[str] = frozenset()  # rule codes left out, like ruff's ignore
    layers: tuple[dict[str, str], ...] = ()  # grouping overrides: {pattern, layer, kind}, first match wins

    @classmethod
    def create(cls, thresholds: dict[str, float] | None = None, ignore: list[str] | tuple[str, ...] = (),
               layers: list[dict[str, str]] | tuple[dict[str, str], ...] = ()) -> DiagnosisSettings:
        """Settings from `[tool.reportgen]` values; ConfigError for any the diagnosis cannot use."""
        known = {r.code for r in all_rules()}
        unknown = [code for code in ignore if code not in known]
        if unknown:
            raise ConfigError(f"ignore: unknown rule code {unknown[0]!r} (see `reportgen rules`)")
        compile_overrides(list(layers))
        return cls(Thresholds(thresholds), frozenset(ignore), tuple(layers))


@dataclass
class Diagnosis:
    layers: dict[str, list[Layer]] = field(default_factory=dict)  # run -> layers, display order
    features: dict[str, RunFeatures] = field(default_factory=dict)  # run -> what the rules looked at
    findings: list[Finding] = field(default_factory=list)  # worst first
    run_verdict: dict[str, Verdict] = field(default_factory=dict)


def layers_of(logs: Logs, settings: DiagnosisSettings) -> dict[str, list[Layer]]:
    """Each run's layers (cheap: names only, no data)."""
    return {run.name: group(list(run.histograms), list(settings.layers)) for run in logs.runs}


def diagnose(logs: Logs, settings: DiagnosisSettings = DiagnosisSettings(),
             layers: dict[str, list[Layer]] | None = None) -> Diagnosis:
    """Features, findings and a verdict per run. `layers` is `layers_of(logs, settings)` when the
    caller has it already."""
    layers = layers if layers is not None else layers_of(logs, settings)
    result = Diagnosis()
    for run in logs.runs:
        features = run_features(run.name, run.histograms, run.scalars, layers[run.name], settings.thresholds)
        findings = worst_first(run_rules(features, settings.thresholds, settings.ignore))
        result.layers[run.name] = layers[run.name]
        result.features[run.name] = features
        result.findings.extend(findings)
        result.run_verdict[run.name] = Verdict.of(f.severity for f in findings)
    result.findings = worst_first(result.findings)
    return result
