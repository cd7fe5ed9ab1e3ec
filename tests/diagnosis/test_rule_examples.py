"""Every rule fires on its firing example and stays quiet on its quiet one (rule_examples.py)."""

from __future__ import annotations

import pytest

from reportgen.diagnosis import all_rules, diagnose
from reportgen.reading.loader import load
from tests.conftest import write_events
from tests.diagnosis.rule_examples import FIRING, QUIET, Example


def codes_of(tmp_path, example: Example) -> set[str]:
    write_events(tmp_path / "run", example.histograms, example.scalars, example.steps)
    return {f.code for f in diagnose(load([str(tmp_path)])).findings}


def test_every_rule_has_a_firing_and_a_quiet_example():
    registered = {rule.code for rule in all_rules()}
    assert set(FIRING) == registered and set(QUIET) == registered


@pytest.mark.parametrize("code", sorted(FIRING))
def test_the_firing_example_fires(tmp_path, code):
    assert code in codes_of(tmp_path, FIRING[code]), FIRING[code].why


@pytest.mark.parametrize("code", sorted(QUIET))
def test_the_quiet_example_is_quiet(tmp_path, code):
    assert code not in codes_of(tmp_path, QUIET[code]), QUIET[code].why
