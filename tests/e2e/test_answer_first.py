"""The report answers first: a page per run with its verdict, findings and every layer at a
glance, details after it, nothing twice, a page budget, an email that is the run pages, and a
layout that holds on a phone. Built from sample_logs/ as a user would."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reportgen.cli import main

REPO = Path(__file__).resolve().parents[2]
PAGE_BUDGET = 20  # sample_logs: 3 runs, 27 histogram tags (the budget; 50 pages before, then 23)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    assert main(["build", str(REPO / "sample_logs"), "-o", str(out / "r.html"), "-o", str(out / "r.pdf"), "-o",
                 str(out / "r.eml"), "-o", str(out / "summary.md"), "--mail-from", "ml-bot@example.org", "-q"]) == 0
    return out


class Sections(HTMLParser):
    """The run sections' order of things: summary paragraphs and figure kinds, per run."""

    def __init__(self):
        super().__init__()
        self.runs: dict[str, list[str]] = {}
        self.current = ""
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "run" in (a.get("class") or "").split():
            self.current = a["id"]
            self.runs[self.current] = []
        elif tag == "p" and a.get("class") == "run-summary" and self.current:
            self.runs[self.current].append("summary")
        elif tag == "figure" and self.current:
            self.runs[self.current].append(a.get("data-kind", ""))
        elif tag == "img" and (a.get("src") or "").startswith("data:image/png"):
            self.images.append(a["src"])
        elif tag == "section" and a.get("id") in ("comparison", "how-to-read", "appendix"):
            self.current = ""


def test_each_run_page_comes_first_then_its_details_and_nothing_is_drawn_twice(built):
    html = (built / "r.html").read_text()
    parsed = Sections()
    parsed.feed(html)
    question = parsed.runs["run-0"]
    assert question[0] == "summary" and question[question.index("overview") - 1] == "summary"
    details = [k for k in question if k in ("offset", "distribution", "heatmap")]
    assert details and question.index("overview") < question.index(details[0])
    assert not any(k == "layer" for run in parsed.runs.values() for k in run)  # no row repeating the tag charts
    assert len(parsed.images) == len(set(parsed.images))  # no chart image appears twice
    summary = html[html.index('id="summary"'):html.index('id="contents"')]
    for paragraph in re.findall(r'<p class="run-summary">(.*?)</p>', html):
        assert html.count(paragraph) == 1 and paragraph not in summary


def test_the_run_page_figure_has_one_panel_per_layer_with_the_findings_marked(built):
    html = (built / "r.html").read_text()
    alt = re.search(r'data-run="question" data-tag="overview" data-kind="overview">\s*<img src="[^"]+" alt="([^"]+)"',
                    html).group(1)
    panels = re.findall(r"(layer\d) moved ([\d.]+%)( \(finding\))?", alt)
    assert [p[0] for p in panels] == ["layer1", "layer2", "layer3", "layer4"]
    assert [bool(p[2]) for p in panels] == [True, True, True, False]  # not_learning on 1-3, layer4 moved


def page_count(pdf: bytes) -> int:
    """The /Count of the PDF's page tree (WeasyPrint compresses it into an object stream)."""
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            data = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        found = re.search(rb"/Type\s*/Pages\b.*?/Count (\d+)", data, re.S)
        if found:
            return int(found.group(1))
    found = re.search(rb"/Type\s*/Pages\b.*?/Count (\d+)", pdf, re.S)
    return int(found.group(1)) if found else 0


def test_the_pdf_keeps_to_its_page_budget(built):
    assert 0 < page_count((built / "r.pdf").read_bytes()) <= PAGE_BUDGET


def test_the_first_page_holds_the_whole_contents_and_the_first_run_starts_the_second(built):
    """The summary, the sweep and the contents on page 1; the contents do not spill onto a
    page of their own (they did: 5 lines on page 2)."""
    pypdf = pytest.importorskip("pypdf")
    pages = pypdf.PdfReader(str(built / "r.pdf")).pages
    first, second = pages[0].extract_text(), pages[1].extract_text()
    assert "Contents" in first and "Appendix: what was read" in first
    assert "Run question" in "\n".join(second.splitlines()[:3]) and "Contents" not in second


def test_the_appendix_lists_every_tag_and_puts_those_read_alike_on_one_row(built):
    """Nothing read is silently missing, and 11 histograms logged at the same 41 steps are one
    row, not eleven (the appendix took 2 of the PDF's 23 pages)."""
    from reportgen.reading.loader import load

    html = (built / "r.html").read_text()
    appendix = html[html.index('id="appendix"'):]
    run = next(r for r in load([str(REPO / "sample_logs")]).runs if r.name == "question")
    section = appendix[appendix.index("Run question"):appendix.index("Run question_fixed")]
    for tag in [*run.histograms, *run.scalars]:
        assert f"<code>{tag}</code>" in section
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td>", section[:section.index('class="files"')])
    assert len(rows) == 3  # the histograms, the scalars, the hparams records: each read at one set of steps
    assert {len(set(s.steps.tolist()) ^ set(next(iter(run.histograms.values())).steps.tolist()))
            for s in run.histograms.values()} == {0}


def test_the_email_is_the_run_pages_under_gmails_clip_with_its_headers(built):
    msg = email.message_from_bytes((built / "r.eml").read_bytes(), policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"].endswith("@example.org>")
    html_part = msg.get_body(("html",))
    body = html_part.get_content()
    assert len(body.encode()) < 102_000 and 'name="color-scheme" content="light dark"' in body
    images = [part for part in msg.walk() if part.get_content_type() == "image/png"]
    assert len(images) == body.count('src="cid:') >= 4
    for run in ("question", "question_fixed"):
        page = body.index(f">{run} <span")  # a page per run: its heading, then its overview figure
        assert body.index(f"alt=\"Every layer&#39;s weights, first step against last ({run})", page) > page
    assert body.index("alt=\"Every layer&#39;s weights") < body.index(">Findings</h2>")


@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Chromium (apt-get install -y chromium)")
def test_the_comparison_table_fits_a_phone(built, tmp_path):
    """At 400 px the runs-compared table reflows into the screen (it was 600 px tall per row
    with its last column off-screen), measured by Chromium's own layout. Headless Chromium's
    window is at least 500 px wide, so the page is narrowed to 400 px; the phone rules of the
    stylesheet (below 600 px) apply at both widths."""
    html = (built / "r.html").read_text()
    probe = ("<style>body { width: 400px !important; max-width: 400px !important; margin: 0 !important; "
             "box-sizing: border-box; }</style><script>const t = document.querySelector('table.runs-compared')"
             ".getBoundingClientRect(); document.title = 'W=' + Math.ceil(t.right) + ',' + window.innerWidth;"
             "</script></body>")
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", probe))
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                          "--window-size=400,2000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    right, viewport = map(int, re.search(r"<title>W=(\d+),(\d+)</title>", dom).groups())
    assert viewport < 600 and right <= 400


def test_the_email_text_and_the_markdown_give_the_reward_not_the_surrogate_loss(built):
    """The question run's loss is a policy-gradient surrogate (negative, says nothing about
    progress): the digests name its reward, as the HTML does, not "final loss -0.26"."""
    msg = email.message_from_bytes((built / "r.eml").read_bytes(), policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    heading = next(line for line in text.splitlines() if line.startswith("Run question:"))
    assert "reward" in heading and "loss" not in heading
    row = next(line for line in (built / "summary.md").read_text().splitlines() if line.startswith("| question |"))
    assert "reward" in row.split("|")[2] and "loss" not in row
