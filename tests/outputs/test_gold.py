"""Gold HTML pages, as coverage.py keeps them: a change in what the report says or how it is laid
out shows up in review as a diff of tests/outputs/gold/*.html.

Dates, versions, absolute paths and image bytes (which follow the Matplotlib and FreeType
versions) are scrubbed before comparing. After an intended change, rewrite the pages with
`REPORTGEN_REGEN_GOLD=1 python -m pytest tests/outputs/test_gold.py` and review the diff.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from reportgen import __version__
from reportgen.config import Options
from reportgen.outputs import html
from reportgen.pipeline import build
from reportgen.reading.loader import load
from tests.conftest import FIXTURES, fixture_path
from tests.outputs.factory import make_report

GOLD = Path(__file__).resolve().parent / "gold"


def scrub(page: str) -> str:
    page = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "data:image/png;base64,SCRUBBED", page)
    page = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "GENERATED-AT", page)
    page = page.replace(f"reportgen {__version__}", "reportgen VERSION")
    return page.replace(str(FIXTURES), "FIXTURES")


def compare(name: str, page: str) -> None:
    path = GOLD / name
    page = scrub(page)
    if os.environ.get("REPORTGEN_REGEN_GOLD"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(page)
    expected = path.read_text()
    if page != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), page.splitlines(True), str(path), "now", n=2))
        pytest.fail(f"{name} differs from its gold page (REPORTGEN_REGEN_GOLD=1 rewrites it):\n{diff[:6000]}")


def test_the_view_model_report_matches_its_gold_page():
    compare("view_model.html", html.render(make_report()).decode("utf-8"))


def test_the_tf2_fixture_report_matches_its_gold_page(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    logs = load([str(fixture_path("tf2_summary"))])
    report = build(logs, Options(processes=1))
    compare("tf2_summary.html", html.render(report).decode("utf-8"))
