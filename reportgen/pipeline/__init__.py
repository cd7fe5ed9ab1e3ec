"""read -> model -> analyse -> draw -> render, as one straight function per step.

`build(logs, options)` is the whole build after reading: filter, group tags into layers, plan
the charts, draw them in worker processes while this process diagnoses and writes the words,
then assemble the `Report` every output writer formats. Only this module (and the CLI) knows
every stage.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import EllipsisType

from reportgen import __version__, charts, narrative
from reportgen.baseline import compare
from reportgen.charts import KINDS, ChartJob, Drawn
from reportgen.charts.render import planned_size, render_jobs
from reportgen.config import SWEEP_RUNS, Options
from reportgen.diagnosis import Diagnosis, DiagnosisSettings, Layer, diagnose, layers_of
from reportgen.errors import ConfigError, UserError
from reportgen.findings import Finding, Verdict, worst_first
from reportgen.model import Logs
from reportgen.pipeline.plan import SWEEP_KINDS, compact_charts, overview_jobs, plan_charts, sweep_jobs
from reportgen.pipeline.sections import run_section
from reportgen.pipeline.snapshot import snapshot
from reportgen.report import Chart, Report, RunSection, pending_png
from reportgen.sweeps import Curve, RunFacts, Sweep, build_sweep, sort_error

__all__ = ["SWEEP_RUNS", "Analysis", "NothingToReport", "analyse", "build", "build_report", "compact_charts",
           "diagnosis_settings", "filter_logs", "plan_charts", "run_colors", "snapshot"]

class NothingToReport(UserError):
    """No run holds a scalar or a histogram: a report would say nothing (the CLI exits with 2
    rather than write a green "healthy" for input it could not read)."""


def what_is_there(logs: Logs, options: Options) -> str:
    """One line on what the logs hold instead of scalars and histograms."""
    tags = [t for run in logs.runs for t in [*run.histograms, *run.scalars]]
    if tags and options.tag:
        shown = ", ".join(dict.fromkeys(tags[:6])) + (", ..." if len(tags) > 6 else "")
        return f"no tag matches --tag {options.tag!r} (tags found: {shown})"
    parts = []
    for run in logs.runs:
        broken = [os.path.basename(f.path) for f in run.files if f.records_read == 0 and f.records_skipped]
        empty = [os.path.basename(f.path) for f in run.files if f.records_read and f.records_skipped == 0]
        if run.other:
            kinds = sorted(set(run.other.values()))
            parts.append(f"run {run.name} holds only {', '.join(kinds)}")
        elif broken:
            parts.append(f"{', '.join(broken[:3])} {'is' if len(broken) == 1 else 'are'} not an event file")
        elif empty:
            parts.append(f"{', '.join(empty[:3])} {'holds' if len(empty) == 1 else 'hold'} no values (only the header)")
        elif run.files:
            parts.append(f"run {run.name} holds no readable record")
    found = "; ".join(parts[:4]) + ("; ..." if len(parts) > 4 else "")
    return f"no scalar or histogram to report in {', '.join(logs.sources)}: {found or 'nothing was read'}"


def generated_at() -> str:
    """Now, or SOURCE_DATE_EPOCH when set, so that builds can be reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch and epoch.isdigit()
            else dt.datetime.now(dt.UTC).replace(microsecond=0))
    return when.isoformat().replace("+00:00", "Z")


def filter_logs(logs: Logs, options: Options) -> Logs:
    """Apply --run / --tag filters (regex search)."""
    run_re = re.compile(options.run) if options.run else None
    tag_re = re.compile(options.tag) if options.tag else None
    runs = [r for r in logs.runs if not run_re or run_re.search(r.name)]
    if tag_re:
        runs = [replace(r, histograms={t: s for t, s in r.histograms.items() if tag_re.search(t)},
                        scalars={t: s for t, s in r.scalars.items() if tag_re.search(t)}) for r in runs]
    return Logs(sources=logs.sources, runs=runs, warnings=logs.warnings)


