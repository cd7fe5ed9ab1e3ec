"""Writes small REAL torch trainings, logged by torch's own SummaryWriter, for the diagnosis benchmark.

    pip install torch==2.13.0                         # CPU wheel; only this script needs it
    python benchmarks/diagnosis/generate_torch.py     # about a minute on 2 cores

Held-out set: the rules were not tuned on these runs before their first score was recorded.
Runs go to benchmarks/diagnosis/logs/torch/<run>/ and labels to logs/torch/labels.json
(`expected` codes must fire, `allowed` codes may, `healthy` runs must get no warning/critical).

What is logged is what users write (torch.utils.tensorboard.SummaryWriter, legacy histograms):
- every named parameter, `add_histogram(name, param, step)` (names like `fc1.weight`, or
  `net.0.weight` for an nn.Sequential);
- its gradient as `name.grad`, `grad/name` or `name/grad` (the style varies by run);
- activations from forward hooks on the activation modules (`activations/act1`,
  `activations/net.1`) or from the module outputs recorded in forward (`activations/fc1`,
  the output after the non-linearity);
- `add_scalar` of the loss (`Loss/train`, `train/loss` or `loss`) and, for classifiers, the
  accuracy, every logged step or every iteration.
Tasks: two moons, Gaussian blobs, a smooth regression, and 12x12 "bars" images for a small
convnet. Faults are injected the way they happen in practice (requires_grad=False, learning
rate 1e-6 or far too high, bias init -5, large init with unscaled inputs, a deep sigmoid
stack, a huge learning rate or an Inf input mid-run).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs", "torch")
torch.set_num_threads(1)


# Data ------------------------------------------------------------------------------------


def moons(n: int, rng: np.random.Generator, noise: float = 0.2):
    half = n // 2
    t = rng.uniform(0, math.pi, n)
    outer = np.c_[np.cos(t[:half]), np.sin(t[:half])]
    inner = np.c_[1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])]
    x = np.r_[outer, inner] + rng.normal(0, noise, (n, 2))
    y = np.r_[np.zeros(half), np.ones(n - half)]
    return x, y


def blobs(n: int, rng: np.random.Generator, dims: int = 10, classes: int = 4):
    centers = rng.normal(0, 2.0, (classes, dims))
    y = rng.integers(0, classes, n)
    return centers[y] + rng.normal(0, 1.5, (n, dims)), y


def regression(n: int, rng: np.random.Generator, dims: int = 8):
    w1, w2 = rng.normal(0, 1, dims) / math.sqrt(dims), rng.normal(0, 1, dims) / math.sqrt(dims)
    x = rng.normal(0, 1, (n, dims))
    y = np.sin(2 * x @ w1) + 0.5 * (x @ w2) ** 2 + 0.1 * rng.normal(size=n)
    return x, y


def bars(n: int, rng: np.random.Generator, size: int = 12):
    """Noisy images of a horizontal, vertical or diagonal bar: 3 classes."""
    y = rng.integers(0, 3, n)
    x = rng.normal(0, 0.5, (n, 1, size, size))
    pos = rng.integers(2, size - 2, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], :] += 2
        elif y[i] == 1:
            x[i, 0, :, pos[i]] += 2
        else:
            x[i, 0, np.arange(size), (np.arange(size) + pos[i]) % size] += 2
    return x, y


DATA = {"moons": moons, "blobs": blobs, "regression": regression, "bars": bars}


# Models ----------------------------------------------------------------------------------

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "leaky_relu": nn.LeakyReLU}


class NamedMLP(nn.Module):
    """fc1, act1, fc2, act2, ... with optional bn/dropout; records post-activation outputs."""

    def __init__(self, sizes: list[int], activation: str, batchnorm: bool, dropout: float):
        super().__init__()
        self.depth = len(sizes) - 1
        for i in range(self.depth):
            setattr(self, f"fc{i + 1}", nn.Linear(sizes[i], sizes[i + 1]))
            if i < self.depth - 1:
                if batchnorm:
                    setattr(self, f"bn{i + 1}", nn.BatchNorm1d(sizes[i + 1]))
                setattr(self, f"act{i + 1}", ACTIVATIONS[activation]())
        self.batchnorm, self.dropout = batchnorm, nn.Dropout(dropout) if dropout else None
        self.recorded: dict[str, torch.Tensor] = {}

    def forward(self, x):
        for i in range(1, self.depth + 1):
            x = getattr(self, f"fc{i}")(x)
            if i < self.depth:
                if self.batchnorm:
                    x = getattr(self, f"bn{i}")(x)
                x = getattr(self, f"act{i}")(x)
                self.recorded[f"fc{i}"] = x.detach()
                if self.dropout is not None:
                    x = self.dropout(x)
        return x


class SequentialMLP(nn.Module):
    def __init__(self, sizes: list[int], activation: str, batchnorm: bool, dropout: float,
                 sigmoid_output: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                if batchnorm:
                    layers.append(nn.BatchNorm1d(sizes[i + 1]))
                layers.append(ACTIVATIONS[activation]())
                if dropout:
                    layers.append(nn.Dropout(dropout))
        if sigmoid_output:  # binary classifier ending in nn.Sigmoid, trained with BCELoss
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)
        self.recorded: dict[str, torch.Tensor] = {}

    def forward(self, x):
        return self.net(x)


class ConvNet(nn.Module):
    def __init__(self, channels: int, activation: str, batchnorm: bool, dropout: float, classes: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels) if batchnorm else nn.Identity()
        self.act1 = ACTIVATIONS[activation]()
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.act2 = ACTIVATIONS[activation]()
        self.pool = nn.AdaptiveAvgPool2d(3)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.fc = nn.Linear(2 * channels * 9, classes)
        self.recorded: dict[str, torch.Tensor] = {}

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.conv2(x))
        return self.fc(self.drop(self.pool(x).flatten(1)))


# Runs ------------------------------------------------------------------------------------


@dataclass
class Spec:
    name: str
    data: str = "moons"
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "relu"
    model: str = "named"  # named | sequential | conv
    batchnorm: bool = False
    dropout: float = 0.0
    optimizer: str = "adam"  # adam | sgd | momentum | adamw
    lr: float = 1e-2
    iterations: int = 300
    log_every: int = 20
    seed: int = 0
    grad_style: str = ".grad"  # .grad | grad/ | /grad
    loss_tag: str = "Loss/train"
    loss_every_iteration: bool = False
    activation_source: str = "hook"  # hook (activation modules) | recorded (post-activation by layer name)
    frozen: tuple[str, ...] = ()  # parameter name prefixes with requires_grad=False
    bias_init: float | None = None  # hidden biases
    weight_std: float | None = None  # hidden weights ~ N(0, std)
    input_scale: float = 1.0
    input_shift: float = 0.0
    lr_jump: tuple[int, float] | None = None  # (iteration, new lr)
    inf_input_at: int = -1
    sigmoid_output: bool = False  # binary: Sequential ending in nn.Sigmoid, BCELoss
    lr_decay: float = 1.0  # StepLR gamma every 100 iterations
    expected: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()


def build(spec: Spec, inputs: int, outputs: int) -> nn.Module:
    if spec.model == "conv":
        return ConvNet(spec.hidden[0], spec.activation, spec.batchnorm, spec.dropout, outputs)
    if spec.sigmoid_output:
        return SequentialMLP([inputs, *spec.hidden, 1], spec.activation, spec.batchnorm, spec.dropout, True)
    cls = NamedMLP if spec.model == "named" else SequentialMLP
    return cls([inputs, *spec.hidden, outputs], spec.activation, spec.batchnorm, spec.dropout)


def customise_init(model: nn.Module, spec: Spec) -> None:
    linears = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for m in linears[:-1]:  # hidden layers only
            if spec.weight_std is not None:
                m.weight.normal_(0, spec.weight_std)
            if spec.bias_init is not None:
                m.bias.fill_(spec.bias_init)


def make_optimizer(spec: Spec, params):
    params = [p for p in params if p.requires_grad]
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=spec.lr, weight_decay=1e-2)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=spec.lr, momentum=0.9)
    return torch.optim.SGD(params, lr=spec.lr)


def grad_tag(name: str, style: str) -> str:
    return {"grad/": f"grad/{name}", "/grad": f"{name}/grad"}.get(style, f"{name}.grad")


def add_histogram(writer: SummaryWriter, tag: str, values: torch.Tensor, step: int) -> None:
    """torch's writer raises on an all-NaN tensor ("The histogram is empty"); a training script
    that guards its logging goes on without that histogram, as this one does."""
    try:
        writer.add_histogram(tag, values, step)
    except ValueError:
        pass


def activation_hooks(model: nn.Module, state: dict, writer: SummaryWriter):
    """Forward hooks on the activation modules, active only on logging steps (what users do)."""
    def hook(name):
        def record(module, inputs, output):
            if state["log"]:
                add_histogram(writer, f"activations/{name}", output.detach(), state["step"])
        return record
    for name, module in model.named_modules():
        if isinstance(module, tuple(ACTIVATIONS.values())):
            module.register_forward_hook(hook(name))


def linear_hooks(model: nn.Module, state: dict, writer: SummaryWriter):
    def hook(name):
        def record(module, inputs, output):
            if state["log"]:
                add_histogram(writer, f"activations/{name}", output.detach(), state["step"])
        return record
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            module.register_forward_hook(hook(name))


def train(spec: Spec) -> dict:
    torch.manual_seed(spec.seed)
    rng = np.random.default_rng(spec.seed)
    x_np, y_np = DATA[spec.data](2048, rng)
    classify = spec.data != "regression"
    x = torch.tensor(x_np * spec.input_scale + spec.input_shift, dtype=torch.float32)
    y = torch.tensor(y_np, dtype=torch.long if classify else torch.float32)
    outputs = int(y_np.max()) + 1 if classify else 1
    model = build(spec, x.shape[1] if x.dim() == 2 else 1, outputs)
    customise_init(model, spec)
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in spec.frozen):
            p.requires_grad = False
    optimizer = make_optimizer(spec, model.parameters())
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    writer = SummaryWriter(os.path.join(LOGS, spec.name))
    state = {"log": False, "step": 0}
    if spec.activation_source == "hook":
        activation_hooks(model, state, writer)
    elif spec.activation_source == "linear_hook":  # hooks on nn.Linear: pre-activations, logged as "activations/"
        linear_hooks(model, state, writer)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 100, spec.lr_decay)
    losses = []
    for it in range(spec.iterations + 1):
        if spec.lr_jump and it == spec.lr_jump[0]:
            for group in optimizer.param_groups:
                group["lr"] = spec.lr_jump[1]
        idx = torch.from_numpy(rng.integers(0, len(x), 64))
        xb, yb = x[idx].clone(), y[idx]
        if it == spec.inf_input_at:
            xb.view(-1)[0] = float("inf")
        state["log"], state["step"] = it % spec.log_every == 0, it
        model.train()
        out = model(xb)
        if spec.sigmoid_output:
            loss = nn.functional.binary_cross_entropy(out.squeeze(1), yb.float())
        else:
            loss = loss_fn(out, yb) if classify else loss_fn(out.squeeze(1), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        if spec.loss_every_iteration or state["log"]:
            writer.add_scalar(spec.loss_tag, losses[-1], it)
        if state["log"]:
            if classify:
                predicted = (out.squeeze(1) > 0.5).long() if spec.sigmoid_output else out.argmax(1)
                writer.add_scalar("Accuracy/train", float((predicted == yb).float().mean()), it)
            for name, p in model.named_parameters():
                add_histogram(writer, name, p.detach(), it)
                if p.grad is not None:
                    add_histogram(writer, grad_tag(name, spec.grad_style), p.grad.detach(), it)
            for name, value in (model.recorded.items() if spec.activation_source == "recorded" else ()):
                add_histogram(writer, f"activations/{name}", value, it)
    writer.close()
    finite = np.isfinite(losses)
    return {"final_loss": losses[-1], "loss_nonfinite": bool(not finite.all()), "first_loss": losses[0]}


_HIGH_LR_ALLOWED = ("loss_diverging", "loss_oscillating", "loss_plateau", "dead_units", "nan_or_inf", "exploding",
                    "not_learning", "vanishing_gradient", "redundant_units", "still_at_init", "saturation")


def specs() -> list[Spec]:
    healthy = [
        Spec("healthy_moons_relu_adam", "moons", (32, 32), "relu", lr=1e-2, seed=0),
        Spec("healthy_moons_tanh_momentum", "moons", (16,), "tanh", optimizer="momentum", lr=0.05, seed=1,
             grad_style="grad/", loss_tag="train/loss", loss_every_iteration=True),
        Spec("healthy_blobs_bn_dropout_adam", "blobs", (64,), "relu", batchnorm=True, dropout=0.2, lr=1e-3, seed=2,
             model="sequential", grad_style="/grad"),
        Spec("healthy_blobs_short_momentum", "blobs", (128, 64), "relu", optimizer="momentum", lr=0.01, seed=3,
             iterations=150, log_every=25, activation_source="recorded"),  # 7 logged steps
        Spec("healthy_regression_relu_adam", "regression", (64, 64), "relu", lr=3e-3, seed=4, loss_tag="loss"),
        Spec("healthy_regression_tanh_short", "regression", (32,), "tanh", optimizer="momentum", lr=0.01, seed=5,
             iterations=100, log_every=20, loss_tag="loss", grad_style="grad/"),  # 6 logged steps
        Spec("healthy_conv_bn_adam", "bars", (8,), "relu", model="conv", batchnorm=True, lr=1e-3, seed=6,
             iterations=200),
        Spec("healthy_conv_momentum_short", "bars", (8,), "relu", model="conv", optimizer="momentum", lr=0.01,
             seed=7, iterations=80, log_every=20, dropout=0.25),  # 5 logged steps
        Spec("healthy_moons_deep_sequential", "moons", (64, 64, 64, 64), "relu", model="sequential", lr=1e-3,
             seed=8, iterations=400),
        Spec("healthy_blobs_sigmoid_adam", "blobs", (32,), "sigmoid", lr=1e-2, seed=9, grad_style="/grad"),
        Spec("healthy_blobs_wide_sgd", "blobs", (512,), "relu", optimizer="momentum", lr=0.01, seed=10,
             activation_source="recorded"),
        Spec("healthy_moons_gelu_adamw_dropout", "moons", (64, 32), "gelu", optimizer="adamw", lr=3e-3, seed=11,
             dropout=0.1, loss_every_iteration=True),
        Spec("healthy_blobs_adam_1e-4", "blobs", (128, 64), "relu", lr=1e-4, seed=12, iterations=400),
        Spec("healthy_moons_binary_sigmoid_output", "moons", (32, 32), "relu", lr=1e-2, seed=13, sigmoid_output=True,
             iterations=400),
        Spec("healthy_moons_tanh_long", "moons", (64, 64), "tanh", lr=1e-2, seed=14, iterations=800, log_every=40),
        Spec("healthy_blobs_five_epochs", "blobs", (64,), "relu", optimizer="momentum", lr=0.02, seed=15,
             iterations=128, log_every=32, activation_source="linear_hook", grad_style="grad/"),  # 5 logged steps
        Spec("healthy_regression_steplr", "regression", (64, 32), "tanh", lr=1e-2, seed=16, iterations=400,
             lr_decay=0.3, loss_tag="loss", activation_source="linear_hook"),
    ]
    faults = [
        Spec("frozen_first_layer", "blobs", (64, 32), "relu", lr=1e-2, seed=20, frozen=("fc1.",),
             expected=("not_learning",), allowed=("still_at_init",)),
        Spec("frozen_middle_layer", "moons", (32, 32, 32), "tanh", optimizer="momentum", lr=0.05, seed=21,
             model="sequential", frozen=("net.2.",), expected=("not_learning",), allowed=("still_at_init",)),
        Spec("lr_1e-6_sgd", "blobs", (64, 32), "relu", optimizer="sgd", lr=1e-6, seed=22,
             expected=("not_learning", "loss_plateau"), allowed=("still_at_init",)),
        Spec("lr_1e-6_adam", "moons", (32, 32), "relu", optimizer="adam", lr=1e-6, seed=23,
             loss_every_iteration=True, expected=("not_learning", "loss_plateau"), allowed=("still_at_init",)),
        Spec("lr_far_too_high_sgd", "regression", (64, 64), "relu", optimizer="sgd", lr=2.0, seed=24,
             loss_tag="loss", allowed=_HIGH_LR_ALLOWED),
        Spec("lr_far_too_high_adam", "blobs", (64, 32), "relu", optimizer="adam", lr=1.0, seed=31,
             allowed=_HIGH_LR_ALLOWED),
        Spec("lr_far_too_high_momentum", "moons", (32, 32), "tanh", optimizer="momentum", lr=3.0, seed=32,
             loss_every_iteration=True, allowed=_HIGH_LR_ALLOWED),
        Spec("dead_relu_negative_bias", "blobs", (64, 32), "relu", lr=1e-3, seed=25, bias_init=-5.0,
             expected=("dead_units",), allowed=("not_learning", "loss_plateau", "still_at_init", "vanishing_gradient")),
        Spec("tanh_saturation_large_init", "blobs", (64, 32), "tanh", optimizer="sgd", lr=0.01, seed=26,
             weight_std=1.0, input_scale=10.0, input_shift=5.0, expected=("saturation",),
             allowed=("not_learning", "loss_plateau", "loss_oscillating", "still_at_init", "vanishing_gradient",
                      "redundant_units")),
        Spec("sigmoid_saturation_large_init", "moons", (32, 32), "sigmoid", optimizer="sgd", lr=0.05, seed=27,
             weight_std=3.0, input_scale=10.0, input_shift=5.0, expected=("saturation",),
             allowed=("not_learning", "loss_plateau", "loss_oscillating", "still_at_init", "vanishing_gradient",
                      "redundant_units")),
        Spec("deep_sigmoid_vanishing", "blobs", (32,) * 10, "sigmoid", model="sequential", optimizer="sgd", lr=0.1,
             seed=28, expected=("vanishing_gradient",), allowed=("not_learning", "loss_plateau", "still_at_init")),
        Spec("nan_from_huge_lr", "regression", (32, 32), "relu", optimizer="sgd", lr=1e-2, seed=29, loss_tag="loss",
             lr_jump=(150, 1e6), expected=("nan_or_inf",),
             allowed=("exploding", "loss_diverging", "loss_oscillating", "loss_plateau", "dead_units", "not_learning",
                      "vanishing_gradient", "still_at_init", "redundant_units")),
        Spec("nan_from_inf_input", "blobs", (32,), "relu", lr=1e-2, seed=30, inf_input_at=160,
             loss_every_iteration=True, expected=("nan_or_inf",),
             allowed=("exploding", "loss_plateau", "loss_diverging", "still_at_init", "dead_units", "not_learning")),
    ]
    return healthy + faults


# A far-too-high learning rate shows as any of these; which one depends on the run.
HIGH_LR_SYMPTOMS = ("loss_diverging", "loss_oscillating", "exploding", "nan_or_inf", "dead_units", "loss_plateau")


def label_high_lr(spec: Spec, outcome: dict) -> tuple[str, ...]:
    """Ground truth for the too-high learning rate from what the training itself did:
    a non-finite loss must be reported as such; otherwise any symptom counts (score.py `any_of`)."""
    return ("nan_or_inf",) if outcome["loss_nonfinite"] else ()


def main() -> None:
    shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS)
    labels, started = {}, time.time()
    for spec in specs():
        t0 = time.time()
        outcome = train(spec)
        expected = label_high_lr(spec, outcome) if spec.name.startswith("lr_far_too_high") else spec.expected
        high_lr = spec.name.startswith("lr_far_too_high")
        labels[spec.name] = {"expected": list(expected), "allowed": list(spec.allowed),
                             "any_of": list(HIGH_LR_SYMPTOMS) if high_lr else list(spec.expected),
                             "healthy": spec.name.startswith("healthy"), "outcome": outcome}
        print(f"{spec.name:<36} {time.time() - t0:5.1f}s  loss {outcome['first_loss']:.3g} -> "
              f"{outcome['final_loss']:.3g}",
              file=sys.stderr)
    with open(os.path.join(LOGS, "labels.json"), "w") as stream:
        json.dump(labels, stream, indent=1)
    print(f"wrote {len(labels)} torch runs to {LOGS} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
