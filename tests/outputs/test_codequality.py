"""The GitLab Code Quality report: valid against the format GitLab documents (as a JSON schema),
one issue per finding with its fingerprint, our severities mapped onto GitLab's."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reportgen.outputs import codequality
from tests.outputs.factory import make_report

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gitlab-codequality.schema.json").read_text())


def test_valid_against_gitlabs_format_one_issue_per_finding(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = make_report()
    for run in report.runs:
        run.path = str(tmp_path / "logs" / run.name)
    issues = json.loads(codequality.render(report))
    jsonschema.validate(issues, SCHEMA)
    assert len(issues) == len(report.findings) == 4
    assert [i["fingerprint"] for i in issues] == [f.fingerprint for f in report.findings]
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab folds equal fingerprints into one
    assert [i["check_name"] for i in issues] == [f.code for f in report.findings]
    assert {i["location"]["path"] for i in issues} == {"logs/baseline", "logs/lr=0.1"}
    assert all(f.message in i["description"] and f.layer in i["description"] for i, f in zip(issues, report.findings))


def test_severity_mapping():
    issues = json.loads(codequality.render(make_report()))
    assert {(f.severity.value, i["severity"]) for i, f in zip(issues, make_report().findings)} == {
        ("critical", "critical"), ("warning", "major"), ("info", "info")}


def test_the_schema_rejects_what_gitlab_would():
    issue = json.loads(codequality.render(make_report()))[0]
    for broken in ({**issue, "severity": "warning"}, {k: v for k, v in issue.items() if k != "fingerprint"},
                   {**issue, "location": {"path": "/abs/path", "lines": {"begin": 1}}},
                   {**issue, "location": {"path": "logs/run"}}):
        assert not jsonschema.Draft202012Validator(SCHEMA).is_valid([broken])


def test_relative_paths_stay_relative():
    assert codequality.location("logs/run1/") == "logs/run1"
    assert codequality.location("") == "."
