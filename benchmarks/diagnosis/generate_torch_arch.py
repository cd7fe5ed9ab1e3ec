"""Writes small REAL torch trainings of other architectures and faults, logged by torch's own
SummaryWriter, for the diagnosis benchmark, with labels computed from what was logged.

    python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch==2.13.0 tensorboard numpy
    /work/venv-torch/bin/python benchmarks/diagnosis/generate_torch_arch.py [run-name-substring ...]
                                   # about 2 minutes on one core (torch.set_num_threads(1))

Runs go to benchmarks/diagnosis/logs/torch_arch/<run>/ and labels to logs/torch_arch/labels.json:
{"<run>": {"healthy", "expected", "allowed", "expected_layers", "evidence", "why"}}. `expected`
codes must be reported, `allowed` codes may be, a `healthy` run must get no warning/critical.
The labels are decided from the logged data: after a run is written, its event files are read
back with tensorboard's EventAccumulator and the evidence (loss first/last 10% medians, eval
minimum, weight std first/last, exact-zero share of an activation histogram, first non-finite
step and tag...) is computed from those events (per-unit dead shares and the share of values at
an activation's floor come from the very tensors that were logged). When a planned fault did
not show in the data, the label says what the data shows and `why` says so.

What is logged is what users write (torch.utils.tensorboard.SummaryWriter, legacy histograms),
every 10 steps unless noted: each named parameter `add_histogram(name, p, step)`, its gradient
(`name.grad` or `grad/name`, by run), the BatchNorm buffers in the BN runs (`named_buffers`:
running_mean, running_var, num_batches_tracked), activations from forward hooks
(`activations/<module name>`), scalars `train/loss`, `train/accuracy` (classifiers), `train/lr`,
`train/grad_norm` (total gradient norm before clipping), and `eval/loss` (+ `eval/accuracy`)
every 50 steps on held-out data.

Runs (tasks: `seq` = 3-class classification of noisy sinusoids by frequency, 24 steps x 2
channels; `next` = next-value prediction of a noisy two-tone signal (MSE); `tokens` = 3-class
"most frequent class token" in 24-token sequences; `blobs` = 10-d Gaussian blobs, 4 classes;
`bars` = 12x12 bar images, 3 classes). 300 steps unless noted:
- lstm_healthy / lstm_clipped_healthy: LSTM on seq; Adam 3e-3; the same with clip_grad_norm_(1.0).
- lstm_exploding: LSTM on next, weights init x3, SGD momentum lr 1.0, no clipping: grows from
  step 10, Inf at step 100, NaN after (the loss is logged on, histograms stop when all-NaN).
- lstm_clipped_bias_grad_growth: healthy clipped LSTM whose classifier head starts near 0, so
  the LSTM's gradients (its bias gradients too) start near 0 and grow 20000x (a trap for "exploding").
- gru_healthy / gru_clipped_healthy: 2-layer GRU on next; Adam; SGD momentum + clip 0.5.
- gru_exploding: the same GRU, SGD momentum with lr warmed up linearly to 2.0 (far too high) over
  250 steps, no clipping: fine until step 100, explodes at 110, NaN from 120.
- transformer_healthy / transformer_lr_too_high: 2-layer nn.TransformerEncoder (GELU module,
  token embedding) on tokens; AdamW 1e-3 with warm-up and cosine decay; SGD momentum lr 0.6
  (the loss climbs for 110 steps to 1e11, then NaN).
- bn_cnn_adam_healthy / bn_cnn_sgd_healthy: conv-BN-ReLU x2 on bars, parameters and buffers (250 steps).
- dead_relu_lr_spike: ReLU MLP on blobs, SGD momentum 0.02; lr x100 for steps 150-154, then back.
- weight_decay_sgd_1.0 / weight_decay_adam_l2_10: SGD lr 0.1 weight_decay=1.0; Adam lr 1e-3 with
  (coupled, L2) weight_decay=10: the weights collapse, the loss sits at ln 4.
- weight_decay_adamw_10: AdamW lr 1e-2 weight_decay=10: planned as a collapse, but Adam's
  normalised step balances the decoupled decay (weights settle ~3x smaller) and it trains: labeled
  healthy, as the data shows.
- frozen_backbone_finetune: backbone pretrained (unlogged) on a 6-class task, frozen
  (requires_grad=False, so no gradient histograms), new head trained on a 2-class regrouping.
- amp_fp16_gradscaler: fp16 autocast on CPU with the real torch.amp.GradScaler('cpu')
  (growth_interval 10): overflowing steps are skipped and the scale halved; scalars
  `train/loss_scale`, `train/grad_norm` (Inf at skipped steps) every step, histograms every 5 steps.
- elu_healthy / gelu_healthy / leaky_relu_healthy / selu_healthy: MLPs on blobs (SELU: 4 layers,
  LeCun init, plain SGD).
- elu_saturated_negative_bias: ELU MLP, hidden biases -5, plain SGD: outputs at ELU's floor -1.
- leaky_relu_negative_inputs: leaky-ReLU MLP, hidden biases -5 so inputs to the activations
  are all negative (slope 0.01 side); plain SGD.
- deep_sigmoid_vanishing: 10 sigmoid layers, SGD, gradients logged.
- deep_residual_relu_healthy: 10 residual ReLU blocks (20 linear layers), Adam, gradients logged.

`expected_layers` names, per code, the layer (module name, a substring of its tags) where the
finding must be attributed: for an explosion, the parameter that grew most between the last
logged step before the onset and the onset (first grad_norm over 100x its step-0 value).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.utils.tensorboard import SummaryWriter

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs", "torch_arch")
torch.set_num_threads(1)
LN = {3: math.log(3), 4: math.log(4), 2: math.log(2)}


# Data ------------------------------------------------------------------------------------


def seq_classes(n: int, rng: np.random.Generator, steps: int = 24):
    """Channel 0: a sinusoid whose frequency gives the class, in noise; channel 1: noise."""
    y = rng.integers(0, 3, n)
    t = np.arange(steps)
    freq = np.array([1.0, 3.0, 6.0])[y] / steps * 2 * math.pi
    phase = rng.uniform(0, 2 * math.pi, n)
    x = np.zeros((n, steps, 2))
    x[:, :, 0] = np.sin(freq[:, None] * t[None] + phase[:, None]) + rng.normal(0, 0.5, (n, steps))
    x[:, :, 1] = rng.normal(0, 1, (n, steps))
    return x, y


def next_value(n: int, rng: np.random.Generator, steps: int = 24):
    omega = rng.uniform(0.2, 0.6, n)
    p1, p2 = rng.uniform(0, 2 * math.pi, n), rng.uniform(0, 2 * math.pi, n)
    t = np.arange(steps + 1)
    signal = np.sin(omega[:, None] * t + p1[:, None]) + 0.5 * np.sin(2 * omega[:, None] * t + p2[:, None])
    signal += rng.normal(0, 0.05, signal.shape)
    return signal[:, :steps, None], signal[:, steps]


def tokens(n: int, rng: np.random.Generator, steps: int = 24, vocab: int = 10):
    """Token sequences: 6 of the 24 positions hold the class token (0, 1 or 2), 3 more hold random
    class tokens, the rest tokens 3-9: the class is the most frequent of tokens 0-2."""
    y = rng.integers(0, 3, n)
    x = rng.integers(3, vocab, (n, steps))
    for i in range(n):
        x[i, rng.choice(steps, 6, replace=False)] = y[i]
        x[i, rng.choice(steps, 3, replace=False)] = rng.integers(0, 3, 3)
    return x, y


def blobs(n: int, rng: np.random.Generator, dims: int = 10, classes: int = 4):
    centers = rng.normal(0, 2.0, (classes, dims))
    y = rng.integers(0, classes, n)
    return centers[y] + rng.normal(0, 1.5, (n, dims)), y


def blobs6(n: int, rng: np.random.Generator):
    """Six blobs; the fine-tuning task regroups them into 2 classes (labels y % 2)."""
    return blobs(n, rng, classes=6)


def bars(n: int, rng: np.random.Generator, size: int = 12):
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


DATA = {"seq": seq_classes, "next": next_value, "tokens": tokens, "blobs": blobs, "blobs6": blobs6, "bars": bars}


# Models ----------------------------------------------------------------------------------


class SeqRNN(nn.Module):
    def __init__(self, kind: str, inputs: int, hidden: int, outputs: int, layers: int = 1):
        super().__init__()
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(inputs, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class SeqTransformer(nn.Module):
    def __init__(self, vocab: int = 10, d: int = 32, heads: int = 4, layers: int = 2, steps: int = 24,
                 classes: int = 3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos_embedding = nn.Parameter(torch.randn(1, steps, d) * 0.02)
        layer = nn.TransformerEncoderLayer(d, heads, 64, dropout=0.1, activation=nn.GELU(), batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        return self.head(self.encoder(self.embed(x) + self.pos_embedding).mean(1))


class BNConvNet(nn.Module):
    def __init__(self, channels: int = 8, classes: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, 2 * channels, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * channels)
        self.act2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(3)
        self.fc = nn.Linear(2 * channels * 9, classes)

    def forward(self, x):
        x = self.act1(self.bn1(self.conv1(x)))
        x = self.act2(self.bn2(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


class MLP(nn.Module):
    """fc1, act1, fc2, act2, ..., fcN."""

    def __init__(self, sizes: list[int], activation: Callable[[], nn.Module]):
        super().__init__()
        self.depth = len(sizes) - 1
        for i in range(self.depth):
            setattr(self, f"fc{i + 1}", nn.Linear(sizes[i], sizes[i + 1]))
            if i < self.depth - 1:
                setattr(self, f"act{i + 1}", activation())

    def forward(self, x):
        for i in range(1, self.depth + 1):
            x = getattr(self, f"fc{i}")(x)
            if i < self.depth:
                x = getattr(self, f"act{i}")(x)
        return x


class Block(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)

    def forward(self, x):
        return x + self.fc2(self.act(self.fc1(x)))


class ResidualMLP(nn.Module):
    def __init__(self, inputs: int = 10, width: int = 64, blocks: int = 10, classes: int = 4):
        super().__init__()
        self.stem = nn.Linear(inputs, width)
        self.blocks = nn.ModuleList(Block(width) for _ in range(blocks))
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(torch.relu(x))


class FineTune(nn.Module):
    def __init__(self, classes: int):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU())
        self.head = nn.Linear(64, classes)

    def forward(self, x):
        return self.head(self.backbone(x))


ACT_TYPES = (nn.ReLU, nn.ELU, nn.GELU, nn.LeakyReLU, nn.SELU, nn.Sigmoid, nn.Tanh)


def scale_init(factor: float, only: str = ""):
    def apply(model: nn.Module):
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith(only) and "weight" in name:
                    p.mul_(factor)
    return apply


def hidden_bias(value: float):
    def apply(model: nn.Module):
        linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for m in linears[:-1]:
                m.bias.fill_(value)
    return apply


def lecun_init(model: nn.Module):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.normal_(0, 1 / math.sqrt(m.in_features))
                m.bias.zero_()


def small_head(model: nn.Module):
    with torch.no_grad():
        model.head.weight.normal_(0, 1e-4)
        model.head.bias.zero_()


def pretrain_backbone(model: nn.Module, x: torch.Tensor, y6: torch.Tensor):
    """'Pretrained' backbone: trained (unlogged) on the 6-class task; then a new 2-class head."""
    pre = FineTune(6)
    opt = torch.optim.Adam(pre.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(99)
    for _ in range(400):
        idx = torch.randint(0, len(x), (64,), generator=gen)
        loss = nn.functional.cross_entropy(pre(x[idx]), y6[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.backbone.load_state_dict(pre.backbone.state_dict())


# Runs ------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    task: str
    model: Callable[[], nn.Module]
    optimizer: Callable[[list], torch.optim.Optimizer]
    label: Callable[[Events, dict], dict]
    init: Callable[[nn.Module], None] | None = None
    steps: int = 300
    log_every: int = 10
    hist_every: int = 0  # histograms every N steps (default: log_every)
    scalars_every: int = 0  # scalars every N steps (default: log_every)
    eval_every: int = 50
    clip: float | None = None
    lr_at: Callable[[int, float], float] | None = None
    grad_style: str = ".grad"
    buffers: bool = False
    amp: bool = False
    hook_names: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()
    seed: int = 0
    batch: int = 64


def grad_tag(name: str, style: str) -> str:
    return f"grad/{name}" if style == "grad/" else f"{name}.grad"


def add_histogram(writer: SummaryWriter, tag: str, values: torch.Tensor, step: int) -> None:
    """torch's writer raises on an all-NaN tensor ("The histogram is empty"); a training script
    that guards its logging goes on without that histogram."""
    try:
        with warnings.catch_warnings():  # numpy warns summing Inf and -Inf
            warnings.simplefilter("ignore", RuntimeWarning)
            writer.add_histogram(tag, values.detach().float(), step)
    except ValueError:
        pass


def tensor_stats(v: torch.Tensor) -> dict:
    """Numbers about a logged activation tensor (the values given to add_histogram)."""
    v = v.detach().float()
    flat = v.reshape(-1)
    units = v.transpose(0, 1).reshape(v.shape[1], -1) if v.dim() == 4 else v.reshape(-1, v.shape[-1]).T
    finite = torch.isfinite(flat)
    return {"zero_share": float((flat == 0).float().mean()), "negative_share": float((flat < 0).float().mean()),
            "floor_share": float((flat <= -0.95).float().mean()),  # ELU's floor is -1
            "dead_unit_share": float((units == 0).all(1).float().mean()),
            "std": float(flat[finite].std()) if finite.sum() > 1 else float("nan"),
            "finite_share": float(finite.float().mean())}


def train(run: Run) -> dict:
    torch.manual_seed(run.seed)
    rng = np.random.default_rng(run.seed)
    x_np, y_np = DATA[run.task](3072, rng)
    classify = run.task != "next"
    if run.task == "blobs6":
        y6 = torch.tensor(y_np, dtype=torch.long)
        y_np = y_np % 2
    x = torch.tensor(x_np, dtype=torch.long if run.task == "tokens" else torch.float32)
    y = torch.tensor(y_np, dtype=torch.long if classify else torch.float32)
    x_train, y_train, x_eval, y_eval = x[:2560], y[:2560], x[2560:], y[2560:]
    model = run.model()
    if run.task == "blobs6":
        pretrain_backbone(model, x_train, y6[:2560])
    if run.init:
        run.init(model)
    for name, p in model.named_parameters():
        if any(name.startswith(prefix) for prefix in run.frozen):
            p.requires_grad = False
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = run.optimizer(trainable)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 16, growth_interval=10) if run.amp else None
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    writer = SummaryWriter(os.path.join(LOGS, run.name))
    hist_every, scalars_every = run.hist_every or run.log_every, run.scalars_every or run.log_every
    state = {"log": False, "step": 0}
    side: dict = {"activations": {}, "skipped_steps": [], "scale": []}

    def hook(name):
        def record(module, inputs, output):
            if state["log"]:
                out = output[0] if isinstance(output, tuple) else output
                add_histogram(writer, f"activations/{name}", out, state["step"])
                side["activations"].setdefault(f"activations/{name}", []).append((state["step"], tensor_stats(out)))
        return record

    for name, module in model.named_modules():
        if isinstance(module, ACT_TYPES) or name in run.hook_names:
            module.register_forward_hook(hook(name))

    def forward(inputs, targets):
        if run.amp:
            with torch.amp.autocast("cpu", dtype=torch.float16):
                out = model(inputs)
                return out, loss_fn(out.float(), targets)
        out = model(inputs)
        return out, loss_fn(out if classify else out.squeeze(1), targets)

    gen = torch.Generator().manual_seed(run.seed)
    for step in range(run.steps + 1):
        if run.lr_at:
            for group, base in zip(optimizer.param_groups, base_lrs):
                group["lr"] = run.lr_at(step, base)
        idx = torch.randint(0, len(x_train), (run.batch,), generator=gen)
        xb, yb = x_train[idx], y_train[idx]
        hist_step = step % hist_every == 0
        state["log"], state["step"] = hist_step, step
        model.train()
        out, loss = forward(xb, yb)
        state["log"] = False
        optimizer.zero_grad(set_to_none=True)
        if scaler:
            scale_used = scaler.get_scale()
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        grads = [p.grad for p in trainable if p.grad is not None]
        if run.clip:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, run.clip))
        else:
            norms = torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])
            grad_norm = float(torch.linalg.vector_norm(norms))
        if hist_step:
            for name, p in model.named_parameters():
                if p.grad is not None:
                    add_histogram(writer, grad_tag(name, run.grad_style), p.grad, step)
        if scaler:
            scaler.step(optimizer)
            scaler.update()
            if scaler.get_scale() < scale_used:
                side["skipped_steps"].append(step)
            side["scale"].append(scaler.get_scale())
        else:
            optimizer.step()
        if step % scalars_every == 0:
            writer.add_scalar("train/loss", float(loss.detach()), step)
            if classify:
                writer.add_scalar("train/accuracy", float((out.argmax(1) == yb).float().mean()), step)
            writer.add_scalar("train/lr", optimizer.param_groups[0]["lr"], step)
            writer.add_scalar("train/grad_norm", grad_norm, step)
            if scaler:
                writer.add_scalar("train/loss_scale", scaler.get_scale(), step)
        if hist_step:
            for name, p in model.named_parameters():
                add_histogram(writer, name, p, step)
            if run.buffers:
                for name, b in model.named_buffers():
                    add_histogram(writer, name, b, step)
        if step % run.eval_every == 0 or step == run.steps:
            model.eval()
            with torch.no_grad():
                out_e, loss_e = forward(x_eval, y_eval)
            writer.add_scalar("eval/loss", float(loss_e), step)
            if classify:
                writer.add_scalar("eval/accuracy", float((out_e.argmax(1) == y_eval).float().mean()), step)
    writer.close()
    return side


# Evidence from the logged events -------------------------------------------------------


class Events:
    """One run's events as read back by tensorboard's EventAccumulator."""

    def __init__(self, path: str):
        ea = EventAccumulator(path, size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
        with warnings.catch_warnings():  # its distribution compressor warns on Inf histograms
            warnings.simplefilter("ignore", RuntimeWarning)
            ea.Reload()
        self.scalars = {t: (np.array([e.step for e in ea.Scalars(t)]), np.array([e.value for e in ea.Scalars(t)]))
                        for t in ea.Tags()["scalars"]}
        self.hists = {t: [(e.step, e.histogram_value) for e in ea.Histograms(t)] for t in ea.Tags()["histograms"]}

    def values(self, tag: str) -> np.ndarray:
        return self.scalars[tag][1]

    def head_tail(self, tag: str) -> tuple[float, float]:
        """Medians of the first and the last 10% of a scalar's points (at least 1)."""
        v = self.values(tag)
        k = max(1, round(len(v) * 0.1))
        return float(np.median(v[:k])), float(np.median(v[-k:]))

    def eval_min(self, tag: str = "eval/loss") -> tuple[float, int, float]:
        steps, v = self.scalars[tag]
        finite = np.isfinite(v)
        i = int(np.argmin(np.where(finite, v, np.inf)))
        return float(v[i]), int(steps[i]), float(v[-1])

    @staticmethod
    def std(h) -> float:
        if h.num == 0 or not all(map(math.isfinite, (h.sum, h.sum_squares))):
            return float("nan")
        mean = h.sum / h.num
        return math.sqrt(max(h.sum_squares / h.num - mean * mean, 0.0))

    @staticmethod
    def absmax(h) -> float:
        return max(abs(h.min), abs(h.max))

    @staticmethod
    def zero_share(h) -> float:
        """Share in the legacy [0, 1e-12) bucket: exact zeros."""
        for limit, count in zip(h.bucket_limit, h.bucket):
            if abs(limit - 1e-12) < 1e-15:
                return count / h.num
        return 0.0

    def hist_std(self, tag: str, which: int) -> float:
        return self.std(self.hists[tag][which][1])

    def first_nonfinite(self) -> tuple[int, str] | None:
        """Earliest (step, tag) with a non-finite scalar or a histogram holding Inf/NaN."""
        found = []
        for tag, (steps, v) in self.scalars.items():
            bad = ~np.isfinite(v)
            if bad.any():
                found.append((int(steps[bad][0]), tag))
        for tag, items in self.hists.items():
            for step, h in items:
                if not all(map(math.isfinite, (h.min, h.max, h.sum))):
                    found.append((int(step), tag))
                    break
        return min(found) if found else None

    def nonfinite_hist_steps(self, tag: str) -> list[int]:
        return [int(s) for s, h in self.hists.get(tag, []) if not all(map(math.isfinite, (h.min, h.max, h.sum)))]


