"""Nights of one nightly training, for the baseline comparison (reportgen build --baseline).

    python benchmarks/make_nights.py DIR        # DIR/night1, DIR/night2, DIR/night3

A numpy MLP (16 -> 64 -> 64 -> 1, tanh, Glorot-uniform weights, plain SGD) learns a fixed
random teacher network; each night logs one run `model` with per-layer weight histograms
(fc1, fc2, out) and train/loss, val/loss every 10 steps, as torch's writer does:
- night1: healthy;
- night2: the same training (same seed) with fc1 frozen (a learning rate of 0 for it: the bug
  a wrong `requires_grad` or optimizer param group makes), so its weights stay at their
  initialisation and val/loss ends higher;
- night3: night1 with another seed (another initialisation and data order).

`make_night` returns the labels from the training itself: the val/loss at the end, which layer
was frozen, and how far each layer's weights moved during the run (Wasserstein-1 between the
first and last weights, sorted raw values, over the first step's 2.5%..97.5% range).
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tools.eventwriter import EventWriter

SIZES = (16, 64, 64, 1)
LAYERS = ("fc1", "fc2", "out")
STEPS, LOG_EVERY, LR = 1500, 25, 0.2


def _teacher(n: int = 2048, seed: int = 12345) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, SIZES[0]))
    w1, w2 = rng.normal(0, 0.8, (SIZES[0], 32)), rng.normal(0, 0.5, (32, 1))
    return x, np.tanh(x @ w1) @ w2


def _moved(first: np.ndarray, last: np.ndarray) -> float:
    a, b = np.sort(first.ravel()), np.sort(last.ravel())
    spread = np.quantile(a, 0.975) - np.quantile(a, 0.025)
    return float(np.abs(a - b).mean() / spread)


def make_night(folder: str, seed: int = 0, frozen: str | None = None, wall_time: float = 1.7e9) -> dict:
    rng = np.random.default_rng(seed)
    x, y = _teacher()
    train, val = slice(0, 1536), slice(1536, None)
    weights = [rng.uniform(-np.sqrt(6 / (a + b)), np.sqrt(6 / (a + b)), (a, b)) for a, b in zip(SIZES, SIZES[1:])]
    first = [w.copy() for w in weights]
    val_loss = float("nan")
    with EventWriter(os.path.join(folder, "model"), wall_time=wall_time, hostname="night") as writer:
        for step in range(STEPS + 1):
            batch = rng.choice(1536, 128, replace=False)
            xb, yb = x[train][batch], y[train][batch]
            h1 = np.tanh(xb @ weights[0])
            h2 = np.tanh(h1 @ weights[1])
            out = h2 @ weights[2]
            err = (out - yb) / len(xb)
            g2 = h2.T @ err
            d2 = (err @ weights[2].T) * (1 - h2**2)
            g1 = h1.T @ d2
            d1 = (d2 @ weights[1].T) * (1 - h1**2)
            g0 = xb.T @ d1
            if step % LOG_EVERY == 0:
                for name, w in zip(LAYERS, weights):
                    writer.add_histogram(f"{name}/weight", w.ravel(), step)
                writer.add_scalar("train/loss", float(((out - yb) ** 2).mean()), step)
                pred = np.tanh(np.tanh(x[val] @ weights[0]) @ weights[1]) @ weights[2]
                val_loss = float(((pred - y[val]) ** 2).mean())
                writer.add_scalar("val/loss", val_loss, step)
            for name, w, g in zip(LAYERS, weights, (g0, g1, g2)):
                if name != frozen:
                    w -= LR * 2 * g
    return {"val_loss_last": val_loss, "frozen": frozen,
            "moved": {name: _moved(a, b) for name, a, b in zip(LAYERS, first, weights)}}


def make_nights(root: str) -> dict[str, dict]:
    return {"night1": make_night(os.path.join(root, "night1"), seed=0),
            "night2": make_night(os.path.join(root, "night2"), seed=0, frozen="fc1", wall_time=1.7e9 + 86400),
            "night3": make_night(os.path.join(root, "night3"), seed=1, wall_time=1.7e9 + 2 * 86400)}


if __name__ == "__main__":
    for night, label in make_nights(sys.argv[1]).items():
        moved = ", ".join(f"{k} {v:.1%}" for k, v in label["moved"].items())
        print(f"{night}: val/loss {label['val_loss_last']:.4g}, frozen {label['frozen']}, moved: {moved}")
