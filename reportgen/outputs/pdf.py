"""The PDF report, laid out by WeasyPrint from the same HTML with the paged-media rules of
`templates/pdf.css`: page size, "n / N" page numbers, report and run titles in the page header,
an outline with one entry per run and per layer, charts never split across pages.

Charts are PNG (WeasyPrint lays out SVG slowly); the only URLs in the document are `data:` ones,
and the fetcher refuses anything else, so building a PDF never touches the network.
"""

from __future__ import annotations

import logging

from reportgen.config import Options
from reportgen.outputs import html
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
    document = html.render(report, options, medium="print").decode("utf-8")
    return weasyprint.HTML(string=document, base_url=None, url_fetcher=_data_only_fetcher()).write_pdf()
