"""The PDF report, laid out by WeasyPrint from the same HTML with the paged-media rules of
`templates/pdf.css`: page size, "n / N" page numbers, report and run titles in the page header,
an outline with one entry per run and per layer, charts never split across pages.

Charts are PNG (WeasyPrint lays out SVG slowly). Palette PNGs go into the PDF unchanged
through WeasyPrint's image cache (see `pdfimages`); any other image is a `data:` URL. The
fetcher refuses every other URL, so building a PDF never touches the network.
"""

from __future__ import annotations

import logging

from reportgen.config import Options
from reportgen.outputs import html
from reportgen.outputs.pdfimages import PaletteImage
from reportgen.report import Report


def _data_only_fetcher():
    import weasyprint

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint >= 70
        return weasyprint.URLFetcher(allowed_protocols=["data"])

    def fetch(url: str, *args, **kwargs):  # older WeasyPrint: a plain function
        if not url.startswith("data:"):
            raise ValueError(f"reportgen PDFs load no external resources ({url[:40]!r})")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


def render(report: Report, options: Options) -> bytes:
    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    images: dict[str, PaletteImage] = {}
    try:
        return _lay_out(weasyprint, report, options, _cached_image_src(images), cache=images)
    except (AttributeError, TypeError, KeyError):
        # A WeasyPrint whose image protocol differs from the one PaletteImage follows (60 to
        # 70 are tested): lay the PDF out again with every chart as a data: URL.
        return _lay_out(weasyprint, report, options, html.data_uri)


def _lay_out(weasyprint, report: Report, options: Options, image_src, **pdf_options) -> bytes:
    document = html.render(report, options, medium="print", image_src=image_src).decode("utf-8")
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
