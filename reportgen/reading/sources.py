"""Where runs are and how to open their files: local folders or any fsspec URL, and the limits
checked before anything is read.

Runs are found as TensorBoard finds them: every folder that directly holds a file with
`tfevents` in its name is one run, named by its path relative to the logdir.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from typing import BinaryIO

from reportgen.errors import UserError
from reportgen.numbers import format_size

Found = list[tuple[str, list[str]]]  # (run name, its event files in name order)


class InputError(UserError):
    """Bad input the user must fix: no such path, no event files. The CLI exits with 2."""


def is_event_file(name: str) -> bool:
    return "tfevents" in name


def is_url(path: str) -> bool:
    """A location fsspec reads (s3://, gs://, memory://, ...), not a local path."""
    return "://" in path


def discover_runs(logdir: str) -> Found:
    """(run name, event files in name order) for every run under `logdir`.

    Symlinked folders are followed once; a symlink loop does not hang discovery. A URL
    (`s3://bucket/path`, `gs://...`, any fsspec protocol) is walked the same way through fsspec.
    """
    if is_url(logdir):
        return _discover_remote(logdir)
    if os.path.isfile(logdir):
        return [(os.path.basename(os.path.dirname(os.path.abspath(logdir))) or ".", [logdir])]
    if not os.path.isdir(logdir):
        raise InputError(f"no such file or directory: {logdir}")
    runs = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(logdir, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        events = sorted(f for f in files if is_event_file(f))
        if events:
            name = os.path.relpath(folder, logdir)
            runs.append((name, [os.path.join(folder, f) for f in events]))
    runs.sort(key=lambda r: r[0])
    return runs


def filesystem(url: str):
    """(fsspec filesystem, path inside it) of a URL; InputError when fsspec or its protocol
    package is missing."""
    try:
        import fsspec
    except ImportError:
        raise InputError(f"reading {url} needs fsspec and the package for its protocol: "
                         "pip install 'reportgen[s3]' (or [gcs])") from None
    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:
        raise InputError(f"cannot read {url}: {exc}") from None


def _discover_remote(url: str) -> Found:
    fs, root = filesystem(url)
    protocol = url.split("://", 1)[0]
    root = root.rstrip("/")
    try:
        if fs.isfile(root):
            return [(posixpath.basename(posixpath.dirname(root)) or ".", [url])]
        if not fs.isdir(root):
            raise InputError(f"no such file or directory: {url}")
        walked = list(fs.walk(root))
    except InputError:
        raise
    except Exception as exc:  # each filesystem raises its own errors (credentials, network)
        raise InputError(f"cannot list {url}: {exc.__class__.__name__}: {exc}") from None
    runs = []
    for folder, _, files in walked:
        events = sorted(f for f in files if is_event_file(f))
        if events:
            folder = folder.rstrip("/")
            name = posixpath.relpath(folder, root) if folder != root else "."
            runs.append((name, [f"{protocol}://{folder}/{f}" for f in events]))
    runs.sort(key=lambda r: r[0])
    return runs


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if is_url(path) else os.path.dirname(path)


def files_beside(folder: str, names: tuple[str, ...]) -> list[str]:
    """The paths of those of `names` that are files in `folder` (a local folder or a URL), in the
    order of `names`. A URL's folder is listed once; a listing that fails finds nothing (the
    event files, read next, say what is wrong with the location)."""
    if not is_url(folder):
        return [os.path.join(folder, name) for name in names if os.path.isfile(os.path.join(folder, name))]
    fs, inner = filesystem(folder)
    try:
        present = {posixpath.basename(str(p).rstrip("/")) for p in fs.ls(inner, detail=False)}
    except Exception:  # each filesystem raises its own errors (credentials, network)
        return []
    return [f"{folder}/{name}" for name in names if name in present]


@contextlib.contextmanager
def open_file(path: str) -> Iterator[tuple[BinaryIO, int]]:
    """(binary stream, size) of a local file or, through fsspec, of a URL."""
    if not is_url(path):
        with open(path, "rb") as stream:
            yield stream, os.fstat(stream.fileno()).st_size
        return
    fs, inner = filesystem(path)
    try:
        stream = fs.open(inner, "rb", block_size=8 << 20)
        size = stream.size
    except OSError:
        raise
    except Exception as exc:  # network or credential errors of the filesystem
        raise OSError(f"{exc.__class__.__name__}: {exc}") from None
    with stream:
        yield stream, size


def check_limits(found: Found, logdirs: list[str], max_runs: int, max_bytes: int) -> None:
    where = ", ".join(logdirs)
    if max_runs and len(found) > max_runs:
        raise InputError(f"{where} holds {len(found)} runs, more than --max-runs {max_runs}: "
                         "choose some with --run REGEX or raise --max-runs")
    if max_bytes:
        size = _total_bytes(found)
        if size > max_bytes:
            files = sum(len(f) for _, f in found)
            raise InputError(f"{where} holds {format_size(size)} of event files ({files} files), more than "
                             f"--max-bytes {format_size(max_bytes)}: choose runs with --run REGEX or raise --max-bytes")


def _total_bytes(found: Found) -> int:
    total = 0
    for _, files in found:
        for path in files:
            try:
                if is_url(path):
                    fs, inner = filesystem(path)
                    total += int(fs.size(inner) or 0)
                else:
                    total += os.path.getsize(path)
            except InputError:
                raise
            except Exception:  # unreadable now: reading it later reports why
                continue
    return total


def local_bytes(found: Found) -> int:
    if any(is_url(path) for _, files in found for path in files):
        return 0  # sizes unknown without a round trip each; read remote runs in turn
    return _total_bytes(found)
