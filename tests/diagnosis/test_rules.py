"""Each rule fires on a run that has its fault and stays quiet on one that does not.

Runs are real event files written in tmp_path by EventWriter (legacy histograms as torch writes
them, TF2 tensor histograms as Keras writes them), read back by the loader, then diagnosed.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from reportgen.config import Options
from reportgen.diagnosis import diagnose
from reportgen.errors import ConfigError
from reportgen.pipeline import analyse, diagnosis_settings
from reportgen.reading.loader import load
from tests.conftest import fixture_path, write_events
from tools.eventwriter import EventWriter

STEPS = 12


def write_run(tmp_path, series: dict, scalars: dict | None = None, tf2: bool = False, steps: int = STEPS):
    """series: tag -> function(step, rng) -> values (None: skip that step); scalars: tag -> function(step)."""
    write_events(tmp_path / "run", series, scalars, steps, tf2)
    return load([str(tmp_path)])


def findings(logs, **options):
    return diagnose(logs, diagnosis_settings(Options(**options))).findings


def codes(logs, **options) -> set[str]:
    return {f.code for f in findings(logs, **options)}


def falling_loss(step):
    return 2.0 * np.exp(-step / 4) + 0.1


def drifting_weights(scale=0.1, speed=0.05, size=(40, 50)):
    base = np.random.default_rng(1).uniform(-scale, scale, size)
    return lambda step, rng: base * (1 + speed * step) + rng.normal(0, scale * speed, size) * min(step, 1)


# dead_units ---------------------------------------------------------------------------------

def test_dead_units_fires_on_mostly_zero_relu_output(tmp_path):
    relu = lambda step, rng: np.maximum(rng.normal(-1.5, 1, 4000), 0)  # ~93% exact zeros
    found = [f for f in findings(write_run(tmp_path, {"relu1": relu})) if f.code == "dead_units"]
    assert len(found) == 1
    assert found[0].severity == "warning" and found[0].evidence["zero_fraction"] > 0.9
    assert "(threshold 70%)" in found[0].message


def test_dead_units_quiet_on_half_zero_relu_output(tmp_path):
    relu = lambda step, rng: np.maximum(rng.normal(0, 1, 4000), 0)  # 50% zeros, like torch_writer's relu1
    assert "dead_units" not in codes(write_run(tmp_path, {"relu1": relu}))


def test_dead_units_in_tf2_equal_buckets(tmp_path):
    dead = lambda step, rng: np.maximum(rng.normal(-1.5, 1, 4000), 0)
    assert "dead_units" in codes(write_run(tmp_path, {"dense_1_out": dead}, tf2=True))


def test_dead_units_quiet_on_tf2_healthy_relu(tmp_path):
    # Small positives share the first equal bucket with the zeros; only the spike above the
    # neighbouring bucket counts, so a half-zero ReLU output stays near 50%.
    alive = lambda step, rng: np.maximum(rng.normal(0, 1, 4000), 0)
    assert "dead_units" not in codes(write_run(tmp_path, {"dense_1_out": alive}, tf2=True))


# saturation ---------------------------------------------------------------------------------

def test_saturation_fires_on_tanh_piled_at_bounds(tmp_path):
    saturated = lambda step, rng: np.tanh(rng.normal(0, 6, 4000))
    found = [f for f in findings(write_run(tmp_path, {"layer1/activations": saturated})) if f.code == "saturation"]
    assert found and found[0].evidence["saturated_fraction"] > 0.7


def test_saturation_quiet_on_healthy_tanh(tmp_path):
    healthy = lambda step, rng: np.tanh(rng.normal(0, 0.6, 4000))
    assert "saturation" not in codes(write_run(tmp_path, {"layer1/activations": healthy}))


def test_saturation_leaves_confident_softmax_outputs_alone(tmp_path):
    confident = lambda step, rng: rng.choice([0.001, 0.999], 3000)
    assert "saturation" not in codes(write_run(tmp_path, {"Qpred": confident}))


# exploding ----------------------------------------------------------------------------------

def test_exploding_fires_on_weights_growing_orders_of_magnitude(tmp_path):
    growing = lambda step, rng: rng.normal(0, 0.1 * 3.0**step, 2000)  # 3^11 ~ 1.8e5
    found = [f for f in findings(write_run(tmp_path, {"fc1.weight": growing})) if f.code == "exploding"]
    assert found and found[0].severity == "critical" and found[0].evidence["growth"] > 100


def test_exploding_quiet_on_moderate_growth(tmp_path):
    assert "exploding" not in codes(write_run(tmp_path, {"fc1.weight": drifting_weights()}))


# not_learning / still_at_init ---------------------------------------------------------------

def test_not_learning_fires_on_a_frozen_layer(tmp_path):
    frozen = np.random.default_rng(2).uniform(-0.15, 0.15, (60, 200))
    logs = write_run(tmp_path, {"fc1.weight": lambda s, r: frozen, "fc2.weight": drifting_weights()},
                     {"train/loss": falling_loss})
    found = [f for f in findings(logs) if f.code == "not_learning"]
    assert [f.layer for f in found] == ["fc1"]
    assert "identical" in found[0].message and found[0].steps == (0, STEPS - 1)
    assert "Glorot/Xavier uniform" in found[0].message  # 60x200 uniform with bound sqrt(6/260)


def test_not_learning_quiet_when_every_layer_moves(tmp_path):
    logs = write_run(tmp_path, {"fc1.weight": drifting_weights(), "fc2.weight": drifting_weights(0.2)},
                     {"train/loss": falling_loss})
    assert "not_learning" not in codes(logs)


def test_not_learning_quiet_with_too_few_steps(tmp_path):
    frozen = np.random.default_rng(2).normal(0, 0.1, 3000)
    assert "not_learning" not in codes(write_run(tmp_path, {"fc1.weight": lambda s, r: frozen}, steps=3))


# nan_or_inf ---------------------------------------------------------------------------------

def test_nan_in_a_tf2_histogram_is_critical(tmp_path):
    rows = np.array([[np.nan, np.nan, 10.0]])
    rng = np.random.default_rng(0)
    with EventWriter(str(tmp_path / "run"), wall_time=1.0) as writer:
        for step in range(6):
            if step < 4:
                writer.add_tensor_histogram("dense/kernel", rng.normal(size=100), step)
            else:
                writer.add_tensor_histogram("dense/kernel", None, step, buckets=rows)
    found = [f for f in findings(load([str(tmp_path)])) if f.code == "nan_or_inf"]
    assert found and found[0].severity == "critical" and found[0].steps == (4, 5)


def test_histogram_that_stops_while_the_loss_goes_on(tmp_path):
    weights = drifting_weights()
    logs = write_run(tmp_path, {"fc1.weight": lambda s, r: weights(s, r) if s < 4 else None},
                     {"train/loss": falling_loss}, steps=20)
    found = [f for f in findings(logs) if f.code == "nan_or_inf"]
    assert found and "stops after step 3" in found[0].message


def test_nan_scalar_is_critical_and_finite_run_is_quiet(tmp_path):
    logs = write_run(tmp_path / "a", {}, {"loss": lambda s: float("nan") if s > 8 else 1.0 / (s + 1)})
    assert "nan_or_inf" in codes(logs)
    healthy = write_run(tmp_path / "b", {"fc1.weight": drifting_weights()}, {"loss": falling_loss})
    assert "nan_or_inf" not in codes(healthy)


# vanishing_gradient -------------------------------------------------------------------------

def test_vanishing_gradient_fires_when_first_layer_gets_1e4_less(tmp_path):
    series = {"fc1.weight.grad": lambda s, r: r.normal(0, 1e-7, 500),
              "fc2.weight.grad": lambda s, r: r.normal(0, 1e-4, 500),
              "fc3.weight.grad": lambda s, r: r.normal(0, 1e-2, 500)}
    found = [f for f in findings(write_run(tmp_path, series)) if f.code == "vanishing_gradient"]
    assert found and found[0].layer == "fc1" and found[0].evidence["ratio"] < 1e-3


def test_vanishing_gradient_quiet_on_comparable_gradients(tmp_path):
    series = {"grad/fc1.weight": lambda s, r: r.normal(0, 3e-3, 500),
              "grad/fc2.weight": lambda s, r: r.normal(0, 1e-2, 500)}
    assert "vanishing_gradient" not in codes(write_run(tmp_path, series))


# loss rules ---------------------------------------------------------------------------------

def test_loss_diverging(tmp_path):
    rising = write_run(tmp_path / "a", {}, {"train/loss": lambda s: 1.0 * 1.5**s})
    found = [f for f in findings(rising) if f.code == "loss_diverging"]
    assert found and found[0].severity == "critical" and found[0].layer == "train/loss"
    assert "loss_diverging" not in codes(write_run(tmp_path / "b", {}, {"train/loss": falling_loss}))


def test_loss_plateau(tmp_path):
    flat = lambda s: 1.1 + 0.001 * (s % 2)
    assert "loss_plateau" in codes(write_run(tmp_path / "a", {}, {"epoch_loss": flat}))
    assert "loss_plateau" not in codes(write_run(tmp_path / "b", {}, {"epoch_loss": falling_loss}))


def test_accuracy_is_read_the_other_way(tmp_path):
    rising = lambda s: 0.4 + 0.04 * s
    assert "loss_plateau" not in codes(write_run(tmp_path / "a", {}, {"epoch_accuracy": rising}))
    assert "loss_plateau" in codes(write_run(tmp_path / "b", {}, {"epoch_accuracy": lambda s: 0.5}))


def test_loss_oscillating(tmp_path):
    jumpy = lambda s: 1.0 if s % 2 else 3.0
    assert "loss_oscillating" in codes(write_run(tmp_path / "a", {}, {"loss": jumpy}, steps=20))
    noisy_but_falling = lambda s: (2.0 * np.exp(-s / 6) + 0.2) * (1.05 if s % 2 else 0.95)
    assert "loss_oscillating" not in codes(write_run(tmp_path / "b", {}, {"loss": noisy_but_falling}, steps=20))


def test_signed_surrogate_loss_is_not_judged(tmp_path):
    # A policy-gradient loss swings around 0: its level says nothing about progress.
    signed = lambda s: 0.3 * np.sin(2.1 * s)
    loss_codes = {"loss_plateau", "loss_oscillating", "loss_diverging"}
    assert not codes(write_run(tmp_path, {}, {"loss": signed}, steps=30)) & loss_codes


# info rules ---------------------------------------------------------------------------------

def test_no_bias_fires_only_without_any_bias(tmp_path):
    assert "no_bias" in codes(write_run(tmp_path / "a", {"layer1/weights": drifting_weights()}))
    both = {"fc1.weight": drifting_weights(), "fc1.bias": lambda s, r: r.normal(0, 0.01, 50)}
    assert "no_bias" not in codes(write_run(tmp_path / "b", both))


def test_redundant_units_fires_on_clustered_weights(tmp_path):
    def clustered(step, rng):
        if step == 0:
            return rng.uniform(-0.2, 0.2, 3000)
        return np.concatenate([rng.normal(c, 0.01, 1000) for c in (-0.3, 0.0, 0.3)])
    assert "redundant_units" in codes(write_run(tmp_path / "a", {"layer4/weights": clustered}))
    assert "redundant_units" not in codes(write_run(tmp_path / "b", {"layer4/weights": drifting_weights()}))


# options ------------------------------------------------------------------------------------

def test_thresholds_override_and_ignore(tmp_path):
    relu = lambda step, rng: np.maximum(rng.normal(0, 1, 4000), 0)  # 50% zeros
    logs = write_run(tmp_path, {"relu1": relu})
    assert "dead_units" in codes(logs, thresholds={"dead_fraction": 0.4})
    assert "dead_units" not in codes(logs, thresholds={"dead_fraction": 0.4}, ignore=["dead_units"])
    with pytest.raises(ConfigError):
        codes(logs, thresholds={"dead_fractoin": 0.4})
    with pytest.raises(ConfigError):
        codes(logs, ignore=["dead_unit"])


def test_finding_json_fields(tmp_path):
    relu = lambda step, rng: np.maximum(rng.normal(-1.5, 1, 4000), 0)
    finding = [f for f in findings(write_run(tmp_path, {"relu1": relu})) if f.code == "dead_units"][0].as_dict()
    assert set(finding) == {"fingerprint", "code", "severity", "run", "layer", "tags", "steps", "message", "evidence",
                            "recommendation"}
    assert finding["tags"] == ["relu1"] and finding["steps"] == [0, STEPS - 1]
    assert len(finding["recommendation"]) >= 2


# real writers -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["keras_callback", "tensorboardx_writer", "torch_writer"])
def test_healthy_fixtures_get_no_warning(name):
    logs = load([str(fixture_path(name))])
    diagnosis = diagnose(logs)
    serious = [f for f in diagnosis.findings if f.severity != "info"]
    assert not serious, [f.message for f in serious]
    assert set(diagnosis.run_verdict.values()) == {"healthy"}


def test_tf1_question_network_reads_as_not_learning_from_glorot_init():
    logs = load([str(fixture_path("tf1_graph"))])
    analysis = analyse(logs)
    not_learning = {f.layer for f in analysis.diagnosis.findings if f.code == "not_learning"}
    assert {"layer1", "layer2", "layer3"} <= not_learning
    assert "no_bias" in {f.code for f in analysis.diagnosis.findings}
    text = analysis.layer_text[(logs.runs[0].name, "layer1")]
    assert "plateau from -0.15 to 0.15" in text and "Glorot/Xavier uniform" in text and "60 x 200" in text


def test_rules_page_is_up_to_date():
    result = subprocess.run([sys.executable, "-m", "reportgen.diagnosis.docs", "--check"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_every_rule_documents_its_thresholds():
    from reportgen.diagnosis import all_rules
    from reportgen.diagnosis.docs import HEADINGS
    from reportgen.diagnosis.thresholds import DEFAULTS

    for rule in all_rules():
        assert all(h in rule.doc for h in HEADINGS), rule.code
        for name in rule.thresholds:
            assert name in DEFAULTS and f"`{name}`" in rule.doc, (rule.code, name)


# changes from the torch-written held-out set -------------------------------------------------


def test_percentages_never_collide_with_their_threshold():
    from reportgen.numbers import pct
    assert pct(0.0146, 0.015) == "1.46%"  # not "1.5%" against 1.5%
    assert pct(0.0104, 0.015) == "1.0%"
    assert pct(0.97, 0.7) == "97%"
    assert pct(0.004) == "0.4%" and pct(0.5) == "50%"


def _tanh_run(tmp_path, saturated_from_start: bool):
    """tanh activations that pile at +-1 by the end, from the start or growing while the loss falls."""
    def activations(step, rng):
        scale = 4.0 if saturated_from_start else 0.3 + 0.4 * step
        return np.tanh(rng.normal(0, scale, 4000))
    return write_run(tmp_path, {"fc1.weight": drifting_weights(), "activations/act1": activations},
                     {"loss": falling_loss})


def test_saturation_from_the_start_is_a_warning(tmp_path):
    found = [f for f in findings(_tanh_run(tmp_path, True)) if f.code == "saturation"]
    assert found and found[0].severity == "warning" and found[0].evidence["from_first_step"]


def test_saturation_grown_while_the_loss_falls_is_only_info(tmp_path):
    found = [f for f in findings(_tanh_run(tmp_path, False)) if f.code == "saturation"]
    assert found and {f.severity for f in found} == {"info"}


def test_saturation_of_pre_activations_far_beyond_the_linear_range(tmp_path):
    logs = write_run(tmp_path, {"tanh1/weights": drifting_weights(),
                                "tanh1/pre_activations": lambda step, rng: rng.normal(0, 8, 4000)},
                     {"loss": lambda step: 1.0})
    found = [f for f in findings(logs) if f.code == "saturation"]
    assert found and found[0].tags == ("tanh1/pre_activations",) and "|z| = 3" in found[0].message


def test_pre_activations_of_an_unknown_function_are_not_judged(tmp_path):
    logs = write_run(tmp_path, {"fc1/weights": drifting_weights(),
                                "fc1/pre_activations": lambda step, rng: rng.normal(0, 8, 4000)},
                     {"loss": lambda step: 1.0})
    assert "saturation" not in codes(logs)  # could be ReLU, where large inputs are fine


def test_output_sigmoid_of_a_sequential_is_left_alone(tmp_path):
    """net.5 comes after the last weight layer net.4: a binary classifier's confident output."""
    confident = lambda step, rng: 1 / (1 + np.exp(-rng.normal(0, 8, 2000)))
    logs = write_run(tmp_path, {"net.0.weight": drifting_weights(), "net.4.weight": drifting_weights(),
                                "activations/net.1": lambda step, rng: np.maximum(rng.normal(0, 1, 2000), 0),
                                "activations/net.5": confident}, {"loss": lambda step: 1.0})
    assert "saturation" not in codes(logs)


