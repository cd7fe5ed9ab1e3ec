"""The PDF report, laid out by WeasyPrint from the same HTML with the paged-media rules of
`templates/pdf.css`: page size, "n / N" page numbers, report and run titles in the page header,
an outline with one entry per run and per layer, charts never split across pages.

Charts are PNG (WeasyPrint lays out SVG slowly). Palette PNGs go into the PDF unchanged
through WeasyPrint's image cache (see `pdfimages`); any other image is a `data:` URL. The
fetcher refuses every other URL, so building a PDF never touches the network.

A build lays the PDF out while its charts are drawn (`lay_out_early`, from their planned sizes)
and draws the pages once they are (`EarlyLayout.finish`); `render` lays it out from scratch
whenever the finished report is not the one laid out.
"""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from reportgen.outputs import html
from reportgen.outputs.pdfimages import PaletteImage
from reportgen.report import Report, pending_size


def import_weasyprint():
    """The weasyprint module, imported without some fifty helper processes on Linux.

    WeasyPrint tries several names for each library it loads (libpango-1.0-0, pango-1.0, ...,
    libpango-1.0.so.0). cffi hands every name that dlopen rejects to ctypes.util.find_library,
    which on Linux runs ldconfig, gcc and ld for it: 54 processes, 0.3 s of each build. During
    the import, find_library answers from one reading of the ldconfig cache and tries no
    compiler; the names WeasyPrint opens directly are found by dlopen as before.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
        import weasyprint

        return weasyprint
    with _find_library_from_ldconfig_cache():
        import weasyprint
    return weasyprint


@contextlib.contextmanager
def _find_library_from_ldconfig_cache() -> Iterator[None]:
    import ctypes.util

    try:
        listing = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10,
                                 env={"LC_ALL": "C", "PATH": "/sbin:/usr/sbin:/bin:/usr/bin"}).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    if not listing:  # no ldconfig here (e.g. NixOS): ctypes' own look-up, compiler and all
        yield
        return

    def find_library(name: str) -> str | None:  # what ctypes' ldconfig look-up returns: a soname
        found = re.search(rf"\s(lib{re.escape(name)}\.[^\s]+)\s+\(", listing)
        return found.group(1) if found else None

    real = ctypes.util.find_library
    ctypes.util.find_library = find_library
    try:
        yield
    finally:
        ctypes.util.find_library = real


def _data_only_fetcher():
    weasyprint = import_weasyprint()

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint >= 70
        return weasyprint.URLFetcher(allowed_protocols=["data"])

    def fetch(url: str, *args, **kwargs):  # older WeasyPrint: a plain function
        if not url.startswith("data:"):
            raise ValueError(f"reportgen PDFs load no external resources ({url[:40]!r})")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


def render(report: Report, pdf: bytes | None = None, early: EarlyLayout | None = None) -> bytes:
    """The PDF; `pdf` when this build already laid it out (it is returned as it is); `early`:
    the layout `lay_out_early` made of this report before its charts were drawn, used when the
    report is the one it laid out (else the PDF is laid out again)."""
    if pdf is not None:
        return pdf
    if early is not None:
        finished = early.finish(report)
        if finished is not None:
            return finished
    weasyprint = _quiet_weasyprint()
    images: dict[str, PaletteImage] = {}
    try:
        return _lay_out(weasyprint, report, _cached_image_src(images), cache=images)
    except (AttributeError, TypeError, KeyError):
        # A WeasyPrint whose image protocol differs from the one PaletteImage follows (60 to
        # 70 are tested): lay the PDF out again with every chart as a data: URL.
        return _lay_out(weasyprint, report, html.data_uri)


def _quiet_weasyprint():
    weasyprint = import_weasyprint()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint


def lay_out_early(provisional: Report) -> EarlyLayout | None:
    """Lay the PDF out from a report whose charts are not drawn yet (each chart's png is
    `report.pending_png`: its place in the report and its planned size), while they are drawn.

    WeasyPrint's layout needs only each image's size; its pixels are read when the pages are
    drawn (`EarlyLayout.finish`). None when this WeasyPrint cannot lay out that way.
    """
    weasyprint = _quiet_weasyprint()
    images: dict[str, PaletteImage | PendingImage] = {}
    pending: list[PendingImage] = []

    def image_src(png: bytes) -> str:
        url = f"data:image/png;reportgen-chart-{len(images)},"
        size = pending_size(png)
        if size is None:
            return html.data_uri(png)
        images[url] = image = PendingImage(f"reportgen{len(images)}", *size)
        pending.append(image)
        return url

    text = html.render(provisional, medium="print", image_src=image_src).decode("utf-8")
    try:
        document = weasyprint.HTML(string=text, base_url=None, url_fetcher=_data_only_fetcher()).render(cache=images)
    except (AttributeError, TypeError, KeyError):
        return None
    return EarlyLayout(document, _without_images(text), pending)


def _without_images(text: str) -> str:
    """The document without what only drawing a chart decides: each image's source and alt text."""
    return re.sub(r'<img src="[^"]*" alt="[^"]*"', "<img", text)


@dataclass
class PendingImage:
    """A chart in WeasyPrint's layout before it is drawn: its size now, its pixels (`drawn`) by
    the time the pages are drawn. The image protocol of `PaletteImage`."""

    id: str
    width: int
    height: int
    drawn: PaletteImage | None = None

    def get_intrinsic_size(self, resolution: float, font_size: float) -> tuple[float, float, float]:
        return self.width / resolution, self.height / resolution, self.width / self.height

    def draw(self, stream, concrete_width: float, concrete_height: float, style) -> None:
        PaletteImage.draw(self, stream, concrete_width, concrete_height, style)  # type: ignore[arg-type]

    def get_x_object(self, interpolate: bool, dpi_ratio: float):
        assert self.drawn is not None, "EarlyLayout.finish gives every image its pixels first"
        return self.drawn.get_x_object(interpolate, dpi_ratio)


@dataclass
class EarlyLayout:
    """The PDF laid out before the charts were drawn, waiting for their pixels."""

    document: object  # weasyprint.Document
    text: str  # the laid-out HTML without image sources and alt texts
    pending: list[PendingImage]

    def finish(self, report: Report) -> bytes | None:
        """The PDF with the report's drawn charts, or None when the report is not the one laid
        out (its text differs, a chart failed or came out at another size, or is a PNG the PDF
        cannot take as it is): then it must be laid out again."""
        drawn: list[bytes] = []

        def image_src(png: bytes) -> str:
            drawn.append(png)
            return ""

        text = html.render(report, medium="print", image_src=image_src).decode("utf-8")
        if _without_images(text) != self.text or len(drawn) != len(self.pending):
            return None
        for image, png in zip(self.pending, drawn):
            palette = PaletteImage.from_png(png, image.id)
            if palette is None or (palette.width, palette.height) != (image.width, image.height):
                return None
            image.drawn = palette
        try:
            return self.document.write_pdf()  # type: ignore[attr-defined]
        except (AttributeError, TypeError, KeyError):
            return None


def _lay_out(weasyprint, report: Report, image_src, **pdf_options) -> bytes:
    document = html.render(report, medium="print", image_src=image_src).decode("utf-8")
    return weasyprint.HTML(string=document, base_url=None, url_fetcher=_data_only_fetcher()).write_pdf(**pdf_options)


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
