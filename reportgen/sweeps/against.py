"""Which settings a finding comes with: for each finding code of a sweep and each hyperparameter
that varies, the split of the runs that best separates those with the finding from those without.

A numeric hyperparameter is split at one of its values (`lr >= 0.1` against `lr < 0.1`); a
categorical one (text, booleans) by its values, when it has at most MAX_CATEGORIES of them (more
is an identifier). Runs that do not set it are a part of their own ("act not set"). Splits are
scored by balanced accuracy (the mean of the share of runs with the finding on the finding's side
and of runs without it on the other side), so that a split is not chosen for isolating a single
run: 1 is a clean separation, 0.5 says nothing.
"""

from __future__ import annotations

from collections import Counter

from reportgen.sweeps.facts import CodeAgainstHparams, Part, RunFacts, Split, Value, is_seed, show

MAX_CATEGORIES = 8


def varying(runs: list[RunFacts]) -> list[str]:
    """Hyperparameter names whose value differs between runs (a run without one differs), in
    the order first seen; seeds last."""
    names = list(dict.fromkeys(name for run in runs for name in run.hparams))
    differ = [n for n in names if len({_key(run.hparams.get(n)) for run in runs}) > 1]
    return [n for n in differ if not is_seed(n)] + [n for n in differ if is_seed(n)]


def _key(value: Value | None) -> tuple[int, Value | None]:
    return (1, value) if isinstance(value, bool) else (0, value)


def _numeric(value: Value | None) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def against_hparams(runs: list[RunFacts], names: list[str]) -> list[CodeAgainstHparams]:
    """For every finding code, most runs first, its splits along each of `names` (seeds left out)."""
    having = Counter(code for run in runs for code in {code for code, _ in run.findings})
    found = []
    for code in sorted(having, key=lambda c: (-having[c], c)):
        flags = [any(c == code for c, _ in run.findings) for run in runs]
        splits = [s for name in names if not is_seed(name) for s in [split(code, name, runs, flags)] if s]
        splits.sort(key=lambda s: -s.score)
        found.append(CodeAgainstHparams(code, having[code], len(runs), splits if having[code] < len(runs) else []))
    return found


def split(code: str, name: str, runs: list[RunFacts], flags: list[bool]) -> Split | None:
    """The best split of `runs` along `name` for the finding (flags: each run has it); None when
    the hyperparameter cannot split them (a categorical one with too many values)."""
    values = [run.hparams.get(name) for run in runs]
    present = [v for v in values if v is not None]
    positives, negatives = sum(flags), len(flags) - sum(flags)
    unset = _part(f"{name} not set", [f for v, f in zip(values, flags) if v is None])
    if present and all(_numeric(v) for v in present):
        best = _threshold(name, values, flags, positives, negatives)
    else:
        categories = sorted({_key(v) for v in present}, key=lambda k: show(k[1]) if k[1] is not None else "")
        if len(categories) > MAX_CATEGORIES:
            return None
        parts = [_part(f"{name} = {show(k[1]) if k[1] is not None else ''}",
                       [f for v, f in zip(values, flags) if v is not None and _key(v) == k]) for k in categories]
        best = (_score(parts, positives, negatives), parts)
    score, parts = best
    if unset.runs:
        parts = parts + [unset]
        score = _score(parts, positives, negatives)
    parts.sort(key=lambda p: -p.with_finding / p.runs)
    return Split(code, name, parts, score)


def _part(label: str, flags: list[bool]) -> Part:
    return Part(label, sum(flags), len(flags))


def _threshold(name: str, values: list[Value | None], flags: list[bool], positives: int,
               negatives: int) -> tuple[float, list[Part]]:
    """The split `name >= t` against `name < t`, t one of the values, that scores best (ties: the
    larger difference of the two shares, then the smaller t)."""
    numbers = [float(v) if _numeric(v) else None for v in values]  # type: ignore[arg-type]
    written = {n: v for n, v in zip(numbers, values) if n is not None and v is not None}  # 64, not 64.0
    best: tuple[float, float, list[Part]] | None = None
    for t in sorted(written)[1:]:
        high = [f for n, f in zip(numbers, flags) if n is not None and n >= t]
        low = [f for n, f in zip(numbers, flags) if n is not None and n < t]
        parts = [_part(f"{name} >= {show(written[t])}", high), _part(f"{name} < {show(written[t])}", low)]
        score = _score(parts, positives, negatives)
        gap = abs(parts[0].with_finding / parts[0].runs - parts[1].with_finding / parts[1].runs)
        if best is None or (score, gap) > (best[0], best[1]):
            best = (score, gap, parts)
    if best is None:  # one value only: the runs that set it against those that do not
        only = next(iter(written.values()))
        return 0.5, [_part(f"{name} = {show(only)}", [f for n, f in zip(numbers, flags) if n is not None])]
    return best[0], best[2]


def _score(parts: list[Part], positives: int, negatives: int) -> float:
    """Balanced accuracy when each part is called for or against the finding, whichever fits it."""
    if not positives or not negatives:
        return 0.5
    return 0.5 * sum(max(p.with_finding / positives, (p.runs - p.with_finding) / negatives) for p in parts)
