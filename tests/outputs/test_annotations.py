"""GitHub Actions annotations: GitHub's escaping, most severe first, 10 per type, then a notice
that says how many more the report holds."""

from __future__ import annotations

import re

from reportgen.outputs.annotations import escape_data, escape_property, workflow_commands
from tests.outputs.factory import finding

# ::command key=value,key=value::message, as the runner splits it
COMMAND = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


def unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_escaping_as_the_runner_reads_it():
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("50% done\nnext: a, b") == "50%25 done%0Anext%3A a%2C b"
    assert escape_data("%0A") == "%250A"  # a literal %0A is not read as a line break


def test_a_line_per_finding_whose_parts_survive_the_runners_split():
    f = finding("run:1", "layer,2", "critical", "exploding")
    f = f.__class__(**{**f.__dict__, "message": "grew 100%\nthen: NaN, at step 5"})
    [line] = workflow_commands([f])
    kind, props, message = COMMAND.match(line).groups()
    assert kind == "error" and "\n" not in line
    assert unescape(message) == f.message
    title = dict(p.split("=", 1) for p in props.split(","))["title"]
    assert unescape(title) == "exploding in run:1, layer,2"


def test_most_severe_first_at_most_ten_per_type_and_a_closing_notice():
    found = ([finding("r", f"info{i}", "info", "no_bias") for i in range(12)]
             + [finding("r", f"warn{i}", "warning", "saturation") for i in range(14)]
             + [finding("r", f"crit{i}", "critical", "exploding") for i in range(3)])
    lines = workflow_commands(found, ["report.html"])
    kinds = [COMMAND.match(line).group(1) for line in lines]
    assert kinds == ["error"] * 3 + ["warning"] * 10 + ["notice"] * 10
    assert kinds.count("notice") <= 10 and len(lines) <= 50  # GitHub's caps per step and per job
    # 9 info notices keep a slot for the closing one: 4 warnings and 3 infos left out
    assert lines[-1] == "::notice::7 more findings are in the report (report.html)"
    assert "title=saturation in r%2C warn9" in lines[12]


def test_no_closing_notice_when_everything_was_shown():
    lines = workflow_commands([finding("r", "a", "warning", "saturation"), finding("r", "b", "info", "no_bias")])
    assert [COMMAND.match(line).group(1) for line in lines] == ["warning", "notice"]
    assert "more" not in lines[-1]


def test_ten_notices_when_nothing_else_is_left_out():
    lines = workflow_commands([finding("r", f"i{i}", "info", "no_bias") for i in range(10)])
    assert len(lines) == 10 and all(line.startswith("::notice title=") for line in lines)
