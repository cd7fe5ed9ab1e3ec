"""A firing and a quiet example for every rule, as pylint keeps a bad and a good example per message.

Each example is a small run: histogram tags as functions of (step, rng) and scalar tags as
functions of step, written as real event files by tests/conftest.py's builder. `FIRING[code]`
must make the rule report `code`; `QUIET[code]` is the nearest healthy run, on which it must not.
Adding a rule means adding its two examples here (test_rule_examples.py fails otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Example:
    histograms: dict[str, Callable] = field(default_factory=dict)
    scalars: dict[str, Callable[[int], float]] = field(default_factory=dict)
    steps: int = 12
    why: str = ""


def _drifting(scale: float = 0.1, drift: float = 0.08):
    """Weights that clearly move: a uniform start that widens and shifts by `drift` per step."""
    base = np.random.default_rng(11).uniform(-scale, scale, 4000)
    return lambda step, rng: base * (1 + drift * step) + drift * scale * step


def _frozen(scale: float = 0.1):
    base = np.random.default_rng(12).uniform(-scale, scale, 4000)
    return lambda step, rng: base


def _falling(step: int) -> float:
    return 2.0 * 0.8**step + 0.05


RELU_HALF = lambda step, rng: np.maximum(rng.normal(0, 1, 4000), 0)
RELU_DEAD = lambda step, rng: np.maximum(rng.normal(-1.5, 1, 4000), 0)

FIRING: dict[str, Example] = {
    "dead_units": Example({"relu1": RELU_DEAD}, why="84% of the ReLU outputs are exactly 0"),
    "saturation": Example({"layer1/activations": lambda step, rng: np.tanh(rng.normal(0, 5, 4000))},
                          why="tanh of N(0, 5): 80% beyond |0.9| from the first step"),
    "exploding": Example({"fc1.weight": lambda step, rng: rng.normal(0, 0.1 * 2.0**step, 4000)},
                         {"loss": _falling}, why="the weights' size doubles every step: x2048"),
    "not_learning": Example({"fc1.weight": _frozen(), "fc2.weight": _drifting()}, {"loss": lambda step: 1.0},
                            why="fc1 is identical at every step while fc2 moves"),
    "still_at_init": Example({"fc1.weight": lambda step, rng: _frozen(0.15)(step, rng) * (1 + 0.003 * step)},
                             why="a uniform init moving 3% of its spread, with no loss to show progress"),
    "redundant_units": Example({"layer4/weights": lambda step, rng: (
        rng.uniform(-0.2, 0.2, 3000) if step == 0
        else np.concatenate([rng.normal(c, 0.01, 1000) for c in (-0.3, 0.0, 0.3)]))},
        why="a uniform start that ends in three tight clusters"),
    "nan_or_inf": Example({}, {"loss": lambda step: float("nan") if step > 8 else 1.0 / (step + 1)},
                          why="the loss is NaN from step 9"),
    "vanishing_gradient": Example({"fc1.weight.grad": lambda step, rng: rng.normal(0, 1e-7, 500),
                                   "fc2.weight.grad": lambda step, rng: rng.normal(0, 1e-2, 500)},
                                  why="fc1's gradients are 1e-5 of fc2's"),
    "loss_diverging": Example({}, {"train/loss": lambda step: 1.5**step}, why="the loss grows 1.5x a step"),
    "loss_plateau": Example({}, {"loss": lambda step: 1.0 + 0.001 * (step % 2)}, why="the loss stays at 1.0"),
    "loss_oscillating": Example({}, {"loss": lambda step: 1.0 if step % 2 else 3.0}, steps=30,
                                why="the loss jumps between 1 and 3"),
    "no_bias": Example({"layer1/weights": _drifting(), "layer2/weights": _drifting()}, {"loss": _falling},
                       why="weights logged for two layers, no bias anywhere"),
    "overfitting": Example({}, {"train_loss": _falling, "val_loss": lambda step: 0.5 + 0.01 * (step - 8) ** 2},
                           steps=20, why="val_loss bottoms out at step 8 and rises 70% while train_loss falls"),
    "weight_collapse": Example({"fc1.weight": lambda step, rng: _frozen()(step, rng) * 0.5**step},
                               {"loss": lambda step: 1.3863 + 0.0005 * (step % 2)},
                               why="the weights halve every step (x1/2048) while the loss sits at ln 4"),
}

QUIET: dict[str, Example] = {
    "dead_units": Example({"relu1": RELU_HALF}, why="a healthy ReLU layer: half its outputs are 0"),
    "saturation": Example({"layer1/activations": lambda step, rng: np.tanh(rng.normal(0, 0.5, 4000))},
                          why="tanh of N(0, 0.5): in its linear range"),
    "exploding": Example({"fc1.weight": _drifting()}, {"loss": _falling}, why="weights that move but stay in scale"),
    "not_learning": Example({"fc1.weight": _drifting(), "fc2.weight": _drifting()}, {"loss": _falling},
                            why="both layers move and the loss falls"),
    "still_at_init": Example({"fc1.weight": lambda step, rng: _frozen(0.15)(step, rng) * (1 + 0.003 * step)},
                             {"loss": _falling}, why="the same slow layer, in a run whose loss clearly falls"),
    "redundant_units": Example({"layer4/weights": _drifting()}, why="weights that drift as one hump"),
    "nan_or_inf": Example({"fc1.weight": _drifting()}, {"loss": _falling}, why="every value finite"),
    "vanishing_gradient": Example({"fc1.weight.grad": lambda step, rng: rng.normal(0, 3e-3, 500),
                                   "fc2.weight.grad": lambda step, rng: rng.normal(0, 1e-2, 500)},
                                  why="fc1's gradients are a third of fc2's"),
    "loss_diverging": Example({}, {"train/loss": _falling}, why="the loss falls"),
    "loss_plateau": Example({}, {"loss": _falling}, why="the loss falls 90%"),
    "loss_oscillating": Example({}, {"loss": _falling}, steps=30, why="the loss falls smoothly"),
    "no_bias": Example({"layer1/weights": _drifting(), "layer1/biases": _drifting(0.01)}, {"loss": _falling},
                       why="a bias beside the weights"),
    "weight_collapse": Example({"fc1.weight": lambda step, rng: _frozen()(step, rng) * 0.97**step},
                               {"loss": _falling}, why="weights shrinking 30% under decay while the loss falls"),
    "overfitting": Example({}, {"train_loss": _falling, "val_loss": lambda step: 0.6 + 0.5 * 0.85**step},
                           steps=20, why="val_loss falls and flattens with the training loss"),
}
