"""A sweep built part by part, so that its memory does not grow with its number of runs.

A report needs little of each run once the run is analysed and drawn: its section (text,
findings, charts), the few numbers the sweep table and the contrast between runs come from.
The runs' data (every step's statistics, kept buckets) is most of the memory, ~2.5 MB a run
(2,000 runs: 5 GB). So a sweep (the compact chart set, SWEEP_RUNS) is read, analysed and
drawn a part at a time, keeping only that, and the next part is read while one is drawn.
Each part's chart PNGs are then put away in a temporary file (report.ChartStore) until a
writer reads them.

What crosses runs is done where all of them are known: the contrast with a healthier run
(narrative.contrast over the runs' Comparable) and the sweep (from each run's RunFacts), at
the end. Runs that are read together stay in one part: an evaluation run and its training run
(diagnosis.training_runs) and a run with the add_hparams runs folded into it. The report is
the one `build` makes of all the runs at once (tests/e2e/test_parts.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial

from reportgen.charts.render import render_jobs
from reportgen.config import Options
from reportgen.diagnosis import DiagnosisSettings, layers_of, training_runs
from reportgen.errors import ConfigError
from reportgen.findings import Finding
from reportgen.model import Logs, Run
from reportgen.narrative import Comparable
from reportgen.pipeline import (
    Analysis,
    NothingToReport,
    _compare_with,
    _no_progress,
    analyse,
    assemble,
    build_report,
    charts_of,
    diagnosis_settings,
    filter_logs,
    generated_at,
    run_colors,
    run_facts,
    what_is_there,
    with_contrasts,
)
from reportgen.pipeline.plan import plan_charts, sweep_jobs
from reportgen.reading.inputs import Located
from reportgen.reading.loader import ReadSettings, fold_parents, keep_per_run, located_path, read_in_parts
from reportgen.report import ChartStore, Report, RunSection, section_charts
from reportgen.sweeps import RunFacts, build_sweep, sort_error

# Runs read, analysed and drawn together: the memory of two parts (this one and the next,
# read meanwhile) at ~2.5 MB a run, and few enough chart pools to start (one a part, ~0.1 s).
RUNS_PER_PART = 32


@dataclass
class Parts:
    """A sweep's runs as the parts it is built from."""

    sources: list[str]
    located: list[Located]
    bounds: list[tuple[int, int]]  # each part: start and end in `located`
    settings: ReadSettings

    def read(self) -> Iterator[list[Run]]:
        return read_in_parts(self.located, self.bounds, keep_per_run(self.settings.keep, len(self.located)),
                             self.settings)


def in_parts(sources: list[str], located: list[Located], options: Options,
             runs_per_part: int = RUNS_PER_PART) -> Parts | None:
    """The parts to build the report from, or None when it is not surely a sweep's (compact
    chart set) or is read elsewhere (Dask): those are built from all their runs at once."""
    settings = options.read_settings()
    if settings.executor != "local" or not options.compact_for(len(located)):
        return None
    if options.charts == "auto" and not options.compact_for(_fewest_runs(located, options)):
        return None  # (counted only for auto: compact is a sweep whatever the count)
    return Parts(sources, located, part_bounds(located, runs_per_part), settings)


def _fewest_runs(located: list[Located], options: Options) -> int:
    """How many runs the report will have at least: add_hparams runs may be folded into their
    parent (reading decides), and --run may leave some out."""
    folded = fold_parents([located_path(run) for run in located])
    pattern = re.compile(options.run) if options.run else None
    return sum(1 for i, run in enumerate(located) if i not in folded and (pattern is None or pattern.search(run.name)))


def part_bounds(located: list[Located], runs_per_part: int) -> list[tuple[int, int]]:
    """Consecutive slices of about `runs_per_part` runs, never cutting between runs that are
    read together (an evaluation run and its training run, add_hparams runs and their parent)."""
    paths = [located_path(run) for run in located]
    together = [(i, parent) for i, parents in fold_parents(paths).items() for parent in parents]
    names = {run.name: i for i, run in enumerate(located)}
    together += [(names[a], names[b]) for a, b in training_runs([(r.name, p) for r, p in zip(located, paths)]).items()]
    reach = list(range(len(located)))  # reach[i]: the last run that must be in i's part
    for a, b in together:
        low, high = min(a, b), max(a, b)
        for i in range(low, high + 1):
            reach[i] = max(reach[i], high)
    bounds, start, furthest = [], 0, 0
    for i in range(len(located)):
        furthest = max(furthest, reach[i])
        if furthest == i and i + 1 - start >= runs_per_part:
            bounds.append((start, i + 1))
            start = i + 1
    if start < len(located):
        bounds.append((start, len(located)))
    return bounds


