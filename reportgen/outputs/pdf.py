"""The PDF report, laid out by WeasyPrint from the same HTML with the paged-media rules of
`templates/pdf.css`: page size, "n / N" page numbers, report and run titles in the page header,
an outline with one entry per run and per layer, charts never split across pages.

Charts are PNG (WeasyPrint lays out SVG slowly). Palette PNGs go into the PDF unchanged
through WeasyPrint's image cache (see `pdfimages`); any other image is a `data:` URL. The
fetcher refuses every other URL, so building a PDF never touches the network.

A build lays the PDF out while its charts are drawn and writes its pages and fonts meanwhile
(`lay_out_early`, see `pdfearly`); `render` lays it out from scratch whenever the finished
report is not the one laid out.

A sweep of more than RUNS_PER_CHUNK runs is laid out in chunks by several processes and merged
(`write_in_chunks`): WeasyPrint lays out one document in one process and holds all of it.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from reportgen.memory import clean_workers
from reportgen.outputs import html, pdfearly
from reportgen.outputs.pdfearly import EarlyLayout
from reportgen.outputs.pdfimages import PaletteImage
from reportgen.outputs.weasy import data_only_fetcher, quiet_weasyprint
from reportgen.report import Report


def render(report: Report, pdf: bytes | None = None, early: EarlyLayout | None = None) -> bytes:
    """The PDF; `pdf` when this build already laid it out (it is returned as it is); `early`:
    the layout `lay_out_early` made of this report before its charts were drawn, used when the
    report is the one it laid out (else the PDF is laid out again)."""
    if pdf is not None:
        return pdf
    out = io.BytesIO()
    write(report, out, early)
    return out.getvalue()


def write(report: Report, out: BinaryIO, early: EarlyLayout | None = None) -> None:
    """The PDF (`render`) written into `out`, a binary file at its start. A sweep's PDF, laid out
    in chunks, goes into it one chunk at a time and is never held whole (200 MB at 2,000 runs)."""
    if len(report.runs) > RUNS_PER_CHUNK:
        write_in_chunks(report, out, RUNS_PER_CHUNK, os.cpu_count() or 1)
    else:
        out.write(_in_one_piece(report, early))


def _in_one_piece(report: Report, early: EarlyLayout | None) -> bytes:
    if early is not None:
        finished = early.finish(report)
        if finished is not None:
            return finished
    weasyprint = quiet_weasyprint()
    images: dict[str, PaletteImage] = {}
    try:
        return _lay_out(weasyprint, report, _cached_image_src(images), cache=images)
    except (AttributeError, TypeError, KeyError):
        # A WeasyPrint whose image protocol differs from the one PaletteImage follows (60 to
        # 70 are tested): lay the PDF out again with every chart as a data: URL.
        return _lay_out(weasyprint, report, html.data_uri)


def lay_out_early(provisional: Report) -> EarlyLayout | None:
    """Lay the PDF out from a report whose charts are not drawn yet (each chart's png is
    `report.pending_png`: its place in the report and its planned size), while they are drawn
    (`pdfearly`). None when this WeasyPrint cannot lay out that way, or when the report will be
    laid out in chunks.
    """
    if len(provisional.runs) > RUNS_PER_CHUNK:
        return None
    return pdfearly.lay_out(provisional)


def _lay_out(weasyprint, report: Report, image_src, **pdf_options) -> bytes:
    document = html.render(report, medium="print", image_src=image_src).decode("utf-8")
    return weasyprint.HTML(string=document, base_url=None, url_fetcher=data_only_fetcher()).write_pdf(**pdf_options)


def _cached_image_src(images: dict[str, PaletteImage]):
    """An `image_src` for the templates that puts each palette PNG into `images` under a short
    URL (the image cache WeasyPrint looks in before fetching) and leaves others as data: URLs."""

    def image_src(png: bytes) -> str:
        url = f"data:image/png;reportgen-chart-{len(images)},"
        image = PaletteImage.from_png(png, f"reportgen{len(images)}")
        if image is None:
            return html.data_uri(png)
        images[url] = image
        return url

    return image_src


# 100-run sweep to PDF on 2 cores, interleaved: one piece 83.7 s and 106.4 s, chunks of 16 runs
# 68.1 s and 89.6 s, of 8 90.2 s, of 32 89.1 s (smaller chunks repeat the fixed cost of a
# WeasyPrint document, larger ones leave a core idle at the end); peak memory 627 -> 520 MB.
RUNS_PER_CHUNK = 16
# The appendix of a 250-run sweep (76 pages) took one WeasyPrint process 312 MB and 19 s, and at
# 500 runs the runs-compared tables with 64 runs' appendix still took 170 MB: both are laid out in
# chunks too (~20 pages of appendix, ~4 of table each); each starts a page, so about half a page
# is left blank per chunk.
APPENDIX_RUNS_PER_CHUNK = 64
TABLE_ROWS_PER_CHUNK = 128  # of the runs-compared tables: a row is about a quarter of a run's appendix


def write_in_chunks(report: Report, out: BinaryIO, runs_per_chunk: int, workers: int,
                    appendix_runs: int = APPENDIX_RUNS_PER_CHUNK, table_rows: int = TABLE_ROWS_PER_CHUNK) -> None:
    """The PDF laid out in chunks (`_pieces`), `workers` processes at a time, and merged into
    `out`, a binary file at its start. It says
    what the one `render` lays out in one piece says, in the same order: each run starts a page,
    so those pages break where they would; a chunk of the appendix or of a long table of runs
    compared starts a page where one piece would run on.

    The merge holds one chunk at a time: the chunks wait on disk while they are laid out, then
    each is finished and written into the merged file (`pdfmerge.PdfFile`) with what a chunk
    cannot know. A link to another chunk, laid out as ANCHOR_URI + the anchor,
    goes to that named destination. The "n / N" page numbers are drawn on the chunk's number
    of empty pages, numbered from where it starts, and stamped on (7 ms a page). A chunk after
    the first has no heading to copy the report title from: its page rule holds the title.
    """
    from reportgen.outputs.pdfmerge import merge_chunks  # pypdf: only for a sweep's chunks

    with tempfile.TemporaryDirectory(prefix="reportgen-pdf-") as folder:
        chunks = _chunk_texts(report, html.context(report, medium="print", image_src=_ChartList()), runs_per_chunk,
                              appendix_runs, table_rows)
        merge_chunks(out, *_chunks_on_disk(chunks, workers, folder), report.page_size)


def _chunks_on_disk(chunks: Iterator[tuple[str, list[bytes]]], workers: int,
                    folder: str) -> tuple[list[tuple[str, int]], set[str], dict[str, str]]:
    """Each chunk laid out into a file of `folder`: (file, its pages) of each, in order; the
    anchors of all; the first chunk's metadata."""
    import pypdf

    files: list[tuple[str, int]] = []
    anchors: set[str] = set()
    info: dict[str, str] = {}
    for i, chunk in enumerate(_laid_out(chunks, workers)):
        anchors |= chunk.anchors
        if not files:
            metadata = pypdf.PdfReader(io.BytesIO(chunk.pdf)).metadata
            info = {k: v for k, v in (metadata or {}).items() if isinstance(v, str)}
        files.append((os.path.join(folder, f"{i}.pdf"), chunk.pages))
        with open(files[-1][0], "wb") as stream:
            stream.write(chunk.pdf)
    return files, anchors, info


