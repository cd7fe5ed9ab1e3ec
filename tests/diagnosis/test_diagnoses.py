"""One diagnosis per layer and run, causes before symptoms, severities a careful engineer would sign.

Each test is a log shaped like a real run that went wrong in issue 13's review: 33 critical
findings for one divergence, a grad scaler's skipped steps called critical, "exploding" from a
near-zero start, a layer both exploding and not learning, vanishing gradients reported as nine
not-learning layers, ELU and leaky-ReLU units pinned where they pass no gradient, LSTM zeros read
as dead ReLUs, BatchNorm buffers and episode rewards judged as weights.
"""

from __future__ import annotations

import numpy as np

from reportgen.diagnosis import diagnose
from reportgen.diagnosis.layers import group
from reportgen.findings import Severity, Verdict
from reportgen.reading.loader import load
from tests.conftest import write_events

BASE = np.random.default_rng(5)


def uniform(n: int = 2000, bound: float = 0.1) -> np.ndarray:
    return BASE.uniform(-bound, bound, n)


def moving(base: np.ndarray, rate: float = 0.05):
    return lambda step, rng: base * (1 + rate * step) + rate * 0.1 * step


def falling(step: int) -> float:
    return 1.4 * 0.85**step + 0.05


def diagnosis_of(tmp_path, histograms=None, scalars=None, steps=20, run="run", tf2=False):
    write_events(tmp_path / run, histograms or {}, scalars or {}, steps, tf2=tf2)
    return diagnose(load([str(tmp_path)]))


def with_inf(values: np.ndarray) -> np.ndarray:
    """What torch logs of a tensor holding Inf: the histogram's max and sum are Inf."""
    values = values.copy()
    values[0] = np.inf
    return values


def codes(diagnosis, severe_only=False):
    return sorted(f.code for f in diagnosis.findings if not severe_only or f.severity is not Severity.INFO)


def test_one_finding_per_layer_and_code_with_every_tag_as_evidence(tmp_path):
    """A dead ReLU layer logged under two names is one finding that lists both."""
    dead = lambda step, rng: np.maximum(rng.normal(-2, 1, 2000), 0)
    found = diagnosis_of(tmp_path, {"activations/fc1": dead, "fc1/relu": dead, "fc1.weight": moving(uniform())},
                         {"loss": falling}).findings
    dead_units = [f for f in found if f.code == "dead_units"]
    assert len(dead_units) == 1
    assert set(dead_units[0].tags) == {"activations/fc1", "fc1/relu"} and dead_units[0].evidence["also"]


def test_a_nan_run_gets_one_headline_naming_where_it_started(tmp_path):
    """fc1's weights turn NaN at step 8, fc2's at step 10, the loss at 10: one finding at fc1,
    step 8, the rest its consequences; nothing after step 8 is judged by the other rules
    (fc2's NaN weights are not 'not learning'). TF2 histograms, which can hold NaN edges."""
    w1, w2 = uniform(), uniform()
    nan_from = lambda base, start: lambda step, rng: np.full(2000, np.nan) if step >= start else moving(base)(step, rng)
    found = diagnosis_of(tmp_path, {"fc1.weight": nan_from(w1, 8), "fc2.weight": nan_from(w2, 10)},
                         {"loss": lambda step: float("nan") if step >= 10 else falling(step)}, tf2=True).findings
    [headline] = [f for f in found if f.code == "nan_or_inf"]
    assert headline.severity is Severity.CRITICAL and headline.layer == "fc1"
    assert headline.evidence["first_nonfinite_step"] == 8
    assert [o["layer"] for o in headline.evidence["order"]] == ["fc1", "fc2", "loss"]
    assert "consequences of the first" in headline.message
    assert [f.code for f in found if f.code != "nan_or_inf" and f.severity is not Severity.INFO] == []


