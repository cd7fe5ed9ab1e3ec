"""Write a hyperparameter sweep: a small ReLU MLP trained with numpy over a learning-rate x width
grid, each setting with several seeds, logged as torch's SummaryWriter logs it.

    python benchmarks/make_sweep.py /tmp/rg-bench/sweep                       # 4 lr x 3 widths x 3 seeds: 36 runs
    python benchmarks/make_sweep.py /tmp/rg-bench/sweep --lrs 0.01,1 --widths 16 --seeds 2 --steps 100

The network: 16 inputs -> fc1 (ReLU) -> fc2 (ReLU) -> fc3, He initialisation, zero biases,
regression on tanh(x.w / 2) + noise with plain SGD on batches of 64 and the gradient clipped to
norm 5 (without the clip the highest learning rate overflows to NaN instead). With a high
learning rate the first updates push the ReLU layers' pre-activations below 0 for most inputs,
and those units never come back: their activations are exactly 0.

Each run, `lr{lr}_w{width}/seed_{seed}/`, holds what a torch user logs: histograms of
`fc*.weight`, `fc*.bias`, their gradients (`fc*.weight.grad`) and the ReLU outputs
(`activations/fc1`, `activations/fc2`, on a fixed probe batch of 512 held-out examples) every
3 x `--log-every` steps and at the last step; scalars `train/loss`, `val/loss` (the probe batch)
and `lr` every `--log-every` steps. Its
hyperparameters are written twice, as the two writers people use do:
- torch's `add_hparams`: the hparams plugin records and the metric (`hp_metric`, the last
  val/loss) in a `<run>/<time.time()>/` sub-folder (tools/eventwriter's add_hparams_records);
- Lightning's TensorBoardLogger: `hparams.yaml` in the run folder (nested: `optimizer.name`,
  `optimizer.clip_norm`, `data.n_train`, `data.noise`).

Labels (`labels.json`, by run name) come from the training itself, never from reportgen: the
share of exact zeros in each ReLU layer's activations on the probe batch at the last logged step,
the share of units that are 0 for every probe example (dead units), the first and last training
loss (medians of the first and last 5 logged values), the last val/loss, and `dead_units`: a
ReLU layer with at least DEAD_SHARE of its activations exactly 0 at the end ("most of the
activations are exactly 0", what reportgen's dead_units finding claims).

Deterministic: fixed seeds and wall times (only the host name in the file names varies).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a clone
from tools.eventwriter import EventWriter

INPUTS = 16
TRAIN, PROBE = 2048, 512
BATCH = 64
CLIP_NORM = 5.0
DEAD_SHARE = 0.7
HISTOGRAM_EVERY = 3  # histograms every 3rd logged step (and the last): a tenth of the scalars' size each
START_WALL_TIME = 1_700_000_000.0


@dataclass
class Data:
    x: np.ndarray
    y: np.ndarray
    x_probe: np.ndarray
    y_probe: np.ndarray


def make_data() -> Data:
    rng = np.random.default_rng(1000)  # the same data for every run
    x = rng.normal(size=(TRAIN + PROBE, INPUTS))
    w = rng.normal(size=(INPUTS, 1))
    y = np.tanh(x @ w / 2) + 0.1 * rng.normal(size=(TRAIN + PROBE, 1))
    return Data(x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:])


def init(width: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"fc1.weight": rng.normal(0, np.sqrt(2 / INPUTS), (INPUTS, width)), "fc1.bias": np.zeros(width),
            "fc2.weight": rng.normal(0, np.sqrt(2 / width), (width, width)), "fc2.bias": np.zeros(width),
            "fc3.weight": rng.normal(0, np.sqrt(1 / width), (width, 1)), "fc3.bias": np.zeros(1)}


def forward(p: dict[str, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, ...]:
    z1 = x @ p["fc1.weight"] + p["fc1.bias"]
    a1 = np.maximum(z1, 0)
    z2 = a1 @ p["fc2.weight"] + p["fc2.bias"]
    a2 = np.maximum(z2, 0)
    return z1, a1, z2, a2, a2 @ p["fc3.weight"] + p["fc3.bias"]


def gradients(p: dict[str, np.ndarray], x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    z1, a1, z2, a2, out = forward(p, x)
    err = out - t
    g = 2 * err / len(x)
    g2 = (g @ p["fc3.weight"].T) * (z2 > 0)
    g1 = (g2 @ p["fc2.weight"].T) * (z1 > 0)
    grads = {"fc3.weight": a2.T @ g, "fc3.bias": g.sum(0), "fc2.weight": a1.T @ g2, "fc2.bias": g2.sum(0),
             "fc1.weight": x.T @ g1, "fc1.bias": g1.sum(0)}
    return float((err ** 2).mean()), grads


def train(folder: str, lr: float, width: int, seed: int, steps: int, log_every: int, data: Data,
          wall_time: float) -> dict:
    """Train one run, logging as torch does; its labels from the training."""
    rng = np.random.default_rng(seed)
    params = init(width, rng)
    losses: list[float] = []
    with EventWriter(folder, wall_time=wall_time, hostname="sweep") as writer:
        for step in range(steps):
            batch = rng.integers(0, TRAIN, BATCH)
            loss, grads = gradients(params, data.x[batch], data.y[batch])
            norm = float(np.sqrt(sum((g * g).sum() for g in grads.values())))
            scale = min(1.0, CLIP_NORM / (norm + 1e-12))
            last = step == steps - 1
            if step % log_every == 0 or last:
                losses.append(loss)
                probe = _log_step(writer, params, grads, data, step, loss, lr,
                                  histograms=step % (HISTOGRAM_EVERY * log_every) == 0 or last)
            for name, g in grads.items():
                params[name] -= lr * scale * g
    _, a1, _, a2, out = probe
    layers = {"fc1": a1, "fc2": a2}
    zero = {name: float((a == 0).mean()) for name, a in layers.items()}
    dead = {name: float((a == 0).all(axis=0).mean()) for name, a in layers.items()}
    return {"lr": lr, "width": width, "seed": seed, "zero_fraction": zero, "dead_unit_share": dead,
            "loss_first": float(np.median(losses[:5])), "loss_last": float(np.median(losses[-5:])),
            "val_loss_last": float(((out - data.y_probe) ** 2).mean()),
            "dead_units": any(share >= DEAD_SHARE for share in zero.values())}


def _log_step(writer: EventWriter, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], data: Data,
              step: int, loss: float, lr: float, histograms: bool) -> tuple[np.ndarray, ...]:
    probe = forward(params, data.x_probe)
    _, a1, _, a2, out = probe
    if histograms:
        for name, value in params.items():
            writer.add_histogram(name, value, step)
            writer.add_histogram(f"{name}.grad", grads[name], step)
        writer.add_histogram("activations/fc1", a1, step)
        writer.add_histogram("activations/fc2", a2, step)
    writer.add_scalar("train/loss", loss, step)
    writer.add_scalar("val/loss", float(((out - data.y_probe) ** 2).mean()), step)
    writer.add_scalar("lr", lr, step)
    return probe


def write_hparams(folder: str, lr: float, width: int, seed: int, steps: int, metric: float, stamp: float) -> None:
    """The run's hyperparameters as torch's add_hparams (sub-folder) and Lightning (hparams.yaml) write them."""
    with EventWriter(os.path.join(folder, repr(stamp)), wall_time=stamp, hostname="sweep") as writer:
        writer.add_hparams_records({"lr": lr, "width": width, "seed": seed})
        writer.add_scalar("hp_metric", metric, 0)
    with open(os.path.join(folder, "hparams.yaml"), "w") as stream:
        stream.write(f"lr: {lr}\nwidth: {width}\nseed: {seed}\nsteps: {steps}\n"
                     f"optimizer:\n  name: sgd\n  clip_norm: {CLIP_NORM}\n"
                     f"data:\n  n_train: {TRAIN}\n  noise: 0.1\n")


def run_name(lr: float, width: int, seed: int) -> str:
    return f"lr{lr:g}_w{width}/seed_{seed}"


def write_sweep(out: str, lrs: list[float], widths: list[int], seeds: int, steps: int = 300,
                log_every: int = 10) -> dict[str, dict]:
    """Every run of the grid under `out`, and labels.json; returns the labels by run name."""
    data = make_data()
    labels = {}
    index = 0
    for lr in lrs:
        for width in widths:
            for seed in range(seeds):
                name = run_name(lr, width, seed)
                folder = os.path.join(out, name)
                wall = START_WALL_TIME + 10_000 * index
                with np.errstate(over="ignore", invalid="ignore"):
                    labels[name] = train(folder, lr, width, seed, steps, log_every, data, wall)
                write_hparams(folder, lr, width, seed, steps, labels[name]["val_loss_last"], wall + 5_000.5)
                index += 1
    with open(os.path.join(out, "labels.json"), "w") as stream:
        json.dump(labels, stream, indent=1, sort_keys=True)
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("--lrs", default="0.001,0.01,0.1,1", help="learning rates, comma-separated")
    parser.add_argument("--widths", default="16,32,64", help="hidden widths, comma-separated")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--log-every", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    labels = write_sweep(args.out, [float(v) for v in args.lrs.split(",")], [int(v) for v in args.widths.split(",")],
                         args.seeds, args.steps, args.log_every)
    dead = sum(label["dead_units"] for label in labels.values())
    print(f"{len(labels)} runs ({dead} with dead units by the labels) in {args.out}, "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
