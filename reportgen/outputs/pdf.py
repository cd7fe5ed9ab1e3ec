"""The PDF report, laid out by WeasyPrint from the same HTML with the paged-media rules of
`templates/pdf.css`: page size, "n / N" page numbers, report and run titles in the page header,
an outline with one entry per run and per layer, charts never split across pages.

Charts are PNG (WeasyPrint lays out SVG slowly). Palette PNGs go into the PDF unchanged
through WeasyPrint's image cache (see `pdfimages`); any other image is a `data:` URL. The
fetcher refuses every other URL, so building a PDF never touches the network.
"""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

from reportgen.outputs import html
from reportgen.outputs.pdfimages import PaletteImage
from reportgen.report import Report


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


def render(report: Report, pdf: bytes | None = None) -> bytes:
    """The PDF; `pdf` when this build already laid it out (it is returned as it is)."""
    if pdf is not None:
        return pdf
    weasyprint = import_weasyprint()

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    images: dict[str, PaletteImage] = {}
    try:
        return _lay_out(weasyprint, report, _cached_image_src(images), cache=images)
    except (AttributeError, TypeError, KeyError):
        # A WeasyPrint whose image protocol differs from the one PaletteImage follows (60 to
        # 70 are tested): lay the PDF out again with every chart as a data: URL.
        return _lay_out(weasyprint, report, html.data_uri)


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
