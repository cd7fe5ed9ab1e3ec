"""Words from features and findings: fixed sentence templates, deterministic, no network.

`layer_paragraph` reads one layer's charts the way a careful person would (shape, range, how it
moved, what it means); `run_summary` gives the verdict, the most important findings and the
loss trend. The pipeline calls both after the diagnosis; "barely moved" uses the diagnosis'
own `not_learning_change`, so the words and the findings agree.
"""

from __future__ import annotations

import numpy as np

from reportgen.diagnosis.curves import ScalarFeatures
from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.roles import Role
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.findings import Finding, Severity, Verdict
from reportgen.model import TAG_KINDS
from reportgen.narrative.advice import Comparable, comparable, contrast, what_to_try
from reportgen.narrative.shape_words import range_words, shape_words
from reportgen.numbers import and_list, plural
from reportgen.numbers import pct as _threshold_pct
from reportgen.numbers import readable as num
from reportgen.numbers import share as pct

__all__ = ["Comparable", "comparable", "contrast", "layer_paragraph", "run_summary", "series_sentence", "summary_parts",
           "with_comparison"]

_KIND_NAME = {"weights": "Weights", "bias": "Biases", "norm": "Normalisation gains and shifts",
              "buffers": "Running statistics", "pre-activations": "Pre-activations", "activations": "Activations",
              "gradients": "Gradients", "outputs": "Outputs", "data": "Logged data", "other": "Values"}
def _weights_sentence(s: SeriesFeatures, barely: float) -> str:
    first, last = int(s.steps[0]), int(s.steps[-1])
    values = plural(int(s.count), "value")
    text = f"{_KIND_NAME[s.kind]} ({s.tag}, {values}) at step {first} {shape_words(s, last=False)}"
    if s.init:
        fans = f", {s.init.fans_words()}" if s.init.shape else ""
        text += f", which is what {s.init.family} initialisation looks like{fans}"
    text += ". "
    if len(s.steps) < 2:
        return text + "Only one step was logged, so how it moved is unknown."
    return text + _movement(s, first, last, barely)


def _movement(s: SeriesFeatures, first: int, last: int, barely: float) -> str:
    if not np.isfinite(s.change):
        return f"By step {last} it holds non-finite values."
    growth = s.growth()
    if s.change == 0:
        return f"They are identical at step {last}: they never change."
    if s.shape_first == "constant":
        if s.shape_last == "constant":
            return f"By step {last} they all equal {num(s.mean[-1])}."
        return f"By step {last} they have spread out; now they {shape_words(s, last=True)}."
    still_init = " and still look like that initialisation" if s.init and s.shape_last == s.shape_first else ""
    if s.change < barely:
        return (f"By step {last} they have barely changed ({_threshold_pct(s.change, barely)} of their initial "
                f"spread){still_init}.")
    how = "a little" if s.change < 0.05 else "clearly"
    moved = f"By step {last} they have moved {how} ({_threshold_pct(s.change)} of their initial spread)"
    std0, std1 = float(s.std[0]), float(s.std[-1])
    if std0 > 0 and std1 / std0 >= 1.2:
        moved += f" and widened from std {num(std0)} to {num(std1)}"
    elif std0 > 0 and std1 / std0 <= 0.8:
        moved += f" and narrowed from std {num(std0)} to {num(std1)}"
    if growth >= 10:
        moved += f"; its typical size grew {growth:.0f}x"
    if s.change < 0.05:
        moved += still_init
    if s.shape_last != s.shape_first:
        return moved + f"; now they {shape_words(s, last=True)}."
    return moved + f", now {range_words(s.q_last)}."


