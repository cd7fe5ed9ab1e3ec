"""Diagnosis: group tags into layers, compute features, run the rules.

`diagnose(logs, settings)` is the one entry point the pipeline calls; the words that explain
its result are written by `reportgen.narrative`, which the pipeline calls next.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from reportgen.diagnosis import rules as _rules  # noqa: F401  # registers every rule
from reportgen.diagnosis.breakage import broken_from
from reportgen.diagnosis.features import RunFeatures, run_features
from reportgen.diagnosis.judgement import unjudged_reason
from reportgen.diagnosis.layers import Layer, compile_overrides, group
from reportgen.diagnosis.registry import all_rules, checked, run_rules
from reportgen.diagnosis.roles import ScalarRole, compile_roles, is_evaluation, roles_of
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.errors import ConfigError
from reportgen.findings import Finding, Verdict, worst_first
from reportgen.model import Logs, Run

__all__ = ["Diagnosis", "DiagnosisSettings", "Finding", "Layer", "diagnose", "layers_of"]


@dataclass(frozen=True)
class DiagnosisSettings:
    """What the diagnosis needs from the user's settings, checked when made (`create`)."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    ignore: frozenset[str] = frozenset()  # rule codes left out, like ruff's ignore
    layers: tuple[dict[str, str], ...] = ()  # grouping overrides: {pattern, layer, kind}, first match wins
    roles: tuple[tuple[str, str], ...] = ()  # scalar role overrides: (pattern, role), first match wins

    @classmethod
    def create(cls, thresholds: dict[str, float] | None = None, ignore: list[str] | tuple[str, ...] = (),
               layers: list[dict[str, str]] | tuple[dict[str, str], ...] = (),
               roles: dict[str, str] | None = None) -> DiagnosisSettings:
        """Settings from `[tool.reportgen]` values; ConfigError for any the diagnosis cannot use."""
        known = {r.code for r in all_rules()}
        unknown = [code for code in ignore if code not in known]
        if unknown:
            raise ConfigError(f"ignore: unknown rule code {unknown[0]!r} (see `reportgen rules`)")
        compile_overrides(list(layers))
        compile_roles(roles or {})
        return cls(Thresholds(thresholds), frozenset(ignore), tuple(layers), tuple((roles or {}).items()))


@dataclass
class Diagnosis:
    layers: dict[str, list[Layer]] = field(default_factory=dict)  # run -> layers, display order
    features: dict[str, RunFeatures] = field(default_factory=dict)  # run -> what the rules looked at
    findings: list[Finding] = field(default_factory=list)  # worst first
    run_verdict: dict[str, Verdict] = field(default_factory=dict)
    not_judged: dict[str, str] = field(default_factory=dict)  # run -> why nothing in it could be judged
    checked: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # run -> (layer or tag, rule code)


def layers_of(logs: Logs, settings: DiagnosisSettings) -> dict[str, list[Layer]]:
    """Each run's layers (cheap: names only, no data)."""
    return {run.name: group(list(run.histograms), list(settings.layers)) for run in logs.runs}


def diagnose(logs: Logs, settings: DiagnosisSettings = DiagnosisSettings(),
             layers: dict[str, list[Layer]] | None = None) -> Diagnosis:
    """Features, findings and a verdict per run. `layers` is `layers_of(logs, settings)` when the
    caller has it already."""
    layers = layers if layers is not None else layers_of(logs, settings)
    overrides = compile_roles(dict(settings.roles))
    features = {run.name: _before_break(run, layers[run.name], settings.thresholds,
                                        roles_of(list(run.scalars), run.name, overrides))
                for run in logs.runs}
    partners = training_runs([(run.name, run.path) for run in logs.runs])
    for name, partner in partners.items():
        features[name].training = features[partner]
    result = Diagnosis()
    for run in logs.runs:
        findings = worst_first(run_rules(features[run.name], settings.thresholds, settings.ignore))
        result.layers[run.name] = layers[run.name]
        result.features[run.name] = features[run.name]
        result.checked[run.name] = checked(features[run.name], settings.ignore)
        result.findings.extend(findings)
        reason = unjudged_reason(run, features[run.name], findings, settings.thresholds)
        if reason:
            result.not_judged[run.name] = reason
        result.run_verdict[run.name] = Verdict.NOT_JUDGED if reason else Verdict.of(f.severity for f in findings)
    for name, partner in partners.items():
        # An evaluation run is read with its training run (its losses against that objective):
        # judged when that one is, though its own points are too few for a trend.
        if name in result.not_judged and partner not in result.not_judged:
            del result.not_judged[name]
            result.run_verdict[name] = Verdict.of(f.severity for f in result.findings if f.run == name)
        # One model, two runs: what its evaluation shows (overfitting) is the training run's too.
        result.run_verdict[partner] = Verdict.overall([result.run_verdict[partner], result.run_verdict[name]])
    result.findings = worst_first(result.findings)
    return result


def _before_break(run: Run, layers: list[Layer], t: Thresholds, roles: dict[str, ScalarRole]) -> RunFeatures:
    """A run's features; for a run that broke (NaN/Inf in a weight, an activation or the
    objective), those of its histograms before the break, the whole run's kept as `whole` for
    the rule that says where it broke: what follows a NaN is its consequence, not another finding."""
    whole = run_features(run.name, run.histograms, run.scalars, layers, t, roles)
    broken = broken_from(whole, t)
    if broken is None:
        return whole
    cut = {tag: h.before(broken) for tag, h in run.histograms.items()}
    kept = [Layer(layer.name, {tag: kind for tag, kind in layer.tags.items() if len(cut[tag].steps)},
                  {tag: of for tag, of in layer.gradient_of.items() if len(cut[tag].steps)}) for layer in layers]
    before = run_features(run.name, cut, run.scalars, [layer for layer in kept if layer.tags], t, roles)
    before.broken_at, before.whole = broken, whole
    return before


def training_runs(runs: list[tuple[str, str]]) -> dict[str, str]:
    """Evaluation runs and the training run beside them, from their (name, folder): Keras writes
    `<logdir>/train` and `<logdir>/validation`, TF1 Estimators `<model_dir>` and
    `<model_dir>/eval`."""
    by_folder = {os.path.normpath(path): name for name, path in runs if path}
    found = {}
    for name, path in runs:
        folder = os.path.normpath(path)
        parent = os.path.dirname(folder)
        if not path or not is_evaluation("", os.path.basename(folder)):
            continue
        for candidate in (os.path.join(parent, "train"), os.path.join(parent, "training"), parent):
            if by_folder.get(candidate) not in (None, name):
                found[name] = by_folder[candidate]
                break
    return found