def test_sigmoid_saturated_to_exact_zero_is_still_a_sigmoid(tmp_path):
    """float32 sigmoid underflows to exactly 0: zeros plus a pile at 1 are saturation, not ReLU."""
    def saturated(step, rng):
        z = rng.normal(0, 200, 4000)
        return np.where(z < -104, 0.0, 1 / (1 + np.exp(-np.clip(z, -104, 104))))
    logs = write_run(tmp_path, {"fc1.weight": drifting_weights(), "activations/act1": saturated},
                     {"loss": falling_loss})
    assert "saturation" in codes(logs)


def test_loss_that_creeps_while_no_weight_moves_is_a_plateau(tmp_path):
    """lr far too low: the loss still drops 15% but every weight stays put."""
    frozen = np.random.default_rng(2).uniform(-0.1, 0.1, (40, 50))
    logs = write_run(tmp_path, {"fc1.weight": lambda step, rng: frozen * (1 + 1e-4 * step),
                                "fc2.weight": lambda step, rng: frozen * (1 - 1e-4 * step)},
                     {"loss": lambda step: 1.0 - 0.015 * step})
    plateau = [f for f in findings(logs) if f.code == "loss_plateau"]
    assert plateau and "creeps" in plateau[0].message


def test_loss_that_falls_slowly_while_weights_move_is_no_plateau(tmp_path):
    logs = write_run(tmp_path, {"fc1.weight": drifting_weights(speed=0.1), "fc2.weight": drifting_weights(speed=0.1)},
                     {"loss": lambda step: 1.0 - 0.015 * step})
    assert "loss_plateau" not in codes(logs)