def _activity_sentence(s: SeriesFeatures) -> str:
    last = int(s.steps[-1])
    text = f"{_KIND_NAME[s.kind]} ({s.tag}) at step {last} {shape_words(s, last=True)}"
    if s.bound and s.bound_fraction.size and s.bound_fraction[-1] >= 0.01 and s.shape_last != "few_values":
        text += f"; {pct(s.bound_fraction[-1])} sit near the {s.bound} bounds"
    if len(s.steps) >= 2 and float(s.std[0]) > 0 and s.shape_last != "few_values":
        ratio = float(s.std[-1]) / float(s.std[0])
        if ratio >= 1.5:
            text += f"; their spread grew {ratio:.1f}x since step {int(s.steps[0])}"
        elif 0 < ratio <= 1 / 1.5:
            text += f"; their spread shrank {1 / ratio:.1f}x since step {int(s.steps[0])}"
    probabilities = s.kind == "outputs" and s.bound == "" and float(s.min[-1]) >= 0 and float(s.max[-1]) <= 1
    if probabilities and len(s.steps) >= 2 and float(s.std[-1]) > 1.5 * float(s.std[0]):
        text += " (the predictions became more confident)"
    return text + "."


def _gradient_sentence(s: SeriesFeatures) -> str:
    finite = s.rms[np.isfinite(s.rms)]
    if not finite.size:
        return f"Gradients ({s.tag}) are not finite."
    return (f"Gradients ({s.tag}) have a typical size of {num(finite[-1])} at step {int(s.steps[-1])} "
            f"(from {num(finite[0])} at step {int(s.steps[0])}).")


def series_sentence(s: SeriesFeatures, barely: float) -> str:
    if not s.steps.size:
        return f"{s.tag} has no steps."
    if s.kind in ("weights", "bias", "norm"):
        return _weights_sentence(s, barely)
    if s.kind == "gradients":
        return _gradient_sentence(s)
    return _activity_sentence(s)


def layer_paragraph(layer: LayerFeatures, t: Thresholds) -> str:
    """One paragraph for one layer, its series in the order of model.TAG_KINDS."""
    ordered = sorted(layer.series.values(), key=lambda s: (TAG_KINDS.index(s.kind), s.tag))
    text = " ".join(series_sentence(s, t.not_learning_change) for s in ordered)
    if ordered and all(s.kind == "data" for s in ordered):
        text += " These are values the run logged (rewards, lengths, inputs), not a layer: no layer rule judges them."
    if any(s.kind == "buffers" for s in ordered):
        text += " Running statistics follow the data the layer sees; no rule judges them as weights."
    return text


_ROLE_WORDS = {Role.OBJECTIVE: "the training objective", Role.EVAL_LOSS: "the evaluation loss",
               Role.REWARD: "the reward", Role.ACCURACY: "", Role.RL_VALUE_LOSS: "the value loss"}


def _decay_words(lr: ScalarFeatures | None) -> str:
    """How the logged learning rate fell, when it fell at least 10x: why a loss flattens."""
    if lr is None or lr.points < 2 or not lr.values.max() > 0:
        return ""
    top, end = float(lr.values.max()), float(lr.values[-1])
    return f" as the learning rate decayed from {num(top)} to {num(end)}" if end <= 0.1 * top else ""


