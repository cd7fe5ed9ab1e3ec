"""The words: deterministic templates that state what the charts show, with numbers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np

from reportgen.pipeline import analyse
from reportgen.reading.loader import load
from tests.conftest import write_events, write_question_and_fix
from tools.eventwriter import EventWriter


def _question_like_run(tmp_path):
    """A Glorot-uniform 60x200 tanh layer that never moves, a last layer that does, a signed loss."""
    rng = np.random.default_rng(3)
    limit = np.sqrt(6 / 260)
    w1 = rng.uniform(-limit, limit, (60, 200))
    w4 = rng.uniform(-np.sqrt(6 / 203), np.sqrt(6 / 203), (200, 3))
    with EventWriter(str(tmp_path / "question"), wall_time=1.0) as writer:
        for step in range(10):
            writer.add_histogram("layer1/weights", w1, step)
            writer.add_histogram("layer1/activations", np.tanh(rng.normal(0, 0.27, 5000)), step)
            writer.add_histogram("layer4/weights", w4 * (1 + 0.05 * step), step)
            writer.add_scalar("loss", 0.2 * np.sin(step * 2.3), step)
    return load([str(tmp_path)])


def test_layer_paragraph_reads_shape_range_init_and_movement(tmp_path):
    logs = _question_like_run(tmp_path)
    text = analyse(logs).layer_text[("question", "layer1")]
    assert "flat plateau from -0.15 to 0.15" in text
    assert "Glorot/Xavier uniform initialisation looks like, consistent with a layer of 60 x 200 weights" in text
    assert "identical at step 9" in text
    assert "Activations (layer1/activations)" in text and "bell-shaped" in text


def test_run_summary_has_verdict_top_findings_contrast_and_trend(tmp_path):
    logs = _question_like_run(tmp_path)
    analysis = analyse(logs)
    summary = analysis.run_summary["question"]
    assert analysis.diagnosis.run_verdict["question"] == "warnings"
    assert summary.startswith("Warnings: the run trains, but one problem holds it back.")
    assert "The weights of layer1 (0.0%) are identical between step 0 and step 9" in summary
    assert "while layer4 (" in summary and "that layer learns nothing" in summary
    assert "What to try: (a) Check that layer1 is trainable" in summary  # identical at every step: frozen first
    assert "surrogate objective" in summary  # the signed loss is not read as a level


_WORDS = """
import json, sys
from reportgen.pipeline import analyse
from reportgen.reading.loader import load
analysis = analyse(load([sys.argv[1]]))
print(json.dumps({"layers": sorted(map(list, analysis.layer_text.items())), "runs": analysis.run_summary}))
"""


def test_words_are_deterministic_across_processes(tmp_path):
    """Two separate processes, with different hash seeds (set and dict orders of strings differ),
    write the same words for the same logs."""
    _question_like_run(tmp_path)
    outputs = [subprocess.run([sys.executable, "-c", _WORDS, str(tmp_path)], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert outputs[0] == outputs[1]
    assert "flat plateau" in " ".join(text for _, text in json.loads(outputs[0])["layers"])


def test_summary_tells_each_code_once_and_a_healthy_run_has_no_most_important(tmp_path):
    base = np.random.default_rng(5).uniform(-0.1, 0.1, (40, 50))
    frozen = {f"{name}/weights": lambda step, rng: base for name in ("a", "b", "c")}  # three frozen layers
    moving = {"d/weights": lambda step, rng: base * (1 + 0.2 * step) + rng.normal(0, 0.02, base.shape)}
    write_events(tmp_path / "run", {**frozen, **moving}, {"loss": lambda step: 1.0}, steps=10, seed=5)
    summary = analyse(load([str(tmp_path)])).run_summary["run"]
    assert summary.count("are identical") == 1 and "a (0.0%), b (0.0%) and c (0.0%)" in summary
    assert summary.count("(1)") == 1 and "(2)" in summary  # not_learning once, then the flat loss


def test_moved_shape_reads_are_now(tmp_path):
    rng = np.random.default_rng(6)
    start = rng.uniform(-0.2, 0.2, 20000)
    trained = rng.normal(0, 0.12, 20000)
    moved = lambda step, _: start if step == 0 else trained * step / 5 + start * (1 - step / 5) * 0.3
    write_events(tmp_path / "run", {"fc/weight": moved}, steps=6)
    text = analyse(load([str(tmp_path)])).layer_text[("run", "fc")]
    assert "now they are bell-shaped around 0" in text and "now are" not in text


def test_advice_follows_the_evidence_and_names_it(tmp_path):
    """Early layers that moved a little (not frozen) while the last moved several times more,
    under plain SGD: the advice is the last layer taking the error signal, with the numbers; not
    "check that the layer is trainable", which a layer that moves at all cannot need."""
    rng = np.random.default_rng(8)
    w1, w2 = rng.uniform(-0.15, 0.15, (60, 200)), rng.uniform(-0.17, 0.17, (200, 3))
    drift = rng.normal(0, 1, w1.shape)
    with EventWriter(str(tmp_path / "run"), wall_time=1.0, hostname="t") as writer:
        writer.add_hparams_records({"optimizer": "sgd"})
        for step in range(12):
            writer.add_histogram("layer1/weights", w1 + 0.00005 * step * drift, step)
            writer.add_histogram("layer2/weights", w2 * (1 + 0.02 * step), step)
            writer.add_scalar("loss", 0.2 * np.sin(step * 2.3), step)
    analysis = analyse(load([str(tmp_path)]))
    summary = analysis.run_summary["run"]
    assert "trainable" not in summary
    advice = [step for f in analysis.diagnosis.findings if f.code == "not_learning" for step in f.recommendation]
    assert advice and not [step for step in advice if "trainable" in step]  # nor in the finding's own list
    assert "The last layer takes most of the error signal: layer2 moved" in summary
    assert "plain SGD gives every layer one learning rate" in summary and "try a smaller learning rate" in summary
    # The finding names the layer that moved and by how much, not "1 of 1 other weight series".
    moved = re.search(r"layer2 moved (\S+%) of its spread", summary)
    message = next(f.message for f in analysis.diagnosis.findings if f.code == "not_learning")
    assert moved and f"Other layers moved: layer2 ({moved.group(1)})." in message


def test_a_healthier_run_with_the_same_layers_is_used_as_the_contrast(tmp_path):
    """The question and its fix side by side: the fix has biases and uses Adam, and its layer1
    moved 4x more; the question's summary says so with the numbers."""
    write_question_and_fix(tmp_path)
    summary = analyse(load([str(tmp_path)])).run_summary["slow"]
    assert "For comparison, fixed, which has biases and uses adam, moved layer1 4x more" in summary


