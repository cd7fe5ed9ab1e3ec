"""What the diagnosis says it checked (the JUnit test cases): every layer by the rules about
layers, the judged scalars by the rules about scalars, minus the ignored rules."""

from __future__ import annotations

import numpy as np

from reportgen.diagnosis import DiagnosisSettings, all_rules, diagnose
from reportgen.diagnosis.registry import about_scalars
from reportgen.reading.loader import load
from tests.conftest import write_events


def logs(tmp_path):
    write_events(tmp_path / "run1", {"fc1.weight": lambda s, rng: rng.normal(0, 0.1, 200),
                                     "fc2.weight": lambda s, rng: rng.normal(0, 0.1, 200),
                                     "relu1": lambda s, rng: np.maximum(rng.normal(0, 1, 200), 0)},
                 {"loss": lambda s: 1 / (1 + s), "val_loss": lambda s: 1.2 / (1 + s), "lr": lambda s: 0.1,
                  "time/sec": lambda s: float(s)}, steps=12)
    return load([str(tmp_path)])


def test_layers_by_layer_rules_and_judged_scalars_by_scalar_rules(tmp_path):
    diagnosis = diagnose(logs(tmp_path))
    checked = diagnosis.checked["run1"]
    layer_rules = [r.code for r in all_rules() if not about_scalars(r)]
    scalar_rules = [r.code for r in all_rules() if about_scalars(r)]
    assert {"loss_plateau", "overfitting"} <= set(scalar_rules) and "dead_units" in layer_rules
    layers = [layer.name for layer in diagnosis.layers["run1"]]
    assert checked == ([(layer, code) for layer in layers for code in layer_rules]
                       + [(tag, code) for tag in ("loss", "val_loss") for code in scalar_rules])
    assert not {tag for tag, _ in checked} & {"lr", "time/sec"}  # no rule judges a learning rate or a clock
    assert {(f.layer, f.code) for f in diagnosis.findings} <= set(checked)


def test_ignored_rules_are_not_checked(tmp_path):
    diagnosis = diagnose(logs(tmp_path), DiagnosisSettings.create(ignore=["dead_units", "overfitting"]))
    assert not {code for _, code in diagnosis.checked["run1"]} & {"dead_units", "overfitting"}