def _trend(s: ScalarFeatures, t: Thresholds, lr: ScalarFeatures | None = None) -> str:
    role = _ROLE_WORDS.get(s.role, "")
    leaf = s.tag.rsplit("/", 1)[-1].lower()
    name = s.tag if not role or role.endswith(" " + leaf) else f"{role} {s.tag}"  # not "the reward reward"
    if not s.values.size:
        return f"{name} has no finite values"
    if s.values.size == 1:
        return f"{name} was logged once ({num(s.values[0])})"
    if s.signed and s.is_loss:
        return (f"{name} has negative values (between {num(s.values.min())} and {num(s.values.max())}), so it is a "
                "surrogate objective (policy-gradient, contrastive or adversarial) whose level says little about "
                "progress")
    # A short curve is told by its first and last values: windows of a few points would blur it.
    windowed = s.window >= t.trend_window_min
    start, end = (s.early, s.late) if windowed else (float(s.values[0]), float(s.values[-1]))
    change = (end - start) / abs(start) if start else 0.0
    if not start:
        word = "moved"
    elif abs(change) < 0.005:
        word = "stayed flat"
    elif start * end <= 0:  # across 0 a share means nothing: "rose from -0.078 to 0.14"
        word = "rose" if end > start else "fell"
    else:
        word = f"{'rose' if change > 0 else 'fell'} {_threshold_pct(abs(change))}"  # 99.6%, not 100%
    best = f", best {num(s.best)} at step {s.best_step}" if num(s.best) not in (num(start), num(end)) else ""
    text = f"{name} {word} from {num(start)} to {num(end)} {_between(s, windowed)}{best}"
    settled = s.settled_step() if s.trend_judged(t) and s.improvement() > 0 else None
    if settled is not None:
        text += f", then flattened after step {settled}{_decay_words(lr)}"
    if not s.trend_judged(t):
        text += f" ({s.points} points: too few to judge a trend)"
    if s.role is Role.RL_VALUE_LOSS and change > 0:
        text += " (a value loss follows the returns it predicts: rising is expected while they grow)"
    return text


def _between(s: ScalarFeatures, windowed: bool) -> str:
    """Where the two levels of a trend come from. Medians of windows are said as such: "from
    0.0079 between step 0 and step 950" read as the value at step 0, which was 0.26."""
    first, last = int(s.steps[0]), int(s.steps[-1])
    if not windowed:
        return f"between step {first} and step {last}"
    head, tail = int(s.steps[s.window - 1]), int(s.steps[-s.window])
    return (f"(medians of its first and last {s.window} points: steps {first}–{head} and "
            f"{tail}–{last})")


def _trend_curves(run: RunFeatures) -> list[ScalarFeatures]:
    """The curves a reader looks at first, each once: the objective, the reward, the evaluation
    losses and the accuracies (at most two of each)."""
    picked = [c for c in (run.objective(), run.reward()) if c is not None]
    for role in (Role.EVAL_LOSS, Role.ACCURACY, Role.RL_VALUE_LOSS if run.reward() else None):
        picked += [c for c in run.of_role(role) if c not in picked][:2] if role else []
    return picked


_VERDICT_WORDS = {Verdict.HEALTHY: "Healthy: no rule found a problem.",
                  Verdict.WARNINGS: "Warnings: the run trains, but {problems} {hold} it back.",
                  Verdict.CRITICAL: "Critical: training is broken."}


def run_summary(run: RunFeatures, findings: list[Finding], verdict: Verdict, t: Thresholds,
                unjudged: str = "", hparams: dict[str, object] | None = None, compared: str = "") -> str:
    """The summary as one paragraph (see `summary_parts`)."""
    return " ".join(summary_parts(run, findings, verdict, t, unjudged, hparams, compared))


_MOST_IMPORTANT = "Most important: "


def with_comparison(parts: list[str], compared: str) -> list[str]:
    """The summary's parts with what a healthier run shows (`contrast`) right after its most
    important problems (none: as they were)."""
    at = next((i + 1 for i, part in enumerate(parts) if part.startswith(_MOST_IMPORTANT)), None)
    if not compared or at is None:
        return parts
    return [*parts[:at], f"For comparison, {compared}", *parts[at:]]


