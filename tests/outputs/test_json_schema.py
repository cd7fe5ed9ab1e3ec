"""Every report.json reportgen writes validates against the published JSON Schema
(reportgen/schemas/report.schema.json), checked with the `jsonschema` package as a consumer
would: sample_logs, every real writer's fixture, a sweep, and a damaged log."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reportgen.config import Options
from reportgen.outputs import jsonreport
from reportgen.pipeline import analyse, build_report
from reportgen.reading.loader import load
from tests.conftest import FIXTURES, write_events

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reportgen" / "schemas" / "report.schema.json").read_text())


def written(paths: list[str]) -> dict:
    logs = load(paths)
    return json.loads(jsonreport.render(build_report(logs, Options(), analyse(logs), [], [])))


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["format_version"]["const"] == jsonreport.FORMAT_VERSION


@pytest.mark.parametrize("name", ["sample_logs", "keras_callback", "tensorboardx_writer", "tf1_graph", "tf2_summary",
                                  "torch_writer", "damaged"])
def test_written_reports_validate(name):
    path = ROOT / "sample_logs" if name == "sample_logs" else FIXTURES / name
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/fixtures)")
    jsonschema.validate(written([str(path)]), SCHEMA)


def test_a_sweep_report_validates(tmp_path):
    for lr in (0.1, 1.0):
        for seed in (1, 2):
            folder = write_events(tmp_path / f"lr{lr}_s{seed}", scalars={"loss": lambda s, k=lr: k / (s + 1)})
            (folder / "config.json").write_text(json.dumps({"lr": lr}))
    data = written([str(tmp_path)])
    assert data["sweep"] and data["seed_groups"]
    jsonschema.validate(data, SCHEMA)


def test_the_schema_rejects_what_a_consumer_could_not_use():
    data = written([str(ROOT / "sample_logs")])
    broken = json.loads(json.dumps(data))
    broken["findings"][0]["fingerprint"] = "not-a-hash"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    del data["runs"][0]["weights"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
