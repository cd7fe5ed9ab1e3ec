"""Shared test helpers: where the real-writer fixtures are, and the one event-file builder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from tools.eventwriter import EventWriter

# Event files written by real writers (torch, tensorboardX, TF1, TF2, Keras) and damaged ones:
# a copy of the workplace's ../shared/fixtures (see fixtures/README.md), kept in the repository so
# that CI, which starts from a clean clone, reads them too.
FIXTURES = Path(__file__).resolve().parent / "fixtures"

Values = Callable[[int, np.random.Generator], "np.ndarray | None"]  # (step, rng) -> values; None: not logged


def fixture_path(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"fixture {path} is not available")
    return path


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch):
    """The tests run as outside a GitHub Actions job, where `build` would print annotations on stdout."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def fixtures_dir() -> Path:
    return fixture_path()


def write_events(folder: Path | str, histograms: dict[str, Values] | None = None,
              scalars: dict[str, Callable[[int], float]] | None = None, steps: int | Iterable[int] = 12,
              tf2: bool = False, seed: int = 0, wall_time: float = 1_600_000_000.0, hostname: str = "test") -> Path:
    """Write one run's event file into `folder`: at each step, every histogram tag's values
    (legacy HistogramProto as torch writes them, or TF2 tensor histograms with `tf2`) and every
    scalar's value. Deterministic: one seeded generator, steps in order. Returns the folder."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    with EventWriter(str(folder), wall_time=wall_time, hostname=hostname) as writer:
        for step in (range(steps) if isinstance(steps, int) else steps):
            for tag, make in (histograms or {}).items():
                values = make(step, rng)
                if values is None:
                    continue
                if tf2:
                    writer.add_tensor_histogram(tag, values, step)
                else:
                    writer.add_histogram(tag, values, step)
            for tag, value in (scalars or {}).items():
                writer.add_scalar(tag, value(step), step)
    return folder


def write_question_and_fix(root: Path | str, slow: str = "slow", fixed: str = "fixed") -> None:
    """The question and its fix as two runs under `root`: `slow` (plain SGD, no biases, layer1
    barely moves) and `fixed` (Adam, biases, layer1 moves 4x more, reward twice as fast)."""
    rng = np.random.default_rng(9)
    w1, w2 = rng.uniform(-0.15, 0.15, (60, 200)), rng.uniform(-0.17, 0.17, (200, 3))
    for name, rate, optimiser, biases in ((slow, 0.001, "sgd", False), (fixed, 0.004, "adam", True)):
        with EventWriter(str(Path(root) / name), wall_time=1.0, hostname="t") as writer:
            writer.add_hparams_records({"optimizer": optimiser})
            for step in range(12):
                writer.add_histogram("layer1/weights", w1 * (1 + rate * step), step)
                writer.add_histogram("layer2/weights", w2 * (1 + 0.03 * step), step)
                if biases:
                    writer.add_histogram("layer1/biases", np.full(200, 0.01 * step), step)
                writer.add_scalar("reward", (0.05 if name == slow else 0.1) * step, step)
