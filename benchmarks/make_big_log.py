"""Write the benchmark logs: a big torch-style MLP log, or a sweep of many small runs.

    python benchmarks/make_big_log.py /tmp/rg-bench/big            # 30 histogram tags x 1000 steps, ~270 MB
    python benchmarks/make_big_log.py /tmp/rg-bench/big4k --steps 4000
    python benchmarks/make_big_log.py /tmp/rg-bench/sweep --runs 200   # 200 small runs, one folder each

Every histogram is a legacy `HistogramProto` with TensorFlow's exponential bucket limits, as
torch's `SummaryWriter.add_histogram` writes it, plus a scalar `loss` per step. Deterministic
(fixed seeds and wall times; only the host name in the file name varies).

Why it is fast: each tag draws its parameter values once, sorted. A step's values are that
sample scaled and shifted (a monotone map keeps it sorted), so the step's bucket counts are one
`searchsorted` of the bucket limits and its moments follow from the sample's precomputed sums:
no per-step sampling or histogramming of the whole tensor.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
from tensorboard.compat.proto import summary_pb2

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a clone
from tools.eventwriter import TF_BUCKET_LIMITS, EventWriter

START_WALL_TIME = 1_700_000_000.0
# Right edges of torch's 'tensorflow' bins: (-DBL_MAX, limit_0], (limit_0, limit_1], ...
_LIMITS = TF_BUCKET_LIMITS


@dataclass
class TagModel:
    """One tag: a sorted base sample and how its scale and centre drift over training."""

    tag: str
    sorted_values: np.ndarray
    scale_start: float
    scale_end: float
    shift_end: float

    def __post_init__(self) -> None:
        self.n = float(self.sorted_values.size)
        self.s1 = float(self.sorted_values.sum())
        self.s2 = float((self.sorted_values ** 2).sum())

    def proto(self, fraction: float, wobble: float) -> summary_pb2.HistogramProto:
        """The step's HistogramProto, `fraction` of the way through training."""
        scale = (self.scale_start + (self.scale_end - self.scale_start) * fraction) * wobble
        shift = self.shift_end * fraction
        lo = float(self.sorted_values[0] * scale + shift)
        hi = float(self.sorted_values[-1] * scale + shift)
        # Counts per bin (limit_{i-1}, limit_i]: the sample is sorted, so one searchsorted of the
        # limits mapped back into the base sample's units gives the cumulative counts.
        with np.errstate(over="ignore"):  # the outermost limits are +-DBL_MAX
            cumulative = np.searchsorted(self.sorted_values, (_LIMITS - shift) / scale, side="right")
        counts = np.diff(cumulative, prepend=0)
        nonzero = np.flatnonzero(counts)
        start, end = max(nonzero[0] - 1, 0), nonzero[-1] + 1  # torch keeps one empty bin on the left
        total = scale * self.s1 + self.n * shift
        squares = scale * scale * self.s2 + 2 * scale * shift * self.s1 + self.n * shift * shift
        return summary_pb2.HistogramProto(
            min=lo, max=hi, num=self.n, sum=total, sum_squares=squares,
            bucket_limit=_LIMITS[start:end].tolist(), bucket=counts[start:end].astype(float).tolist(),
        )


def mlp_tags(layers: int, width: int, rng: np.random.Generator, lr: float = 1.0) -> list[TagModel]:
    """Tags of a torch MLP: per layer weight, bias, their grads and the pre-activation; relu outputs.

    Gradients span many orders of magnitude (products of small factors), which is what makes
    torch's exponential buckets many per histogram in real logs.
    """
    tags: list[TagModel] = []
    sizes = [width] * layers + [10]
    for i in range(1, layers + 1):
        fan_in, fan_out = sizes[i - 1], sizes[i]
        bound = 1 / np.sqrt(fan_in)
        weights = np.sort(rng.uniform(-bound, bound, fan_in * fan_out))
        bias = np.sort(rng.uniform(-bound, bound, fan_out))
        grad = np.sort(rng.standard_normal(fan_in * fan_out) * np.exp(rng.normal(-9, 3.0, fan_in * fan_out)))
        bias_grad = np.sort(rng.standard_normal(fan_out) * np.exp(rng.normal(-7, 2.5, fan_out)))
        pre = np.sort(rng.standard_normal(4096) * np.exp(rng.normal(0, 1.8, 4096)))
        tags += [
            TagModel(f"fc{i}.weight", weights, 1.0, 1.0 + 0.6 * lr, 0.0),
            TagModel(f"fc{i}.bias", bias, 1.0, 1.0 + 0.3 * lr, 0.02 * lr),
            TagModel(f"fc{i}.weight.grad", grad, 1.0, 0.3, 0.0),
            TagModel(f"fc{i}.bias.grad", bias_grad, 1.0, 0.3, 0.0),
            TagModel(f"fc{i}.out", pre, 1.0, 1.0 + lr, 0.1 * lr),
        ]
    for i in range(1, layers):
        heavy = np.abs(rng.standard_normal(2048)) * np.exp(rng.normal(0, 2.2, 2048))
        activations = np.sort(np.concatenate((np.zeros(2048), heavy)))
        tags.append(TagModel(f"relu{i}", activations, 1.0, 1.0 + lr, 0.0))
    return tags


def write_run(logdir: str, tags: list[TagModel], steps: int, seed: int, lr: float = 1.0) -> str:
    rng = np.random.default_rng(seed)
    wobble = 1.0 + 0.02 * rng.standard_normal((steps, len(tags)))
    noise = rng.standard_normal(steps)
    with EventWriter(logdir, wall_time=START_WALL_TIME) as writer:
        for step in range(steps):
            fraction = step / max(steps - 1, 1)
            writer.add_scalar("loss", 2.3 * np.exp(-3 * lr * fraction) + 0.05 + 0.02 * noise[step], step)
            for j, model in enumerate(tags):
                writer.add_histogram_proto(model.tag, model.proto(fraction, wobble[step, j]), step)
        return writer.path


def make_big(logdir: str, steps: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    # 5 layers x (weight, bias, weight.grad, bias.grad, out) + relu1..relu4 + a softmax output = 30 tags
    tags = mlp_tags(5, 256, rng)
    tags.append(TagModel("softmax", np.sort(rng.dirichlet(np.ones(10) * 0.3, 400).reshape(-1)), 1.0, 1.0, 0.0))
    write_run(logdir, tags, steps, seed)


def make_sweep(logdir: str, runs: int, steps: int, seed: int = 0) -> None:
    """`runs` small runs (3 layers, 14 histogram tags), learning rates spread over a decade."""
    for r in range(runs):
        rng = np.random.default_rng(seed + r)
        lr = float(10 ** rng.uniform(-1.5, 0.5))
        write_run(os.path.join(logdir, f"run{r:03d}_lr{lr:.4f}"), mlp_tags(3, 32, rng, lr), steps, seed + r, lr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--steps", type=int, help="steps per run (default 1000; 100 with --runs)")
    parser.add_argument("--runs", type=int, default=0, help="write a sweep of this many small runs instead")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if os.path.exists(args.logdir) and os.listdir(args.logdir):
        print(f"{args.logdir} is not empty; refusing to add to it", file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.runs:
        make_sweep(args.logdir, args.runs, args.steps or 100, args.seed)
    else:
        make_big(args.logdir, args.steps or 1000, args.seed)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(args.logdir) for f in files)
    print(f"wrote {args.logdir}: {size / 1e6:.0f} MB in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