def r(v: float, digits: int = 4) -> float:
    if v is None or not math.isfinite(v):
        return v if v is None else float(v)
    return float(f"{v:.{digits}g}")


def loss_evidence(ev: Events, side: dict) -> dict:
    first, last = ev.head_tail("train/loss")
    e = {"loss_first10_median": r(first), "loss_last10_median": r(last), "loss_points": len(ev.values("train/loss"))}
    if "eval/loss" in ev.scalars:
        m, s, final = ev.eval_min()
        e.update(eval_loss_min=r(m), eval_loss_min_step=s, eval_loss_last=r(final))
    if "train/accuracy" in ev.scalars:
        a0, a1 = ev.head_tail("train/accuracy")
        e.update(acc_first10_median=r(a0), acc_last10_median=r(a1))
    if "eval/accuracy" in ev.scalars:
        e["eval_accuracy_last"] = r(float(ev.values("eval/accuracy")[-1]))
    return e


def healthy(extra_allowed: tuple[str, ...] = (), note: str = ""):
    """A control: the label checks the loss clearly fell and nothing turned non-finite."""
    def label(ev: Events, side: dict) -> dict:
        e = loss_evidence(ev, side)
        bad = ev.first_nonfinite()
        drop = 1 - e["loss_last10_median"] / e["loss_first10_median"]
        e["loss_drop"] = r(drop, 3)
        ok = bad is None and drop > 0.3
        why = (f"train/loss {e['loss_first10_median']:.3g} -> {e['loss_last10_median']:.3g} (first/last 10% medians, "
               f"-{drop:.0%})" + (f", eval/loss min {e['eval_loss_min']:.3g} at step {e['eval_loss_min_step']}, "
                                  f"last {e['eval_loss_last']:.3g}" if "eval_loss_min" in e else "")
               + (f", train accuracy {e['acc_last10_median']:.2f} at the end" if "acc_last10_median" in e else "")
               + "; all values finite" + (note and "; " + note))
        if not ok:
            cause = f"non-finite at {bad}" if bad else f"the loss fell only {drop:.0%}"
            why = f"PLANNED HEALTHY BUT {cause}; {why}"
        return {"healthy": ok, "expected": [] if ok else ["loss_plateau"], "allowed": list(extra_allowed),
                "expected_layers": {}, "evidence": e, "why": why}
    return label


