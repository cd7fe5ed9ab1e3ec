"""The Jinja2 environments and the display filters every template shares.

HTML templates are autoescaped; Markdown templates escape every `{{ }}` through `markdown_text`
(a `finalize` hook, so a value can never slip through unescaped); plain-text templates escape
nothing. Undefined names are errors in all three.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from functools import lru_cache
from typing import Any

import jinja2
import markupsafe
from jinja2.bccache import Bucket

from reportgen.baseline import sparkline
from reportgen.numbers import format_size, measured
from reportgen.sweeps import show


def templates_dir() -> str:
    """`reportgen/templates` in an installed wheel; the repository's `templates/` when editable."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(here, "templates"), os.path.join(os.path.dirname(here), "templates")):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError("reportgen's templates are missing from this installation")


def when(epoch: float | None) -> str:
    """A wall time as people read it, in UTC."""
    if epoch is None:
        return "unknown"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def steps(first: int | None, last: int | None) -> str:
    if first is None:
        return "none"
    return str(first) if first == last else f"{first}–{last}"


_MARKDOWN_INLINE = re.compile(r"([\\`*_{}\[\]|~])")  # emphasis, code, links, table cells
_MARKDOWN_LINE_START = re.compile(r"^([#+!>-])")  # headings, lists, quotes when a value starts a line
_MARKDOWN_ORDERED = re.compile(r"^(\d+)\.(?=\s|$)")  # "1. " would start a numbered list


def markdown_text(value: Any) -> str:
    """Escape a value for GitHub-flavoured Markdown, inline HTML included, and keep table rows whole."""
    if value is None:
        return ""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_LINE_START.sub(r"\\\1", _MARKDOWN_INLINE.sub(r"\\\1", text))
    text = _MARKDOWN_ORDERED.sub(r"\1\\.", text)
    return " ".join(text.split())


def _raw(value: str) -> markupsafe.Markup:
    return markupsafe.Markup(value)


def css(value: object) -> str:
    """A class-name word: "not judged" -> "not-judged"."""
    return "-".join(str(value).split())


def counted(severity: object, count: int) -> str:
    """ "1 warning", "2 warnings", "3 critical", "1 info": a severity with its count."""
    word = str(severity)
    return f"{count} {word}{'s' if word == 'warning' and count != 1 else ''}"


def breakable(value: object) -> markupsafe.Markup:
    """A name that may wrap after "_", "/", "," and a "." that is not a decimal point (<wbr>),
    not inside a word or a number: a narrow table column gives "learning_ / rate", never
    "learning_r / ate", and "lr=0.0001, / num_sgd_ / iter=30", never "lr=0. / 0001"."""
    escaped = str(markupsafe.escape(value))
    return markupsafe.Markup(re.sub(r"([_/,]|\.(?!\d))(?=.)", r"\1<wbr>", escaped))


FILTERS = {"when": when, "duration": duration, "number": measured, "size": format_size, "css": css,
           "counted": counted, "breakable": breakable, "hparam": show, "sparkline": sparkline,
           "attr_get": lambda d, k: d.get(k)}
GLOBALS = {"steps": steps}


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates on disk, as Python keeps its own in __pycache__: compiling
    the report's 17 HTML templates took 0.17-0.19 s CPU of every build, in the main process
    while the chart workers draw. A template changed on disk is compiled again (Jinja keeps
    its source's checksum, and compiles a cached file cut short again); a cache that cannot be
    written is only not written."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def template_cache_dir() -> str | None:
    """Where compiled templates are kept: the user's cache folder, one per Jinja version. None
    without an absolute one (a relative XDG_CACHE_HOME is to be ignored, says the XDG spec, and
    a user with no home would get a folder named "~" wherever the command runs)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = xdg if os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "reportgen", f"templates-jinja{jinja2.__version__}") if os.path.isabs(base) else None


def _template_cache(flavour: str) -> jinja2.BytecodeCache | None:
    """One folder per environment: Jinja keys its cache by template name, not by the options
    (escaping) a template was compiled with. None when the folder cannot be made."""
    root = template_cache_dir()
    if root is None:
        return None
    folder = os.path.join(root, flavour)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return _TemplateCache(folder)


def _environment(flavour: str, **kwargs: Any) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates_dir()), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, bytecode_cache=_template_cache(flavour), **kwargs)
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    return env


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """For HTML (report and email)."""
    return _environment("html", autoescape=True)


@lru_cache(maxsize=1)
def markdown_environment() -> jinja2.Environment:
    """For Markdown: every expression is escaped unless marked `| raw` (numbers and our own links)."""
    env = _environment("markdown", autoescape=False,
                       finalize=lambda v: v if isinstance(v, markupsafe.Markup) else markdown_text(v))
    env.filters["raw"] = _raw
    return env


@lru_cache(maxsize=1)
def text_environment() -> jinja2.Environment:
    """For the plain-text email part: nothing to escape in plain text."""
    return _environment("text", autoescape=False)


def read_static(name: str) -> str:
    with open(os.path.join(templates_dir(), name), encoding="utf-8") as stream:
        return stream.read()
