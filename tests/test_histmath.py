"""Histogram maths: quantiles against TensorBoard's own compressor, re-binning, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from tensorboard.plugins.distribution.compressor import compress_histogram

from reportgen import histmath


def _oracle(buckets: np.ndarray) -> np.ndarray:
    # Oracle: tensorboard.plugins.distribution.compressor.compress_histogram, which feeds
    # TensorBoard's distributions dashboard.
    return np.array([value for _, value in compress_histogram(buckets)])


def _random_buckets(rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(1, 15))
    style = rng.integers(0, 4)
    if style == 0:
        edges = np.sort(rng.normal(size=k + 1))
    elif style == 1:  # repeated edges: zero-width buckets among wide ones
        edges = np.sort(np.round(rng.normal(size=k + 1)))
    elif style == 2:  # all buckets zero-width at one value (a constant tensor)
        edges = np.full(k + 1, rng.normal())
    else:  # huge magnitudes
        edges = np.sort(rng.normal(size=k + 1)) * 1e30
    counts = rng.integers(0, 5, size=k).astype(float) * rng.choice([1.0, 0.37, 1e9])
    if rng.random() < 0.15:
        counts[:] = 0
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def test_quantiles_equal_tensorboard_compressor_on_random_buckets():
    rng = np.random.default_rng(20240601)
    for _ in range(3000):
        buckets = _random_buckets(rng)
        np.testing.assert_allclose(histmath.quantiles(buckets), _oracle(buckets), rtol=1e-12, atol=1e-300,
                                   err_msg=str(buckets))


@pytest.mark.parametrize("buckets", [
    [[0.0, 1.0, 10.0]],  # one bucket
    [[2.0, 2.0, 7.0]],  # one zero-width bucket
    [[0.0, 1.0, 0.0], [1.0, 2.0, 5.0], [2.0, 3.0, 0.0]],  # empty buckets on both sides
    [[0.0, 1.0, 3.0], [1.0, 2.0, 0.0], [2.0, 3.0, 0.0], [3.0, 4.0, 3.0]],  # empty gap in the middle
    [[0.0, 0.0, 0.0]] * 29 + [[0.0, 0.0, 4.0]],  # TF2 constant tensor: count in the last row only
    [[0.0, 0.0, 0.0]] * 30,  # TF2 empty tensor
    [[-1.0, 0.0, 1e15], [0.0, 1.0, 1.0]],  # one bucket dwarfs the other
    [[-3.0, -1.0, 1.0], [-1.0, -1.0, 50.0], [-1.0, 2.0, 1.0]],  # a spike of exact values
])
def test_quantiles_equal_tensorboard_compressor_on_edge_cases(buckets):
    b = np.array(buckets, dtype=float)
    np.testing.assert_allclose(histmath.quantiles(b), _oracle(b), rtol=1e-12)


def test_quantiles_of_no_buckets_are_zero_like_tensorboard():
    empty = np.zeros((0, 3))
    np.testing.assert_array_equal(histmath.quantiles(empty), _oracle(empty))


def test_rebin_conserves_counts_of_random_histograms():
    rng = np.random.default_rng(7)
    for _ in range(500):
        steps = [_random_buckets(rng) for _ in range(int(rng.integers(1, 5)))]
        lo, hi = histmath.global_range(steps)
        for buckets in steps:
            out = histmath.rebin(buckets, lo, hi)
            assert out.shape == (histmath.DISPLAY_BINS,)
            assert (out >= 0).all()
            assert out.sum() == pytest.approx(buckets[:, 2].sum(), rel=1e-9)


def test_rebin_splits_buckets_by_overlap():
    buckets = np.array([[0.0, 1.0, 4.0], [1.0, 3.0, 6.0]])
    # Three bins of width 1: the second bucket spreads its 6 over two of them.
    np.testing.assert_allclose(histmath.rebin(buckets, 0.0, 3.0, 3), [4.0, 3.0, 3.0])


def test_zero_width_bucket_goes_wholly_into_the_bin_holding_its_value():
    # TensorBoard's own example (histogram_util.ts): a zero-width bucket on the boundary of two
    # bins belongs to the right one.
    buckets = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 20.0], [1.0, 2.0, 0.0]])
    np.testing.assert_allclose(histmath.rebin(buckets, 0.0, 2.0, 2), [0.0, 20.0])
    inner = np.array([[0.25, 0.25, 3.0]])
    np.testing.assert_allclose(histmath.rebin(inner, 0.0, 1.0, 4), [0.0, 3.0, 0.0, 0.0])


def test_last_bin_is_closed_on_the_right():
    at_top = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 5.0]])
    out = histmath.rebin(at_top, 0.0, 1.0, 4)
    assert out[-1] == pytest.approx(0.5 + 5.0)
    assert out.sum() == pytest.approx(7.0)


def test_global_range_widens_a_constant_series_like_tensorboard():
    constant = np.array([[3.0, 3.0, 0.0], [3.0, 3.0, 8.0]])
    lo, hi = histmath.global_range([constant, constant])
    assert (lo, hi) == pytest.approx((3.0 / 1.1 - 1, 3.0 * 1.1 + 1))
    out = histmath.rebin(constant, lo, hi)
    assert out.sum() == pytest.approx(8.0)
    assert np.count_nonzero(out) == 1


def test_global_range_spans_all_steps():
    a = np.array([[-1.0, 0.0, 1.0]])
    b = np.array([[0.5, 4.0, 1.0]])
    assert histmath.global_range([a, b]) == (-1.0, 4.0)


@pytest.mark.parametrize("n,limit", [(1, 51), (2, 51), (51, 51), (52, 51), (1000, 51), (999, 2), (10_000, 501)])
def test_sample_indices_keep_first_and_last_and_respect_the_limit(n, limit):
    picks = histmath.sample_indices(n, limit)
    assert picks[0] == 0 and picks[-1] == n - 1
    assert len(picks) <= limit
    assert (np.diff(picks) > 0).all()
    np.testing.assert_array_equal(picks, histmath.sample_indices(n, limit))
    if n <= limit:
        assert len(picks) == n


def test_ordered_buckets_are_rebinned_like_the_general_overlap_split():
    """rebin takes a shortcut (interpolated cumulative counts) for ordered, non-overlapping
    buckets; it must give what splitting each bucket by overlap gives, including empty
    buckets, gaps between buckets, zero-width buckets, a range that ends exactly at the outer
    buckets, bins finer and coarser than the buckets, and exactly 0 where no bucket reaches."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        k = int(rng.integers(2, 80))
        widths = rng.uniform(0.01, 1.0, k)
        gaps = np.where(rng.random(k) < 0.3, rng.uniform(0, 0.5, k), 0.0)
        left = rng.normal(0, 3) + np.cumsum(gaps + np.concatenate(([0.0], widths[:-1])))
        rows = np.column_stack([left, left + widths, np.where(rng.random(k) < 0.2, 0.0, rng.integers(1, 1000, k))])
        points = np.flatnonzero(rng.random(k) < 0.1)  # zero-width buckets (ReLU's exact zeros) before some
        zero_width = np.column_stack([left[points], left[points], rng.integers(1, 500, len(points))])
        rows = np.insert(rows, points, zero_width, axis=0)
        lo, hi = histmath.global_range([rows])
        if rng.random() < 0.5:
            lo, hi = lo - rng.uniform(0, 2), hi + rng.uniform(0, 2)
        bins = int(rng.choice([3, 30, 60, 200]))
        edges = np.linspace(lo, hi, bins + 1)
        fast = histmath.rebin(rows, lo, hi, bins)
        slow = histmath._rebin_by_overlap(rows, edges)
        np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-9 * rows[:, 2].sum())
        outside = (edges[1:] <= rows[0, 0]) | (edges[:-1] >= rows[-1, 1])
        assert (fast[outside] == 0).all()


