"""Shape classes by measurement, on histograms whose answer is known.

Each case is drawn from a known distribution and written twice: by TensorBoard's own summary
writer (the oracle writer: `summary_v2.histogram_pb`, 30 equal buckets, through its
EventFileWriter), and as torch writes it (legacy exponential buckets, tools/eventwriter). The
class read back must be the known one, in both formats.
"""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.plugins.histogram import summary_v2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from reportgen.diagnosis import diagnose
from reportgen.diagnosis.shapes import SHAPES
from reportgen.reading.loader import load
from tools.eventwriter import EventWriter

RNG = np.random.default_rng(2024)


def _escaped_uniform() -> np.ndarray:
    values = RNG.uniform(-0.15, 0.15, 12000)
    values[:60] *= 1.3  # 0.5% of the values drifted past the initial bound
    return values


CASES = {
    "uniform": lambda: RNG.uniform(-0.15, 0.15, 12000),
    "uniform with a few escaped tails": _escaped_uniform,
    "bell": lambda: RNG.normal(0.0, 1.0, 12000),
    "bimodal": lambda: np.concatenate([RNG.normal(-2, 0.3, 6000), RNG.normal(2, 0.3, 6000)]),
    "spike_at_zero": lambda: np.maximum(RNG.normal(0, 1, 12000), 0),
    "confident softmax (27 values, two groups)": lambda: np.concatenate([RNG.uniform(0.0, 0.1, 18),
                                                                         RNG.uniform(0.9, 1.0, 9)]),
    "few_values": lambda: np.array([363.0, 540.0, 790.0, 929.0]),
    "heavy_tailed": lambda: RNG.standard_t(2, 12000),
    "skewed": lambda: RNG.exponential(1.0, 12000) + 0.5,
    "constant": lambda: np.full(500, 3.0),
    "logistic (excess kurtosis 1.2: a bell to the eye)": lambda: RNG.logistic(0.0, 1.0, 12000),
    "Laplace (excess kurtosis 3: a sharp peak with long tails)": lambda: RNG.laplace(0.0, 1.0, 12000),
}
EXPECTED = {"uniform with a few escaped tails": "uniform", "confident softmax (27 values, two groups)": "bimodal",
            "logistic (excess kurtosis 1.2: a bell to the eye)": "bell",
            "Laplace (excess kurtosis 3: a sharp peak with long tails)": "heavy_tailed"}


def _tensorboard_writes(folder, tag: str, values: np.ndarray) -> None:
    writer = EventFileWriter(str(folder))
    for step in range(2):
        summary = summary_v2.histogram_pb(tag, values)
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step, summary=summary))
    writer.close()


def _torch_writes(folder, tag: str, values: np.ndarray) -> None:
    with EventWriter(str(folder), wall_time=1.0, hostname="t") as writer:
        for step in range(2):
            writer.add_histogram(tag, values, step)


def _shape(folder) -> str:
    [features] = diagnose(load([str(folder)])).features.values()
    [series] = [s for lf in features.layers for s in lf.series.values()]
    return series.shape_last