def diagnosis_settings(options: Options) -> DiagnosisSettings:
    """The diagnosis' settings from the user's options; ConfigError for any it cannot use."""
    return DiagnosisSettings.create(options.thresholds, options.ignore, options.layers, options.roles)


@dataclass
class Analysis:
    """The diagnosis and the words that explain it."""

    diagnosis: Diagnosis
    layer_text: dict[tuple[str, str], str]  # (run, layer) -> paragraph
    summary_parts: dict[str, list[str]] = field(default_factory=dict)  # run -> its summary, by topic
    comparables: dict[str, narrative.Comparable] = field(default_factory=dict)  # run -> what contrast needs

    @property
    def run_summary(self) -> dict[str, str]:
        """Run -> its summary as one paragraph."""
        return {name: " ".join(parts) for name, parts in self.summary_parts.items()}


def analyse(logs: Logs, settings: DiagnosisSettings | Options | None = None,
            layers: dict[str, list[Layer]] | None = None, contrasted: bool = True) -> Analysis:
    """Diagnose, then write the words (narrative) for every layer and run. `contrasted`: False
    when the runs are a part of the report's (the comparison with the others' is added later)."""
    if settings is None or isinstance(settings, Options):
        settings = diagnosis_settings(settings or Options())
    diagnosis = diagnose(logs, settings, layers)
    t = settings.thresholds
    layer_text, parts, comparables = {}, {}, {}
    hparams: dict[str, dict[str, object]] = {run.name: dict(run.hparams) for run in logs.runs}
    for name, features in diagnosis.features.items():
        for lf in features.layers:
            layer_text[(name, lf.layer.name)] = narrative.layer_paragraph(lf, t)
        findings = [f for f in diagnosis.findings if f.run == name]
        parts[name] = narrative.summary_parts(features, findings, diagnosis.run_verdict[name], t,
                                              diagnosis.not_judged.get(name, ""), hparams.get(name))
        comparables[name] = narrative.comparable(features, str(diagnosis.run_verdict[name]), hparams.get(name, {}))
    if contrasted:
        parts = with_contrasts(parts, comparables, diagnosis.findings)
    return Analysis(diagnosis, layer_text, parts, comparables)


def with_contrasts(parts: dict[str, list[str]], comparables: dict[str, narrative.Comparable],
                   findings: list[Finding]) -> dict[str, list[str]]:
    """Each run's summary parts with what a healthier run among `comparables` shows."""
    by_run: dict[str, list[Finding]] = {}  # grouped once: a sweep's findings are not searched per run
    for f in findings:
        by_run.setdefault(f.run, []).append(f)
    return {name: narrative.with_comparison(p, narrative.contrast(name, comparables, by_run.get(name, [])))
            for name, p in parts.items()}


def charts_of(jobs: list[ChartJob], drawn: list[Drawn]) -> list[Chart]:
    """The report's charts: each job with what drawing it gave."""
    return [Chart(run=job.run, tag=job.tag, kind=job.kind, title=job.title, png=d.png, alt=d.alt, error=d.error,
                  width_px=d.width_px, height_px=d.height_px) for job, d in zip(jobs, drawn)]


def build_report(logs: Logs, options: Options, analysis: Analysis, jobs: list[ChartJob], drawn: list[Drawn],
                 sweep: Sweep | EllipsisType | None = ..., when: str = "", first: int = 0) -> Report:
    """The report of the analysed logs and their drawn charts; `sweep`: sweep_of(...) when the
    caller made it already (... : make it here); `when`: the generated-at time (default: now);
    `first`: the report's number of the first run (a part of a sweep read part by part)."""
    rendered = charts_of(jobs, drawn)
    by_key: dict[tuple[str, str, str], Chart] = {(c.run, c.tag, c.kind): c for c in rendered}
    colors = run_colors(logs, first)
    runs = [run_section(first + i, run, analysis, by_key, colors[run.name]) for i, run in enumerate(logs.runs)]
    return assemble(logs.sources, logs.warnings, options, runs, analysis.diagnosis.findings, rendered,
                    sweep_of(logs, analysis, options) if sweep is ... else sweep, when,
                    compact_charts(logs, options))