def module_of(tag: str) -> str:
    """`grad/rnn.weight_ih_l0` -> `rnn`, `head.bias.grad` -> `head`."""
    name = tag[5:] if tag.startswith("grad/") else tag
    name = name[:-5] if name.endswith(".grad") else name
    return name.rsplit(".", 1)[0]


def is_grad(tag: str) -> bool:
    return tag.startswith("grad/") or tag.endswith(".grad")


def exploding(ev: Events, side: dict) -> dict:
    """Onset: the first logged step whose train/grad_norm is non-finite or over 100x the median
    first logged value (at initialisation); attributed to the parameter whose |max| grew most from the
    previous logged step to the onset (weights and biases, not gradients)."""
    e = loss_evidence(ev, side)
    bad = ev.first_nonfinite()
    gn_steps, gn = ev.scalars["train/grad_norm"]
    finite = np.isfinite(gn)
    base = float(gn[0])
    e["grad_norm_first"] = r(base)
    e["grad_norm_max_finite"] = r(float(gn[finite].max()))
    e["grad_norm_max_step"] = int(gn_steps[finite][np.argmax(gn[finite])])
    loss_steps, loss = ev.scalars["train/loss"]
    e["loss_at_step0"] = r(float(loss[0]))
    e["loss_max_finite"] = r(float(loss[np.isfinite(loss)].max()))
    e["loss_max_finite_step"] = int(loss_steps[np.isfinite(loss)][np.argmax(loss[np.isfinite(loss)])])
    e["loss_nonfinite_points"] = int((~np.isfinite(loss)).sum())
    e["first_nonfinite"] = list(bad) if bad else None
    onset_mask = ~finite | (gn > 100 * base)
    onset = int(gn_steps[onset_mask][0]) if onset_mask.any() else None
    e["explosion_onset_step"] = onset
    ratios = {}
    if onset is not None:
        for tag, items in ev.hists.items():
            if tag.startswith("activations/") or is_grad(tag):
                continue
            by_step = dict(items)
            before = [s for s, _ in items if s < onset]
            if onset not in by_step or not before:
                continue
            am, am0 = Events.absmax(by_step[onset]), Events.absmax(by_step[before[-1]])
            ratios[tag] = am / max(am0, 1e-30) if math.isfinite(am) else float("inf")
    e["param_absmax_growth_at_onset"] = {t: r(v, 3) for t, v in sorted(ratios.items(), key=lambda x: -x[1])[:6]}
    weights = [t for t in ev.hists if not t.startswith("activations/") and not is_grad(t)]
    grew = {t: Events.absmax(ev.hists[t][-1][1]) / max(Events.absmax(ev.hists[t][0][1]), 1e-30) for t in weights}
    e["param_absmax_growth_first_to_last_kept"] = {t: r(v, 3) for t, v in grew.items()}
    expected, layers = [], {}
    if bad:
        expected.append("nan_or_inf")
    grad_growth = e["grad_norm_max_finite"] / max(base, 1e-30)
    e["grad_norm_growth"] = r(grad_growth, 3)
    top = max(ratios, key=ratios.get) if ratios else None
    if grad_growth > 100 or any(v > 100 for v in grew.values()):
        expected.append("exploding")
        if top:
            layers["exploding"] = [module_of(top)]
    finite_loss = loss[np.isfinite(loss)]
    if (finite_loss > 10 * loss[0]).sum() >= 2:
        expected.append("loss_diverging")
    why = (f"train/loss {e['loss_at_step0']:.3g} at step 0 -> max finite {e['loss_max_finite']:.3g} at step "
           f"{e['loss_max_finite_step']}, {e['loss_nonfinite_points']} non-finite loss points after; grad_norm "
           f"{base:.3g} at step 0 -> {e['grad_norm_max_finite']:.3g} (x{grad_growth:.3g}) at step "
           f"{e['grad_norm_max_step']}; " + (f"first non-finite value at step {bad[0]} in {bad[1]}" if bad
                                             else "no non-finite value"))
    if top:
        why += (f"; explosion onset at step {onset}, where {top} grew most (|max| x{ratios[top]:.3g} in 10 steps)")
    return {"healthy": False, "expected": expected,
            "allowed": ["loss_diverging", "loss_oscillating", "loss_plateau", "exploding", "saturation",
                        "not_learning", "still_at_init", "vanishing_gradient", "dead_units", "redundant_units"],
            "expected_layers": layers, "evidence": e, "why": why}


