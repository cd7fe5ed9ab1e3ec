"""Every shape word in a report matches the measured class in its JSON, on every fixture.

The classes' phrases are written here, independently of the code that writes the words: a
paragraph that says "bell-shaped" of a series the JSON calls "uniform" fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.config import Options
from reportgen.pipeline import analyse, build_report
from reportgen.reading.loader import load

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
LOGDIRS = [REPO / "sample_logs", *(p for p in sorted((REPO / "tests" / "fixtures").iterdir()) if p.is_dir()),
           *((p for p in sorted(SHARED.joinpath("wild").iterdir()) if p.is_dir()) if SHARED.joinpath("wild").is_dir()
             else [])]

PHRASES = {"uniform": ("flat plateau",), "bell": ("bell-shaped",), "bimodal": ("two groups",),
           "multimodal": ("several values",), "spike_at_zero": ("exactly 0",), "saturated": ("bounds of their range",),
           "heavy_tailed": ("long tails",), "skewed": ("skewed",), "constant": ("same value", "all equal"),
           "few_values": (" values, at ", " values between ", " values in "), "empty": ("empty",),
           "unclear": ("flat-topped", "peaked", "lean ", "are spread")}
ANY_SHAPE = [p for phrases in PHRASES.values() for p in phrases]


def _sentence(paragraph: str, tag: str) -> str:
    """The sentences about one tag: from its mention to the next series' mention."""
    start = paragraph.index(f"({tag}")
    rest = paragraph[start + 1:]
    heads = (". Weights (", ". Biases (", ". Normalisation", ". Running", ". Pre-activations (", ". Activations (",
             ". Outputs (", ". Gradients (", ". Logged data (", ". Values (")
    following = [i for i in (rest.find(h) for h in heads) if i >= 0]
    return paragraph[start:start + 1 + (min(following) if following else len(rest))]


@pytest.mark.parametrize("logdir", LOGDIRS, ids=[p.name for p in LOGDIRS])
def test_shape_words_are_the_measured_class(logdir):
    logs = load([str(logdir)])
    report = build_report(logs, Options(), analyse(logs), [], [])
    checked = 0
    for run in report.runs:
        for layer in run.layers:
            for series in layer.series:
                if series.kind == "gradients" or f"({series.tag}" not in layer.paragraph:
                    continue
                text = _sentence(layer.paragraph, series.tag)
                said = [cls for cls, phrases in PHRASES.items() if any(p in text for p in phrases)]
                wanted = {series.shape_first, series.shape} if series.kind in ("weights", "bias", "norm") \
                    else {series.shape}
                assert wanted <= set(said) or (wanted - set(said) <= {series.shape_first} and "identical" in text), \
                    f"{series.tag}: JSON says {wanted}, the words say {said}: {text}"
                checked += 1
    assert checked or not any(layer.series for run in report.runs for layer in run.layers)


@pytest.mark.parametrize("logdir", LOGDIRS, ids=[p.name for p in LOGDIRS])
def test_a_layer_that_moved_is_given_one_percentage_in_the_words_and_in_the_figure(logdir):
    """"layer4 (10%)" above a panel titled "layer4 moved 9.7%" reads as two measurements."""
    import re

    from reportgen.charts.overview import moved_words

    logs = load([str(logdir)])
    report = build_report(logs, Options(), analyse(logs), [], [])
    for run in report.runs:
        for layer in run.layers:
            changes = [s.change for s in layer.series if s.kind == "weights" and s.change is not None]
            if len(changes) != 1:
                continue
            name = re.escape(layer.name)
            said = set(re.findall(rf"\b{name} \((\d[\d.]*%)\)|\b{name} moved (\d[\d.]*%)", run.summary))
            said = {a or b for a, b in said}
            assert said <= {moved_words(changes[0]).removeprefix("moved ")}, (run.name, layer.name, said)
