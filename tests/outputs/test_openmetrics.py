"""The OpenMetrics text: parsed with prometheus_client's own OpenMetrics parser, its values
against the event data as TensorBoard's loader reads it."""

from __future__ import annotations

import math

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from reportgen import cli
from reportgen.outputs import openmetrics
from reportgen.report import TagInventory
from tests.conftest import write_events
from tests.oracles import oracle
from tests.outputs.factory import make_report


def families(text: str) -> dict[str, list]:
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def values(samples, **labels) -> list[float]:
    return [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]


def test_end_values_match_the_event_data(tmp_path):
    weights = {"dense/kernel": lambda step, rng: rng.normal(0, 0.1 + step / 50, 300)}
    run = write_events(tmp_path / "logs" / "run1", weights,
                       {"loss": lambda step: 2.0 / (1 + step), "val_loss": lambda step: 2.2 / (1 + step) + 0.05},
                       steps=15, seed=3)
    out = tmp_path / "m.metrics.txt"
    assert cli.main(["build", str(tmp_path / "logs"), "-q", "--processes", "1", "-o", str(out)]) == 0
    text = out.read_text()
    assert text.endswith("# EOF\n") and "# TYPE reportgen_objective_end gauge" in text
    found = families(text)
    acc = oracle(run)
    assert values(found["reportgen_objective_end"], run="run1", tag="loss") == [acc.Scalars("loss")[-1].value]
    assert values(found["reportgen_metric_end"], run="run1", tag="val_loss", role="eval_loss") == [
        acc.Scalars("val_loss")[-1].value]
    assert sum(values(found["reportgen_verdict"], run="run1")) == 1
    assert {s.labels["severity"] for s in found["reportgen_findings"]} == {"critical", "warning", "info"}


def test_findings_and_verdict_per_run():
    report = make_report()
    found = families(openmetrics.render(report).decode())
    for run in report.runs:
        for severity in ("critical", "warning", "info"):
            expected = sum(f.run == run.name and f.severity == severity for f in report.findings)
            assert values(found["reportgen_findings"], run=run.name, severity=severity) == [expected]
        verdicts = {s.labels["verdict"]: s.value for s in found["reportgen_verdict"] if s.labels["run"] == run.name}
        assert verdicts[str(run.verdict)] == 1 and sum(verdicts.values()) == 1
    assert values(found["reportgen_findings"], run="baseline", severity="critical") == [1]


@pytest.mark.parametrize("tag", ['say "hi"', "back\\slash", "two\nlines", "ünï/cödé{x=1}"])
def test_label_values_are_escaped(tag):
    report = make_report(n_runs=1)
    report.runs[0].scalars = [TagInventory(tag, "scalar", 3, 0, 2, role="objective", last_value=0.25)]
    found = families(openmetrics.render(report).decode())
    assert values(found["reportgen_objective_end"], tag=tag) == [0.25]


def test_non_finite_end_values():
    report = make_report(n_runs=1)
    report.runs[0].scalars = [TagInventory("loss", "scalar", 3, 0, 2, role="objective", last_value=float("nan")),
                              TagInventory("acc", "scalar", 3, 0, 2, role="accuracy", last_value=float("-inf"))]
    found = families(openmetrics.render(report).decode())
    assert math.isnan(values(found["reportgen_objective_end"], tag="loss")[0])
    assert values(found["reportgen_metric_end"], tag="acc") == [float("-inf")]
