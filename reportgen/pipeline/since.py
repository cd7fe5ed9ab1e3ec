"""The baseline a build compares against: read from a previous report.json (a path or any fsspec
URL) or built again from a logdir, as the snapshot baseline.compare reads."""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

from reportgen.errors import UserError
from reportgen.pipeline import analyse, build_report, diagnosis_settings, filter_logs, snapshot
from reportgen.reading.loader import load
from reportgen.reading.sources import filesystem, is_url, open_file
from reportgen.reading.summary import is_summary

# report.json carries the snapshot from this format version on (runs[].metrics, runs[].weights).
SNAPSHOT_SINCE_VERSION = 5


class BaselineError(UserError):
    """A --baseline that cannot be read or compared with. The CLI exits with 2."""


def is_report_file(prev: str) -> bool:
    return prev.endswith(".json") or (not is_url(prev) and os.path.isfile(prev))


def read_report_json(prev: str) -> dict[str, Any]:
    try:
        with open_file(prev) as (stream, _):
            data = json.loads(stream.read().decode("utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"--baseline {prev}: no such file") from None
    except OSError as exc:
        raise BaselineError(f"--baseline {prev}: cannot read it: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--baseline {prev}: not a report.json ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, dict) or "runs" not in data or "format_version" not in data:
        raise BaselineError(f"--baseline {prev}: not a report.json written by reportgen (no format_version or runs)")
    version = data.get("format_version")
    if not isinstance(version, int) or version < SNAPSHOT_SINCE_VERSION:
        raise BaselineError(f"--baseline {prev}: format_version {version} holds no comparison data; "
                            f"reports from format_version {SNAPSHOT_SINCE_VERSION} on do "
                            "(rebuild it, or pass its logdir)")
    return data


def read_baseline(prev: str, options: Any) -> dict[str, Any]:
    """The baseline's snapshot: a report.json as it is, or a logdir or summary (`reportgen
    analyse`) analysed again (no charts)."""
    if is_report_file(prev) and not _is_summary_file(prev):
        return read_report_json(prev)
    if not is_url(prev) and not os.path.exists(prev):
        raise BaselineError(f"--baseline {prev}: no such file or folder")
    try:
        logs = filter_logs(load([prev], options.read_settings()), options)
    except UserError as exc:
        raise BaselineError(f"--baseline {prev}: {exc}") from None
    if not logs.runs:
        raise BaselineError(f"--baseline {prev}: no runs with event files in it")
    analysis = analyse(logs, diagnosis_settings(options))
    return snapshot(build_report(logs, options, analysis, [], []))


def _is_summary_file(path: str) -> bool:
    try:
        with open_file(path) as (stream, _):
            return is_summary(stream.read(64))
    except OSError:
        return False  # read_report_json says why it cannot be read


def _listing(prefix: str) -> list[str]:
    """The .json files directly in a folder or under a bucket prefix, by name."""
    if not is_url(prefix):
        if not os.path.isdir(prefix):
            return []
        return sorted(os.path.join(prefix, n) for n in os.listdir(prefix) if n.endswith(".json"))
    fs, inner = filesystem(prefix)
    try:
        names = fs.ls(inner, detail=False)
    except FileNotFoundError:
        return []
    protocol = prefix.split("://", 1)[0]
    return sorted(f"{protocol}://{n}" for n in names if str(n).endswith(".json"))


def read_history(prefix: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The earlier reports in `prefix` and a warning per file that is not one (skipped, said)."""
    reports, warnings = [], []
    for path in _listing(prefix):
        try:
            reports.append(read_report_json(path))
        except BaselineError as exc:
            warnings.append(f"--history: skipped {exc}".replace("--baseline ", ""))
    return reports, warnings


def history_name(generated_at: str, data: bytes) -> str:
    """Tonight's file name in the history: sorted by name, the reports are in the order they were
    made, also when two share a generated-at second (or SOURCE_DATE_EPOCH fixes it): the save
    time in nanoseconds follows it, and the content's hash keeps two saves apart."""
    digest = hashlib.sha256(data).hexdigest()[:8]
    return "report-" + "".join(c for c in generated_at if c.isalnum()) + f"-{time.time_ns()}-{digest}.json"


def save_history(prefix: str, generated_at: str, data: bytes) -> str:
    """Write tonight's report.json into the history folder or bucket prefix; its path."""
    name = history_name(generated_at, data)
    if not is_url(prefix):
        os.makedirs(prefix, exist_ok=True)
        path = os.path.join(prefix, name)
        with open(path, "wb") as stream:
            stream.write(data)
        return path
    path = prefix.rstrip("/") + "/" + name
    fs, inner = filesystem(path)
    with fs.open(inner, "wb") as stream:
        stream.write(data)
    return path