def test_a_grad_scaler_skipping_steps_is_info_and_the_run_healthy(tmp_path):
    """fp16 with a GradScaler: gradients Inf at 3 of 40 steps (grad_norm Inf there, the loss
    scale halved each time), weights finite, loss falling."""
    skipped = {7, 19, 31}
    base = uniform()
    grad = lambda step, rng: with_inf(rng.normal(0, 0.01, 2000)) if step in skipped else rng.normal(0, 0.01, 2000)
    scale = lambda step: 65536.0 * 2.0 ** (step // 10) / 2.0 ** sum(s <= step for s in skipped)
    diagnosis = diagnosis_of(tmp_path, {"fc1.weight": moving(base), "fc1.weight.grad": grad},
                             {"train/loss": falling, "train/grad_norm": lambda step: float("inf") if step in skipped
                              else 1.0, "train/loss_scale": scale}, steps=40)
    [overflow] = [f for f in diagnosis.findings if f.code == "nan_or_inf"]
    assert overflow.severity is Severity.INFO and overflow.evidence["skipped_steps"] == 3
    assert "grad scaler" in overflow.message and overflow.evidence["loss_scale_drops"] == 3
    assert diagnosis.run_verdict["run"] is Verdict.HEALTHY


def test_inf_in_the_weights_is_not_a_grad_scaler(tmp_path):
    """The same Inf gradients, but the weights go Inf too: the run is broken."""
    base = uniform()
    weights = lambda step, rng: with_inf(moving(base)(step, rng)) if step >= 20 else moving(base)(step, rng)
    grad = lambda step, rng: with_inf(rng.normal(0, 0.01, 2000)) if step in (7, 19) else rng.normal(0, 0.01, 2000)
    diagnosis = diagnosis_of(tmp_path, {"fc1.weight": weights, "fc1.weight.grad": grad},
                             {"train/loss": falling}, steps=40)
    [broken] = [f for f in diagnosis.findings if f.code == "nan_or_inf"]
    assert broken.severity is Severity.CRITICAL


def test_gradients_growing_from_near_zero_while_the_loss_falls_are_not_exploding(tmp_path):
    """A clipped LSTM with a zero-initialised head: bias gradients start at 1e-6 and grow to
    0.1 as learning starts; the weights stay in scale and the loss falls 90%."""
    grow = lambda step, rng: rng.normal(0, 1e-6 * 10 ** (step / 4), 500)
    normal = lambda step, rng: rng.normal(0, 0.05, 2000)
    diagnosis = diagnosis_of(tmp_path, {"rnn.weight_hh_l0": moving(uniform()), "rnn.weight_hh_l0.grad": normal,
                                        "rnn.bias_hh_l0.grad": grow, "head.weight.grad": normal},
                             {"train/loss": falling})
    assert "exploding" not in codes(diagnosis)


def test_the_same_growth_with_the_loss_rising_is_exploding(tmp_path):
    grow = lambda step, rng: rng.normal(0, 1e-3 * 10 ** (step / 4), 500)
    normal = lambda step, rng: rng.normal(0, 0.05, 2000)
    diagnosis = diagnosis_of(tmp_path, {"rnn.weight_hh_l0.grad": grow, "head.weight.grad": normal},
                             {"train/loss": lambda step: 0.7 * 1.3**step})
    [found] = [f for f in diagnosis.findings if f.code == "exploding"]
    assert found.severity is Severity.CRITICAL and found.layer == "rnn" and "objective" in found.message


def test_a_layer_whose_spread_exploded_is_not_also_not_learning(tmp_path):
    """An LSTM's recurrent weights growing 1e5x: measured against the larger spread, the move
    looked like 0.2%. It is exploding, and only that."""
    base = uniform()
    diagnosis = diagnosis_of(tmp_path, {"rnn.weight_hh_l0": lambda step, rng: base * 1.9**step,
                                        "head.weight": moving(uniform())},
                             {"train/loss": lambda step: 0.7 * 1.2**step})
    layer_codes = {(f.layer, f.code) for f in diagnosis.findings}
    assert ("rnn", "exploding") in layer_codes and ("rnn", "not_learning") not in layer_codes


def test_vanishing_gradients_are_the_cause_and_still_layers_its_consequence(tmp_path):
    """Six sigmoid layers: gradients shrink 20x per layer back to fc1, whose weights barely move.
    One vanishing_gradient finding names the layers; none of them is also 'not learning'."""
    histograms = {}
    for i in range(1, 7):
        base = uniform()
        size = 0.02 / 20 ** (6 - i)
        histograms[f"fc{i}.weight"] = (lambda b, r: lambda step, rng: b * (1 + r * step))(base, 0.0005 * 20 ** (i - 6))
        histograms[f"fc{i}.weight.grad"] = (lambda s: lambda step, rng: rng.normal(0, s, 500))(size)
    diagnosis = diagnosis_of(tmp_path, histograms, {"train/loss": lambda step: 1.386 + 0.001 * (step % 3)})
    [vanishing] = [f for f in diagnosis.findings if f.code == "vanishing_gradient"]
    assert vanishing.layer == "fc1" and {"fc1", "fc2", "fc3"} <= set(vanishing.evidence["vanishing_layers"])
    assert "fc1" in vanishing.evidence["not_moving_layers"]
    not_learning = {f.layer for f in diagnosis.findings if f.code == "not_learning"}
    assert not not_learning & set(vanishing.evidence["vanishing_layers"])


def test_elu_units_pinned_at_their_floor_are_saturated(tmp_path):
    """ELU after a bias of -5: 95% of the values sit near -1, where ELU's slope is under 0.1."""
    elu = lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0)))
    pinned = lambda step, rng: elu(rng.normal(-5, 2, 4000))
    healthy = lambda step, rng: elu(rng.normal(0, 1.5, 4000))
    found = diagnosis_of(tmp_path, {"activations/act1": healthy, "activations/act2": pinned,
                                    "fc1.weight": moving(uniform())}, {"loss": lambda step: 1.39}).findings
    saturated = [f for f in found if f.code == "saturation"]
    assert [f.layer for f in saturated] == ["act2"] and "ELU's floor of -1" in saturated[0].message


