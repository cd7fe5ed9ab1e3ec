"""Names are data: hostile run names and tags are shown as text in every output, never run.

The logs are written with hostile tags and a hostile run folder name, then one build writes
every format; each output is parsed as its reader would parse it.
"""

from __future__ import annotations

import email
import json
import re
from email import policy
from html.parser import HTMLParser

import numpy as np
import pytest

from reportgen.cli import main
from tools.eventwriter import EventWriter

HOSTILE_TAGS = [
    "<img src=x onerror=alert(1)>",
    "**bold** | pipe | [link](http://evil.example/x)",
    "quote\"'`backtick`",
    "line\nbreak",
    "\u202eright-to-left\u202c/weights",
    "../../etc/passwd",
    "x" * 400,
]
HOSTILE_RUN = "run <b>bold</b> \"q\" \u202e"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse_html(markup: str) -> _Collector:
    parser = _Collector()
    parser.feed(markup)
    return parser


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    logs = root / "logs"
    rng = np.random.default_rng(5)
    with EventWriter(str(logs / HOSTILE_RUN), wall_time=10.0, hostname="h") as writer:
        for step in range(4):
            for tag in HOSTILE_TAGS:
                writer.add_histogram(tag, rng.normal(0, 1, 300), step)
            writer.add_scalar("<script>alert('loss')</script>", 1.0 / (step + 1), step)
    paths = {fmt: root / f"report.{fmt}" for fmt in ("html", "pdf", "json", "md", "eml")}
    args = ["build", str(logs), "-q", "--max-steps", "4"]
    for path in paths.values():
        args += ["-o", str(path)]
    assert main(args) == 0
    return paths


def assert_safe_html(markup: str, shows_all_tags: bool = True) -> None:
    parsed = parse_html(markup)
    tags = [t for t, _ in parsed.elements]
    assert "script" not in tags and "b" not in tags
    for tag, attrs in parsed.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith(("data:image/png;base64,", "cid:")), attrs["src"]
        if tag == "a" and "href" in attrs:
            assert attrs["href"].startswith(("#", "cid:")) or attrs["href"] == "", attrs["href"]
    if shows_all_tags:  # the email is a digest and may leave tags out
        text = "".join(parsed.text)
        assert "<img src=x onerror=alert(1)>" in text  # shown as text
        assert "<script>alert('loss')</script>" in text


def test_html_shows_hostile_names_as_text(outputs):
    assert_safe_html(outputs["html"].read_text(encoding="utf-8"))


def test_email_html_and_attachment_names_are_safe(outputs):
    message = email.message_from_bytes(outputs["eml"].read_bytes(), policy=policy.default)
    html_part = message.get_body(preferencelist=("html",))
    assert_safe_html(html_part.get_content(), shows_all_tags=False)
    assert message.get_body(preferencelist=("plain",)).get_content()
    for part in message.walk():
        name = part.get_filename()
        if name:
            assert "/" not in name and "\\" not in name and "\n" not in name and "\u202e" not in name, name
    assert "\n" not in str(message["Subject"]) and "\u202e" not in str(message["Subject"])


def test_markdown_renders_no_markup_from_names(outputs):
    text = outputs["md"].read_text(encoding="utf-8")
    assert "<img" not in text and "<script" not in text and "<b>" not in text
    assert "[link](http://evil.example/x)" not in text  # would become a link
    # A tag's own pipes must not add table cells: every row of a table has its header's cells.
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(len(re.findall(r"(?<!\\)\|", line)))
        elif current:
            tables.append(current)
            current = []
    tables += [current] if current else []
    assert tables
    for cells in tables:
        assert set(cells) == {cells[0]}, cells


def test_pdf_shows_names_as_text(outputs):
    from pypdf import PdfReader

    reader = PdfReader(str(outputs["pdf"]))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "<img src=x onerror=alert(1)>" in text


def test_json_keeps_names_exactly(outputs):
    data = json.loads(outputs["json"].read_text(encoding="utf-8"))
    run = data["runs"][0]
    assert run["name"] == HOSTILE_RUN
    assert {h["tag"] for h in run["histograms"]} == set(HOSTILE_TAGS)
