"""The GitHub step-summary Markdown: small, no images, escaped, tables that stay tables."""

from __future__ import annotations

from reportgen.outputs import markdown
from reportgen.outputs.templating import markdown_text
from tests.outputs.factory import HOSTILE_TAG, finding, make_report

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub's limit for $GITHUB_STEP_SUMMARY


def test_digest_has_verdict_runs_table_findings_and_artifact_names():
    text = markdown.render(make_report()).decode("utf-8")
    assert text.startswith("## Nightly training report")
    assert "**Critical**" in text
    runs_table = [line for line in text.splitlines() if line.startswith("| baseline") or line.startswith("| lr=0.1")]
    assert len(runs_table) == 2 and all(line.count(" | ") == 4 for line in runs_table)
    assert "**report.html**" in text and "**report.pdf**" in text
    assert "data:" not in text and "![" not in text


def test_size_stays_far_under_the_step_summary_limit_with_thousands_of_findings():
    report = make_report()
    report.findings = [finding("baseline", "dense1", "warning", f"rule_{i}") for i in range(5000)]
    data = markdown.render(report)
    assert len(data) < STEP_SUMMARY_LIMIT / 4
    assert "4900 more findings" in data.decode("utf-8")


def test_log_strings_cannot_inject_markup_or_break_tables():
    report = make_report(n_runs=1)
    report.runs[0].name = "a | b"
    report.findings = [finding("a | b", HOSTILE_TAG, "critical")]
    text = markdown.render(report).decode("utf-8")
    assert HOSTILE_TAG not in text and "<img" not in text
    row = next(line for line in text.splitlines() if "a \\| b" in line and "critical" in line)
    assert row.count(" | ") == 4  # the run name's pipe is escaped, the row keeps its 5 cells


def test_markdown_text_escapes_what_markdown_would_interpret():
    assert markdown_text("*bold* _it_ `code` [x](y)") == r"\*bold\* \_it\_ \`code\` \[x\](y)"
    assert markdown_text("# heading") == r"\# heading" and markdown_text("1. item") == r"1\. item"
    assert markdown_text("0.25") == "0.25" and markdown_text("a\nb") == "a b"
