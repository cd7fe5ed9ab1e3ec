"""Options of a build: defaults, then `[tool.reportgen]` in a pyproject.toml next to the logs
(or a `--config` TOML file), then the command line, each overriding the one before."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from typing import Any

from reportgen.errors import UserError


class ConfigError(UserError):
    """A config file that cannot be used. The CLI exits with 2."""


@dataclass
class Options:
    title: str = ""
    run: str = ""  # regex: only runs whose name matches
    tag: str = ""  # regex: only tags that match
    max_steps: int = 51  # slices per offset chart (TensorBoard's default)
    max_distribution_steps: int = 501  # x positions per distribution chart (TensorBoard's)
    mode: str = "offset"  # offset | overlay
    charts: str = "auto"  # auto | full | compact (layer rows and scalars only; auto: compact for sweeps)
    page_size: str = "A4"  # A4 | letter
    processes: int = 0  # 0: one per core
    fail_on: str = ""  # "" | critical | warning
    max_bytes: int = 0  # refuse logs larger than this many bytes in all (0: unlimited); "500M", "2G" accepted
    max_runs: int = 0  # refuse more runs than this (0: unlimited)
    # Grouping overrides: list of {"pattern": regex, "layer": "...", "kind": "..."};
    # the layer may use regex groups as \1.
    layers: list[dict[str, str]] = field(default_factory=list)
    # Rule threshold overrides, by name (see `reportgen rules`).
    thresholds: dict[str, float] = field(default_factory=dict)
    # Rule codes to leave out, like ruff's `ignore`.
    ignore: list[str] = field(default_factory=list)


_NAMES = {f.name: f for f in fields(Options)}


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


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes from '123', '500M', '2G', '1.5GB', '64KiB' (binary units). Raises ValueError."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", str(text), re.I)
    if not match:
        raise ValueError(f"not a size: {text!r} (examples: 500M, 2G)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])


def format_size(n_bytes: float) -> str:
    """'512 B', '1.0 KB', '267.0 MB', '2.6 GB': binary units, as parse_size reads them."""
    size, unit = float(n_bytes), "B"
    for larger in ("KB", "MB", "GB", "TB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{size:.0f} B" if unit == "B" else f"{size:.1f} {unit}"


def apply(options: Options, values: dict[str, Any], source: str) -> Options:
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in _NAMES:
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
    if options.mode not in ("offset", "overlay"):
        raise ConfigError(f"mode must be offset or overlay, not {options.mode!r}")
    if options.charts not in ("auto", "full", "compact"):
        raise ConfigError(f"charts must be auto, full or compact, not {options.charts!r}")
    if options.page_size.lower() not in ("a4", "letter"):
        raise ConfigError(f"page size must be A4 or letter, not {options.page_size!r}")
    if options.max_bytes < 0 or options.max_runs < 0:
        raise ConfigError("max-bytes and max-runs must be 0 (unlimited) or more")
    if options.max_steps < 2:
        raise ConfigError("max-steps must be at least 2 (the first and the last step)")
    return options
