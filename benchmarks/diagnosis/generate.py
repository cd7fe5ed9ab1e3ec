"""Writes labeled training runs for the diagnosis benchmark into benchmarks/diagnosis/logs/numpy/.

    python benchmarks/diagnosis/generate.py        # about 20 s on one core

Small numpy MLPs trained by minibatch SGD on a synthetic 3-class problem (a random teacher
network labels Gaussian inputs). Faults are injected on purpose; healthy controls vary seed,
depth, width and activation. Every run logs weights, biases, activations and weight gradients
with reportgen's EventWriter in one of two naming/format styles:
- torch: legacy histograms `fc1.weight`, `fc1.bias`, `fc1.weight.grad`, `activations/fc1`,
  scalar `train/loss`; like torch's writer, histograms stop when values turn non-finite;
- keras: TF2 tensor histograms `sequential/dense_1/kernel/histogram`, `.../bias/histogram`,
  `dense_1_out`, `dense_1/kernel_0_grad`, tensor scalar `epoch_loss`.
Each run's labels go to logs/numpy/labels.json: `expected` codes must fire, `allowed` codes may.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tools.eventwriter import EventWriter

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs", "numpy")
STEPS, LOG_EVERY, BATCH, INPUTS, CLASSES = 300, 10, 64, 20, 3


@dataclass
class Config:
    name: str
    hidden: list[int]
    activation: str = "relu"
    lr: float = 0.05
    seed: int = 0
    init_scale: float = 1.0  # multiplies the standard (He for relu, Glorot otherwise) init
    bias_init: float = 0.0
    input_scale: float = 1.0
    input_shift: float = 0.0
    frozen: tuple[int, ...] = ()  # layer indices never updated
    nan_at: int = -1  # step at which a weight becomes NaN
    expected: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


def act_grad(name, z, a):
    if name == "relu":
        return (z > 0).astype(float)
    if name == "tanh":
        return 1 - a * a
    return a * (1 - a)


def init_layers(cfg: Config, rng):
    sizes = [INPUTS, *cfg.hidden, CLASSES]
    weights, biases = [], []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if cfg.activation == "relu":
            std = np.sqrt(2 / n_in)
            w = rng.normal(0, std, (n_in, n_out))
        else:
            limit = np.sqrt(6 / (n_in + n_out))
            w = rng.uniform(-limit, limit, (n_in, n_out))
        hidden = i < len(sizes) - 2
        weights.append(w * (cfg.init_scale if hidden else 1.0))
        biases.append(np.full(n_out, cfg.bias_init if hidden else 0.0))
    return weights, biases


def forward(cfg, weights, biases, x):
    zs, acts = [], [x]
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ w + b
        zs.append(z)
        if i < len(weights) - 1:
            acts.append(act(cfg.activation, z))
    logits = zs[-1]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return zs, acts, e / e.sum(axis=1, keepdims=True)


def backward(cfg, weights, zs, acts, probs, y):
    n = len(y)
    delta = probs.copy()
    delta[np.arange(n), y] -= 1
    delta /= n
    gw, gb = [None] * len(weights), [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        gw[i] = acts[i].T @ delta
        gb[i] = delta.sum(axis=0)
        if i:
            delta = (delta @ weights[i].T) * act_grad(cfg.activation, zs[i - 1], acts[i])
    return gw, gb


class Logger:
    def __init__(self, style: str, path: str):
        self.style, self.writer = style, EventWriter(path, wall_time=1_700_000_000.0)
        self.histograms_stopped = False

    def names(self, i):
        if self.style == "torch":
            return f"fc{i + 1}.weight", f"fc{i + 1}.bias", f"activations/fc{i + 1}", f"fc{i + 1}.weight.grad"
        d = f"dense_{i + 1}"
        return (f"sequential/{d}/kernel/histogram", f"sequential/{d}/bias/histogram", f"{d}_out", f"{d}/kernel_0_grad")

    def hist(self, tag, values, step):
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        finite = np.isfinite(values).all()
        if self.style == "torch":
            if not finite:  # torch's writer raises on NaN; the training script keeps logging the loss
                self.histograms_stopped = True
            if not self.histograms_stopped:
                self.writer.add_histogram(tag, values, step)
        elif finite:
            self.writer.add_tensor_histogram(tag, values, step)
        else:  # TF2 writes NaN bucket edges
            self.writer.add_tensor_histogram(tag, None, step, buckets=np.array([[np.nan, np.nan, float(values.size)]]))

    def scalar(self, value, step):
        if self.style == "torch":
            self.writer.add_scalar("train/loss", value, step)
        else:
            self.writer.add_tensor_scalar("epoch_loss", value, step)


def train(cfg: Config, style: str) -> None:
    rng = np.random.default_rng(cfg.seed)
    teacher = rng.normal(0, 1, (INPUTS, CLASSES))
    weights, biases = init_layers(cfg, rng)
    probe = rng.normal(0, 1, (256, INPUTS)) * cfg.input_scale + cfg.input_shift
    log = Logger(style, os.path.join(LOGS, f"{cfg.name}_{style}"))
    with np.errstate(all="ignore"):
        for step in range(STEPS + 1):
            x = rng.normal(0, 1, (BATCH, INPUTS))
            y = np.argmax(x @ teacher + 0.3 * rng.normal(size=(BATCH, CLASSES)), axis=1)
            x = x * cfg.input_scale + cfg.input_shift
            zs, acts, probs = forward(cfg, weights, biases, x)
            loss = float(-np.log(probs[np.arange(BATCH), y] + 1e-12).mean())
            gw, gb = backward(cfg, weights, zs, acts, probs, y)
            if step % LOG_EVERY == 0:
                _, probe_acts, _ = forward(cfg, weights, biases, probe)
                for i in range(len(weights)):
                    w_tag, b_tag, a_tag, g_tag = log.names(i)
                    log.hist(w_tag, weights[i], step)
                    log.hist(b_tag, biases[i], step)
                    if i < len(weights) - 1:
                        log.hist(a_tag, probe_acts[i + 1], step)
                    log.hist(g_tag, gw[i], step)
                log.scalar(loss, step)
            for i in range(len(weights)):
                if i not in cfg.frozen:
                    weights[i] -= cfg.lr * gw[i]
                    biases[i] -= cfg.lr * gb[i]
            if step == cfg.nan_at:
                weights[0][0, 0] = np.nan
    log.writer.close()


def configs() -> list[Config]:
    healthy = [
        Config("healthy_relu_s0", [64], "relu", 0.1, seed=0),
        Config("healthy_relu_deep_s1", [64, 32], "relu", 0.05, seed=1),
        Config("healthy_tanh_s2", [64, 32], "tanh", 0.1, seed=2),
        Config("healthy_sigmoid_s3", [32], "sigmoid", 0.5, seed=3),
        Config("healthy_wide_relu_s4", [256, 128], "relu", 0.05, seed=4),
        Config("healthy_tanh_small_lr_s5", [128], "tanh", 0.02, seed=5),
    ]
    faults = [
        Config("frozen_first_layer", [64, 32], "relu", 0.05, seed=10, frozen=(0,), expected=("not_learning",),
               allowed=("still_at_init",)),
        Config("frozen_middle_layer", [64, 64, 32], "tanh", 0.05, seed=11, frozen=(1,), expected=("not_learning",),
               allowed=("still_at_init",)),
        Config("lr_far_too_low", [64, 32], "relu", 1e-5, seed=12, expected=("not_learning", "loss_plateau"),
               allowed=("still_at_init",)),
        Config("lr_far_too_high", [64, 32], "relu", 30.0, seed=13, expected=("exploding",),
               allowed=("loss_diverging", "loss_oscillating", "loss_plateau", "dead_units", "nan_or_inf",
                        "redundant_units", "not_learning", "vanishing_gradient")),
        Config("dead_relu_negative_bias", [64, 32], "relu", 0.05, seed=14, bias_init=-3.0, expected=("dead_units",),
               allowed=("not_learning", "loss_plateau", "still_at_init", "vanishing_gradient")),
        Config("tanh_saturation", [64, 32], "tanh", 0.05, seed=15, init_scale=4.0, input_scale=10.0, input_shift=3.0,
               expected=("saturation",), allowed=("not_learning", "loss_plateau", "loss_oscillating", "still_at_init",
                                                   "vanishing_gradient", "redundant_units")),
        Config("deep_sigmoid_vanishing", [32] * 8, "sigmoid", 0.05, seed=16, expected=("vanishing_gradient",),
               allowed=("not_learning", "loss_plateau", "still_at_init")),
        Config("nan_mid_run", [64, 32], "relu", 0.05, seed=17, nan_at=150, expected=("nan_or_inf",),
               allowed=("loss_plateau",)),
    ]
    return healthy + faults


def main() -> None:
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    labels = {}
    for cfg in configs():
        for style in ("torch", "keras"):
            train(cfg, style)
            labels[f"{cfg.name}_{style}"] = {"expected": list(cfg.expected), "allowed": list(cfg.allowed),
                                             "healthy": not cfg.expected}
    with open(os.path.join(LOGS, "labels.json"), "w") as stream:
        json.dump(labels, stream, indent=1)
    print(f"wrote {len(labels)} runs to {LOGS}")


if __name__ == "__main__":
    main()