def assemble(sources: list[str], warnings: list[str], options: Options, runs: list[RunSection],
             findings: list[Finding], rendered: list[Chart], sweep: Sweep | None, when: str, compact: bool,
             shown: frozenset[str] = frozenset()) -> Report:
    """The report of these run sections, findings and the charts not in a run's section;
    `shown`: the kinds of the charts in the sections, when not among `rendered`."""
    return Report(
        title=options.title or "Training report: " + ", ".join(_source_name(s) for s in sources),
        generated_at=when or generated_at(), version=__version__, sources=sources,
        verdict=Verdict.overall(run.verdict for run in runs),
        runs=runs, findings=worst_first(findings), warnings=warnings,
        comparison_charts=[c for c in rendered if c.kind == "compare"], compact=compact,
        sweep_charts=[c for c in rendered if c.kind in SWEEP_KINDS],
        how_to_read=_how_to_read({c.kind for c in rendered} | shown), report_url=options.report_url,
        mail_from=options.mail_from,
        page_size=options.page_size, sweep=sweep,
        fail_on=options.fail_on,
    )


def _source_name(source: str) -> str:
    """A logdir by its folder's name; an event file given directly by the folder it is in (the
    run's name), not "events.out.tfevents.1700000000.host"."""
    name = os.path.basename(os.path.normpath(source)) or source
    if "tfevents" in name:
        return os.path.basename(os.path.dirname(os.path.normpath(source))) or name
    return name


def sweep_of(logs: Logs, analysis: Analysis, options: Options) -> Sweep | None:
    """The sweep the runs make (sweeps.build_sweep), from their hyperparameters and diagnosis."""
    return build_sweep(run_facts(logs, analysis), options.seed_pattern, options.sort)


def run_facts(logs: Logs, analysis: Analysis) -> list[RunFacts]:
    """What the sweep needs of each run: its hyperparameters, verdict, findings and curves."""
    diagnosis = analysis.diagnosis
    by_run: dict[str, list[tuple[str, str]]] = {}
    for finding in diagnosis.findings:
        by_run.setdefault(finding.run, []).append((finding.code, finding.layer))
    facts = []
    for run in logs.runs:
        features = diagnosis.features.get(run.name)
        curves: dict[str, Curve] = {}
        results: tuple[str, ...] = ()
        objective = None
        if features is not None:
            for s in features.scalars.values():
                curve = Curve(s.tag, str(s.role), s.higher_is_better, s.late, s.best, s.steps, s.values)
                curves.update(dict.fromkeys((s.tag, *s.aliases), curve))
            results = tuple(c.tag for c in features.results())
            found = features.objective()
            objective = found.tag if found else None
        facts.append(RunFacts(run.name, dict(run.hparams), diagnosis.run_verdict.get(run.name, Verdict.HEALTHY),
                              tuple(by_run.get(run.name, [])), curves, results, objective))
    return facts


def _how_to_read(shown: set[str]) -> dict[str, str]:
    """The reading notes for the chart kinds this report shows, in the registry's order."""
    return {name: kind.how_to_read for name, kind in KINDS.items() if name in shown}


def run_colors(logs: Logs, first: int = 0) -> dict[str, str]:
    return {run.name: charts.run_color(first + i) for i, run in enumerate(logs.runs)}


DRAWING = "drawing and analysing"  # the phase of the chart workers and the diagnosis


def _no_progress(phase: str, total: int = 0) -> None:
    pass