def test_leaky_relu_units_on_their_negative_side_are_saturated(tmp_path):
    leaky = lambda z: np.where(z > 0, z, 0.01 * z)
    negative = lambda step, rng: leaky(rng.normal(-5, 1, 4000))
    healthy = lambda step, rng: leaky(rng.normal(0, 1.5, 4000))
    found = diagnosis_of(tmp_path, {"activations/act1": healthy, "activations/act2": negative},
                         {"loss": lambda step: 1.39}).findings
    assert [(f.code, f.layer) for f in found if f.code in ("saturation", "dead_units")] == [("saturation", "act2")]


def test_zeros_of_lstm_outputs_and_dropout_are_not_dead_relus(tmp_path):
    sparse = lambda step, rng: np.where(rng.random(4000) < 0.9, 0.0, np.abs(rng.normal(0, 1, 4000)))
    found = diagnosis_of(tmp_path, {"activations/lstm": sparse, "activations/dropout1": sparse,
                                    "activations/relu1": sparse}, {"loss": falling}).findings
    assert [f.layer for f in found if f.code == "dead_units"] == ["relu1"]


def test_batchnorm_buffers_and_gains_are_not_judged_as_weights(tmp_path):
    """running_var and a gain that stays at 1 while conv1 learns: no not_learning, no no_bias."""
    ones = lambda step, rng: np.ones(64)
    still = lambda step, rng: np.full(64, 0.5)
    tags = {"conv1.weight": moving(uniform()), "conv1.bias": moving(uniform(64)), "bn1.weight": ones,
            "bn1.bias": lambda step, rng: np.zeros(64), "bn1.running_var": still,
            "bn1.num_batches_tracked": lambda step, rng: np.array([float(step)])}
    diagnosis = diagnosis_of(tmp_path, tags, {"loss": lambda step: 1.0})
    assert group(list(tags))[1].tags == {"bn1.weight": "norm", "bn1.bias": "norm", "bn1.running_var": "buffers",
                                         "bn1.num_batches_tracked": "buffers"}
    assert not [f for f in diagnosis.findings if f.layer == "bn1"]


def test_histograms_of_data_get_no_layer_rules(tmp_path):
    """RLlib's episode rewards, mostly 0, are data, not dead units."""
    rewards = lambda step, rng: np.where(rng.random(500) < 0.8, 0.0, rng.uniform(0, 10, 500))
    diagnosis = diagnosis_of(tmp_path, {"ray/tune/hist_stats/episode_reward": rewards},
                             {"ray/tune/episode_reward_mean": lambda step: 1.0 + step})
    assert not diagnosis.findings
    assert diagnosis.layers["run"][0].tags == {"ray/tune/hist_stats/episode_reward": "data"}


def test_a_frozen_backbone_under_fine_tuning_is_a_note(tmp_path):
    """backbone.* identical at every step while the head learns and the loss falls: fine-tuning.
    The same frozen layer named fc1 is a warning."""
    frozen = uniform()
    backbone = {"backbone.0.weight": lambda step, rng: frozen, "head.weight": moving(uniform())}
    [note] = [f for f in diagnosis_of(tmp_path / "a", backbone, {"loss": falling}).findings if f.code == "not_learning"]
    assert note.severity is Severity.INFO and "pretrained" in note.message
    plain = {"fc1.weight": lambda step, rng: frozen, "fc2.weight": moving(uniform())}
    [warning] = [f for f in diagnosis_of(tmp_path / "b", plain, {"loss": falling}).findings if f.code == "not_learning"]
    assert warning.severity is Severity.WARNING
