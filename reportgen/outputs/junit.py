"""The findings as JUnit XML (`-o findings.junit.xml`), for CI test reports (GitLab's
`artifacts:reports:junit`, Jenkins, GitHub test reporters).

One <testsuite> per run; one <testcase> per layer (or scalar tag) and rule the diagnosis checked
(`RunSection.checked`, plus any finding outside it), named "layer: code" with the run as its
classname. A finding at or above the build's fail threshold is a <failure> (type: its code); a
softer one passes and says its message in the test case's <system-out>.

The XML is data for a machine, built as a tree by the standard library (as jsonreport builds a
dict), so escaping is ElementTree's; characters XML 1.0 cannot hold are dropped first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from reportgen.findings import Finding, Severity
from reportgen.report import Report, RunSection

DEFAULT_THRESHOLD = Severity.WARNING  # without --fail-on, warnings and criticals fail
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def threshold(fail_on: str) -> Severity:
    """The severity from which a finding fails its test case: --fail-on's (`critical`, `warning`,
    or a `new-` one's, which JUnit cannot tell from the others), else warning."""
    name = fail_on.removeprefix("new-")
    return Severity(name) if name in {str(s) for s in Severity} else DEFAULT_THRESHOLD


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _details(f: Finding) -> str:
    lines = [f"{f.severity}: {f.message}", f"run {f.run}, layer {f.layer}, steps {f.steps[0]}-{f.steps[1]}",
             f"tags: {', '.join(f.tags)}", f"fingerprint: {f.fingerprint}"]
    lines += [f"try: {step}" for step in f.recommendation]
    return _text("\n".join(lines))


def cases(run: RunSection, findings: list[Finding]) -> list[tuple[str, str, Finding | None]]:
    """(layer, code, its finding or None) for every test case of the run, checked ones first."""
    by_key = {(f.layer, f.code): f for f in findings if f.run == run.name}
    keys = list(dict.fromkeys([*run.checked, *by_key]))
    return [(layer, code, by_key.get((layer, code))) for layer, code in keys]


def _suite(run: RunSection, findings: list[Finding], limit: Severity) -> ET.Element:
    suite = ET.Element("testsuite", name=_text(run.name))
    props = ET.SubElement(suite, "properties")
    for name, value in (("verdict", run.verdict), ("path", run.path), ("fail_threshold", limit)):
        ET.SubElement(props, "property", name=name, value=_text(value))
    failures = 0
    found = cases(run, findings)
    for layer, code, finding in found:
        case = ET.SubElement(suite, "testcase", name=_text(f"{layer}: {code}"), classname=_text(run.name))
        if finding is None:
            continue
        if finding.at_or_above(limit):
            failures += 1
            failure = ET.SubElement(case, "failure", message=_text(finding.message), type=code)
            failure.text = _details(finding)
        else:
            ET.SubElement(case, "system-out").text = _details(finding)
    if run.summary:
        ET.SubElement(suite, "system-out").text = _text(run.summary)
    suite.set("tests", str(len(found)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    return suite


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The XML; `pdf` is not used (the Writer protocol)."""
    limit = threshold(report.fail_on)
    root = ET.Element("testsuites", name=_text(report.title))
    suites = [_suite(run, report.findings, limit) for run in report.runs]
    root.extend(suites)
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