def build(logs: Logs, options: Options, progress: Callable[[str, int], None] = _no_progress,
          advance: Callable[[str], None] = lambda item: None, meanwhile: Callable[[], None] = lambda: None,
          settings: DiagnosisSettings | None = None, baseline: dict | None = None, pixels: bool = True,
          lay_out: Callable[[Report], None] | None = None) -> Report:
    """`progress(phase, total)` starts a phase; `advance(item)` counts one item done in it.

    The diagnosis runs in this process while worker processes draw the charts (the charts need
    only the layers, which come from the tag names), then `meanwhile` (e.g. importing the PDF
    writer), instead of waiting for the charts. `settings`: the diagnosis settings when the
    caller made them already (they are checked when made, before any slow work). `baseline`: the
    snapshot of a previous night (pipeline.since.read_baseline) the report says what changed since.
    `pixels`: False when no output shows an image (the charts keep their titles and alt texts).
    `lay_out(report)`: called in this process while the charts are drawn, with the report as it
    will be but for its charts' pixels (each chart's png is `report.pending_png`), to lay
    the PDF out meanwhile; not with a baseline (what changed since is known after the charts).
    """
    settings = settings or diagnosis_settings(options)
    read = logs
    logs = filter_logs(logs, options)
    if not any(run.scalars or run.histograms for run in logs.runs):
        raise NothingToReport(what_is_there(read, options))
    wrong_sort = sort_error(options.sort, {t for run in logs.runs for t in run.scalars},
                            {name for run in logs.runs for name in run.hparams})
    if wrong_sort:  # said now, before the charts are drawn
        raise ConfigError(wrong_sort)
    layers = layers_of(logs, settings)
    colors = run_colors(logs)
    jobs = plan_charts(logs, layers, options, colors)
    when = generated_at()
    found: list[Analysis] = []
    later: list[ChartJob] = []
    sweeps: list[Sweep | None] = []

    def analyse_meanwhile() -> list[ChartJob]:
        found.append(analyse(logs, settings, layers))
        # The overviews mark the layers with findings, and the sweep's charts need its verdicts
        # and metric, so they wait for the diagnosis; the workers draw them after the others
        # (in this process, after the last chart, the benchmark log's took 0.12-0.13 s).
        later.extend([] if compact_charts(logs, options) else overview_jobs(logs, found[0].diagnosis, colors))
        sweeps.append(sweep_of(logs, found[0], options))
        later.extend(sweep_jobs(sweeps[0], colors))
        if later:
            progress(DRAWING, len(jobs) + len(later))  # the bar counts them too
        meanwhile()
        if lay_out is not None and baseline is None and pixels:
            planned = [_pending(i, job) for i, job in enumerate(jobs + later)]
            lay_out(build_report(logs, options, found[0], jobs + later, planned, sweeps[0], when))
        return later

    progress(DRAWING, len(jobs))
    drawn = render_jobs(jobs, options.workers().charts, on_done=lambda job: advance(_progress_item(job)),
                        meanwhile=analyse_meanwhile, pixels=pixels)
    report = build_report(logs, options, found[0], jobs + later, drawn, sweeps[0], when)
    if baseline is not None:
        _compare_with(report, baseline, options, colors, pixels)
    progress("rendering", 0)
    return report


def _progress_item(job: ChartJob) -> str:
    """What the progress bar says of a chart done: its tag, or its run for a chart of a run's
    layers or of the sweep."""
    return f"{job.kind} {job.run if job.kind == 'overview' or job.kind in SWEEP_KINDS else job.tag}"


def _pending(index: int, job: ChartJob) -> Drawn:
    """A chart not drawn yet, as the early layout sees it: its place and its planned size."""
    width, height = planned_size(job)
    return Drawn(png=pending_png(index, width, height), alt="", width_px=width, height_px=height)


def _compare_with(report: Report, baseline: dict, options: Options, colors: dict[str, str],
                  pixels: bool = True) -> None:
    """report.since, and an overlay per changed layer: its baseline's last-step weights against tonight's."""
    report.since = compare(snapshot(report), baseline, options.baseline, options.match_runs)
    jobs = [ChartJob("since", c.run, c.tag, f"{c.layer}: baseline vs now ({c.run})", c, colors.get(c.run, "#ff7043"))
            for c in report.since.layers_changed]
    drawn = render_jobs(jobs, min(options.workers().charts, len(jobs)), pixels=pixels) if jobs else []
    report.since_charts = charts_of(jobs, drawn)
    report.how_to_read = _how_to_read({*report.how_to_read, *(c.kind for c in report.since_charts)})
