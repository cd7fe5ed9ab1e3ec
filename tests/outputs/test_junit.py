"""The JUnit XML: parsed back with xml.etree, its counts against the findings, and the content
model of the Jenkins JUnit schema checked by hand."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from reportgen.findings import Severity
from reportgen.outputs import junit
from tests.outputs.factory import HOSTILE_TAG, finding, make_report

# The content model of jenkinsci/xunit-plugin's junit-10.xsd (src/main/resources/org/jenkinsci/
# plugins/xunit/types/model/xsd/junit-10.xsd), the schema Jenkins validates JUnit reports with:
# which children each element may have and which attributes it must have. Checked by hand, since
# the XSD is not ours to ship and the standard library has no XSD validator.
CHILDREN = {"testsuites": {"testsuite"},
            "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
            "properties": {"property"},
            "testcase": {"skipped", "error", "failure", "rerunFailure", "rerunError", "system-out", "system-err"},
            "failure": set(), "error": set(), "skipped": set(), "property": set(),
            "system-out": set(), "system-err": set()}
REQUIRED = {"testsuite": {"tests"}, "testcase": {"name"}, "property": {"name", "value"}}


def checked_report(fail_on: str = ""):
    report = make_report()
    for run in report.runs:
        run.checked = [(layer.name, code) for layer in run.layers for code in ("dead_units", "saturation")]
    report.fail_on = fail_on
    return report


def parse(report) -> ET.Element:
    return ET.fromstring(junit.render(report))


def assert_schema(element: ET.Element) -> None:
    assert set(element.attrib) >= REQUIRED.get(element.tag, set()), element.tag
    for child in element:
        assert child.tag in CHILDREN[element.tag], f"<{child.tag}> in <{element.tag}>"
        assert_schema(child)


def test_required_fields_of_the_junit_schema_and_counts_that_add_up():
    root = parse(checked_report())
    assert root.tag == "testsuites"
    assert_schema(root)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["baseline", "lr=0.1"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert {"name", "tests", "failures", "errors"} <= set(suite.attrib)
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert suite.get("errors") == "0"
        assert all(c.get("classname") == suite.get("name") and ": " in c.get("name") for c in cases)
    for attribute in ("tests", "failures", "errors"):
        assert int(root.get(attribute)) == sum(int(s.get(attribute)) for s in suites)


def test_warnings_and_criticals_fail_by_default_and_infos_pass_with_their_message():
    report = checked_report()
    root = parse(report)
    failing = {(f.run, f"{f.layer}: {f.code}") for f in report.findings if f.severity != Severity.INFO}
    failed = {(s.get("name"), c.get("name")) for s in root.iter("testsuite") for c in s.iter("testcase")
              if c.find("failure") is not None}
    assert failed == failing and len(failed) == 3
    for f in report.findings:
        case = root.find(f"testsuite[@name='{f.run}']/testcase[@name='{f.layer}: {f.code}']")
        if f.severity == Severity.INFO:
            assert case.find("failure") is None and f.message in case.find("system-out").text
        else:
            failure = case.find("failure")
            assert failure.get("type") == f.code and failure.get("message") == f.message
            assert f.fingerprint in failure.text


def test_fail_on_critical_lets_warnings_pass():
    root = parse(checked_report("critical"))
    failures = root.findall(".//failure")
    assert [f.get("type") for f in failures] == ["dead_units"] and root.get("failures") == "1"
    saturation = root.find("testsuite[@name='lr=0.1']/testcase[@name='dense2: saturation']")
    assert saturation.find("failure") is None and "saturation" in saturation.find("system-out").text


@pytest.mark.parametrize(("fail_on", "expected"), [("", Severity.WARNING), ("warning", Severity.WARNING),
                                                   ("critical", Severity.CRITICAL),
                                                   ("new-critical", Severity.CRITICAL)])
def test_threshold(fail_on, expected):
    assert junit.threshold(fail_on) == expected


def test_every_checked_rule_is_a_test_case_and_a_finding_outside_them_is_one_too():
    report = checked_report()
    root = parse(report)
    baseline = root.find("testsuite[@name='baseline']")
    names = [c.get("name") for c in baseline.findall("testcase")]
    # 3 layers x 2 checked rules, then the loss_plateau finding on the `loss` tag nobody listed as checked
    assert names[:6] == [f"{layer}: {code}" for layer in ("dense1", "dense2", HOSTILE_TAG)
                         for code in ("dead_units", "saturation")]
    assert names[6:] == ["loss: loss_plateau"]
    passing = [c for c in baseline.findall("testcase") if not len(c)]
    assert {c.get("name") for c in passing} == {"dense1: saturation", "dense2: dead_units",
                                                f"{HOSTILE_TAG}: dead_units", f"{HOSTILE_TAG}: saturation"}


def test_hostile_text_and_control_characters_stay_well_formed():
    report = checked_report()
    bad = finding("baseline", HOSTILE_TAG, "critical", "exploding")
    report.findings.insert(0, bad.__class__(**{**bad.__dict__, "message": 'a <b> & "c" \x00\x1b end'}))
    root = parse(report)
    case = root.find(f"testsuite[@name='baseline']/testcase[@name='{HOSTILE_TAG}: exploding']")
    assert case.find("failure").get("message") == 'a <b> & "c"  end'
