"""Write output files atomically: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from reportgen.errors import UserError


class OutputError(UserError):
    """An output cannot be written (missing folder, no permission). The CLI exits with 2."""


def write_atomic(path: str, data: bytes | BinaryIO | Callable[[BinaryIO], None]) -> None:
    """`data` into `path`: bytes; what is left of a file from where it is; or what a function
    writes into the file it is given."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".reportgen-", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as stream:
            if isinstance(data, bytes):
                stream.write(data)
            elif callable(data):
                data(stream)
            else:
                shutil.copyfileobj(data, stream)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:  # a writer that failed, or ^C: no half-written file left beside `path`
        os.unlink(tmp)
        raise
