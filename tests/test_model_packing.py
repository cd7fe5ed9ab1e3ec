"""Kept buckets are stored packed (model.EdgeTable / BucketRows); each must read back bit for bit
as the rows that were read, whatever their shape, and the usual torch/TF1 rows must take about a
third of the memory."""

from __future__ import annotations

import numpy as np

from reportgen.model import BucketRows, EdgeTable, PackedRows
from reportgen.reading.events import legacy_rows

# TensorFlow's default bucket limits, as torch's add_histogram writes them.
POSITIVE = [1e-12]
while POSITIVE[-1] < 1e20:
    POSITIVE.append(POSITIVE[-1] * 1.1)
LIMITS = np.array([-x for x in reversed(POSITIVE)] + [0.0] + POSITIVE + [np.finfo(np.float64).max])


def torch_rows(rng, centre: float, spread: float) -> np.ndarray:
    values = rng.normal(centre, spread, 5000)
    counts = np.bincount(np.searchsorted(LIMITS, values, side="left"), minlength=len(LIMITS))[: len(LIMITS)]
    return legacy_rows(counts.astype(float), LIMITS, float(values.min()), float(values.max()))


def bits(array: np.ndarray) -> tuple:
    return array.dtype.str, array.shape, array.tobytes()


def test_torch_steps_pack_into_one_shared_edge_table_and_read_back_exactly():
    rng = np.random.default_rng(0)
    # The range grows, shrinks and moves: the table grows to cover it; old steps keep theirs.
    steps = [torch_rows(rng, c, s) for c, s in [(0, 1), (0, 0.1), (3, 2), (-50, 5), (0, 1e-6), (0, 1)]]
    table = EdgeTable()
    packed = [table.pack(rows) for rows in steps]
    assert all(isinstance(p, PackedRows) for p in packed)
    stored = BucketRows(packed)
    assert len(stored) == len(steps)
    assert [bits(r) for r in stored] == [bits(r) for r in steps]
    assert [bits(r) for r in stored[1:4]] == [bits(r) for r in steps[1:4]]

    # Over a run the table stops growing, and each step costs its counts alone.
    steps += [torch_rows(rng, np.sin(i / 5), 1 + i / 50) for i in range(100)]
    packed += [table.pack(rows) for rows in steps[6:]]
    raw = sum(r.nbytes for r in steps)
    kept = sum(p.counts.nbytes for p in packed) + sum({id(p.table): p.table.nbytes for p in packed}.values())
    assert kept < raw * 0.4
    assert [bits(r) for r in BucketRows(packed)] == [bits(r) for r in steps]


def test_rows_that_cannot_be_packed_are_kept_as_they_are():
    table = EdgeTable()
    tf2 = np.column_stack([np.linspace(-1, 1, 30, endpoint=False), np.linspace(-1, 1, 31)[1:], np.arange(30.0)])
    gap = np.array([[0.0, 1.0, 2.0], [1.5, 2.0, 1.0], [2.0, 3.0, 4.0]])  # not contiguous
    nan_edge = np.array([[0.0, np.nan, 1.0], [np.nan, 2.0, 1.0], [2.0, 3.0, 1.0]])
    two_rows = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    empty = np.zeros((0, 3))
    first = table.pack(tf2)  # the first step fills the table
    shifted = tf2.copy()
    shifted[:, :2] += 0.013  # the next TF2 step has edges of its own
    assert isinstance(first, PackedRows) and table.pack(shifted) is shifted
    for rows in (gap, nan_edge, two_rows, empty):
        assert table.pack(rows) is rows
    stored = BucketRows([first, shifted, gap, nan_edge, two_rows, empty])
    assert [bits(r) for r in stored] == [bits(r) for r in (tf2, shifted, gap, nan_edge, two_rows, empty)]


def test_signed_zero_edges_read_back_with_their_sign():
    table = EdgeTable()
    positive = np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    negative = np.array([[-1.0, -0.0, 1.0], [-0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    stored = BucketRows([table.pack(positive), table.pack(negative)])
    assert [bits(r) for r in stored] == [bits(positive), bits(negative)]


def test_packed_rows_say_when_cutting_them_to_bounds_would_change_nothing():
    """PackedRows.finite_within(lo, hi): every edge and count finite and every edge in [lo, hi]
    (the diagnosis then skips cutting them, features._kept_step)."""
    rng = np.random.default_rng(3)
    rows = torch_rows(rng, 0.0, 1.0)
    lo, hi = float(rows[0, 0]), float(rows[-1, 1])
    packed = EdgeTable().pack(rows)
    assert isinstance(packed, PackedRows)
    assert packed.finite_within(lo, hi)
    assert not packed.finite_within(lo + 1e-3, hi)  # the step's exact min above its first edge
    assert not packed.finite_within(lo, float(rows[-2, 1]) - 1e-9)  # an inner edge above the max
    assert not packed.finite_within(float("nan"), hi)
    broken = rows.copy()
    broken[len(rows) // 2, 2] = np.nan
    packed_broken = EdgeTable().pack(broken)
    assert isinstance(packed_broken, PackedRows) and not packed_broken.finite_within(lo, hi)
    odd = rows.copy()
    odd[0, 0] = float(rows[2, 0])  # a writer's min past its first bucket's right edge
    packed_odd = EdgeTable().pack(odd)
    assert isinstance(packed_odd, PackedRows) and not packed_odd.finite_within(float(odd[0, 0]), hi)
