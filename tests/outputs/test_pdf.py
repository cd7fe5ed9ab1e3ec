"""The PDF, read back with pypdf: pages, page size, outline, page numbers, summary on page 1."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import replace

import pypdf
import pytest

from reportgen.outputs import pdf, pdfearly, weasy
from tests.outputs.factory import HOSTILE_TAG, make_report

A4_POINTS = (595.3, 841.9)  # 210 x 297 mm
LETTER_POINTS = (612.0, 792.0)  # 8.5 x 11 in


@pytest.fixture(scope="module")
def a4() -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf.render(make_report())))


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
    letter = pypdf.PdfReader(io.BytesIO(pdf.render(replace(make_report(n_runs=1), page_size="letter"))))
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


def test_the_contents_are_numbered_on_from_one_column_to_the_next(a4):
    """The contents are columns side by side (html.toc_columns), each its own list: WeasyPrint
    does not read `<ol start>`, so without the counter the second column would count from 1."""
    first = a4.pages[0].extract_text()
    markers = re.findall(r"^(\d+)\. ?$", first[first.index("Contents"):], flags=re.M)
    assert markers == [str(n) for n in range(1, 6)]  # 2 runs, runs compared, how to read, appendix


def test_run_title_is_in_the_page_header_of_its_pages(a4):
    texts = [page.extract_text() for page in a4.pages]
    run_pages = [t for t in texts if "dense1" in t and "Run baseline" in t]
    assert run_pages, "the pages of run baseline should carry its title"


def test_pdf_fetcher_refuses_every_url_but_data():
    import http.server
    import threading

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
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
        weasyprint.HTML(string=document, url_fetcher=weasy.data_only_fetcher()).write_pdf()
    finally:
        server.shutdown()
    assert hits == []


def _palette_png(width: int, height: int, seed: int, colours: int = 40) -> bytes:
    """An 8-bit palette PNG as the charts write it, with CR and LF bytes in its colour table."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, colours, (height, width), dtype=np.uint8)
    image = Image.fromarray(pixels, mode="P")
    table = rng.integers(0, 256, 3 * colours)
    table[:6] = (13, 10, 40, 92, 13, 10)
    image.putpalette([int(v) for v in table])
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def test_chart_images_keep_their_exact_pixels_and_palette_pngs_are_not_re_encoded():
    """pypdf decodes each PDF image independently of us (/Indexed, /FlateDecode, PNG
    predictors): every one must equal its PNG as Pillow decodes it. Palette PNGs must be in the
    file byte for byte (their IDAT); the RGB ones (outputs_factory) go through WeasyPrint."""
    from PIL import Image

    from reportgen.outputs.pdfimages import png_chunks

    palette = [_palette_png(40 + i, 30, i) for i in range(3)]
    report = make_report(n_runs=1, layer_names=("dense1",))
    section = report.runs[0].layers[0]
    for chart, image in zip(section.charts, palette):
        chart.png = image
    data = pdf.render(report)
    for image in palette:
        assert b"".join(d for k, d in png_chunks(image) if k == b"IDAT") in data
    wanted = {c.png: Image.open(io.BytesIO(c.png)).convert("RGB") for run in report.runs
              for layer in run.layers for c in layer.charts}
    found = [img.image.convert("RGB") for page in pypdf.PdfReader(io.BytesIO(data)).pages for img in page.images]
    for expected in wanted.values():
        assert any(f.size == expected.size and f.tobytes() == expected.tobytes() for f in found)
    assert len([c for c in section.charts if c.png in palette]) == 3


def test_png_the_pdf_cannot_take_as_is_is_left_to_weasyprint():
    from reportgen.outputs.pdfimages import PaletteImage

    good = _palette_png(8, 8, 0)
    assert PaletteImage.from_png(good, "x") is not None
    assert PaletteImage.from_png(_palette_png(8, 8, 0, colours=7), "x") is None  # packed 4 bits per pixel
    from tests.outputs.factory import png as rgb_png

    assert PaletteImage.from_png(rgb_png(), "x") is None  # colour type 2
    assert PaletteImage.from_png(good[:-20], "x") is None  # cut short
    broken = bytearray(good)
    broken[40] ^= 0xFF  # inside a chunk: CRC mismatch
    assert PaletteImage.from_png(bytes(broken), "x") is None
    from PIL import Image

    transparent = io.BytesIO()
    Image.open(io.BytesIO(good)).save(transparent, format="PNG", transparency=0)
    assert PaletteImage.from_png(transparent.getvalue(), "x") is None  # tRNS: needs a soft mask


