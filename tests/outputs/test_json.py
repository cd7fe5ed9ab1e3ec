"""The JSON report: the fields a CI script reads, valid JSON even with NaN losses."""

from __future__ import annotations

import json

from reportgen.outputs import jsonreport
from tests.outputs.factory import make_report


def test_schema_fields():
    report = make_report()
    data = json.loads(jsonreport.render(report))
    assert data["format_version"] == 5
    assert {"title", "generated_at", "verdict", "runs", "findings", "counts", "comparison_charts",
            "warnings", "artifacts", "seed_groups", "sweep"} <= set(data)
    assert data["sweep"] is None and data["seed_groups"] == []  # runs with neither hparams nor seeds
    assert data["counts"] == {"critical": 1, "warning": 2, "info": 1}
    run = data["runs"][0]
    assert run["final_loss"] == 0.4 and run["loss_tag"] == "loss" and (run["first_step"], run["last_step"]) == (0, 90)
    layer = run["layers"][0]
    assert layer["findings"] == ["dead_units"]
    assert {c["kind"] for c in layer["charts"]} == {"offset", "distribution", "heatmap"}
    assert all("png" not in c for c in layer["charts"])  # images are for HTML/PDF, not JSON
    finding = data["findings"][0]
    assert finding["severity"] == "critical" and finding["recommendation"] == ["Lower the learning rate.",
                                                                               "Use LeakyReLU instead of ReLU."]


def test_nan_final_loss_is_still_valid_json():
    report = make_report(n_runs=1)
    report.runs[0].final_loss = float("nan")
    text = jsonreport.render(report).decode("utf-8")
    assert json.loads(text)["runs"][0]["final_loss"] == "nan"