def summary_parts(run: RunFeatures, findings: list[Finding], verdict: Verdict, t: Thresholds,
                  unjudged: str = "", hparams: dict[str, object] | None = None, compared: str = "") -> list[str]:
    """Verdict, the (up to) three most important problems, what to try (from the evidence), what
    a healthier run of the report shows (`compared`), and the trend.

    Findings of one code are told once (the first message, then the other layers), and
    not_learning is told as the contrast between the layers that learn and those that do not.
    """
    if verdict is Verdict.NOT_JUDGED:
        return [f"Not judged: {unjudged}." if unjudged else "Not judged."]
    severe = [f for f in findings if f.severity is not Severity.INFO]
    codes = len(dict.fromkeys(f.code for f in severe))
    parts = [_VERDICT_WORDS[verdict].format(problems="one problem" if codes == 1 else f"{codes} problems",
                                            hold="holds" if codes == 1 else "hold")]
    if verdict is Verdict.HEALTHY and findings:
        parts = ["Healthy: nothing needs fixing."]
    told = _told_by_code(run, severe, 3, t.not_learning_change)
    if told:
        parts.append(_MOST_IMPORTANT + " ".join(f"({i}) {text}" for i, text in enumerate(told, 1)))
        tries = what_to_try(run, findings, hparams or {})
        if tries:
            parts.append("What to try: " + " ".join(f"({chr(97 + i)}) {item}" for i, item in enumerate(tries)))
    notes = _told_by_code(run, [f for f in findings if f.severity is Severity.INFO], 2, t.not_learning_change)
    if notes:
        parts.append(("Note: " if len(notes) == 1 else "Notes: ") + " ".join(notes))
    curves = _trend_curves(run)
    if curves:
        rates = run.of_role(Role.LEARNING_RATE)
        lr = max(rates, key=lambda r: r.points) if rates else None
        parts.append("Trend: " + "; ".join(_trend(s, t, lr) for s in curves) + ".")
    else:
        parts.append("No loss, reward or accuracy scalar was logged, so the trend is unknown.")
    return with_comparison(parts, compared)


def _told_by_code(run: RunFeatures, findings: list[Finding], limit: int, barely: float) -> list[str]:
    """One text per code, worst first, at most `limit`."""
    codes: list[str] = []
    for f in findings:
        if f.code not in codes:
            codes.append(f.code)
    texts = []
    for code in codes[:limit]:
        same = [f for f in findings if f.code == code]
        if code == "not_learning":
            texts.append(_learning_contrast(run, same, barely))
            continue
        text = same[0].message
        others = sorted({f.layer for f in same[1:]} - {same[0].layer})
        if others:
            text += f" The same holds for {and_list(others)}."
        texts.append(text)
    return texts


def _learning_contrast(run: RunFeatures, still: list[Finding], barely: float) -> str:
    """Which layers learn and which do not, with the numbers, in one or two sentences."""
    layers = list(dict.fromkeys(f.layer for f in still))
    change = {f.layer: f.evidence.get("relative_change", 0.0) for f in still}
    threshold = still[0].evidence.get("threshold", barely)
    steps = (min(f.steps[0] for f in still), max(f.steps[1] for f in still))
    frozen = all(change[name] == 0 for name in layers)
    how = "are identical" if frozen else "barely moved"
    listed = and_list([f"{name} ({_threshold_pct(change[name], threshold)})" for name in layers])
    weights = [s for lf in run.layers if lf.layer.name in layers for s in lf.of_kind("weights")]
    inits = {s.init.family for s in weights if s.init and s.shape_last == s.shape_first}
    inits = inits if len([s for s in weights if s.init and s.shape_last == s.shape_first]) == len(weights) else set()
    init = f" and still look like their {inits.pop()} initialisation" if len(inits) == 1 else ""
    head = (f"The weights of {listed} {how} between step {steps[0]} and step {steps[1]} "
            f"(share of their initial spread; threshold {_threshold_pct(threshold)}){init}")
    moving = [(lf.layer.name, s) for lf in run.layers if lf.layer.name not in layers
              for s in lf.of_kind("weights") if np.isfinite(s.change)]
    if not moving:
        return head + (": no weight layer of the network changed visibly, which points at the learning rate, the "
                       "gradients or the loss signal.")
    moved = and_list([f"{name} ({_threshold_pct(s.change)})" for name, s in moving])
    return f"{head}, while {moved} moved: {'that layer learns' if len(layers) == 1 else 'those layers learn'} nothing."
