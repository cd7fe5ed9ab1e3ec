"""What the command line's inputs hold: runs to read from their event files, and runs read
already, from summary files (`reportgen analyse`), each named as the report names it.

An input is a LOGDIR (a folder or URL of runs, or one event file), a summary file (`*.json`),
or a folder or bucket prefix of summaries (one holding no event file: every summary below it). A summary's runs
are named as if its own LOGDIRs had been given instead of it, so a build from summaries names,
orders and reports its runs as the build from the logs would; the runs of several summaries of
the same LOGDIR are that LOGDIR's runs again.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field

from reportgen.model import Run
from reportgen.reading.sources import InputError, discover_runs, filesystem, is_event_file, is_url, open_file
from reportgen.reading.summary import SummaryError, is_summary, loads

SUMMARY_SUFFIX = ".json"


@dataclass(frozen=True)
class Located:
    """One run to report on: its name in the report, where it was found, and its event files to
    read, or the run as its summary holds it (read already)."""

    name: str
    source: str  # the LOGDIR it was found under
    relative: str  # its name under that LOGDIR ("." for files right in it)
    files: list[str] = field(default_factory=list)
    summarised: Run | None = None


@dataclass
class _Group:
    """The runs found under one LOGDIR: (name under it, files, run of a summary, summary file)."""

    source: str
    runs: list[tuple[str, list[str], Run | None, str]] = field(default_factory=list)


def locate(inputs: list[str], run_pattern: str = "") -> tuple[list[str], list[Located]]:
    """(the LOGDIRs, every run under them), runs in the order the report lists them. Raises
    InputError when there is nothing to read, no run's name matches `run_pattern` (a regex
    searched in names), or one run comes twice; SummaryError for a summary it cannot use."""
    groups: list[_Group] = []
    for given in inputs:
        if is_summary_name(given):
            _add_summary(groups, given)
            continue
        found = discover_runs(given)
        summaries = [] if found else summaries_below(given)
        for path in summaries:
            _add_summary(groups, path)
        if not summaries:
            groups.append(_Group(given, [(name, files, None, "") for name, files in found]))
    located = [run for group, base in zip(groups, _bases(groups)) for run in _named(group, base, len(groups) > 1)]
    if not located:
        raise InputError(f"no event files (names containing 'tfevents') or summaries under {', '.join(inputs)}")
    return [g.source for g in groups], _matching(located, run_pattern) if run_pattern else located


def is_summary_name(given: str) -> bool:
    """A `*.json` input is a summary file (an event file's name holds "tfevents")."""
    return given.lower().endswith(SUMMARY_SUFFIX) and not is_event_file(posixpath.basename(given))


def summaries_below(folder: str) -> list[str]:
    """The summary files below a folder or bucket prefix (other JSON files, such as a
    report.json, are not)."""
    if is_url(folder):
        found = _remote_files(folder)
    else:
        found = [os.path.join(where, name) for where, _, names in os.walk(folder, followlinks=True)
                 for name in names]
    return sorted(path for path in found if path.lower().endswith(SUMMARY_SUFFIX) and is_summary(_head(path)))


def _remote_files(url: str) -> list[str]:
    fs, root = filesystem(url)
    protocol = url.split("://", 1)[0]
    try:
        return [f"{protocol}://{path}" for path in fs.find(root.rstrip("/"))]
    except Exception:  # each filesystem raises its own errors; discovery has just listed it
        return []


def read_summary(path: str) -> bytes:
    try:
        with open_file(path) as (stream, _):
            return stream.read()
    except OSError as exc:
        raise SummaryError(f"cannot read summary {path}: {exc.strerror or exc}") from None


def _head(path: str) -> bytes:
    try:
        with open_file(path) as (stream, _):
            return stream.read(64)
    except OSError:
        return b""  # unreadable: not taken for a summary


def _add_summary(groups: list[_Group], path: str) -> None:
    for summarised in loads(read_summary(path), path):
        group = next((g for g in groups if g.source == summarised.source), None)
        if group is None:
            group = _Group(summarised.source)
            groups.append(group)
        group.runs.append((summarised.name, [], summarised.run, path))


def _named(group: _Group, base: str, several: bool) -> list[Located]:
    """The group's runs in name order (as discovery lists them), named as the report names them."""
    named: list[Located] = []
    seen: dict[str, str] = {}
    for relative, files, run, summary in sorted(group.runs, key=lambda r: r[0]):
        if relative in seen:
            raise InputError(f"run {relative!r} of {group.source} is given twice: in {seen[relative] or group.source}"
                             f" and in {summary or group.source}")
        seen[relative] = summary
        if several:
            name = base if relative == "." else posixpath.join(base, relative)
        else:
            name = base if relative == "." else relative  # files right in the logdir: a run named after it
        named.append(Located(name, group.source, relative, files, run))
    return named


def _bases(groups: list[_Group]) -> list[str]:
    bases = [_base_name(g.source) for g in groups]
    if len(set(bases)) < len(bases):  # a/exp and b/exp: name runs by the paths as given
        bases = [g.source.rstrip("/") or g.source for g in groups]
    return bases


def _base_name(logdir: str) -> str:
    if is_url(logdir):
        return posixpath.basename(logdir.split("://", 1)[1].rstrip("/")) or logdir
    return os.path.basename(os.path.abspath(logdir)) or logdir


def _matching(located: list[Located], pattern: str) -> list[Located]:
    wanted = re.compile(pattern)
    kept = [run for run in located if wanted.search(run.name)]
    if not kept:
        names = ", ".join(run.name for run in located[:5]) + (", ..." if len(located) > 5 else "")
        raise InputError(f"no run matches --run {pattern!r} (runs found: {names})")
    return kept