def transformer_high_lr(ev: Events, side: dict) -> dict:
    e = loss_evidence(ev, side)
    bad = ev.first_nonfinite()
    steps, loss = ev.scalars["train/loss"]
    e["loss_max"] = r(float(np.nanmax(np.where(np.isfinite(loss), loss, np.nan))))
    e["loss_at_step0"] = r(float(loss[0]))
    e["loss_max_step"] = int(steps[np.nanargmax(np.where(np.isfinite(loss), loss, np.nan))])
    e["ln3"] = r(LN[3])
    e["first_nonfinite"] = list(bad) if bad else None
    ratio = e["loss_last10_median"] / e["loss_first10_median"]
    e["loss_last_over_first"] = r(ratio, 3)
    expected = []
    if bad:
        expected.append("nan_or_inf")
    if ratio > 1.5 or (e["loss_max"] > 3 * e["loss_first10_median"]):
        expected.append("loss_diverging")
    near_chance = abs(e["loss_last10_median"] - LN[3]) < 0.1 * LN[3]
    if not expected and near_chance:
        expected.append("loss_plateau")
    why = (f"SGD momentum 0.9 lr 0.6: train/loss {e['loss_at_step0']:.3g} at step 0, "
           f"{e['loss_first10_median']:.3g} -> {e['loss_last10_median']:.3g} (first/last 10% medians; "
           f"ln 3 = {LN[3]:.3g}), max {e['loss_max']:.3g} at step {e['loss_max_step']}, eval/loss min "
           f"{e['eval_loss_min']:.3g} at step {e['eval_loss_min_step']}, last {e['eval_loss_last']:.3g}; "
           f"train accuracy at the end {e['acc_last10_median']:.2f} (chance 0.33)"
           + (f"; first non-finite at step {bad[0]} in {bad[1]}" if bad else "; all finite"))
    return {"healthy": False, "expected": expected,
            "allowed": ["loss_diverging", "loss_oscillating", "loss_plateau", "exploding", "not_learning",
                        "still_at_init", "saturation", "dead_units", "redundant_units", "nan_or_inf",
                        "vanishing_gradient"],
            "expected_layers": {}, "evidence": e, "why": why}


