"""Output writers: each takes the same Report view-model and returns the file's bytes."""

from __future__ import annotations

import os
from typing import Callable

from reportgen.config import Options
from reportgen.errors import UserError
from reportgen.report import Report


class FormatError(UserError):
    """An output format we do not write. The CLI exits with 2."""


def _html(report: Report, options: Options, pdf: bytes | None = None) -> bytes:
    from reportgen.outputs import html

    return html.render(report, options)


def _pdf(report: Report, options: Options, pdf: bytes | None = None) -> bytes:
    from reportgen.outputs import pdf as pdf_writer

    return pdf if pdf is not None else pdf_writer.render(report, options)


def _json(report: Report, options: Options, pdf: bytes | None = None) -> bytes:
    from reportgen.outputs import jsonreport

    return jsonreport.render(report)


def _markdown(report: Report, options: Options, pdf: bytes | None = None) -> bytes:
    from reportgen.outputs import markdown

    return markdown.render(report, options)


def _email(report: Report, options: Options, pdf: bytes | None = None) -> bytes:
    from reportgen.outputs import mail

    return mail.render(report, options, pdf)


# Each writer gets the PDF bytes when the build already made them (the email attaches them with
# --attach-pdf; the PDF writer reuses them), so a PDF is laid out at most once per build.
WRITERS: dict[str, Callable[..., bytes]] = {
    "html": _html, "pdf": _pdf, "json": _json, "md": _markdown, "eml": _email}


def prepare(formats: set[str]) -> None:
    """Import what the writers of `formats` need ahead of writing: WeasyPrint takes about a
    second to import, and the build calls this while its chart workers draw."""
    if "pdf" in formats:
        from reportgen.outputs.pdf import import_weasyprint

        import_weasyprint()


def format_for(path: str, explicit: str | None = None) -> str:
    fmt = (explicit or os.path.splitext(path)[1].lstrip(".")).lower()
    fmt = {"htm": "html", "markdown": "md", "email": "eml"}.get(fmt, fmt)
    if fmt not in WRITERS:
        known = ", ".join("." + f for f in WRITERS)
        raise FormatError(f"cannot tell the format of {path!r}: use one of {known} or --format")
    return fmt


def render(report: Report, fmt: str, options: Options, pdf: bytes | None = None) -> bytes:
    return WRITERS[fmt](report, options, pdf)