def build_in_parts(parts: Iterable[list[Run]], sources: list[str], options: Options,
                   progress: Callable[[str, int], None] = _no_progress,
                   advance: Callable[[str], None] = lambda item: None, meanwhile: Callable[[], None] = lambda: None,
                   settings: DiagnosisSettings | None = None, baseline: dict | None = None,
                   pixels: bool = True) -> Report:
    """The report `build` makes of a sweep's runs, made of `parts` (each a list of runs, as
    Parts.read gives them) one at a time: see the module's docstring."""
    settings = settings or diagnosis_settings(options)
    compact = replace(options, charts="compact")
    when = generated_at()
    sections: list[RunSection] = []
    findings: list[Finding] = []
    facts: list[RunFacts] = []
    comparables: dict[str, Comparable] = {}
    colors: dict[str, str] = {}
    shown: set[str] = set()
    tags: set[str] = set()
    hparams: set[str] = set()
    unread: list[Run] = []  # while no run has data: what they hold instead, to say so
    has_data = False
    store = ChartStore() if pixels else None  # each part's charts wait on disk for the writers
    for runs in parts:
        read = Logs(sources, runs)
        logs = filter_logs(read, options)
        if not has_data:
            has_data = any(run.scalars or run.histograms for run in logs.runs)
            unread = [] if has_data else unread + read.runs
        tags.update(t for run in logs.runs for t in run.scalars)
        hparams.update(name for run in logs.runs for name in run.hparams)
        if not logs.runs:
            continue  # --run left none of this part's runs
        first = len(sections)
        layers = layers_of(logs, settings)
        part_colors = run_colors(logs, first)
        jobs = plan_charts(logs, layers, compact, part_colors)
        found: list[Analysis] = []
        progress(f"drawing and analysing runs {first + 1}-{first + len(logs.runs)}", len(jobs))
        drawn = render_jobs(jobs, options.workers().charts, on_done=lambda job: advance(f"{job.kind} {job.tag}"),
                            meanwhile=partial(_analyse_into, found, logs, settings, layers),
                            pixels=pixels)
        analysis = found[0]
        sections += _charts_put_away(build_report(logs, compact, analysis, jobs, drawn, None, when, first).runs, store)
        findings += analysis.diagnosis.findings
        facts += run_facts(logs, analysis)
        comparables.update(analysis.comparables)
        colors.update(part_colors)
        shown.update(job.kind for job in jobs)
    if not has_data:
        raise NothingToReport(what_is_there(Logs(sources, unread), options))
    wrong_sort = sort_error(options.sort, tags, hparams)
    if wrong_sort:
        raise ConfigError(wrong_sort)
    _add_contrasts(sections, comparables, findings)
    meanwhile()
    sweep = build_sweep(facts, options.seed_pattern, options.sort)
    later = sweep_jobs(sweep, colors)
    if later:
        progress("drawing the sweep's charts", len(later))
    drawn = render_jobs(later, min(options.workers().charts, len(later)),
                        on_done=lambda job: advance(f"{job.kind} {job.run}"), pixels=pixels) if later else []
    report = assemble(sources, [], options, sections, findings, charts_of(later, drawn), sweep, when, True,
                      frozenset(shown))
    if baseline is not None:
        _compare_with(report, baseline, options, colors, pixels)
    progress("rendering", 0)
    return report


def _charts_put_away(sections: list[RunSection], store: ChartStore | None) -> list[RunSection]:
    if store is not None:
        store.put_away([chart for section in sections for chart in section_charts(section)])
    return sections


def _analyse_into(found: list[Analysis], logs: Logs, settings: DiagnosisSettings, layers: dict) -> None:
    found.append(analyse(logs, settings, layers, contrasted=False))  # the contrast: when all runs are known


def _add_contrasts(sections: list[RunSection], comparables: dict[str, Comparable], findings: list[Finding]) -> None:
    """Each run's summary with what a healthier run of the whole sweep shows (narrative.contrast)."""
    contrasted = with_contrasts({s.name: s.summary_parts for s in sections if s.name in comparables},
                                comparables, findings)
    for section in sections:
        parts = contrasted.get(section.name)
        if parts is not None and parts != section.summary_parts:
            section.summary_parts, section.summary = parts, " ".join(parts)
