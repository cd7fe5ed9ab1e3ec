"""A sweep's PDF laid out in chunks and merged (pdf.write_in_chunks) is the PDF WeasyPrint lays
out in one piece: the same pages with the same text (page headers and "n / N" included), the same
charts, the same outline and links that land on the same pages. The oracle is WeasyPrint's layout
of the whole document, read back with pypdf."""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import replace

import pypdf
import pytest

from reportgen.outputs import pdf
from tests.outputs.factory import HOSTILE_TAG, make_report, with_weight_series

TITLE = 'Nightly "sweep" \\ 5 runs'  # a quote and a backslash: the chunks write it into CSS


def whole(report) -> pypdf.PdfReader:
    """The oracle: the report laid out as one document, as `render` does for a few runs."""
    assert len(report.runs) <= pdf.RUNS_PER_CHUNK
    return pypdf.PdfReader(io.BytesIO(pdf.render(report)))


def in_chunks(report, runs_per_chunk: int, workers: int, **sizes) -> bytes:
    """The merged PDF, written into a file as a build writes it."""
    with tempfile.TemporaryFile() as out:
        pdf.write_in_chunks(report, out, runs_per_chunk, workers, **sizes)
        out.seek(0)
        return out.read()


def chunked(report, runs_per_chunk: int, workers: int) -> pypdf.PdfReader:
    """The merged PDF, read strictly: a wrong cross-reference offset or a broken object fails."""
    return pypdf.PdfReader(io.BytesIO(in_chunks(report, runs_per_chunk, workers)), strict=True)


