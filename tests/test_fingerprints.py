"""Finding fingerprints: the id a baseline, GitLab Code Quality and JUnit match problems by. The
same problem on two nights (other numbers, other steps, other words) must keep its id; another
run, layer or code must not share it."""

from __future__ import annotations

import json

from reportgen.findings import Finding, Severity, fingerprint


def finding(run="night", layer="layer1", code="not_learning", **kw) -> Finding:
    base = {"severity": Severity.WARNING, "tags": ("layer1/weights",), "steps": (0, 100), "message": "moved 0.2%",
            "evidence": {"moved": 0.002}}
    return Finding(code=code, run=run, layer=layer, **{**base, **kw})


def test_the_same_problem_with_other_numbers_keeps_its_id():
    a = finding()
    b = finding(severity=Severity.CRITICAL, steps=(5, 900), message="moved 0.1%", evidence={"moved": 0.001})
    assert a.fingerprint == b.fingerprint
    assert len(a.fingerprint) == 16 and int(a.fingerprint, 16) >= 0


def test_run_layer_and_code_each_change_the_id():
    ids = {finding().fingerprint, finding(run="other").fingerprint, finding(layer="layer2").fingerprint,
           finding(code="dead_units").fingerprint}
    assert len(ids) == 4
    # joined with a separator: ("ab", "c") and ("a", "bc") are different problems
    assert fingerprint("ab", "c", "x") != fingerprint("a", "bc", "x")


def test_the_json_finding_carries_it():
    data = json.loads(json.dumps(finding().as_dict()))
    assert data["fingerprint"] == finding().fingerprint
