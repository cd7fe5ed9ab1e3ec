"""Options of a build: defaults, then `[tool.reportgen]` in a pyproject.toml next to the logs
(or a `--config` TOML file), then the command line, each overriding the one before.

`Options` is what the user sets; each stage gets the typed settings it needs from it
(`read_settings`, `workers`; the pipeline makes the diagnosis' own), made once per build.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from typing import Any

from reportgen.baseline import DEFAULT_WORSE_BY, HISTORY_NIGHTS
from reportgen.charts.kinds import MAX_DISTRIBUTION_STEPS, MAX_OFFSET_STEPS
from reportgen.errors import ConfigError
from reportgen.numbers import parse_size
from reportgen.reading.loader import EXECUTORS, ReadSettings
from reportgen.sweeps import DEFAULT_SEED_PATTERN

__all__ = ["NAMES", "ConfigError", "Options", "Workers", "load_options"]

MODES = ("offset", "overlay")
CHART_SETS = ("auto", "full", "compact")
# Above this many runs the report is a sweep: per-tag charts for every run would run to
# thousands of pages, so each run shows its layers as rows (a distribution panel per tag) and its
# scalars, and runs are compared in the table rather than in charts whose legends cannot hold them.
SWEEP_RUNS = 12  # --charts auto: above it, compact
PAGE_SIZES = ("A4", "letter")
FAIL_ON = ("critical", "warning", "new-critical", "new-warning", "regression")
NEEDS_BASELINE = ("new-critical", "new-warning", "regression")


@dataclass
class Options:
    title: str = ""
    run: str = ""  # regex: only runs whose name matches
    tag: str = ""  # regex: only tags that match
    max_steps: int = MAX_OFFSET_STEPS  # slices per offset chart
    max_distribution_steps: int = MAX_DISTRIBUTION_STEPS  # x positions per distribution chart
    mode: str = "offset"  # offset | overlay
    charts: str = "auto"  # auto | full | compact (layer rows and scalars only; auto: compact for sweeps)
    page_size: str = "A4"  # A4 | letter
    processes: int = 0  # 0: one per core (see Workers)
    executor: str = "local"  # where runs are read: local (this machine's processes) | dask (see EXECUTORS)
    scheduler: str = ""  # a Dask scheduler's address (implies executor dask); "": with dask, a LocalCluster here
    fail_on: str = ""  # "" | critical | warning | new-critical | new-warning | regression (see FAIL_ON)
    baseline: str = ""  # a previous report.json (path or fsspec URL) or logdir to compare against
    history: str = ""  # a folder or bucket prefix of earlier report.json files: the last nights as a table
    history_nights: int = HISTORY_NIGHTS  # how many nights the history shows, tonight included
    save_history: bool = False  # also write tonight's report.json into --history
    match_runs: str = ""  # regex: the part of run names to ignore when matching them with the baseline's
    # --fail-on regression: {"metric": tag (default: each run's main result), "worse-by": "2%" or 0.02}
    regression: dict[str, Any] = field(default_factory=dict)
    max_bytes: int = 0  # refuse logs larger than this many bytes in all (0: unlimited); "500M", "2G" accepted
    max_runs: int = 0  # refuse more runs than this (0: unlimited)
    attach_pdf: bool = False  # attach the full PDF to the email
    report_url: str = ""  # link to the full report, shown in the email and the Markdown summary
    mail_from: str = ""  # the email digest's From (and the domain of its Message-ID)
    quiet: bool = False  # print nothing but errors
    verbose: bool = False  # print every warning met while reading, and each phase's time
    # Grouping overrides: list of {"pattern": regex, "layer": "...", "kind": "..."};
    # the layer may use regex groups as \1.
    layers: list[dict[str, str]] = field(default_factory=list)
    # Rule threshold overrides, by name (see `reportgen rules`).
    thresholds: dict[str, float] = field(default_factory=dict)
    # Rule codes to leave out, like ruff's `ignore`.
    ignore: list[str] = field(default_factory=list)
    # Scalar role overrides: {"regex searched in the tag": "objective" | "eval_loss" | ...}.
    roles: dict[str, str] = field(default_factory=dict)
    # Regex searched in run names: the part it matches is the run's seed, and runs whose names
    # are the same without it (and whose hyperparameters are the same but for a seed) are one group.
    seed_pattern: str = DEFAULT_SEED_PATTERN
    sort: str = ""  # the sweep table's order: a scalar tag (best first) or a hyperparameter; "": the main metric
    annotations: bool = False  # print GitHub Actions annotations for the top findings (also when GITHUB_ACTIONS=true)

    def compact_for(self, runs: int) -> bool:
        """Whether a report of `runs` runs draws the compact chart set (--charts; auto: above
        SWEEP_RUNS)."""
        return self.charts == "compact" or (self.charts == "auto" and runs > SWEEP_RUNS)

    def workers(self, cores: int | None = None) -> Workers:
        return Workers.resolve(self.processes, os.cpu_count() or 1 if cores is None else cores)

    def read_settings(self, light: bool = False, cores: int | None = None) -> ReadSettings:
        workers = self.workers(cores)
        return ReadSettings(light=light, readers=workers.readers, split_big_files=workers.split_big_files,
                            run_pattern=self.run, max_runs=self.max_runs, max_bytes=self.max_bytes,
                            executor="dask" if self.scheduler else self.executor, scheduler=self.scheduler)


@dataclass(frozen=True)
class Workers:
    """What `--processes N` means for each stage, resolved once.

    - readers: processes reading runs (0: one per core, but only when the runs hold enough
      local data to repay starting them; the loader decides);
    - split_big_files: a run's big first file read by two processes (needs two cores);
    - charts: processes drawing charts.
    N = 0 (the default) uses every core; N = 1 does everything in one process.
    """

    readers: int
    split_big_files: bool
    charts: int

    @classmethod
    def resolve(cls, processes: int, cores: int) -> Workers:
        if processes == 1:
            return cls(readers=1, split_big_files=False, charts=1)
        return cls(readers=processes if processes > 0 else 0, split_big_files=cores > 1,
                   charts=processes if processes > 0 else cores)


NAMES = frozenset(f.name for f in fields(Options))


def _read_toml(path: str, section_only: bool) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            data = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path} is not valid TOML: {exc}") from None
    if section_only or os.path.basename(path) == "pyproject.toml":
        data = data.get("tool", {}).get("reportgen", {})
    return data


def find_pyproject(logdirs: list[str]) -> str | None:
    """A pyproject.toml with a [tool.reportgen] table in the first logdir or its parent."""
    for logdir in logdirs[:1]:
        folder = logdir if os.path.isdir(logdir) else os.path.dirname(logdir)
        for candidate in (folder, os.path.dirname(os.path.abspath(folder))):
            path = os.path.join(candidate, "pyproject.toml")
            if os.path.isfile(path) and _read_toml(path, True):
                return path
    return None


def apply(options: Options, values: dict[str, Any], source: str) -> Options:
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in NAMES:
            raise ConfigError(f"{source}: unknown option {key!r}")
        if name == "max_bytes" and isinstance(value, str):
            try:
                value = parse_size(value)
            except ValueError as exc:
                raise ConfigError(f"{source}: option {key!r}: {exc}") from None
        expected = type(getattr(Options(), name))
        if expected is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(f"{source}: option {key!r} should be {expected.__name__}, got {value!r}")
        setattr(options, name, value)
    return options


def load_options(logdirs: list[str], config_path: str | None, cli_values: dict[str, Any]) -> Options:
    options = Options()
    path = config_path or find_pyproject(logdirs)
    if path:
        apply(options, _read_toml(path, False), path)
    apply(options, {k: v for k, v in cli_values.items() if v is not None}, "command line")
    _check(options)
    return options


def _check(options: Options) -> None:
    if options.mode not in MODES:
        raise ConfigError(f"mode must be offset or overlay, not {options.mode!r}")
    if options.executor not in EXECUTORS:
        raise ConfigError(f"executor must be {' or '.join(EXECUTORS)}, not {options.executor!r}")
    if options.charts not in CHART_SETS:
        raise ConfigError(f"charts must be auto, full or compact, not {options.charts!r}")
    if options.page_size.lower() not in ("a4", "letter"):
        raise ConfigError(f"page size must be A4 or letter, not {options.page_size!r}")
    if options.fail_on not in ("", *FAIL_ON):
        raise ConfigError(f"fail-on must be one of {', '.join(FAIL_ON)}, not {options.fail_on!r}")
    if options.fail_on in NEEDS_BASELINE and not options.baseline:
        raise ConfigError(f"--fail-on {options.fail_on} compares with a baseline: give --baseline PREV")
    unknown = set(options.regression) - {"metric", "worse-by", "worse_by"}
    if unknown:
        raise ConfigError(f"regression: unknown key {sorted(unknown)[0]!r} (metric, worse-by)")
    worse_by(options)
    if options.max_bytes < 0 or options.max_runs < 0:
        raise ConfigError("max-bytes and max-runs must be 0 (unlimited) or more")
    if options.history_nights < 1:
        raise ConfigError("history-nights must be 1 or more")
    if options.max_steps < 2:
        raise ConfigError("max-steps must be at least 2 (the first and the last step)")
    if options.report_url and not re.match(r"https?://[^\s()<>\"']+$", options.report_url):
        raise ConfigError(f"--report-url (report-url in a config) should be an http(s) URL, not {options.report_url!r}")
    for pattern in (options.run, options.tag, options.seed_pattern, options.match_runs):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"bad regular expression {pattern!r}: {exc}") from None


def worse_by(options: Options) -> float:
    """The regression margin of `[tool.reportgen] regression` as a fraction ("2%" -> 0.02);
    baseline.DEFAULT_WORSE_BY when not set."""
    value = options.regression.get("worse-by", options.regression.get("worse_by"))
    if value is None:
        return DEFAULT_WORSE_BY
    try:
        margin = float(value.strip().rstrip("%")) / 100 if isinstance(value, str) and value.strip().endswith("%") \
            else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"regression: worse-by should be a share like \"2%\" or 0.02, not {value!r}") from None
    if not 0 <= margin < 10:
        raise ConfigError(f"regression: worse-by should be a share like \"2%\" or 0.02, not {value!r}")
    return margin