@pytest.mark.parametrize("writer", [_tensorboard_writes, _torch_writes], ids=["tensorboard-v2", "torch-legacy"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_class_is_the_known_answer(tmp_path, case, writer):
    values = CASES[case]()
    writer(tmp_path / "run", "values", values)
    assert _shape(tmp_path) == EXPECTED.get(case, case)
    assert EXPECTED.get(case, case) in SHAPES


def test_a_heavy_tailed_tf2_tensor_is_not_called_exact_zeros(tmp_path):
    """30 equal buckets over about [-24, 12]: the middle bucket holds most values, and 0, but
    nothing says they are exactly 0 (the fixture that read "85% exactly 0 (ReLU-style)")."""
    values = np.concatenate([RNG.standard_t(1.5, 12000) * 0.3, [-24.0, 12.0]])
    _tensorboard_writes(tmp_path / "run", "values", values)
    [features] = diagnose(load([str(tmp_path)])).features.values()
    [series] = [s for lf in features.layers for s in lf.series.values()]
    assert series.zero_fraction[-1] == 0.0 and series.shape_last != "spike_at_zero"


def test_sampling_noise_rarely_makes_a_second_mode():
    """Normal and uniform samples of 25 to 100,000 values, in TensorBoard's 30 equal buckets: at
    most 0.5% show a second mode (measured: 1 in 1000), and a clear two-group sample of 27
    always shows two."""
    from reportgen.diagnosis.shapes import count_peaks
    from tools.eventwriter import tensor_histogram

    false = 0
    for seed in range(5):
        rng = np.random.default_rng(seed)
        for i in range(200):
            n = int(25 * 4000 ** (i / 199))
            values = rng.normal(0, 1, n) if i % 2 else rng.uniform(-1, 1, n)
            false += count_peaks(tensor_histogram(values), float(values.min()), float(values.max()), 25) > 1
    assert false <= 5
    for seed in range(20):
        rng = np.random.default_rng(seed)
        two = np.concatenate([rng.uniform(0.0, 0.1, 18), rng.uniform(0.9, 1.0, 9)])
        assert count_peaks(tensor_histogram(two), float(two.min()), float(two.max()), 25) == 2


def _step_class(values: np.ndarray, torch: bool) -> str:
    """The class of one step of `values` as the reader's buckets give it (torch's or TF2's)."""
    from reportgen import histmath
    from reportgen.diagnosis.shapes import count_peaks, shape_class
    from reportgen.diagnosis.thresholds import Thresholds
    from reportgen.reading.events import legacy_histogram_buckets
    from tools.eventwriter import legacy_histogram, tensor_histogram

    t = Thresholds()
    buckets = legacy_histogram_buckets(legacy_histogram(values)) if torch else tensor_histogram(values)
    lo, hi = float(values.min()), float(values.max())
    return shape_class(buckets, histmath.quantiles(buckets), float(values.mean()), float(values.std()), lo, hi,
                       0.0, 0.0, count_peaks(buckets, lo, hi, t.few_values), t)


def test_sampling_noise_rarely_makes_a_symmetric_step_skewed():
    """Normal and uniform samples of 25 to 64 values, where the noise is largest: at most 1% are
    called skewed (with the 0.3 threshold alone: 2-16%); an exponential of 300 values or more
    always is."""
    skewed, cases = 0, 0
    for seed in range(2):
        rng = np.random.default_rng(100 + seed)
        for n in (25, 32, 40, 50, 64):
            for i in range(100):
                values = rng.normal(0, 1, n) if i % 2 else rng.uniform(-1, 1, n)
                skewed += _step_class(values, torch=bool(seed)) == "skewed"
                cases += 1
    assert skewed <= 0.01 * cases
    rng = np.random.default_rng(7)
    for n in (300, 1000, 10000):
        assert _step_class(rng.exponential(1, n), torch=False) == "skewed"
        assert _step_class(-rng.exponential(1, n), torch=True) == "skewed"


def test_small_normal_samples_are_rarely_said_to_have_long_tails():
    """1,000 normal samples of 25 values each, as torch writes them: the kurtosis of 25 values is
    noise (shapes.TAILS_NOISE), and "long tails" was said of 3.2% of them with fixed bounds."""
    from reportgen.diagnosis.features import series_features
    from reportgen.diagnosis.thresholds import Thresholds
    from reportgen.reading.accumulate import HistogramBuilder
    from reportgen.reading.events import HistogramValue, legacy_histogram_buckets
    from tools.eventwriter import legacy_histogram

    rng = np.random.default_rng(7)
    shapes = []
    for _ in range(1000):
        h = legacy_histogram(rng.normal(0.0, 1.0, 25))
        builder = HistogramBuilder(keep=501, light=False)
        exact = (h.min, h.max, h.num, h.sum, h.sum_squares)
        for step in range(2):
            builder.add(HistogramValue("v", step, 0.0, legacy_histogram_buckets(h), exact))
        shapes.append(series_features(builder.build("run", "v"), "weights", Thresholds()).shape_last)
    assert shapes.count("heavy_tailed") <= 15  # measured 1.0-1.1% with other seeds; 3.2% before
    assert shapes.count("bell") >= 80  # the bell test still speaks for some (12% measured)