def test_a_zero_width_bucket_on_a_bin_edge_goes_into_the_bin_that_starts_there():
    """ReLU activations: all exact zeros in a zero-width bucket at 0, the lower edge of the range,
    then buckets from 0 up. The zeros belong to the first bin; a zero-width bucket on an inner
    edge to the bin above it (TensorBoard's rule), at the upper edge to the last bin."""
    relu = np.array([[0.0, 0.0, 2048.0], [0.0, 0.5, 10.0], [0.5, 2.0, 30.0]])
    np.testing.assert_allclose(histmath.rebin(relu, 0.0, 2.0, 4), [2048.0 + 10.0, 10.0, 10.0, 10.0])
    inner = np.array([[0.0, 1.0, 4.0], [1.0, 1.0, 7.0], [1.0, 2.0, 4.0]])
    np.testing.assert_allclose(histmath.rebin(inner, 0.0, 2.0, 2), [4.0, 7.0 + 4.0])
    top = np.array([[0.0, 2.0, 4.0], [2.0, 2.0, 9.0]])
    np.testing.assert_allclose(histmath.rebin(top, 0.0, 2.0, 2), [2.0, 2.0 + 9.0])


def test_rebinning_many_steps_at_once_equals_rebinning_each():
    """rebin_steps checks the ordered-shortcut conditions on all steps together; each row must
    be exactly what rebin gives for that step, whichever path the step takes: ordered,
    overlapping, zero-width, negative counts, NaN rows, empty, a single bucket."""
    rng = np.random.default_rng(3)
    steps = []
    for _ in range(200):
        k = int(rng.integers(1, 40))
        left = np.cumsum(rng.uniform(0.01, 1.0, k)) + rng.normal(0, 2)
        rows = np.column_stack([left, left + rng.uniform(0.01, 1.0, k), rng.integers(0, 100, k).astype(float)])
        damage = rng.integers(0, 6)
        if damage == 1 and k > 2:
            rows[1, 0] = rows[0, 0]  # overlaps its predecessor
        elif damage == 2:
            rows[0, 1] = rows[0, 0]  # zero width
        elif damage == 3:
            rows[-1, 2] = -5.0
        elif damage == 4:
            rows[0, 2] = np.nan
        steps.append(rows)
    steps += [np.zeros((0, 3)), np.array([[0.5, 0.5, 7.0]])]
    lo, hi = histmath.global_range(steps)
    many = histmath.rebin_steps(steps, lo, hi, 30)
    for row, buckets in zip(many, steps):
        np.testing.assert_array_equal(row, histmath.rebin(buckets, lo, hi, 30))


