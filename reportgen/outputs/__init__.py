"""Output writers: each takes the same Report view-model and returns the file's bytes."""

from __future__ import annotations

import os
from typing import Callable

from reportgen.config import Options
from reportgen.report import Report


class FormatError(Exception):
    """An output format we do not write. The CLI exits with 2."""


def _html(report: Report, options: Options) -> bytes:
    from reportgen.outputs import html

    return html.render(report, options)


def _pdf(report: Report, options: Options) -> bytes:
    from reportgen.outputs import pdf

    return pdf.render(report, options)


def _json(report: Report, options: Options) -> bytes:
    from reportgen.outputs import jsonreport

    return jsonreport.render(report)


WRITERS: dict[str, Callable[[Report, Options], bytes]] = {"html": _html, "pdf": _pdf, "json": _json}


def format_for(path: str, explicit: str | None = None) -> str:
    fmt = (explicit or os.path.splitext(path)[1].lstrip(".")).lower()
    fmt = {"htm": "html", "markdown": "md"}.get(fmt, fmt)
    if fmt not in WRITERS:
        known = ", ".join("." + f for f in WRITERS)
        raise FormatError(f"cannot tell the format of {path!r}: use one of {known} or --format")
    return fmt


def render(report: Report, fmt: str, options: Options) -> bytes:
    return WRITERS[fmt](report, options)
