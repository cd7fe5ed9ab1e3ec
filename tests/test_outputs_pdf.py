"""The PDF, read back with pypdf: pages, page size, outline, page numbers, summary on page 1."""

from __future__ import annotations

import io

import pypdf
import pytest

from reportgen.config import Options
from reportgen.outputs import pdf
from tests.outputs_factory import HOSTILE_TAG, make_report

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm
LETTER_POINTS = (612.0, 792.0)  # 8.5 x 11 in


@pytest.fixture(scope="module")
def a4() -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf.render(make_report(), Options())))


def outline_tree(reader: pypdf.PdfReader) -> list[tuple[str, list[str]]]:
    """[(top-level title, [child titles])]"""
    tree: list[tuple[str, list[str]]] = []
    for item in reader.outline:
        if isinstance(item, list):
            tree[-1][1].extend(child.title for child in item if not isinstance(child, list))
        else:
            tree.append((item.title, []))
    return tree


def test_page_size_a4_by_default_and_letter_on_request(a4):
    box = a4.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_POINTS, abs=0.5)
    letter = pypdf.PdfReader(io.BytesIO(pdf.render(make_report(n_runs=1), Options(page_size="letter"))))
    box = letter.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(LETTER_POINTS, abs=0.5)


def test_outline_has_one_entry_per_run_with_its_layers_as_children(a4):
    report = make_report()
    tree = dict(outline_tree(a4))
    for run in report.runs:
        assert f"Run {run.name}" in tree
        children = tree[f"Run {run.name}"]
        assert [layer.name for layer in run.layers] == children[:len(run.layers)]
    assert HOSTILE_TAG in tree["Run baseline"]  # escaped in HTML, plain text in the outline
    assert "Summary" in tree and "Appendix: what was read" in tree


def test_summary_is_on_page_one_and_pages_are_numbered_n_of_total(a4):
    total = len(a4.pages)
    assert total > 3  # every run starts on a new page
    first = a4.pages[0].extract_text()
    assert "Nightly training report" in first and "Summary" in first and "Critical" in first
    for number, page in enumerate(a4.pages, start=1):
        assert f"{number} / {total}" in page.extract_text()


def test_run_title_is_in_the_page_header_of_its_pages(a4):
    texts = [page.extract_text() for page in a4.pages]
    run_pages = [t for t in texts if "dense1" in t and "Run baseline" in t]
    assert run_pages, "the pages of run baseline should carry its title"


def test_pdf_fetcher_refuses_every_url_but_data():
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        import weasyprint

        url = f"http://127.0.0.1:{server.server_port}/chart.png"
        document = f'<p>x</p><img src="{url}"><div style="background: url({url})">y</div>'
        weasyprint.HTML(string=document, url_fetcher=pdf._data_only_fetcher()).write_pdf()
    finally:
        server.shutdown()
    assert hits == []
