"""Numbers as the report writes them: one home for every number format.

Prose, findings, evidence, alt texts, tables and file sizes each have their own rule, and each
rule is here once.
"""

from __future__ import annotations

import math
import re


def evidence(x: float) -> float:
    """A number for a finding's evidence (JSON): 4 significant digits; NaN and Inf as they are."""
    x = float(x)
    return float(f"{x:.4g}") if math.isfinite(x) else x


def _pct_text(value: float, digits: int) -> str:
    return f"{value:.{digits}f}%"


def _default_digits(value: float) -> int:
    return 1 if (0 < abs(value) < 10 or 99 < value < 100) else 0


def pct(x: float, against: float | None = None) -> str:
    """A percentage; next to a threshold (`against`) with enough digits that the two never
    look equal or in the wrong order (1.46% is not printed as 1.5% against 1.5%)."""
    value = 100 * float(x)
    if not math.isfinite(value):
        return "inf%" if value > 0 else "NaN%"
    if against is None:
        text = _pct_text(value, _default_digits(value))
        return text.replace(".0%", "%") if text.endswith(".0%") else text
    limit = 100 * float(against)
    limit_text = pct(against)
    digits = max(_default_digits(value), len(limit_text[:-1].partition(".")[2]))
    while digits < 4:
        shown = round(value, digits)
        if (value < limit) == (shown < limit) and (value > limit) == (shown > limit):
            break
        digits += 1
    return _pct_text(value, digits)


def share(x: float) -> str:
    """A share in prose: one decimal below 1%, none above ("0.5%", "8%")."""
    v = 100 * x
    return f"{v:.1f}%" if 0 < v < 1 else f"{v:.0f}%"


def short(x: float) -> str:
    """A measured value in a finding's message: 3 significant digits, 2 for the very small or large."""
    return f"{x:.2g}" if abs(x) < 1e-3 or abs(x) >= 1e4 else f"{x:.3g}"


def readable(x: float) -> str:
    """A short, readable number in prose: 0.15, -0.0023, 1.2e+03."""
    x = float(x)
    if not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Inf" if x > 0 else "-Inf")
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.2g}"
    return f"{x:.2g}" if abs(x) < 1 else f"{x:.3g}"


def count(n: float) -> str:
    """A count with thousands separators: 12,000."""
    return f"{int(n):,}"


def plural(n: int, noun: str, nouns: str = "") -> str:
    """ "1 step", "3 steps", "2 series" (with `nouns` for irregular plurals)."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def and_list(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c": words as a sentence lists them (at least one)."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def sig4(value: float) -> str:
    """A short number for alt texts and chart notes: 4 significant digits."""
    if value != value:
        return "NaN"
    return f"{value:.4g}"


def measured(value: float | None) -> str:
    """A measured number in a table: 4 significant digits; "n/a" when missing, NaN/inf spelled out."""
    if value is None:
        return "n/a"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def percent_label(fraction: float, _position: object = None) -> str:
    """A share as a percentage with no needless digits: 0.001 -> "0.1%", 1 -> "100%" (also a
    Matplotlib tick formatter, hence the unused position)."""
    return f"{fraction * 100:.3g}%"


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
