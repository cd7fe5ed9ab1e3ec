"""Every command-line option is settable in `[tool.reportgen]`, or the README says it is not."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from reportgen import cli
from reportgen.config import NAMES, Options, load_options

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def parser_options() -> dict[str, argparse.Action]:
    """dest -> action, over every sub-command."""
    found: dict[str, argparse.Action] = {}
    parser = cli.make_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                for sub_action in sub._actions:
                    found.setdefault(sub_action.dest, sub_action)
        else:
            found.setdefault(action.dest, action)
    return found


# A value of the right kind for each option, different from its default.
SAMPLES = {"title": "Nightly", "run": "seed", "tag": "weight", "max_steps": 9, "mode": "overlay", "charts": "compact",
           "page_size": "letter", "processes": 1, "fail_on": "warning", "max_bytes": "2G", "max_runs": 3,
           "attach_pdf": True, "report_url": "https://ci.example.com/run/1",
           "mail_from": "ml@example.com", "quiet": True, "verbose": True, "seed_pattern": r"-rep\d+$", "sort": "lr",
           "annotations": True, "baseline": "last-night/report.json", "match_runs": "^[0-9]{8}_",
           "history": "s3://bucket/reports", "history_nights": 7, "save_history": True, "executor": "dask",
           "scheduler": "tcp://10.0.0.5:8786"}


def test_every_option_is_settable_in_the_config_or_listed_as_not():
    options = parser_options()
    unknown = sorted(set(options) - NAMES - cli.NOT_IN_CONFIG)
    assert not unknown, f"options neither in the config nor in cli.NOT_IN_CONFIG: {unknown}"
    assert set(SAMPLES) == set(options) & NAMES  # a sample for each settable one: the test below tries them all


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_config_value_reaches_the_options(tmp_path, name):
    value = SAMPLES[name]
    text = f"{value!r}".replace("'", '"').replace("True", "true")
    (tmp_path / "pyproject.toml").write_text(f"[tool.reportgen]\n{name.replace('_', '-')} = {text}\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    got = getattr(load_options([str(logs)], None, {}), name)
    assert got != getattr(Options(), name) and got == (2 << 30 if name == "max_bytes" else value)


def test_the_readme_names_the_options_a_config_cannot_set():
    paragraph = next(p for p in README.split("\n\n") if "cannot be set in a config" in p)
    for dest, action in parser_options().items():
        if dest in cli.NOT_IN_CONFIG and action.option_strings and dest not in ("help", "version"):
            assert any(re.search(re.escape(flag) + r"\b", paragraph) for flag in action.option_strings), dest


def test_the_compact_chart_set_is_drawn_above_twelve_runs_unless_the_charts_option_says():
    """--charts auto switches at SWEEP_RUNS (12): past it per-tag charts of every run would run to
    thousands of pages; compact and full are taken as given."""
    auto, compact, full = Options(charts="auto"), Options(charts="compact"), Options(charts="full")
    assert [auto.compact_for(n) for n in (1, 12, 13, 2000)] == [False, False, True, True]
    assert all(compact.compact_for(n) for n in (1, 13)) and not any(full.compact_for(n) for n in (1, 2000))
