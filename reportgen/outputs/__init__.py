"""Output writers: each format is a module whose `render(report, pdf=None)` returns the file's
bytes from the same Report view-model (the `Writer` protocol); templates hold the markup.

`write_all` writes a build's outputs: the PDF is laid out once, even when the email attaches it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from typing import BinaryIO, Protocol

from reportgen.errors import UserError
from reportgen.outputs import codequality, html, jsonreport, junit, mail, markdown, openmetrics, pdf, weasy
from reportgen.outputs.atomic import OutputError, write_atomic
from reportgen.report import Report


class FormatError(UserError):
    """An output format we do not write. The CLI exits with 2."""


class Writer(Protocol):
    def __call__(self, report: Report, pdf: bytes | None = None) -> bytes:
        """The file's bytes; `pdf`, when this build laid out the PDF already (the email may attach it)."""
        ...


WRITERS: dict[str, Writer] = {"html": html.render, "pdf": pdf.render, "json": jsonreport.render,
                              "md": markdown.render, "eml": mail.render, "junit": junit.render,
                              "codequality": codequality.render, "openmetrics": openmetrics.render}
# The endings that name a format, the compound ones first: `findings.junit.xml` is JUnit, while a
# plain `.xml` or `.txt` says nothing (--format decides) and `.json` is the report's own JSON.
SUFFIXES = {".junit.xml": "junit", ".codequality.json": "codequality", ".metrics.txt": "openmetrics",
            ".prom": "openmetrics", ".html": "html", ".htm": "html", ".pdf": "pdf", ".json": "json", ".md": "md",
            ".markdown": "md", ".eml": "eml"}
_ALIASES = {"htm": "html", "markdown": "md", "email": "eml", "metrics": "openmetrics", "prom": "openmetrics"}


def prepare(formats: AbstractSet[str]) -> None:
    """Import what the writers of `formats` need ahead of writing: WeasyPrint takes about a
    second to import, and the build calls this while its chart workers draw."""
    if "pdf" in formats:
        weasy.import_weasyprint()


def format_for(path: str, explicit: str | None = None) -> str:
    """The format an ending in SUFFIXES names, else `explicit` (--format); FormatError when neither says."""
    name = os.path.basename(path).lower()
    by_suffix = next((fmt for suffix, fmt in SUFFIXES.items() if name.endswith(suffix) and name != suffix), None)
    if by_suffix:
        return by_suffix
    if explicit:
        fmt = _ALIASES.get(explicit.lower(), explicit.lower())
        if fmt not in WRITERS:
            raise FormatError(f"unknown --format {explicit!r}: use one of {', '.join(WRITERS)}")
        return fmt
    raise FormatError(f"cannot tell the format of {path!r}: end it in one of {', '.join(SUFFIXES)}, "
                      f"or give --format ({', '.join(WRITERS)})")


def needs_pdf(formats: set[str], attach_pdf: bool) -> bool:
    return "pdf" in formats or ("eml" in formats and attach_pdf)


IMAGE_FORMATS = frozenset({"html", "pdf", "eml"})  # the others list charts by title and alt text


def needs_images(formats: set[str]) -> bool:
    """Whether any of the outputs shows a chart image (the rest need no chart drawn)."""
    return bool(formats & IMAGE_FORMATS)


def render(report: Report, fmt: str, pdf_bytes: bytes | None = None) -> bytes:
    return WRITERS[fmt](report, pdf_bytes)


def write_all(report: Report, targets: list[tuple[str, str]], attach_pdf: bool,
              laid_out: Callable[[], None] = lambda: None, written: Callable[[str], None] = lambda path: None,
              early: pdf.EarlyLayout | None = None) -> None:
    """Write each (path, format) atomically, calling `written(path)` after each. The PDF, when
    one is needed, is laid out first and once (`laid_out()`; `early`: laid out already while
    the charts were drawn, pdf.lay_out_early), then written and attached as is."""
    formats = {fmt for _, fmt in targets}
    with _laid_out_pdf(report, early) if needs_pdf(formats, attach_pdf) else contextlib.nullcontext() as document:
        if document is not None:
            laid_out()
        for path, fmt in targets:
            if document is not None:
                document.seek(0)
            if fmt == "pdf" and document is not None:
                write_atomic(path, document)
            elif fmt == "html":
                write_atomic(path, lambda stream: html.write(report, stream))
            else:
                attached = document.read() if document is not None and fmt == "eml" and attach_pdf else None
                write_atomic(path, render(report, fmt, attached))
            written(path)


@contextlib.contextmanager
def _laid_out_pdf(report: Report, early: pdf.EarlyLayout | None) -> Iterator[BinaryIO]:
    """The PDF in a temporary file, on disk rather than in memory: a 2,000-run sweep's is 210 MB,
    and only an email attaching it reads it back."""
    try:
        with tempfile.TemporaryFile(prefix="reportgen-") as document:
            pdf.write(report, document, early=early)
            yield document
    except OSError as exc:  # no temporary folder, or it is full
        raise OutputError(f"cannot lay out the PDF in a temporary file: {exc.strerror or exc}") from None
