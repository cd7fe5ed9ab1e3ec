"""The CI outputs end to end: one build writes JUnit, Code Quality, OpenMetrics and the JSON,
each chosen by its file name's compound ending; GitHub annotations on stdout."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from reportgen import cli
from reportgen.outputs import FormatError, format_for
from tests.conftest import write_events


def write_diverging_run(logdir) -> None:
    """A run whose loss grows 1.5x per step: loss_diverging (critical) fires."""
    write_events(logdir / "run1", {"dense/kernel": lambda step, rng: rng.normal(0, 0.1, 300)},
                 {"loss": lambda step: 1.5**step}, steps=20, seed=7, wall_time=1_700_000_000.0)


@pytest.mark.parametrize(("path", "fmt"), [("a/findings.junit.xml", "junit"),
                                           ("report.codequality.json", "codequality"),
                                           ("report.metrics.txt", "openmetrics"), ("node.prom", "openmetrics"),
                                           ("report.json", "json"), ("Report.JUNIT.XML", "junit"),
                                           ("r.htm", "html")])
def test_format_by_compound_ending(path, fmt):
    assert format_for(path) == fmt
    assert format_for(path, "md") == fmt  # the ending decides; --format is for names that say nothing


def test_format_flag_for_names_that_say_nothing():
    assert format_for("out.xml", "junit") == "junit" and format_for("out.txt", "metrics") == "openmetrics"
    for path in ("out.xml", "out.txt", "junit.xml"):
        with pytest.raises(FormatError, match=r"\.junit\.xml.*\.codequality\.json.*\.metrics\.txt"):
            format_for(path)
    with pytest.raises(FormatError, match="unknown --format"):
        format_for("out.xml", "xunit")


def test_one_build_writes_all_four(tmp_path, capsys):
    write_diverging_run(tmp_path / "logs")
    out = {name: tmp_path / f"x.{name}" for name in ("junit.xml", "codequality.json", "metrics.txt", "json")}
    argv = ["build", str(tmp_path / "logs"), "-q", "--processes", "1"]
    for path in out.values():
        argv += ["-o", str(path)]
    assert cli.main(argv) == cli.EXIT_OK
    assert capsys.readouterr().out == ""  # no annotations outside GitHub Actions unless asked
    report = json.loads(out["json"].read_text())
    codes = {f["code"] for f in report["findings"]}
    assert "loss_diverging" in codes and report["format_version"] == 5
    suite = ET.fromstring(out["junit.xml"].read_bytes()).find("testsuite")
    assert suite.get("name") == "run1"
    failed = {c.find("failure").get("type") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert "loss_diverging" in failed
    assert suite.find("testcase[@name='loss: loss_diverging']/failure") is not None
    issues = json.loads(out["codequality.json"].read_text())
    assert [i["fingerprint"] for i in issues] == [f["fingerprint"] for f in report["findings"]]
    metrics = {f.name for f in text_string_to_metric_families(out["metrics.txt"].read_text())}
    assert {"reportgen_objective_end", "reportgen_findings", "reportgen_verdict"} <= metrics


def test_a_plain_xml_is_refused_before_anything_is_read(tmp_path, capsys):
    write_diverging_run(tmp_path / "logs")
    assert cli.main(["build", str(tmp_path / "logs"), "-o", str(tmp_path / "out.xml")]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert ".junit.xml" in err and "--format" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.xml").exists()


def test_annotations_in_github_actions_or_when_asked(tmp_path, capsys, monkeypatch):
    write_diverging_run(tmp_path / "logs")
    argv = ["build", str(tmp_path / "logs"), "--processes", "1", "-o", str(tmp_path / "r.json")]
    assert cli.main([*argv, "-q", "--annotations"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and lines[0].startswith("::error title=loss_diverging in run1%2C loss::")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.splitlines() == lines
    assert cli.main([*argv, "-q"]) == 0  # --quiet silences the automatic ones
    assert capsys.readouterr().out == ""
