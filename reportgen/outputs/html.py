"""The single-file HTML report: CSS inline, images as data: URIs, no JavaScript."""

from __future__ import annotations

import base64

from reportgen.config import Options
from reportgen.outputs.templating import environment, read_static
from reportgen.report import Report


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render(report: Report, options: Options, medium: str = "screen") -> bytes:
    template = environment().get_template("report.html")
    html = template.render(report=report, css=read_static("report.css"), image_src=data_uri,
                           medium=medium, page_size=options.page_size)
    return html.encode("utf-8")