def dead_relu(ev: Events, side: dict) -> dict:
    e = loss_evidence(ev, side)
    acts = side["activations"]
    per_layer, worst = {}, None
    for tag, items in acts.items():
        before = [s for st, s in items if st < 150][-1]
        after = items[-1][1]
        hist = ev.hists[tag]
        z_before = Events.zero_share([h for st, h in hist if st < 150][-1])
        z_after = Events.zero_share(hist[-1][1])
        per_layer[tag] = {"zero_share_before_spike": r(z_before, 3), "zero_share_last": r(z_after, 3),
                          "dead_unit_share_before_spike": r(before["dead_unit_share"], 3),
                          "dead_unit_share_last": r(after["dead_unit_share"], 3)}
        if worst is None or z_after > per_layer[worst]["zero_share_last"]:
            worst = tag
    e["activations"] = per_layer
    steps, loss = ev.scalars["train/loss"]
    e["loss_before_spike"] = r(float(loss[steps == 140][0]))
    e["loss_max_after_spike"] = r(float(np.nanmax(loss[(steps >= 150) & (steps <= 200)])))
    lrs = ev.values("train/lr")
    e["lr_max"] = r(float(lrs.max()))
    died = {t: v for t, v in per_layer.items() if v["zero_share_last"] >= 0.7}
    expected = ["dead_units"] if died else []
    layers = {"dead_units": [t.split("/", 1)[1] for t in died]} if died else {}
    why = (f"lr 0.02 -> {e['lr_max']:.3g} for steps 150-154 -> 0.02: exact-zero share of the activations before/after: "
           + ", ".join(f"{t} {v['zero_share_before_spike']:.2f} -> {v['zero_share_last']:.2f} "
                       f"(units dead on the whole batch {v['dead_unit_share_before_spike']:.2f} -> "
                       f"{v['dead_unit_share_last']:.2f})"
                       for t, v in per_layer.items())
           + f"; train/loss {e['loss_before_spike']:.3g} at step 140, up to {e['loss_max_after_spike']:.3g} after "
             "the spike, "
             f"last 10% median {e['loss_last10_median']:.3g}")
    if not died:
        why = "PLANNED dead units did not materialise (no activation >= 70% zeros at the end): " + why
    return {"healthy": not died and e["loss_last10_median"] < e["loss_first10_median"] * 0.7, "expected": expected,
            "allowed": ["loss_oscillating", "loss_diverging", "loss_plateau", "not_learning", "still_at_init",
                        "redundant_units", "vanishing_gradient", "exploding"],
            "expected_layers": layers, "evidence": e, "why": why}