def test_a_weasyprint_with_another_image_protocol_still_gets_every_chart(monkeypatch):
    from reportgen.outputs import pdfimages

    def changed(self, *args):
        raise AttributeError("'PaletteImage' object has no attribute 'something_new'")

    monkeypatch.setattr(pdfimages.PaletteImage, "get_x_object", changed)
    report = make_report(n_runs=1, layer_names=("dense1",))
    for chart in report.runs[0].layers[0].charts:
        chart.png = _palette_png(40, 30, 1)
    reader = pypdf.PdfReader(io.BytesIO(pdf.render(report)))
    assert sum(len(page.images) for page in reader.pages) >= len(report.runs[0].layers[0].charts)


def test_weasyprint_is_imported_without_a_helper_process_per_library_name():
    """cffi asks ctypes.util.find_library about every library name WeasyPrint tries in vain,
    which runs ldconfig, gcc and ld each time (54 processes on Linux). import_weasyprint reads
    the ldconfig cache once; WeasyPrint must still load its libraries and write a PDF, and
    find_library must be itself again afterwards."""
    code = textwrap.dedent("""
        import ctypes.util, subprocess, sys
        started = []
        real_popen, real_find = subprocess.Popen.__init__, ctypes.util.find_library
        def popen(self, args, *rest, **kw):
            started.append(args)
            return real_popen(self, args, *rest, **kw)
        subprocess.Popen.__init__ = popen
        from reportgen.outputs.weasy import import_weasyprint
        weasyprint = import_weasyprint()
        pdf = weasyprint.HTML(string="<p>hello</p>").write_pdf()
        print(len(started), pdf[:5] == b"%PDF-", ctypes.util.find_library is real_find)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    processes, is_pdf, restored = out.stdout.split()
    assert int(processes) <= (1 if sys.platform.startswith("linux") else 60)
    assert is_pdf == "True" and restored == "True"


def test_a_pdf_without_weasyprints_libraries_is_one_line_and_status_2(tmp_path, monkeypatch, capsys):
    """No Pango (a slim image): the import raises OSError inside cffi. The build says so in one
    line, with what to do, instead of a traceback; an HTML build does not need it."""
    import importlib.abc
    import sys

    from reportgen.cli import main
    from tests.conftest import fixture_path

    class NoPango(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "weasyprint":
                raise OSError("cannot load library 'libpango-1.0-0': cannot open shared object file")
            return None

    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPango(), *sys.meta_path])
    logs = str(fixture_path("torch_writer"))
    assert main(["build", logs, "-o", str(tmp_path / "r.pdf"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "libpango-1.0-0" in err and "apt-get install" in err
    assert not (tmp_path / "r.pdf").exists()
    assert main(["build", logs, "-o", str(tmp_path / "r.eml"), "--attach-pdf", "-q"]) == 2
    assert main(["build", logs, "-o", str(tmp_path / "r.html"), "-q"]) == 0


def test_without_an_ldconfig_listing_ctypes_keeps_its_own_library_look_up(monkeypatch):
    """Where ldconfig cannot be run (e.g. NixOS), answering from an empty listing would lose
    libraries that ctypes finds with the compiler: its own find_library stays in place."""
    import ctypes.util

    def no_ldconfig(*args, **kwargs):
        raise FileNotFoundError("ldconfig")

    monkeypatch.setattr(weasy.subprocess, "run", no_ldconfig)
    real = ctypes.util.find_library
    with weasy.find_library_from_ldconfig_cache():
        assert ctypes.util.find_library is real
    with monkeypatch.context() as patched:
        listing = "\tlibz.so.1 (libc6,x86-64) => /lib/libz.so.1\n"
        patched.setattr(weasy.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, listing))
        with weasy.find_library_from_ldconfig_cache():
            assert ctypes.util.find_library is not real and ctypes.util.find_library("z") == "libz.so.1"
    assert ctypes.util.find_library is real


def test_no_text_runs_past_the_right_edge_of_a_page_with_ray_tune_trial_names(tmp_path):
    """Ray Tune names a trial folder by all its settings (100 characters, few spaces) and RLlib
    logs 38 scalars with long tags: the run headings, the summary's and the comparison's run
    cells ran off the page and were cut, squeezing the metric next to them to a letter a line.
    Checked on WeasyPrint's own layout: every line of text ends inside the page's text area."""
    import numpy as np
    from weasyprint.formatting_structure import boxes

    from reportgen import pipeline
    from reportgen.config import Options
    from reportgen.outputs import html
    from reportgen.reading.loader import load
    from tools.eventwriter import EventWriter

    tags = [f"ray/tune/info/learner/default_policy/learner_stats/{name}" for name in
            ("total_loss", "policy_loss", "vf_loss", "vf_explained_var", "entropy")] + ["ray/tune/episode_reward_mean"]
    for trial, lr in enumerate(("0.0001", "5e-05")):
        name = (f"PPO_CartPole-v1_3a7f{trial}_0000{trial}_{trial}_lr={lr},num_sgd_iter=30,sgd_minibatch_size=128,"
                "train_batch_size=4000")
        with EventWriter(str(tmp_path / name), wall_time=1_700_000_000) as writer:
            for i, step in enumerate(range(0, 796_001, 4000)):
                for k, tag in enumerate(tags):
                    writer.add_scalar(tag, float(np.exp(-i / 50) + k + trial), step)
    report = pipeline.build(load([str(tmp_path)]), Options())
    document = weasy.import_weasyprint().HTML(string=html.render(report, medium="print").decode()).render()
    past = []
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = box.margin_width() - box.margin_right
        past += [(number, text.text[:40]) for text in box.descendants()
                 if isinstance(text, boxes.TextBox) and text.position_x + text.width > right + 1]
    assert not past


@pytest.fixture(scope="module")
def laid_out_early():
    """A report of real writers' logs built as the CLI builds it: the PDF laid out from the
    report's planned charts while they are drawn."""
    from reportgen import pipeline
    from reportgen.config import Options
    from reportgen.reading.loader import load
    from tests.conftest import fixture_path

    early: list = []
    provisional: list = []

    def lay_out(report):
        provisional.append(report)
        early.append(pdf.lay_out_early(report))

    logs = load([str(fixture_path("torch_writer")), str(fixture_path("tf2_summary"))])
    report = pipeline.build(logs, Options(), lay_out=lay_out)
    return report, early, provisional[0]


def test_the_pdf_laid_out_while_the_charts_are_drawn_is_the_pdf_laid_out_after(laid_out_early):
    report, early, _ = laid_out_early
    assert len(early) == 1 and early[0] is not None
    assert len(early[0].pending) == len(shown(report)) > 10
    assert early[0].finish(report) == pdf.render(report)  # byte for byte: same pages, text, images


def test_a_report_that_is_not_the_one_laid_out_early_is_laid_out_again(laid_out_early, monkeypatch):
    """A chart that failed to draw (its placeholder has another size and a caption saying why),
    a word that changed, a PNG the PDF cannot take as it is: the early layout is not used."""
    from reportgen.report import Report

    report, early, _ = laid_out_early
    first = shown(report)[0]
    failed = replace(first, png=pdf_png(first.width_px, first.height_px - 40), height_px=first.height_px - 40)
    other_words = replace(report, title=report.title + " (again)")
    rgb = replace(first, png=make_rgb_png(first.width_px, first.height_px))
    for changed in (with_chart(report, first, failed), other_words, with_chart(report, first, rgb)):
        assert isinstance(changed, Report)
        assert early[0].finish(changed) is None
    monkeypatch.setattr(pdfearly.EarlyLayout, "finish", lambda self, r: None)
    again = pypdf.PdfReader(io.BytesIO(pdf.render(other_words, early=early[0])))
    assert "(again)" in again.pages[0].extract_text()


def test_the_pages_are_drawn_before_the_charts_pixels_are_given(laid_out_early, monkeypatch):
    """The early layout's pages and fonts are written while the charts are drawn: the PDF asks
    for the first chart's pixels before `finish` has them, and waits for them."""
    import time

    report, _, provisional = laid_out_early
    asked: list[float] = []
    real = pdfearly.PendingImage.get_x_object
    monkeypatch.setattr(pdfearly.PendingImage, "get_x_object", lambda self, *a: asked.append(time.monotonic()) or
                        real(self, *a))
    early = pdf.lay_out_early(provisional)
    deadline = time.monotonic() + 60
    while not asked and time.monotonic() < deadline:
        time.sleep(0.01)
    assert asked, "the pages were not drawn before the pixels came"
    thread = early.writing
    assert thread is not None and thread.is_alive()  # waiting for the pixels
    given = time.monotonic()
    assert early.finish(report) == pdf.render(report)
    assert asked[0] < given
    assert not thread.is_alive()


def test_a_pdf_written_early_for_another_report_stops_waiting(laid_out_early):

    report, _, provisional = laid_out_early
    early = pdf.lay_out_early(provisional)
    thread = early.writing
    assert early.finish(replace(report, title=report.title + " (again)")) is None
    assert early.writing is None and not thread.is_alive()
    assert early.finish(report) == pdf.render(report)  # its pixels given later still make the PDF


def test_a_pdf_laid_out_early_and_dropped_stops_its_thread(laid_out_early):
    """A build that fails after the early layout never calls finish: dropping the layout ends
    its thread, which would otherwise wait for pixels forever holding the document."""
    import gc

    _, _, provisional = laid_out_early
    early = pdf.lay_out_early(provisional)
    thread = early.writing
    del early
    gc.collect()
    thread.join(timeout=60)
    assert not thread.is_alive()


def shown(report):
    from reportgen.outputs.html import shown_charts

    return shown_charts(report)


def with_chart(report, old, new):
    """The report with one chart replaced, wherever it is shown."""
    def swap(chart):
        return new if chart is old else chart

    runs = [replace(run, overview=swap(run.overview) if run.overview else None,
                    trend=swap(run.trend) if run.trend else None, scalar_charts=[swap(c) for c in run.scalar_charts],
                    layers=[replace(layer, charts=[swap(c) for c in layer.charts]) for layer in run.layers])
            for run in report.runs]
    return replace(report, runs=runs, comparison_charts=[swap(c) for c in report.comparison_charts],
                   sweep_charts=[swap(c) for c in report.sweep_charts],
                   since_charts=[swap(c) for c in report.since_charts])


def pdf_png(width: int, height: int) -> bytes:
    """A palette PNG of the given size, as the charts are."""
    from PIL import Image

    from reportgen.charts.encode import palette_png

    return palette_png(Image.new("RGBA", (width, height), (255, 255, 255, 255)))


def make_rgb_png(width: int, height: int) -> bytes:
    from tests.outputs.factory import png

    return png(width, height, noise=3)


def test_the_cli_writes_the_pdf_it_laid_out_while_drawing(tmp_path, monkeypatch):
    """`build -o report.pdf -o report.eml --attach-pdf`: the early layout is used, not silently
    laid out again (e.g. because the CLI changed the report after the build)."""
    from reportgen.cli import main
    from tests.conftest import fixture_path

    finished = []
    real = pdfearly.EarlyLayout.finish
    monkeypatch.setattr(pdfearly.EarlyLayout, "finish", lambda self, report: finished.append(real(self, report)) or
                        finished[-1])
    out = tmp_path / "report.pdf"
    assert main(["build", str(fixture_path("torch_writer")), "-o", str(out), "-o", str(tmp_path / "r.eml"),
                 "--attach-pdf", "-q"]) == 0
    assert len(finished) == 1 and finished[0] == out.read_bytes()