class _ChartList:
    """The `image_src` of a chunk's page: each chart gets a short URL, and its PNG is kept in
    `pngs` to go with the chunk to the process that lays it out."""

    def __init__(self) -> None:
        self.pngs: list[bytes] = []

    def __call__(self, png: bytes) -> str:
        self.pngs.append(png)
        return _chart_url(len(self.pngs) - 1)


def _chart_url(i: int) -> str:
    return f"data:image/png;reportgen-chart-{i},"


def _chunk_texts(report: Report, page: html.Context, runs_per_chunk: int, appendix_runs: int,
                 table_rows: int) -> Iterator[tuple[str, list[bytes]]]:
    """Each chunk's HTML (`_pieces`) with its charts' PNGs, in page order, rendered one at a time."""
    from reportgen.outputs.pdfmerge import ANCHOR_URI

    charts = page["image_src"]
    assert isinstance(charts, _ChartList)
    for piece in _pieces(len(report.runs), runs_per_chunk, appendix_runs, table_rows, len(page["layer_groups"])):
        charts.pngs = []
        text = html.render_piece(page, piece, _chunk_css(report.title, piece.front))
        yield text.replace('href="#', f'href="{ANCHOR_URI}'), charts.pngs


def _pieces(n: int, runs_per_chunk: int, appendix_runs: int, table_rows: int, layer_groups: int = 1
            ) -> list[html.Piece]:
    """The chunks of a report of `n` runs, in page order: the front matter, `runs_per_chunk`
    runs at a time, the two tables of the runs compared `table_rows` rows at a time when they
    have more (the layer table's `layer_groups` groups one after another, as in one piece), then
    how to read and the appendix, `appendix_runs` runs at a time. Each chunk
    starts a page; a comparison of at most `table_rows` runs stays with the back matter, on the
    pages before how to read, as in one piece."""
    pieces = [html.Piece(front=True, start=0, stop=0, back=False)]
    pieces += [html.Piece(front=False, start=a, stop=min(a + runs_per_chunk, n), back=False)
               for a in range(0, n, runs_per_chunk)]
    whole = n <= table_rows
    if not whole:
        pieces += [html.Piece(front=False, start=n, stop=n, back=False, comparison_head=a == 0, compared_start=a,
                              compared_stop=min(a + table_rows, n)) for a in range(0, n, table_rows)]
        groups = max(layer_groups, 1)
        pieces += [html.Piece(front=False, start=n, stop=n, back=False, layers_start=a,
                              layers_stop=min(a + table_rows, n), layer_group=g if groups > 1 else None,
                              comparison_tail=g == groups - 1 and a + table_rows >= n)
                   for g in range(groups) for a in range(0, n, table_rows)]
    for a in range(0, max(n, 1), appendix_runs):
        comparison = whole and a == 0
        pieces.append(html.Piece(front=False, start=n, stop=n, back=a == 0, appendix_start=a,
                                 appendix_stop=min(a + appendix_runs, n), footer=a + appendix_runs >= n,
                                 comparison_head=comparison, compared_stop=n if comparison else 0,
                                 layers_stop=n if comparison else 0, comparison_tail=comparison))
    return pieces


