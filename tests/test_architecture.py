"""The shape of the code, checked from its own imports: every arrow runs one way, modules and
functions stay small enough to read.

Data flows read -> model -> analyse -> draw -> render; only the pipeline (and the CLI, and the
config that makes each stage's settings) know every stage.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"

# What each part of the package may import from the package (besides itself). Lower layers
# never import upper ones; the stages (reading, diagnosis, charts) never import each other;
# outputs format the Report and may read the chart-kind registry (charts.kinds, no Matplotlib).
BASE = {"reportgen", "reportgen.errors", "reportgen.numbers", "reportgen.memory"}
# Pure functions of plain data sit with the model: histogram math, TensorBoard's smoothing,
# what a sweep's runs say together (sweeps: seed groups, findings against hyperparameters), and
# what changed since a baseline (baseline: two snapshots compared).
MODEL = BASE | {"reportgen.model", "reportgen.findings", "reportgen.histmath", "reportgen.smoothing",
                "reportgen.sweeps", "reportgen.baseline"}
ALLOWED: dict[str, set[str]] = {
    "reportgen": set(),
    "reportgen.errors": set(),
    "reportgen.numbers": set(),
    "reportgen.memory": set(),
    "reportgen.model": BASE,
    "reportgen.findings": BASE,
    "reportgen.histmath": BASE,
    "reportgen.smoothing": BASE,
    "reportgen.baseline": BASE | {"reportgen.findings"},
    "reportgen.sweeps": BASE | {"reportgen.model", "reportgen.findings", "reportgen.smoothing"},
    "reportgen.reading": MODEL | {"reportgen.reading"},
    "reportgen.diagnosis": MODEL | {"reportgen.diagnosis"},
    "reportgen.charts": MODEL | {"reportgen.charts"},
    "reportgen.narrative": MODEL | {"reportgen.diagnosis"},
    "reportgen.report": MODEL,
    "reportgen.outputs": MODEL | {"reportgen.report", "reportgen.outputs", "reportgen.charts.kinds"},
    "reportgen.progress": BASE,
    "reportgen.config": MODEL | {"reportgen.reading", "reportgen.charts.kinds"},
    "reportgen.pipeline": MODEL | {"reportgen.reading", "reportgen.diagnosis", "reportgen.charts",
                                   "reportgen.narrative", "reportgen.report", "reportgen.config"},
    "reportgen.cli": {"*"},
    "reportgen.__main__": {"reportgen.cli"},
}
MAX_MODULE_LINES = 400  # above this a module says at its top why it is one module
MAX_FUNCTION_LINES = 60  # code lines, docstring excluded


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def part_of(module: str) -> str:
    """The entry of ALLOWED a module belongs to: the longest prefix that has one."""
    candidates = [key for key in ALLOWED if module == key or module.startswith(key + ".")]
    return max(candidates, key=len)


def imports_of(path: Path, module: str) -> set[str]:
    """Every reportgen module `path` imports, at the top or inside a function."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules()}
    return {name for name in found if name == "reportgen" or name.startswith("reportgen.")}


def allowed(importer: str, imported: str) -> bool:
    """A rule allows a module and its sub-modules; the package itself ("reportgen": its
    __version__) allows only itself."""
    rules = ALLOWED[part_of(importer)]
    covered = any(imported == rule or (rule != "reportgen" and imported.startswith(rule + ".")) for rule in rules)
    return "*" in rules or covered or part_of(imported) == part_of(importer)


@pytest.mark.parametrize("module", sorted(modules()))
def test_imports_run_one_way(module):
    wrong = sorted(name for name in imports_of(modules()[module], module) if not allowed(module, name))
    assert not wrong, f"{module} ({part_of(module)}) imports {wrong}"


def test_the_check_knows_every_module_and_catches_an_arrow_upwards():
    assert all(part_of(name) in ALLOWED for name in modules())
    assert not allowed("reportgen.model", "reportgen.reading.records")
    assert not allowed("reportgen.diagnosis.features", "reportgen.narrative")
    assert not allowed("reportgen.charts.offset", "reportgen.report")
    assert not allowed("reportgen.outputs.html", "reportgen.diagnosis.features")
    assert not allowed("reportgen.reading.loader", "reportgen.charts")
    assert allowed("reportgen.outputs.mail", "reportgen.charts.kinds")


@pytest.mark.parametrize("module", sorted(modules()))
def test_modules_and_functions_stay_small(module):
    path = modules()[module]
    source = path.read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree) or ""
    lines = len(source.splitlines())
    assert lines <= MAX_MODULE_LINES or "one module" in doc, f"{module}: {lines} lines and no reason at its top"
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            code = (body[-1].end_lineno - body[0].lineno + 1) if body else 0
            assert code <= MAX_FUNCTION_LINES, f"{module}.{node.name}: {code} lines of code"