def weight_collapse(label_wd: str, classes: int = 4):
    def label(ev: Events, side: dict) -> dict:
        e = loss_evidence(ev, side)
        stds = {}
        for tag, items in ev.hists.items():
            if tag.endswith(".weight") and not is_grad(tag):
                stds[tag] = (Events.std(items[0][1]), Events.std(items[-1][1]))
        e["weight_std_first_last"] = {t: [r(a, 3), r(b, 3)] for t, (a, b) in stds.items()}
        shrink = {t: a / b if b > 0 else float("inf") for t, (a, b) in stds.items()}
        e["weight_std_shrink_factor"] = {t: r(v, 3) for t, v in shrink.items()}
        e["ln_classes"] = r(LN[classes])
        collapsed = [t for t, v in shrink.items() if v >= 30]
        orders = max(math.log10(v) for v in shrink.values())
        stuck = abs(e["loss_last10_median"] - LN[classes]) < 0.05 * LN[classes]
        expected, layers = [], {}
        if 2 * len(collapsed) >= len(shrink) and stuck:
            expected.append("weight_collapse")
            layers["weight_collapse"] = [module_of(t) for t in collapsed]
        if stuck:
            expected.append("loss_plateau")
        if not expected:  # the planned collapse did not happen: judge it as a control
            lab = healthy()(ev, side)
            lab["evidence"].update(e)
            lab["why"] = (f"PLANNED weight collapse did not happen ({label_wd}: weight std shrank at most "
                          f"x{max(shrink.values()):.3g}, loss not stuck at ln {classes}): " + ", ".join(
                              f"{t} {a:.3g} -> {b:.3g}" for t, (a, b) in stds.items()) + "; " + lab["why"])
            lab["allowed"] = ["weight_collapse"] if lab["healthy"] else lab["allowed"]
            return lab
        why = (f"{label_wd}: weight std shrank by x{min(shrink.values()):.3g} to x{max(shrink.values()):.3g} "
               f"(" + ", ".join(f"{t} {a:.3g} -> {b:.3g}" for t, (a, b) in stds.items()) + ")"
               f"; train/loss {e['loss_first10_median']:.4g} -> {e['loss_last10_median']:.4g} (ln {classes} = "
               f"{LN[classes]:.4g}), train accuracy at the end {e['acc_last10_median']:.2f}")
        if "weight_collapse" not in expected:
            where = "at" if stuck else "not at"
            why = (f"PLANNED weight collapse not fully shown (weights shrank at most {orders:.1f} orders; "
                   f"loss {where} ln {classes}): ") + why
        return {"healthy": False, "expected": expected,
                "allowed": ["weight_collapse", "loss_plateau", "not_learning", "still_at_init", "vanishing_gradient",
                            "dead_units", "redundant_units", "saturation"],
                "expected_layers": layers, "evidence": e, "why": why}
    return label


def frozen_label(ev: Events, side: dict) -> dict:
    lab = healthy(("not_learning", "still_at_init"))(ev, side)
    moved = {}
    for tag, items in ev.hists.items():
        if tag.endswith(".weight") and not is_grad(tag):
            h0, h1 = items[0][1], items[-1][1]
            moved[tag] = r(abs(Events.std(h1) - Events.std(h0)) / Events.std(h0), 3)
    lab["evidence"]["weight_std_relative_change"] = moved
    lab["evidence"]["grad_tags"] = sorted(t for t in ev.hists if ".grad" in t or t.startswith("grad/"))
    lab["why"] += ("; the frozen backbone (requires_grad=False) does not move (" + ", ".join(
        f"{t} std change {v:.3g}" for t, v in moved.items()) + ") by design, only the head is trained: a note at "
        "most (not_learning/still_at_init allowed as info)")
    return lab


def amp_label(ev: Events, side: dict) -> dict:
    lab = healthy(("nan_or_inf",))(ev, side)
    gn_steps, gn = ev.scalars["train/grad_norm"]
    _scale_steps, scale = ev.scalars["train/loss_scale"]
    inf_steps = [int(s) for s in gn_steps[~np.isfinite(gn)]]
    hist_inf = sorted({s for t in ev.hists if t.endswith(".grad") for s in ev.nonfinite_hist_steps(t)})
    weights_finite = all(all(map(math.isfinite, (h.min, h.max))) for t, items in ev.hists.items()
                         if not t.endswith(".grad") for _, h in items)
    e = lab["evidence"]
    e.update(skipped_steps_grad_norm_nonfinite=len(inf_steps), first_skipped=inf_steps[:8],
             grad_hist_steps_with_inf=hist_inf, loss_scale_first=r(float(scale[0])),
             loss_scale_min=r(float(scale.min())),
             loss_scale_max=r(float(scale.max())), loss_scale_last=r(float(scale[-1])), weights_finite=weights_finite,
             scaler_skipped_steps=len(side["skipped_steps"]))
    loss = ev.values("train/loss")
    e["loss_finite"] = bool(np.isfinite(loss).all())
    ok = weights_finite and e["loss_finite"] and e["loss_drop"] > 0.3
    lab["healthy"] = ok
    lab["expected"] = [] if ok else lab["expected"]
    lab["why"] = lab["why"].split("; ", 1)[1] if lab["why"].startswith("PLANNED HEALTHY BUT non-finite") else lab["why"]
    lab["why"] = (f"fp16 autocast + GradScaler: {len(inf_steps)} of {len(gn)} steps had a non-finite grad_norm "
                  f"and were skipped with the scale halved (loss_scale {e['loss_scale_first']:.3g}, between "
                  f"{e['loss_scale_min']:.3g} and {e['loss_scale_max']:.3g}, last {e['loss_scale_last']:.3g}); "
                  "gradient histograms holding Inf at steps "
                  f"{hist_inf}; weights and loss stay finite; " + lab["why"])
    if hist_inf == []:
        lab["why"] += "; NOTE: no logged gradient histogram slice happened to hold Inf"
    return lab


def saturated_elu(ev: Events, side: dict) -> dict:
    e = loss_evidence(ev, side)
    floor = {t: (items[0][1]["floor_share"], items[-1][1]["floor_share"]) for t, items in side["activations"].items()}
    e["share_at_or_below_-0.95"] = {t: [r(a, 3), r(b, 3)] for t, (a, b) in floor.items()}
    e["ln4"] = r(LN[4])
    sat = [t for t, (a, b) in floor.items() if b >= 0.5]
    drop = 1 - e["loss_last10_median"] / e["loss_first10_median"]
    e["loss_drop"] = r(drop, 3)
    expected = ["saturation"] if sat else []
    if drop < 0.1:
        expected.append("loss_plateau")
    why = ("ELU with hidden biases -5, plain SGD: share of activations at ELU's floor (<= -0.95) first/last: "
           + ", ".join(f"{t} {a:.2f} -> {b:.2f}" for t, (a, b) in floor.items())
           + f"; train/loss {e['loss_first10_median']:.3g} -> {e['loss_last10_median']:.3g} "
             f"(-{drop:.0%}; ln 4 = {LN[4]:.3g})")
    if not sat:
        why = "PLANNED saturation did not materialise: " + why
    return {"healthy": False, "expected": expected,
            "allowed": ["saturation", "loss_plateau", "not_learning", "still_at_init", "vanishing_gradient",
                        "redundant_units", "dead_units"],
            "expected_layers": {"saturation": [t.split("/", 1)[1] for t in sat]} if sat else {},
            "evidence": e, "why": why}