def test_a_trend_from_windows_says_so_and_keeps_the_first_decimal_below_100_percent(tmp_path):
    """Morvan's TF1 tutorial: loss 0.2608 at step 0, 0.0079 at step 50, 0.0036 by step 950. The
    summary said "fell 53% from 0.0079 to 0.0037 between step 0 and step 950" (0.0079 is the
    median of the first window, not the value at step 0); and a fall of 99.6% read "100%"."""
    values = [0.2608, 0.0079, 0.0077] + list(np.linspace(0.0075, 0.0036, 17))
    with EventWriter(str(tmp_path / "tf1"), wall_time=1.0) as writer:
        for i, value in enumerate(values):
            writer.add_scalar("loss/loss", value, 50 * i)
    summary = analyse(load([str(tmp_path)])).run_summary["tf1"]
    assert "between step 0 and step 950" not in summary
    assert "(medians of its first and last 5 points: steps 0–200 and 750–950)" in summary
    falling = [1.06] * 5 + list(np.geomspace(1.0, 0.005, 30)) + [0.0046] * 5  # 1.06 -> 0.0046: 99.57%
    with EventWriter(str(tmp_path / "long"), wall_time=1.0) as writer:
        for i, value in enumerate(falling):
            writer.add_scalar("train_loss", value, i)
    summary = analyse(load([str(tmp_path / "long")])).run_summary["long"]
    assert "fell 99.6% from 1.06 to 0.0046" in summary, summary


def _outputs_text(tmp_path, name, values):
    write_events(tmp_path / name, {"out": lambda step, _: values}, steps=2)
    text = analyse(load([str(tmp_path / name)])).layer_text[(name, "out")]
    return text


def test_a_lopsided_step_has_a_long_tail_only_when_its_tails_are_heavy(tmp_path):
    rng = np.random.default_rng(8)
    # A confident softmax as in sample_logs' question run: 15 of 27 outputs near 0, 6 in the
    # middle, 6 near 1 (excess kurtosis about -1.4: no tail at all, a second group at the top).
    softmax = np.concatenate([rng.uniform(0.001, 0.07, 15), rng.uniform(0.35, 0.69, 6), rng.uniform(0.93, 1, 6)])
    text = _outputs_text(tmp_path, "softmax", softmax)
    assert "skewed right, half below 0.0" in text and "long tail" not in text
    assert "skewed right (a long tail of large values), half below" in _outputs_text(
        tmp_path, "exponential", rng.exponential(1.0, 5000))
    assert "skewed left (a long tail of small values), half above" in _outputs_text(
        tmp_path, "reflected", -rng.exponential(1.0, 5000))


def test_groups_and_their_range_read_as_one_sentence(tmp_path):
    rng = np.random.default_rng(9)
    two = np.concatenate([rng.normal(-1, 0.1, 3000), rng.normal(1, 0.1, 3000)])
    assert "fall into two groups, mostly between" in _outputs_text(tmp_path, "two", two)


def _every_step(values):
    return lambda step, _: values


def test_the_moments_of_a_few_normal_values_are_not_read_as_a_shape(tmp_path):
    """Normal samples of 25 to 64 values that win no class read "are spread": their skewness and
    kurtosis are within sampling noise (before: half of those of 25 values read "flat-topped",
    13% "lean left" or "right")."""
    rng = np.random.default_rng(12)
    samples = {f"t{i}/activations": rng.normal(0, 1, (25, 32, 50, 64)[i % 4]) for i in range(120)}
    write_events(tmp_path / "few", {tag: _every_step(values) for tag, values in samples.items()}, steps=2)
    texts = analyse(load([str(tmp_path / "few")])).layer_text
    words = [texts[("few", tag.split("/")[0])] for tag in samples]
    claimed = [t for t in words if any(w in t for w in ("lean left", "lean right", "flat-topped", "are peaked"))]
    assert len(claimed) <= 2, claimed[:3]
    assert sum("are spread" in t for t in words) >= 40
