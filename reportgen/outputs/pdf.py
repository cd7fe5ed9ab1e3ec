"""The PDF report, laid out by WeasyPrint from the same HTML."""

from __future__ import annotations

import logging

from reportgen.config import Options
from reportgen.outputs import html
from reportgen.report import Report


def render(report: Report, options: Options) -> bytes:
    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = html.render(report, options, medium="print").decode("utf-8")
    return weasyprint.HTML(string=document, base_url=None).write_pdf()