def _chunk_css(title: str, front: bool) -> str:
    numbers_later = "@page { @bottom-center { content: none; } }"
    if front:
        return numbers_later
    literal = '"' + title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'
    return (f"{numbers_later}\n@page {{ @top-left {{ content: {literal}; }} }}\n"
            f"@page :first {{ @top-left {{ content: {literal}; }} @top-right {{ content: string(run-title); }} }}")


@dataclass(frozen=True)
class _Chunk:
    """A chunk laid out: its PDF, its number of pages and the anchors it defines (its named
    destinations), the last two from WeasyPrint's document rather than by parsing the PDF again."""
    pdf: bytes
    pages: int
    anchors: frozenset[str]


def _laid_out(chunks: Iterator[tuple[str, list[bytes]]], workers: int) -> Iterator[_Chunk]:
    """Each chunk laid out, in order; at most two chunks a worker are rendered ahead (their HTML
    and PNGs wait in memory)."""
    if workers <= 1:
        yield from (_lay_out_chunk(text, pngs) for text, pngs in chunks)
        return
    with ProcessPoolExecutor(workers, mp_context=clean_workers("reportgen.outputs.pdf")) as pool:
        pending: deque[Future[_Chunk]] = deque()
        for text, pngs in chunks:
            pending.append(pool.submit(_lay_out_chunk, text, pngs))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _lay_out_chunk(text: str, pngs: list[bytes]) -> _Chunk:
    weasyprint = quiet_weasyprint()
    images: dict[str, PaletteImage] = {}
    for i, png in enumerate(pngs):
        image = PaletteImage.from_png(png, f"reportgen{i}")
        if image is None:
            text = text.replace(f'src="{_chart_url(i)}"', f'src="{html.data_uri(png)}"')
        else:
            images[_chart_url(i)] = image
    try:
        document = weasyprint.HTML(string=text, base_url=None, url_fetcher=data_only_fetcher()).render(cache=images)
        written = document.write_pdf(cache=images)
    except (AttributeError, TypeError, KeyError):  # as in `render`: every chart a data: URL
        for i, png in enumerate(pngs):
            text = text.replace(f'src="{_chart_url(i)}"', f'src="{html.data_uri(png)}"')
        document = weasyprint.HTML(string=text, base_url=None, url_fetcher=data_only_fetcher()).render()
        written = document.write_pdf()
    return _Chunk(written, len(document.pages), frozenset(name for page in document.pages for name in page.anchors))