def leaky_negative(ev: Events, side: dict) -> dict:
    e = loss_evidence(ev, side)
    neg = {t: (items[0][1]["negative_share"], items[-1][1]["negative_share"])
           for t, items in side["activations"].items()}
    e["negative_share_first_last"] = {t: [r(a, 3), r(b, 3)] for t, (a, b) in neg.items()}
    stds = {t: (Events.std(items[0][1]), Events.std(items[-1][1])) for t, items in ev.hists.items()
            if t.startswith("activations/")}
    e["activation_std_first_last"] = {t: [r(a, 3), r(b, 3)] for t, (a, b) in stds.items()}
    grads = {t: (Events.std(items[0][1]), Events.std(items[-1][1])) for t, items in ev.hists.items()
             if t.endswith(".weight.grad")}
    e["weight_grad_std_first_last"] = {t: [r(a, 3), r(b, 3)] for t, (a, b) in grads.items()}
    drop = 1 - e["loss_last10_median"] / e["loss_first10_median"]
    e["loss_drop"] = r(drop, 3)
    e["ln4"] = r(LN[4])
    mostly_negative = [t for t, (a, b) in neg.items() if b >= 0.9]
    expected = []
    if mostly_negative and drop < 0.3:
        expected.append("saturation")
    if drop < 0.1:
        expected.append("loss_plateau")
    why = ("leaky ReLU (slope 0.01) with hidden biases -5, plain SGD: share of activations on the negative "
           "(slope 0.01) side first/last: " + ", ".join(f"{t} {a:.2f} -> {b:.2f}" for t, (a, b) in neg.items())
           + f"; train/loss {e['loss_first10_median']:.3g} -> {e['loss_last10_median']:.3g} "
             f"(-{drop:.0%}; ln 4 = {LN[4]:.3g})")
    if not expected:
        why = "PLANNED stall did not materialise: " + why
    return {"healthy": not expected, "expected": expected,
            "allowed": ["saturation", "loss_plateau", "not_learning", "still_at_init", "vanishing_gradient",
                        "redundant_units", "dead_units"],
            "expected_layers": ({"saturation": [t.split("/", 1)[1] for t in mostly_negative]}
                                if "saturation" in expected else {}),
            "evidence": e, "why": why}


def vanishing(ev: Events, side: dict) -> dict:
    e = loss_evidence(ev, side)
    grads = {t: [Events.std(h) for _, h in items] for t, items in ev.hists.items() if t.endswith(".weight.grad")}
    order = sorted(grads, key=lambda t: int(t.split(".")[0][2:]))
    first, last = order[0], order[-1]
    e["grad_std_first_layer_median"] = r(float(np.median(grads[first])))
    e["grad_std_last_layer_median"] = r(float(np.median(grads[last])))
    ratio = e["grad_std_last_layer_median"] / e["grad_std_first_layer_median"]
    e["last_over_first_grad_ratio"] = r(ratio, 3)
    e["grad_std_by_layer_last_step"] = {t: r(grads[t][-1], 3) for t in order}
    drop = 1 - e["loss_last10_median"] / e["loss_first10_median"]
    e["loss_drop"] = r(drop, 3)
    expected = ["vanishing_gradient"] if ratio > 100 else []
    if drop < 0.1:
        expected.append("loss_plateau")
    why = (f"10 sigmoid layers, SGD: weight-gradient std {first} {e['grad_std_first_layer_median']:.3g} vs {last} "
           f"{e['grad_std_last_layer_median']:.3g} (medians over steps, x{ratio:.3g}); train/loss "
           f"{e['loss_first10_median']:.3g} -> {e['loss_last10_median']:.3g} (-{drop:.0%}; ln 4 = {LN[4]:.3g})")
    return {"healthy": False, "expected": expected,
            "allowed": ["loss_plateau", "not_learning", "still_at_init", "saturation", "redundant_units"],
            "expected_layers": {"vanishing_gradient": ["fc1"]} if expected else {}, "evidence": e, "why": why}


def bias_grad_trap(ev: Events, side: dict) -> dict:
    lab = healthy()(ev, side)
    growth = {}
    for tag, items in ev.hists.items():
        if tag.endswith(".grad") and "bias" in tag:
            a0, a1 = Events.absmax(items[0][1]), max(Events.absmax(h) for _, h in items)
            growth[tag] = [r(a0, 3), r(a1, 3), r(a1 / a0 if a0 > 0 else float("inf"), 3)]
    lab["evidence"]["bias_grad_absmax_first_max_ratio"] = growth
    gn = ev.values("train/grad_norm")
    lab["evidence"]["grad_norm_first_max"] = [r(float(gn[0]), 3), r(float(gn.max()), 3)]
    lab["why"] = ("zero-ish head init + clip_grad_norm_(1.0): bias gradients start near 0 and grow (" + ", ".join(
        f"{t} |max| {a:.2g} -> {b:.2g}" for t, (a, b, _) in growth.items()) + f"), grad_norm {gn[0]:.2g} -> max "
        f"{gn.max():.2g}, clipped at 1; this is learning starting, not an explosion; " + lab["why"])
    return lab


def bn_label(ev: Events, side: dict) -> dict:
    lab = healthy()(ev, side)
    nbt = [t for t in ev.hists if t.endswith("num_batches_tracked")]
    rv = [t for t in ev.hists if t.endswith("running_var")]
    lab["evidence"]["num_batches_tracked_first_last"] = {t: [ev.hists[t][0][1].max, ev.hists[t][-1][1].max]
                                                         for t in nbt}
    lab["evidence"]["running_var_mean_first_last"] = {
        t: [r(ev.hists[t][0][1].sum / ev.hists[t][0][1].num, 3), r(ev.hists[t][-1][1].sum / ev.hists[t][-1][1].num, 3)]
        for t in rv}
    lab["why"] += ("; BN buffers logged (num_batches_tracked grows linearly " + ", ".join(
        f"{int(a)} -> {int(b)}" for a, b in lab["evidence"]["num_batches_tracked_first_last"].values())
        + ", by design)")
    return lab


def warmup_cosine(warm: int, total: int):
    def lr_at(step: int, base: float) -> float:
        if step < warm:
            return base * (step + 1) / warm
        return base * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))
    return lr_at