def test_flat_accuracy_is_not_a_plateau_when_the_loss_falls(tmp_path):
    logs = write_run(tmp_path, {}, {"loss": falling_loss, "accuracy": lambda step: 0.93 + 0.01 * (step % 2)})
    assert "loss_plateau" not in codes(logs)
    logs_no_loss = write_run(tmp_path / "b", {}, {"accuracy": lambda step: 0.5 + 0.001 * (step % 2)})
    assert "loss_plateau" in codes(logs_no_loss)


def test_still_at_init_only_without_progress(tmp_path):
    init = np.random.default_rng(4).uniform(-np.sqrt(6 / 90), np.sqrt(6 / 90), (40, 50))
    slow = {"fc1.weight": lambda step, rng: init * (1 + 0.003 * step)}  # 1.5-5% of its spread, same shape
    assert "still_at_init" in codes(write_run(tmp_path / "a", slow))
    assert "still_at_init" not in codes(write_run(tmp_path / "b", slow, {"loss": falling_loss}))


def test_tanh_of_a_normal_reads_flat_topped_not_a_plateau(tmp_path):
    """tanh of N(0, 0.7) has a flat top (excess kurtosis -1.1, a uniform's is -1.2) but falling
    shoulders: neither a bell nor a plateau, so the words say what is measured."""
    logs = write_run(tmp_path, {"layer1/activations": lambda step, rng: np.tanh(rng.normal(0, 0.7, 12000)),
                                "layer1/weights": lambda step, rng: rng.uniform(-0.15, 0.15, 12000)})
    text = analyse(logs).layer_text[("run", "layer1")]
    assert "Activations (layer1/activations) at step 11 are flat-topped" in text
    assert "Weights (layer1/weights, 12,000 values) at step 0 form a flat plateau" in text


def test_not_learning_names_the_layers_that_moved_at_most_three():
    from types import SimpleNamespace

    from reportgen.diagnosis.rules.weights import _moved

    moves = [(f"layer{i}", SimpleNamespace(change=c)) for i, c in enumerate([0.097, 0.02, 0.5, 0.03, 0.04], 2)]
    assert _moved(moves[:1]) == "layer2 (9.7%)"
    assert _moved(moves[:2]) == "layer2 (9.7%) and layer3 (2%)"
    assert _moved(moves) == "layer2 (9.7%), layer3 (2%), layer4 (50%) and 2 more"
