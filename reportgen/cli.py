"""The command line: parses options, runs the pipeline, maps errors to exit codes.

Exit status: 0 ok; 1 a finding at or above --fail-on; 2 bad usage or no usable input (one
line on stderr, never a traceback); 3 `send` could not deliver the email.

It is one module past 400 lines: each command's arguments and the few lines that run it read best
side by side, and the work is all in the stages.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import time
from typing import NoReturn

from reportgen import __version__
from reportgen.charts.kinds import MAX_OFFSET_STEPS
from reportgen.config import FAIL_ON, NAMES, Options, load_options, worse_by
from reportgen.errors import UserError
from reportgen.numbers import format_size, parse_size, plural
from reportgen.progress import Progress
from reportgen.reading.loader import EXECUTORS, load, load_located, located_runs, summarise

# The build's stages (pipeline, outputs: Matplotlib, Jinja, WeasyPrint) are imported inside the
# commands that use them, so that `inspect` and `rules` start in a fraction of a build's time.

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_NOT_SENT = 0, 1, 2, 3
SMTP_USER_ENV, SMTP_PASSWORD_ENV = "REPORTGEN_SMTP_USER", "REPORTGEN_SMTP_PASSWORD"  # never on the command line


class UsageError(UserError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as argparse does, but without the usage dump
        raise UsageError(message)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("logdirs", nargs="+", metavar="LOGDIR",
                   help="a folder of runs (every folder holding a *tfevents* file is a run), one event file, a summary "
                   "FILE.json that `reportgen analyse` wrote, or a folder of summaries")
    p.add_argument("--quiet", "-q", action="store_true", default=None, help="print nothing but errors")
    p.add_argument("--verbose", "-v", action="store_true", default=None,
                   help="print every warning met while reading, and each phase's time")
    p.add_argument("--max-runs", type=int, metavar="N", help="refuse logs with more than N runs (default: unlimited)")
    p.add_argument("--max-bytes", metavar="SIZE", help="refuse logs whose event files hold more than SIZE in all, "
                   "e.g. 500M or 2G (default: unlimited)")
    p.add_argument("--config", metavar="FILE", help="TOML file of options (default: [tool.reportgen] in a "
                   "pyproject.toml in or next to the first LOGDIR)")


# Options of the command line that a config file cannot set: where the logs and the outputs
# are, which config to read, and how to reach the mail server (the README says so too).
NOT_IN_CONFIG = frozenset({"logdirs", "output", "format", "config", "json", "to", "smtp_host", "smtp_port",
                           "starttls", "ssl", "sender", "save", "help", "version", "command"})


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reportgen", description="Turn finished TensorBoard logs into a report people can read "
                     "and understand: TensorBoard-style histogram, distribution and scalar charts with per-layer "
                     "explanations and recommendations.")
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    build = sub.add_parser("build", help="write the report (HTML, PDF, email, Markdown, JSON)",
                           description="Read LOGDIRs and write the report. The format of each -o follows its "
                                       "extension.")
    _add_common(build)
    build.add_argument("-o", "--output", action="append", required=True, metavar="OUT",
                       help="output file; repeat for several (.html, .pdf, .eml, .md, .json; for CI .junit.xml, "
                       ".codequality.json, .metrics.txt or .prom)")
    build.add_argument("--format", help="format for an -o whose extension says nothing (html, pdf, eml, md, json, "
                       "junit, codequality, openmetrics)")
    build.add_argument("--annotations", action="store_true", default=None, help="print GitHub Actions annotations "
                       "for the top findings (the default when GITHUB_ACTIONS=true, unless --quiet)")
    _add_report_options(build)

    send = sub.add_parser("send", help="email the report digest through an SMTP server",
                          description="Read LOGDIRs and email the digest (summary, findings, the most telling "
                          f"charts), or send a REPORT.eml that `build` wrote. Credentials come from the "
                          f"environment: {SMTP_USER_ENV} and {SMTP_PASSWORD_ENV}, never from the command line.")
    _add_common(send)
    send.add_argument("--to", action="append", required=True, metavar="ADDR",
                      help="recipient; repeat or separate with commas")
    send.add_argument("--smtp-host", default=os.environ.get("REPORTGEN_SMTP_HOST"), metavar="HOST",
                      help="SMTP server (default: $REPORTGEN_SMTP_HOST)")
    send.add_argument("--smtp-port", type=int, metavar="PORT", help="default 587 with --starttls, 465 with --ssl, else "
                                                                    "25")
    security = send.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true", help="upgrade the connection with STARTTLS")
    security.add_argument("--ssl", action="store_true", help="connect with TLS from the start (SMTPS)")
    send.add_argument("--from", dest="sender", default=os.environ.get("REPORTGEN_SMTP_FROM"), metavar="ADDR",
                      help="sender (default: $REPORTGEN_SMTP_FROM, else reportgen@localhost)")
    send.add_argument("--save", metavar="FILE.eml", help="also write the message that was sent")
    _add_report_options(send)

    inspect = sub.add_parser("inspect", help="list runs, tags, steps and reading warnings (no report)",
                             description="List what the logs hold: runs, tags, kind, steps, first/last step, "
                             "and the warnings met while reading.")
    _add_common(inspect)
    inspect.add_argument("--json", action="store_true", help="print JSON instead of a table")
    inspect.add_argument("--run", metavar="REGEX", help="only runs whose name matches REGEX")

    analyse = sub.add_parser("analyse", help="read runs and write their summary, to build the report from later",
                             description=ANALYSE_DESCRIPTION)
    _add_common(analyse)
    analyse.add_argument("-o", "--output", required=True, metavar="FILE.json", help="the summary file to write: "
                         "one file holding every run under the LOGDIRs")
    analyse.add_argument("--run", metavar="REGEX", help="only runs whose name matches REGEX")
    analyse.add_argument("--processes", type=int, metavar="N", help="local processes reading runs (default 0: one "
                         "per core when the logs hold 64 MB or more)")
    _add_executor(analyse)

    sub.add_parser("rules", help="list the diagnosis rules with their codes and thresholds")
    return parser


ANALYSE_DESCRIPTION = (
    "Read the runs under LOGDIRs and write one summary file holding them all: what reading gave (every step's "
    "statistics, the buckets of up to 501 evenly spread steps per tag, hyperparameters, file inventory, warnings), "
    "a small fraction of the event files' size. `reportgen build` takes summary files (FILE.json, or a folder of "
    "them) as it takes LOGDIRs, mixed as you like, and writes the report it would write from the logs: the "
    "diagnosis, the charts and every build option work on summaries as on logs. Analyse each run or LOGDIR where "
    "its logs are, one summary file each, then build the report from all of them in one place.")


def _add_executor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--executor", choices=list(EXECUTORS), help="where runs are read: local (default: processes of "
                   "this machine) or dask (the workers of a Dask cluster, reading through fsspec; "
                   "pip install 'reportgen[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler to read on, e.g. tcp://10.0.0.5:8786 "
                   "(implies --executor dask; without it, --executor dask starts a LocalCluster of one worker "
                   "process per core)")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--title", help="report title (default: from the logdir names)")
    p.add_argument("--run", metavar="REGEX", help="only runs whose name matches REGEX")
    p.add_argument("--tag", metavar="REGEX", help="only tags that match REGEX")
    p.add_argument("--max-steps", type=int, metavar="N", help=f"slices per offset chart (default {MAX_OFFSET_STEPS}, "
                   "always including the first and last step)")
    p.add_argument("--mode", choices=["offset", "overlay"], help="histogram chart mode (default offset, as "
                                                                 "TensorBoard)")
    p.add_argument("--charts", choices=["auto", "full", "compact"],
                   help="full: offset, distribution and heatmap per histogram, comparison charts; compact: a row "
                   "of distributions per layer and the scalars (for sweeps); auto (default): compact above 12 runs")
    p.add_argument("--page-size", choices=["A4", "letter"], help="PDF page size (default A4)")
    p.add_argument("--processes", type=int, metavar="N", help="worker processes (default 0: one per core): N "
                   "processes draw the charts and read runs (by default only when the logs hold 64 MB or more), "
                   "and a run's big first file is read by two; 1 does everything in one process")
    _add_executor(p)
    p.add_argument("--attach-pdf", action="store_true", default=None, help="attach the full PDF report to the email")
    p.add_argument("--mail-from", metavar="ADDRESS", help="the email digest's sender; its domain names the "
                   "message's Message-ID (default reportgen@localhost)")
    p.add_argument("--report-url", metavar="URL", help="link to the full report (e.g. the CI run's artifacts "
                   "page), shown in the email and the Markdown summary")
    p.add_argument("--seed-pattern", metavar="REGEX", help="the seed in a run's name: runs whose names are the same "
                   "without what REGEX matches, and whose hyperparameters are the same but for a seed, are one "
                   "seed group (default: seed_N, seed-N, _sN or sN at the end of the name; a `seed` or "
                   "`random_seed` hyperparameter is a seed too)")
    p.add_argument("--sort", metavar="NAME", help="order of the sweep table: a scalar tag (best first, by its "
                   "role) or a hyperparameter (ascending); default: the main metric, best first")
    p.add_argument("--fail-on", choices=list(FAIL_ON),
                   help="exit 1 after writing all outputs when a finding at or above this severity exists; "
                        "new-critical / new-warning: a finding new since the baseline; regression: a new finding "
                        "at warning or above, or the main metric worse than the baseline's (see docs/baseline.md)")
    p.add_argument("--baseline", metavar="PREV", help="compare with a previous report.json (path or URL), logdir or "
                   "summary: the report opens with what changed since")
    p.add_argument("--history", metavar="DIR_OR_URL", help="a folder or bucket prefix of earlier report.json files: "
                   "the report shows the last nights per run (--history-nights, default 14)")
    p.add_argument("--history-nights", type=int, metavar="N", help="nights the history shows, tonight included")
    p.add_argument("--save-history", action="store_true", default=None,
                   help="also write tonight's report.json into --history")
    p.add_argument("--match-runs", metavar="REGEX", help="match runs with the baseline's by their names without "
                   "what REGEX matches (a date or a job id in the name)")


def _options(args: argparse.Namespace) -> Options:
    """Options from the config file and the command line, checked (UsageError / ConfigError)."""
    values = {name: getattr(args, name) for name in NAMES if hasattr(args, name)}
    if args.max_bytes is not None:
        try:
            values["max_bytes"] = parse_size(args.max_bytes)
        except ValueError as exc:
            raise UsageError(f"--max-bytes: {exc}") from None
    return load_options(args.logdirs, args.config, values)


def _progress(options: Options) -> Progress:
    return Progress(quiet=options.quiet, verbose=options.verbose)


def cmd_inspect(args: argparse.Namespace) -> int:
    options = _options(args)
    logs = load(args.logdirs, options.read_settings(light=True))
    data = {"runs": [_inspect_run(run) for run in logs.runs]}
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return EXIT_OK
    if options.quiet:  # nothing but errors, as --quiet promises; the exit status says it read
        return EXIT_OK
    for run in data["runs"]:
        print(f"run {run['name']}  ({run['path']})")
        for item in run["tags"]:
            first, last = ("" if item[k] is None else item[k] for k in ("first_step", "last_step"))
            repeated = item.get("events", item["steps"]) - item["steps"]
            if item["kind"] == "other":
                print(f"  {'other':<10} {item['tag']:<50} {item['steps']:>6} records  ({item['what']})")
                continue
            print(f"  {item['kind']:<10} {item['tag']:<50} {item['steps']:>6} steps  {first}..{last}"
                  + (f"  ({repeated} repeated)" if repeated > 0 else ""))
        for warning in run["warnings"]:
            print(f"  warning: {warning}")
    return EXIT_OK


def _inspect_run(run) -> dict:
    tags = []
    for kind, group in (("histogram", run.histograms), ("scalar", run.scalars)):
        for tag, s in group.items():
            n = len(s.steps)
            distinct = int((s.steps[1:] != s.steps[:-1]).sum()) + 1 if n else 0  # steps are sorted
            tags.append({"tag": tag, "kind": kind, "steps": distinct, "events": n,
                         "first_step": int(s.steps[0]) if n else None,
                         "last_step": int(s.steps[-1]) if n else None})
    for tag, kind in run.other.items():
        tags.append({"tag": tag, "kind": "other", "what": kind, "steps": run.other_counts.get(tag, 0),
                     "first_step": None, "last_step": None})
    return {"name": run.name, "path": run.path, "tags": tags, "warnings": run.warnings,
            "files": [{"path": f.path, "records_read": f.records_read, "records_skipped": f.records_skipped}
                      for f in run.files]}


def _build(args: argparse.Namespace, options: Options, progress: Progress,
           formats: frozenset[str] | set[str] = frozenset(), early: list | None = None):
    """The built report, shared by `build` and `send`. With "pdf" in `formats`, the PDF is laid
    out while the charts are drawn, into `early` (for outputs.write_all / pdf.render)."""
    from reportgen.diagnosis import DiagnosisSettings

    # A bad setting fails before anything is read (as pipeline.diagnosis_settings makes them).
    settings = DiagnosisSettings.create(options.thresholds, options.ignore, options.layers, options.roles)
    baseline = None
    if options.baseline:
        from reportgen.pipeline.since import read_baseline

        progress("reading the baseline")
        baseline = read_baseline(options.baseline, options)
    progress("loading")
    sources, located = located_runs(args.logdirs, options.read_settings())
    parts = None
    if baseline is not None or options.compact_for(len(located)):  # may be a sweep: in_parts decides
        _import_stages(formats)
        from reportgen.pipeline.parts import in_parts

        parts = in_parts(sources, located, options)
    if parts is not None:  # a sweep: read, analysed and drawn part by part (pipeline/parts.py)
        from reportgen import outputs
        from reportgen.pipeline.parts import build_in_parts

        report = build_in_parts(parts.read(), sources, options, progress=progress, advance=progress.advance,
                                meanwhile=lambda: outputs.prepare(formats), settings=settings, baseline=baseline,
                                pixels=outputs.needs_images(set(formats)))
        _report_warnings(options, [w for run in report.runs for w in run.warnings], progress)
    else:  # the build's stages are imported while other processes read, where some do
        logs = load_located(sources, located, options.read_settings(), meanwhile=lambda: _import_stages(formats))
        report = _build_at_once(logs, options, progress, formats, early, settings, baseline)
    if not report.runs:
        raise UsageError("no run matches --run " + repr(options.run))
    if options.history:
        _add_history(report, options, progress)
    return report


def _import_stages(formats: frozenset[str] | set[str]) -> None:
    """Import the build's stages (Matplotlib with the pipeline) and what the writers of
    `formats` need (WeasyPrint): ~1 s, done while another process reads where one does."""
    from reportgen import outputs, pipeline  # noqa: F401

    outputs.prepare(formats)


def _build_at_once(logs, options: Options, progress: Progress, formats: frozenset[str] | set[str],
                   early: list | None, settings, baseline):
    from reportgen import outputs, pipeline

    _report_warnings(options, [w for run in logs.runs for w in run.warnings] + logs.warnings, progress)
    lay_out = None
    if early is not None and "pdf" in formats and not options.history:  # the history is added after
        lay_out = lambda provisional: early.append(outputs.pdf.lay_out_early(provisional))
    report = pipeline.build(logs, options, progress=progress, advance=progress.advance,
                            meanwhile=lambda: outputs.prepare(formats), settings=settings, baseline=baseline,
                            pixels=outputs.needs_images(set(formats)), lay_out=lay_out)
    return report


def _add_history(report, options: Options, progress: Progress) -> None:
    from reportgen.baseline import history
    from reportgen.pipeline import snapshot
    from reportgen.pipeline.since import read_history

    earlier, warnings = read_history(options.history)
    for warning in warnings:
        progress.say(f"reportgen: warning: {warning}")
    report.warnings = [*report.warnings, *warnings]
    report.history = history(earlier, snapshot(report), options.match_runs, options.history_nights)


def failing(options: Options, report) -> list[str]:
    """Why the build fails by --fail-on (empty: it does not)."""
    fail_on, since = options.fail_on, report.since
    if not fail_on:
        return []
    if fail_on == "regression":
        return since.regression(worse_by(options), options.regression.get("metric", ""))
    if fail_on.startswith("new-"):
        return since.new_at_or_above(fail_on.removeprefix("new-"))
    return [f"{f.severity} finding {f.code} in {f.run} / {f.layer}" for f in report.findings if f.at_or_above(fail_on)]


def cmd_build(args: argparse.Namespace) -> int:
    from reportgen import outputs

    targets = [(path, outputs.format_for(path, args.format)) for path in args.output]
    for path, _ in targets:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(f"cannot write {path}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write {path}: no permission to write in {folder}")
    started = time.monotonic()
    options = _options(args)
    if options.save_history and not options.history:
        raise UsageError("--save-history writes into the --history folder: give --history DIR_OR_URL")
    progress = _progress(options)
    formats = {fmt for _, fmt in targets}
    pdf_needed = outputs.needs_pdf(formats, options.attach_pdf)
    early: list = []
    report = _build(args, options, progress, formats | ({"pdf"} if pdf_needed else set()), early)
    report.artifacts = [os.path.basename(path) for path, _ in targets]
    progress.phase("writing", len(targets))  # counts files; laying out the PDF is part of writing it

    def written(path: str) -> None:
        progress.advance(path)
        progress.say(f"reportgen: wrote {path}")

    outputs.write_all(report, targets, options.attach_pdf, laid_out=lambda: None,
                      written=written, early=early[0] if early else None)
    if options.save_history:
        from reportgen.outputs import jsonreport
        from reportgen.pipeline.since import save_history

        written(save_history(options.history, report.generated_at, jsonreport.render(report)))
    progress.close()
    _annotate(options, report, [os.path.basename(p) for p, fmt in targets if fmt in ("html", "pdf", "md", "json")])
    progress.say(f"reportgen: {plural(len(report.runs), 'run')}, {plural(len(report.findings), 'finding')}, "
                 f"verdict {report.verdict} "
                 f"({time.monotonic() - started:.1f}s)")
    reasons = failing(options, report)
    if reasons and not options.quiet:
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        print(f"reportgen: --fail-on {options.fail_on}: {reasons[0]}{more}", file=sys.stderr)
    return EXIT_FINDINGS if reasons else EXIT_OK


def _annotate(options: Options, report, readable: list[str]) -> None:
    """GitHub Actions annotations on stdout, naming the `readable` outputs for the rest: asked for,
    or in a GitHub Actions job unless --quiet."""
    from reportgen.outputs.annotations import workflow_commands

    if options.annotations or (os.environ.get("GITHUB_ACTIONS") == "true" and not options.quiet):
        for line in workflow_commands(report.findings, readable):
            print(line)


def cmd_send(args: argparse.Namespace) -> int:
    from reportgen.outputs import mail, pdf
    from reportgen.outputs.atomic import write_atomic

    recipients = [a.strip() for item in args.to for a in item.split(",") if a.strip()]
    if not recipients:
        raise UsageError("--to needs at least one address")
    if not args.smtp_host:
        raise UsageError("--smtp-host is required (or set REPORTGEN_SMTP_HOST)")
    user, password = os.environ.get(SMTP_USER_ENV), os.environ.get(SMTP_PASSWORD_ENV)
    if user and password is None:
        raise UsageError(f"{SMTP_USER_ENV} is set but {SMTP_PASSWORD_ENV} is not")
    encrypted = args.starttls or args.ssl
    if user and not encrypted and args.smtp_host not in ("localhost", "127.0.0.1", "::1"):
        raise UsageError("refusing to send the SMTP password unencrypted: use --starttls or --ssl")
    options = _options(args)
    progress = _progress(options)
    report = None
    if len(args.logdirs) == 1 and args.logdirs[0].lower().endswith(".eml") and os.path.isfile(args.logdirs[0]):
        # A message `build -o report.eml` already wrote: send it as is, without building again.
        message = mail.read_message(args.logdirs[0], sender=args.sender, recipients=recipients)
    else:
        early: list = []
        report = _build(args, options, progress, {"eml", "pdf"} if options.attach_pdf else {"eml"}, early)
        if args.save:
            report.artifacts = [os.path.basename(args.save)]
        progress.phase("writing")
        attached = pdf.render(report, early=early[0] if early else None) if options.attach_pdf else None
        message = mail.message(report, attached, sender=args.sender or mail.DEFAULT_SENDER, recipients=recipients)
        if args.save:
            write_atomic(args.save, message.as_bytes())
    progress.phase("sending")
    try:
        mail.send(message, args.smtp_host, args.smtp_port, starttls=args.starttls, ssl=args.ssl,
                  user=user, password=password)
    except mail.SendError as exc:
        progress.close()
        print(f"reportgen: error: {exc}", file=sys.stderr)
        return EXIT_NOT_SENT
    progress.close()
    progress.say(f"reportgen: sent {message['Subject']!r} to {', '.join(recipients)} via {args.smtp_host}")
    return EXIT_FINDINGS if report is not None and failing(options, report) else EXIT_OK


def _report_warnings(options: Options, warnings: list[str], progress: Progress) -> None:
    if not warnings:
        return
    if options.verbose:
        for warning in warnings:
            progress.say(f"reportgen: warning: {warning}")
    else:
        progress.say(f"reportgen: {plural(len(warnings), 'warning')} while reading (listed in the report; "
                     "--verbose prints them)")


def cmd_analyse(args: argparse.Namespace) -> int:
    from reportgen.outputs.atomic import write_atomic
    from reportgen.reading.summary import dumps

    if not args.output.lower().endswith(".json"):
        raise UsageError(f"-o {args.output}: a summary's name ends in .json (that is how `build` knows it)")
    started = time.monotonic()
    options = _options(args)
    progress = _progress(options)
    progress("reading")
    summarised = summarise(args.logdirs, options.read_settings())
    _report_warnings(options, [w for s in summarised for w in s.run.warnings], progress)
    data = dumps(summarised)
    write_atomic(args.output, data)
    progress.close()
    read = sum(f.size for s in summarised for f in s.run.files)
    progress.say(f"reportgen: wrote {args.output}: {plural(len(summarised), 'run')}, {format_size(len(data))} "
                 f"from {format_size(read)} of event files ({time.monotonic() - started:.1f}s)")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from reportgen.diagnosis import all_rules
    from reportgen.diagnosis.thresholds import DEFAULTS

    for rule in all_rules():
        limits = ", ".join(f"{name}={DEFAULTS[name].value:g}" for name in rule.thresholds)
        print(f"{rule.code:<22} {rule.severity:<9} {rule.summary}" + (f"  [{limits}]" if limits else ""))
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help(sys.stderr)  # usage is an error here: stdout stays for what was asked
            return EXIT_USAGE
        commands = {"build": cmd_build, "send": cmd_send, "inspect": cmd_inspect, "analyse": cmd_analyse,
                    "rules": cmd_rules}
        return commands[args.command](args)
    except UserError as exc:
        print(f"reportgen: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reportgen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `reportgen inspect ... | head`: the reader left; stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141  # 128 + SIGPIPE, what a shell reports for a process killed by it


def entry() -> None:
    from reportgen.memory import collect_cycles_less_often

    collect_cycles_less_often()  # a batch process: see memory.py
    exit_without_teardown(main())


def exit_without_teardown(code: int) -> NoReturn:
    """Exit as `sys.exit(code)` would, without freeing every module's objects one at a time.

    That teardown took 0.2 s of the benchmark log's 5.1-second build (measured: 5.04-5.14 s with
    it, 4.82-4.89 s without), for a process that is about to end. What exiting must still do
    is done: the atexit handlers (multiprocessing's, weakref finalizers, logging's), and
    flushing the standard streams; a stream that cannot be flushed gives status 120, as Python's
    own exit does. Unlike that exit it waits for no thread: reportgen starts none, and its
    process pools are shut down before the command returns.
    """
    atexit._run_exitfuncs()  # what the interpreter runs first at exit (also used by IPython)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 120
    os._exit(code)