def ramp(steps: int):
    """Linear warm-up from 0 to the base learning rate over `steps`, then constant."""
    return lambda step, base: base * min(1.0, step / steps)


def spike(step: int, base: float) -> float:
    return base * 100 if 150 <= step < 155 else base


def runs() -> list[Run]:
    adam = lambda lr, **kw: (lambda ps: torch.optim.Adam(ps, lr=lr, **kw))
    sgd = lambda lr, **kw: (lambda ps: torch.optim.SGD(ps, lr=lr, **kw))
    lstm = lambda: SeqRNN("lstm", 2, 32, 3)
    gru = lambda: SeqRNN("gru", 1, 32, 1, layers=2)
    mlp = lambda act, depth=3: (lambda: MLP([10] + [64] * depth + [4], act))
    return [
        Run("lstm_healthy", "seq", lstm, adam(3e-3), healthy(), seed=1),
        Run("lstm_clipped_healthy", "seq", lstm, adam(3e-3), healthy(), clip=1.0, grad_style="grad/", seed=2),
        Run("lstm_exploding", "next", lambda: SeqRNN("lstm", 1, 32, 1), sgd(1.0, momentum=0.9), exploding,
            init=scale_init(3.0), seed=2),
        Run("lstm_clipped_bias_grad_growth", "seq", lstm, adam(3e-3), bias_grad_trap, init=small_head, clip=1.0,
            lr_at=warmup_cosine(50, 300), seed=4),
        Run("gru_healthy", "next", gru, adam(3e-3), healthy(), seed=5),
        Run("gru_clipped_healthy", "next", gru, sgd(0.1, momentum=0.9), healthy(), clip=0.5, grad_style="grad/",
            seed=6),
        Run("gru_exploding", "next", gru, sgd(2.0, momentum=0.9), exploding, lr_at=ramp(250), seed=7),
        Run("transformer_healthy", "tokens", SeqTransformer,
            lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=0.01),
            healthy(), lr_at=warmup_cosine(30, 300), hook_names=("encoder.layers.0", "encoder.layers.1"), seed=8),
        Run("transformer_lr_too_high", "tokens", SeqTransformer, sgd(0.6, momentum=0.9), transformer_high_lr,
            hook_names=("encoder.layers.0", "encoder.layers.1"), grad_style="grad/", seed=9),
        Run("bn_cnn_adam_healthy", "bars", BNConvNet, adam(1e-3), bn_label, buffers=True, steps=250, seed=10),
        Run("bn_cnn_sgd_healthy", "bars", BNConvNet, sgd(0.05, momentum=0.9), bn_label, buffers=True, steps=250,
            grad_style="grad/", seed=11),
        Run("dead_relu_lr_spike", "blobs", lambda: MLP([10, 128, 128, 4], nn.ReLU), sgd(0.02, momentum=0.9), dead_relu,
            lr_at=spike, seed=12),
        Run("weight_decay_sgd_1.0", "blobs", mlp(nn.ReLU, 2), sgd(0.1, weight_decay=1.0),
            weight_collapse("SGD lr 0.1 weight_decay=1.0"),
            seed=13),
        Run("weight_decay_adamw_10", "blobs", mlp(nn.ReLU, 2),
            lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=10.0),
            weight_collapse("AdamW lr 1e-2 weight_decay=10"), grad_style="grad/", seed=14),
        Run("weight_decay_adam_l2_10", "blobs", mlp(nn.ReLU, 2), adam(1e-3, weight_decay=10.0),
            weight_collapse("Adam (coupled L2) lr 1e-3 weight_decay=10"), seed=25),
        Run("frozen_backbone_finetune", "blobs6", lambda: FineTune(2), adam(1e-3), frozen_label, frozen=("backbone.",),
            seed=15),
        Run("amp_fp16_gradscaler", "blobs", mlp(nn.ReLU, 2), adam(1e-3), amp_label, amp=True, hist_every=5,
            scalars_every=1, seed=16),
        Run("elu_healthy", "blobs", mlp(nn.ELU), adam(1e-3), healthy(), seed=17),
        Run("gelu_healthy", "blobs", mlp(nn.GELU), sgd(0.05, momentum=0.9), healthy(), grad_style="grad/", seed=18),
        Run("leaky_relu_healthy", "blobs", mlp(nn.LeakyReLU), adam(1e-3), healthy(), seed=19),
        Run("selu_healthy", "blobs", mlp(nn.SELU, 4), sgd(0.02), healthy(), init=lecun_init, seed=20),
        Run("elu_saturated_negative_bias", "blobs", mlp(nn.ELU), sgd(0.05), saturated_elu, init=hidden_bias(-5.0),
            seed=21),
        Run("leaky_relu_negative_inputs", "blobs", mlp(nn.LeakyReLU), sgd(0.05), leaky_negative, init=hidden_bias(-5.0),
            seed=22),
        Run("deep_sigmoid_vanishing", "blobs", lambda: MLP([10] + [32] * 10 + [4], nn.Sigmoid), sgd(0.1), vanishing,
            seed=23),
        Run("deep_residual_relu_healthy", "blobs", ResidualMLP, adam(1e-3), healthy(), grad_style="grad/", seed=24),
    ]


def clean(value):
    """JSON without NaN/Infinity: non-finite numbers become the strings "nan", "inf", "-inf"."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(float(value))
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def main(argv: list[str]) -> None:
    wanted = [a for a in argv if not a.startswith("-")]
    selected = [run for run in runs() if not wanted or any(w in run.name for w in wanted)]
    labels_path = os.path.join(LOGS, "labels.json")
    labels = {}
    if wanted and os.path.exists(labels_path):
        with open(labels_path) as stream:
            labels = json.load(stream)
    elif not wanted:
        shutil.rmtree(LOGS, ignore_errors=True)
    os.makedirs(LOGS, exist_ok=True)
    started = time.time()
    for run in selected:
        t0 = time.time()
        shutil.rmtree(os.path.join(LOGS, run.name), ignore_errors=True)
        side = train(run)
        seconds = time.time() - t0
        ev = Events(os.path.join(LOGS, run.name))
        label = run.label(ev, side)
        label["evidence"]["seconds"] = round(seconds, 1)
        labels[run.name] = label
        print(f"{run.name:<32} {seconds:5.1f}s {len(ev.scalars)} scalar / {len(ev.hists)} histogram tags  "
              f"healthy={label['healthy']} expected={','.join(label['expected']) or '-'}\n    {label['why']}",
              flush=True)
    with open(labels_path, "w") as stream:
        json.dump(clean(labels), stream, indent=1)
    print(f"wrote {len(selected)} runs to {LOGS} in {time.time() - started:.0f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
