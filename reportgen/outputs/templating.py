"""The Jinja2 environment: autoescape on, undefined names are errors."""

from __future__ import annotations

import os
from functools import lru_cache

import jinja2


def templates_dir() -> str:
    """`reportgen/templates` in an installed wheel; the repository's `templates/` when editable."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for candidate in (os.path.join(here, "templates"), os.path.join(os.path.dirname(here), "templates")):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError("reportgen's templates are missing from this installation")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def read_static(name: str) -> str:
    with open(os.path.join(templates_dir(), name), encoding="utf-8") as stream:
        return stream.read()
