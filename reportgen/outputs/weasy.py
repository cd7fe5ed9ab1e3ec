"""WeasyPrint, loaded quickly and quietly, and a URL fetcher that fetches nothing but `data:` URLs."""

from __future__ import annotations

import contextlib
import logging
import re
import subprocess
import sys
from collections.abc import Iterator

from reportgen.outputs.atomic import OutputError


class NoWeasyPrint(OutputError):
    """WeasyPrint, which lays out the PDF, cannot load its system libraries here."""


def import_weasyprint():
    """The weasyprint module, imported without some fifty helper processes on Linux.

    WeasyPrint tries several names for each library it loads (libpango-1.0-0, pango-1.0, ...,
    libpango-1.0.so.0). cffi hands every name that dlopen rejects to ctypes.util.find_library,
    which on Linux runs ldconfig, gcc and ld for it: 54 processes, 0.3 s of each build. During
    the import, find_library answers from one reading of the ldconfig cache and tries no
    compiler; the names WeasyPrint opens directly are found by dlopen as before.

    Without Pango (a slim image, a Mac without it) the import raises OSError: NoWeasyPrint says
    so in one line, with what to do.
    """
    try:
        if "weasyprint" in sys.modules or not sys.platform.startswith("linux"):
            import weasyprint

            return weasyprint
        with find_library_from_ldconfig_cache():
            import weasyprint
        return weasyprint
    except OSError as exc:
        raise NoWeasyPrint(f"cannot write a PDF: WeasyPrint cannot load its system libraries ({exc}); install "
                           "Pango (Debian: apt-get install -y libpango-1.0-0 libpangoft2-1.0-0; macOS: brew "
                           "install pango), or build without a PDF (no .pdf output, no --attach-pdf)") from None


@contextlib.contextmanager
def find_library_from_ldconfig_cache() -> Iterator[None]:
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


def data_only_fetcher():
    weasyprint = import_weasyprint()

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint >= 70
        return weasyprint.URLFetcher(allowed_protocols=["data"])

    def fetch(url: str, *args, **kwargs):  # older WeasyPrint: a plain function
        if not url.startswith("data:"):
            raise ValueError(f"reportgen PDFs load no external resources ({url[:40]!r})")
        return weasyprint.default_url_fetcher(url, *args, **kwargs)

    return fetch


def quiet_weasyprint():
    weasyprint = import_weasyprint()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint
