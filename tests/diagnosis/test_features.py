"""Features on hand-made buckets, where the right answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from reportgen.diagnosis import diagnose
from reportgen.diagnosis.features import series_features, zero_fraction
from reportgen.diagnosis.thresholds import Thresholds
from reportgen.model import HistogramSeries, Logs, Run
from reportgen.narrative import series_sentence
from reportgen.reading.accumulate import HistogramBuilder
from reportgen.reading.events import HistogramValue


def series(tag: str, steps: list[np.ndarray]) -> HistogramSeries:
    """A series from bucket rows per step, accumulated as the reader accumulates them."""
    builder = HistogramBuilder(keep=501, light=False)
    for step, rows in enumerate(steps):
        builder.add(HistogramValue(tag, step, 0.0, np.asarray(rows, dtype=float), None))
    return builder.build("run", tag)


def uniform(shift: float, bins: int = 200, count: float = 50.0) -> np.ndarray:
    """Equal buckets of equal counts over [-1 + shift, 1 + shift]: a uniform distribution."""
    edges = np.linspace(-1, 1, bins + 1) + shift
    return np.column_stack([edges[:-1], edges[1:], np.full(bins, count)])


def test_a_narrow_bucket_at_zero_counts_whole():
    rows = np.array([[-1.0, -1e-12, 20], [0.0, 1e-12, 50], [1e-12, 1.0, 30]])
    assert zero_fraction(rows) == pytest.approx(0.5)


def test_a_wide_bucket_holding_zero_says_nothing_of_exact_zeros_unless_zero_is_the_min():
    """A TF2 bucket [-0.5, 0.5] holding 60 of 80 values: in the middle of the range it holds
    small values (a heavy-tailed tensor), not zeros. When 0 is the exact min (ReLU outputs), the
    first bucket's excess over its neighbour is the part a continuous density cannot explain."""
    middle = np.array([[-1.0, -0.5, 10], [-0.5, 0.5, 60], [0.5, 1.0, 10]])
    assert zero_fraction(middle, -1.0, 1.0) == 0.0
    relu = np.array([[0.0, 0.5, 60], [0.5, 1.0, 10], [1.0, 1.5, 10]])
    assert zero_fraction(relu, 0.0, 1.5) == pytest.approx(50 / 80)
    smooth = np.array([[0.0, 0.5, 35], [0.5, 1.0, 30], [1.0, 1.5, 30]])
    assert zero_fraction(smooth, 0.0, 1.5) == pytest.approx(5 / 95)
    assert zero_fraction(np.array([[0.5, 1.0, 10], [1.0, 2.0, 10]]), 0.5, 2.0) == 0.0  # no bucket holds 0


def relative_change(shift_in_std: float) -> tuple[HistogramSeries, float]:
    std = 1 / np.sqrt(3)  # of uniform(-1, 1)
    steps = [uniform(shift_in_std * std * step / 9) for step in range(10)]
    s = series("fc1.weight", steps)
    return s, series_features(s, "weights", Thresholds()).change


@pytest.mark.parametrize("moved, barely", [(0.010, True), (0.025, False)])
def test_barely_moved_is_the_diagnosis_threshold_in_words_and_findings(moved, barely):
    """The first-to-last Wasserstein distance of two uniforms shifted by d is d: relative to the
    spread it is the shift in standard deviations. Below `not_learning_change` (1.5%) the words
    say "barely changed" and not_learning fires; at 2.5% neither."""
    s, change = relative_change(moved)
    assert change == pytest.approx(moved, rel=0.02)
    words = series_sentence(series_features(s, "weights", Thresholds()), Thresholds().not_learning_change)
    assert ("barely changed" in words) is barely
    found = diagnose(Logs(sources=[], runs=[Run("run", "", histograms={s.tag: s})])).findings
    assert ("not_learning" in {f.code for f in found}) is barely


def test_uniform_buckets_read_as_a_plateau_with_its_bounds():
    s = series("fc1.weight", [uniform(0.0)] * 6)
    features = series_features(s, "weights", Thresholds())
    assert features.shape_first == "uniform" and features.change == 0
    assert features.min[0] == -1 and features.max[0] == 1


def test_a_layer_shape_is_stated_only_when_the_bound_allows_only_one():
    """Glorot's bound for 784 x 200 (0.078) is also Glorot's for 196 x 800: no shape is claimed
    (an older version printed "224x700"). 60 x 200's bound fits no other family and shape."""
    from reportgen.diagnosis.shapes import match_init

    def uniform(bound: float, count: int):
        q = np.linspace(-bound, bound, 9)
        return match_init("uniform", q, 0.0, bound / np.sqrt(3), -bound, bound, count)

    keras = uniform(np.sqrt(6 / (784 + 200)), 784 * 200)
    assert keras is not None and keras.shape is None and keras.fans_words() == ""
    question = uniform(np.sqrt(6 / 260), 12000)
    assert question.family == "Glorot/Xavier uniform" and sorted(question.shape) == [60, 200]
    conv = uniform(1 / np.sqrt(75), 5 * 1000)  # a conv kernel: 5000 values; PyTorch default bound
    assert conv.shape is None or conv.shape[0] == 75