def _interpolated(buckets: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The oracle: each bin as the difference of np.interp of the step's cumulative count."""
    xs = buckets[:, :2].ravel()
    cumulative = np.concatenate(([0.0], np.cumsum(buckets[:, 2])))
    ys = np.column_stack([cumulative[:-1], cumulative[1:]]).ravel()
    return np.maximum(np.diff(np.interp(edges, xs, ys)), 0.0)


def test_ordered_steps_rebinned_together_equal_each_step_alone_bit_for_bit():
    """rebin_steps re-bins all ordered steps in one pass; each row must be, bit for bit, what
    np.interp of the step's cumulative count gives for that step alone. The buckets
    here often start or end exactly on a bin edge, leave gaps, hold zero counts, or reach past
    the range of other steps: the cases where finding the right bucket for an edge matters."""
    rng = np.random.default_rng(17)
    lo, hi, bins = -2.0, 3.0, 60
    edges = np.linspace(lo, hi, bins + 1)
    steps = []
    for _ in range(300):
        k = int(rng.integers(2, 50))
        if rng.random() < 0.5:  # boundaries drawn from the bin edges themselves
            cuts = np.sort(rng.choice(edges, size=min(k + 1, bins + 1), replace=False))
        else:
            cuts = np.sort(rng.uniform(lo, hi, k + 1))
        left, right = cuts[:-1].copy(), cuts[1:].copy()
        gap = rng.random(len(left)) < 0.2
        for i in np.flatnonzero(gap):  # a gap up to the next bucket, ending on a bin edge if one is inside
            inner = edges[(edges > left[i]) & (edges < right[i])]
            right[i] = inner[0] if inner.size else (left[i] + right[i]) / 2
        count = np.where(rng.random(len(left)) < 0.3, 0.0, rng.integers(1, 10_000, len(left)).astype(float))
        steps.append(np.column_stack([left, right, count]))
    many = histmath.rebin_steps(steps, lo, hi, bins)
    for row, buckets in zip(many, steps):
        assert row.tobytes() == _interpolated(buckets, edges).tobytes()