def page_texts(reader: pypdf.PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def images_drawn(reader: pypdf.PdfReader) -> list[list[tuple[int, int]]]:
    """The sizes of the images each page draws (its content's `Do` operators; a page's resources
    may list images it does not draw)."""
    drawn = []
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject", {})
        named = [xobjects["/" + name.decode()].get_object()
                 for name in re.findall(rb"/([^\s/\[\]<>()]+)\s+Do\b", page.get_contents().get_data())]
        drawn.append(sorted((x["/Width"], x["/Height"]) for x in named if x.get("/Subtype") == "/Image"))
    return drawn


def links(reader: pypdf.PdfReader) -> list[tuple[int, tuple[int, ...], int]]:
    """(page, rectangle, page the link goes to) of every internal link."""
    found = []
    for number, page in enumerate(reader.pages):
        for ref in page.get("/Annots", []):
            annotation = ref.get_object()
            assert "/A" not in annotation, f"page {number + 1}: a link left as {annotation['/A']}"
            target = reader.get_destination_page_number(reader.named_destinations[annotation["/Dest"]])
            found.append((number, tuple(round(float(v)) for v in annotation["/Rect"]), target))
    return found


def outline(reader: pypdf.PdfReader, items=None, depth: int = 0) -> list[tuple[int, str, int]]:
    """(depth, title, page) of every outline entry, in order."""
    entries = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            entries += outline(reader, item, depth + 1)
        else:
            entries.append((depth, item.title, reader.get_destination_page_number(item)))
    return entries


@pytest.fixture(scope="module")
def report():
    return replace(make_report(n_runs=5), title=TITLE)


@pytest.fixture(scope="module")
def oracle(report) -> pypdf.PdfReader:
    return whole(report)


@pytest.mark.parametrize("runs_per_chunk, workers", [(2, 1), (1, 2)])
def test_chunks_merge_into_the_pdf_laid_out_in_one_piece(report, oracle, runs_per_chunk, workers):
    merged = chunked(report, runs_per_chunk, workers)
    assert len(merged.pages) == len(oracle.pages) > 10
    assert page_texts(merged) == page_texts(oracle)
    assert images_drawn(merged) == images_drawn(oracle)
    assert sum(map(len, images_drawn(merged))) > 20
    assert outline(merged) == outline(oracle)
    assert links(merged) == links(oracle)
    assert merged.metadata.title == TITLE


def cross_references(data: bytes) -> dict[int, int]:
    """Object number -> byte offset, from the classic cross-reference table `startxref` points at."""
    start = int(re.findall(rb"startxref\s+(\d+)\s+%%EOF", data)[-1])
    head = re.match(rb"xref\s+0 (\d+)\s+", data[start:])
    assert head, data[start:start + 40]
    rows = data[start + head.end():].split(b"\n")[:int(head.group(1))]
    assert rows[0].startswith(b"0000000000 65535 f")
    return {n: int(row[:10]) for n, row in enumerate(rows) if n and row[17:18] == b"n"}


def test_the_merged_file_is_well_formed(report):
    """What readers repair silently, checked from the bytes: every offset of the table starts its
    object, and the page tree counts its pages and is every page's parent."""
    data = in_chunks(report, 2, 1)
    offsets = cross_references(data)
    assert len(offsets) > 100
    for number, offset in offsets.items():
        assert data[offset:].startswith(f"{number} 0 obj".encode()), number
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    tree = reader.trailer["/Root"]["/Pages"]
    assert tree["/Count"] == len(tree["/Kids"]) == len(reader.pages)
    tree_number = reader.trailer["/Root"].raw_get("/Pages").idnum
    assert all(page.raw_get("/Parent").idnum == tree_number for page in reader.pages)


def test_every_page_but_the_first_has_the_title_and_every_page_its_number(report):
    texts = page_texts(chunked(report, 2, 1))
    total = len(texts)
    for number, text in enumerate(texts, 1):
        assert f"{number} / {total}" in text
        assert text.count(TITLE) == 1, text[:200]  # page 1: the heading, no page header; then the header


def test_links_reach_across_chunks(report):
    """The contents (first chunk) link to every run, the run pages to the reading notes at the back."""
    merged = chunked(report, 1, 1)
    run_pages = [page for depth, title, page in outline(merged) if depth == 0 and title.startswith("Run ")]
    targets = {target for _, _, target in links(merged)}
    assert set(run_pages) <= targets
    back = next(page for depth, title, page in outline(merged) if title == "How to read these charts")
    assert any(source in run_pages and target >= back for source, _, target in links(merged))


def test_letter_pages_are_numbered_in_the_same_place(report):
    letter = replace(report, page_size="letter")
    merged, one = chunked(letter, 2, 1), whole(letter)
    box = merged.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((612.0, 792.0), abs=0.5)
    assert page_texts(merged) == page_texts(one)


def test_a_report_of_more_runs_than_a_chunk_holds_is_laid_out_in_chunks(monkeypatch, report, oracle):
    calls = []
    real = pdf.write_in_chunks
    monkeypatch.setattr(pdf, "write_in_chunks", lambda *args: calls.append(args) or real(*args))
    monkeypatch.setattr(pdf, "RUNS_PER_CHUNK", 2)
    assert pdf.lay_out_early(report) is None  # it would lay the whole report out in one process
    merged = pypdf.PdfReader(io.BytesIO(pdf.render(report)))
    assert [args[2] for args in calls] == [2]
    assert page_texts(merged) == page_texts(oracle)


def test_the_appendix_laid_out_in_chunks_says_all_the_one_piece_says(report, oracle):
    """The appendix in chunks of 2 runs (each from a new page): the same words in the same order,
    every appendix page headed as such, and the links into it landing in it."""
    merged = pypdf.PdfReader(io.BytesIO(in_chunks(report, 2, 1, appendix_runs=2)), strict=True)
    heading = "Appendix: what was read"

    def appendix(reader: pypdf.PdfReader) -> tuple[list[str], str]:
        start = next(page for depth, title, page in outline(reader) if title == heading)
        texts = page_texts(reader)[start:]
        words = " ".join(re.sub(r"\b\d+ / \d+\b", " ", t).replace(TITLE, " ").replace(heading, " ") for t in texts)
        for repeated in ("\u2022", "Tags Kind Steps First Last", "File Size Records read Skipped Problems"):
            words = words.replace(repeated, " ")  # list bullets come out anywhere; table heads repeat on each page
        return texts, " ".join(words.split())

    pages, words = appendix(merged)
    one_pages, one_words = appendix(oracle)
    assert words == one_words and len(words) > 500
    assert len(one_pages) <= len(pages) <= len(one_pages) + 2  # 3 chunks: at most a page more each after the first
    assert all(heading in text for text in pages)
    start, one_start = len(merged.pages) - len(pages), len(oracle.pages) - len(one_pages)
    into = [(source, rect) for source, rect, target in links(oracle) if target >= one_start]
    assert into  # the summary's "see the appendix"
    assert [(s, r) for s, r, t in links(merged) if t >= start] == into
    before = [link for link in links(oracle) if link[2] < one_start]
    assert [link for link in links(merged) if link[2] < start] == before


def test_the_tables_of_runs_compared_laid_out_in_chunks_say_all_the_one_piece_says():
    """8 runs with a layer table (a row per run past html.RUN_COLUMNS), both tables 3 rows a
    chunk: the same words in the same order as in one piece, every page of them headed "Runs
    compared", and their links going to the same pages."""
    report = replace(with_weight_series(make_report(n_runs=8)), title=TITLE)
    one, merged = whole(report), pypdf.PdfReader(io.BytesIO(in_chunks(report, 3, 1, table_rows=3)),
                                                 strict=True)
    heading = "Runs compared"

    def compared(reader: pypdf.PdfReader) -> tuple[range, str]:
        entries = outline(reader)
        start = next(page for _, title, page in entries if title == heading)
        stop = next(page for _, title, page in entries if title == "How to read these charts")
        words = " ".join(re.sub(r"\b\d+ / \d+\b", " ", t).replace(TITLE, " ").replace(heading, " ")
                         for t in page_texts(reader)[start:stop + 1])
        for repeated in ("\u2022", "Run Main metric Verdict Findings Worst finding", HOSTILE_TAG, "Run dense1 dense2"):
            words = words.replace(repeated, " ")
        words = words[:words.index("How to read these charts")]
        return range(start, stop), " ".join(words.split())

    pages, words = compared(merged)
    one_pages, one_words = compared(one)
    assert words == one_words and "How far each layer" in words and "8.0%" in words
    assert len(one_pages) < len(pages) <= len(one_pages) + 5  # 6 chunks: at most a page more each after the first
    assert all(heading in page_texts(merged)[p] for p in pages)

    def targets(reader: pypdf.PdfReader, sources: range) -> list[str]:
        """The section (top outline entry) each link from `sources` and the page after goes to."""
        tops = [(page, title) for depth, title, page in outline(reader) if depth == 0]
        return [max((p, t) for p, t in tops if p <= target)[1] for source, _, target in links(reader)
                if sources.start <= source <= sources.stop]

    assert targets(merged, pages) == targets(one, one_pages)
    assert len(targets(one, one_pages)) >= 8  # each run's worst finding, and "More." to how to read


def test_a_layer_table_in_groups_laid_out_in_chunks_keeps_the_one_piece_order():
    """8 runs of 8 layers: the layer table comes as two tables of layers (html.RUN_COLUMNS a
    table), layers 1-6 for every run, then layers 7-8 for every run. Laid out 3 rows a chunk,
    the merged PDF says it in that order too, not layers 1-6 then 7-8 for each 3 runs."""
    layers = tuple(f"layer{i}" for i in range(1, 9))
    report = replace(with_weight_series(make_report(n_runs=8, layer_names=layers)), title=TITLE)
    one, merged = whole(report), pypdf.PdfReader(io.BytesIO(in_chunks(report, 3, 1, table_rows=3)), strict=True)

    def table_words(reader: pypdf.PdfReader) -> str:
        text = " ".join(page_texts(reader))
        start = text.index("How far each layer")
        words = text[start:text.index("How to read these charts", start)]
        words = re.sub(r"\b\d+ / \d+\b|Run( layer\d)+", " ", words).replace(TITLE, " ").replace("Runs compared", " ")
        return " ".join(words.split())

    words = table_words(one)
    assert words.count("Layers 1–6 of 8") == words.count("Layers 7–8 of 8") == 1
    assert "run7" in words[:words.index("Layers 7–8 of 8")]  # every run's row of the first group before
    assert table_words(merged) == words