def test_kept_buckets_skip_cutting_only_where_cutting_changes_nothing():
    """features._kept_step against _clip of every kept step, bit for bit: torch-like packed
    steps that need no cutting, packed ones whose recorded min/max lie inside their outer
    buckets or that hold a NaN count (cut), and steps that are not packed (TF2's equal buckets)."""
    from reportgen.diagnosis.features import _clip, _kept_step
    from reportgen.model import BucketRows, PackedRows
    from tests.test_model_packing import torch_rows

    rng = np.random.default_rng(5)
    made = []
    for packable in (True, False):
        builder = HistogramBuilder(keep=501, light=False)
        for step in range(40):
            rows = torch_rows(rng, 0.1 * step, 1.0) if packable else uniform(0.01 * step, bins=30)
            lo, hi = float(rows[0, 0]), float(rows[-1, 1])
            if step % 7 == 3:  # min/max recorded inside the buckets: cutting moves the outer edges
                lo, hi = float(rows[1, 0]) + 1e-3, float(rows[-2, 1]) - 1e-3
            if step % 11 == 5:
                rows[len(rows) // 2, 2] = np.nan
            builder.add(HistogramValue("t", step, 0.0, rows, (lo, hi, 5000.0, 0.0, 5000.0)))
        made.append(builder.build("run", "t"))
    packed = made[0]
    assert isinstance(packed.buckets, BucketRows)
    assert all(isinstance(packed.buckets.packed(j), PackedRows) for j in range(40))
    for s in made:
        got = [_kept_step(s, j) for j in range(len(s.kept))]
        expected = [_clip(s.buckets[j], float(s.min[i]), float(s.max[i])) for j, i in enumerate(s.kept)]
        assert len(got) == len(expected) == 40
        assert all(g.tobytes() == e.tobytes() for g, e in zip(got, expected))
        assert sum(not np.array_equal(e, s.buckets[j]) for j, e in enumerate(expected)) >= 8  # cut or dropped


def _packed_series(step_values, limits) -> HistogramSeries:
    """A series of torch-like legacy steps (the rows of `limits`, packed), one per values array."""
    from reportgen.reading.events import legacy_rows

    builder = HistogramBuilder(keep=501, light=False)
    for step, values in enumerate(step_values):
        counts = np.bincount(np.searchsorted(limits, values, side="left"), minlength=len(limits))[: len(limits)]
        lo, hi = float(values.min()), float(values.max())
        rows = legacy_rows(counts.astype(float), limits, lo, hi)
        builder.add(HistogramValue("t", step, 0.0, rows, (lo, hi, float(len(values)), 0.0, 0.0)))
    return builder.build("run", "t")


def test_zero_fractions_of_packed_steps_are_those_of_their_unpacked_rows():
    """features._zero_fractions reads packed steps without unpacking them; it must give, bit for
    bit, zero_fraction of each step's rows: with TensorFlow's default limits (narrow buckets
    around 0, ReLU zeros at the first row or inside), and with coarse limits that have none (the
    bucket holding 0 first or last: ReLU, its mirror; values through 0)."""
    from reportgen.diagnosis.features import _kept_step, _zero_fractions
    from reportgen.model import PackedRows
    from tests.test_model_packing import LIMITS

    rng = np.random.default_rng(3)
    coarse = np.array([*np.linspace(-3, 3, 61), np.finfo(np.float64).max])  # a limit at 0: a narrow row there
    offset = coarse - 0.05  # none: the bucket holding 0 is 0.1 wide
    normal = [rng.normal(0.2 * (step % 5 - 2), 1.0, 4000) for step in range(30)]
    cases = {
        "relu, fine limits": (LIMITS, [np.maximum(v, 0) for v in normal]),
        "zeros in the middle, fine limits": (LIMITS, [np.where(np.abs(v) < 0.3, 0.0, v) for v in normal]),
        "relu, coarse limits": (coarse, [np.maximum(v, 0) for v in normal]),
        "relu, offset limits": (offset, [np.maximum(v, 0) for v in normal]),  # the first row holds 0
        "mirrored relu, offset limits": (offset, [np.minimum(v, 0) for v in normal]),  # the last row does
        "through 0, offset limits": (offset, normal),
        "no zero, coarse limits": (coarse, [np.abs(v) + 0.5 for v in normal]),
    }
    for name, (limits, values) in cases.items():
        series = _packed_series(values, limits)
        assert all(isinstance(series.buckets.packed(j), PackedRows) for j in range(len(series.kept))), name
        expected = [zero_fraction(_kept_step(series, j), float(series.min[i]), float(series.max[i]))
                    for j, i in enumerate(series.kept)]
        assert _zero_fractions(series).tobytes() == np.array(expected).tobytes(), name
        if "relu" in name or "middle" in name:
            assert min(expected) > 0.2, name  # the case under test: zeros found
        if "no zero" in name or "through" in name:
            assert max(expected) == 0.0, name
