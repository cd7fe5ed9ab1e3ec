"""A read that leaves a big file's second part to a forked child must give exactly what one pass
gives: same tags in the same order, steps, scalar values, other tags, warnings and counts; for a
full read also every statistic and the buckets of the same kept steps, bit for bit.

The oracle is the one-pass read (`readers=1`, no split), itself checked against tensorboard's
EventAccumulator in test_reading.py. Files here are small: SPLIT_MIN_BYTES is lowered.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from reportgen.reading import halves, loader
from reportgen.reading.loader import ReadSettings, load
from tools.eventwriter import EventWriter, frame


@pytest.fixture(autouse=True)
def small_files_split(monkeypatch):
    monkeypatch.setattr(halves, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(halves, "MEANWHILE_SPLIT_MIN_BYTES", 0)


def exactly(array: np.ndarray) -> tuple:
    return array.dtype.str, array.shape, array.tobytes()  # NaN equals NaN, -0.0 does not equal 0.0


def summary(run, light: bool = True) -> dict:
    found = {
        "histograms": [(t, list(s.steps), list(s.wall_times)) for t, s in run.histograms.items()],
        "scalars": [(t, list(s.steps), list(s.values)) for t, s in run.scalars.items()],
        "other": list(run.other.items()), "other_counts": dict(run.other_counts),
        "warnings": list(run.warnings),
        "files": [(f.records_read, f.records_skipped, list(f.problems)) for f in run.files],
    }
    if not light:
        found["data"] = [
            (t, [exactly(getattr(s, name)) for name in ("count", "min", "max", "mean", "std", "quantiles", "nonfinite",
                                                         "kept")], [exactly(b) for b in s.buckets])
            for t, s in run.histograms.items()]
    return found


def both_ways(folder, monkeypatch, light: bool = True, keep: int = loader.DEFAULT_KEEP) -> tuple[dict, dict, int]:
    merged = []
    original = halves._merge
    monkeypatch.setattr(halves, "_merge", lambda *a: (merged.append(1), original(*a)))
    one_pass = summary(load([str(folder)], ReadSettings(keep=keep, light=light, readers=1)).runs[0], light)
    split = summary(load([str(folder)], ReadSettings(keep=keep, light=light, readers=2, split_big_files=True)).runs[0],
                    light)
    return one_pass, split, len(merged)


both_reads = pytest.mark.parametrize("light", [True, False], ids=["light", "full"])


def write_torch_style(folder, steps=60) -> str:
    rng = np.random.default_rng(0)
    with EventWriter(str(folder), wall_time=10.0, hostname="t") as writer:
        for step in range(steps):
            writer.add_histogram("fc1.weight", rng.normal(0, 1, 200), step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            if step % 7 == 0:
                writer.add_raw_record(b"\xff\xff not an Event")  # skipped, with a warning
    return writer.path


@both_reads
def test_torch_style_file_read_in_halves_equals_one_pass(tmp_path, monkeypatch, light):
    write_torch_style(tmp_path)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light)
    assert merged == 1  # the child's half was used
    assert split == one_pass
    assert len(split["histograms"][0][1]) == 60 and split["files"][0][1] == 9


@both_reads
def test_tf2_tags_named_only_in_their_first_record_are_classified_in_the_second_half(tmp_path, monkeypatch, light):
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(80):
            writer.add_tensor_histogram("dense/kernel", np.arange(20.0) * (step + 1), step)
            writer.add_tensor_scalar("epoch_loss", 2.0 / (step + 1), step)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light)
    assert merged == 1 and split == one_pass
    assert [t for t, *_ in split["histograms"]] == ["dense/kernel"] and split["other"] == []


@both_reads
def test_a_plugin_named_after_the_seed_records_sends_the_second_half_back_to_one_pass(tmp_path, monkeypatch, light):
    """A light read's child knows the plugins of the first SEED_RECORDS records only; a full
    read's child scans the whole first part, so it knows them all and its part is used."""
    monkeypatch.setattr(halves, "SEED_RECORDS", 5)  # the child does not know 'late' is a histogram
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(80):
            writer.add_scalar("loss", 1.0, step)
            if step >= 10:
                writer.add_tensor_histogram("late", np.arange(10.0), step)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light)
    assert merged == (0 if light else 1) and split == one_pass
    assert [t for t, *_ in split["histograms"]] == ["late"]


@both_reads
def test_damage_in_either_half_is_reported_as_one_pass_reports_it(tmp_path, monkeypatch, light):
    path = write_torch_style(tmp_path)
    data = bytearray(Path(path).read_bytes())
    data[len(data) * 3 // 4] ^= 0x40  # a payload byte in the second half: that record is skipped
    Path(path).write_bytes(bytes(data))
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light)
    assert merged == 1 and split == one_pass and any("bad CRC" in p for p in split["files"][0][2])

    (length,) = struct.unpack_from("<Q", data, 0)
    second = 16 + length
    data[second] ^= 0x01  # the second record's length field: one pass stops there
    Path(path).write_bytes(bytes(data))
    one_pass, split, _ = both_ways(tmp_path, monkeypatch, light)
    assert split == one_pass and split["histograms"] == []
    assert any("corrupt record header" in p for p in split["files"][0][2])


@both_reads
def test_a_false_boundary_inside_a_record_is_passed_over(tmp_path, monkeypatch, light):
    """A record whose payload holds a whole valid frame: the child may start there, but the
    first half's framing passes over it, and the rest is then read here."""
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(20):
            writer.add_scalar("loss", float(step), step)
        fake = frame(b"\x09" + b"\x00" * 8 + b"\x10\x63")  # a valid Event (step 99) framed
        writer.add_raw_record(b"\xff\xff" + fake)  # garbage as an Event: skipped with a warning
        for step in range(20, 40):
            writer.add_scalar("loss", float(step), step)
    path = writer.path
    where = Path(path).read_bytes().index(fake)
    real = halves.boundary_after
    monkeypatch.setattr(halves, "boundary_after", lambda p, size, middle: real(p, size, where - 3))
    assert real(path, os.path.getsize(path), where - 3) == where  # the fake frame's CRCs check
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light)
    assert merged == 0 and split == one_pass
    assert split["scalars"][0][1] == list(range(40))


def test_later_files_of_a_run_and_single_process_reads_are_not_split(tmp_path, monkeypatch):
    forks = []
    monkeypatch.setattr(halves, "Forked", lambda f: forks.append(f) or pytest.fail("forked"))
    write_torch_style(tmp_path)
    load([str(tmp_path)], ReadSettings(light=True, readers=1))
    load([str(tmp_path)])
    assert forks == []


def test_a_full_read_keeps_the_buckets_of_the_steps_one_pass_keeps(tmp_path, monkeypatch):
    """Buckets are thinned by position (every stride-th value, the stride doubling past `keep`):
    the child must keep exactly the steps one pass keeps, though it starts at the middle."""
    rng = np.random.default_rng(1)
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(203):
            writer.add_histogram("every", rng.normal(step / 100, 1, 50), step)
            if step % 3 == 0:
                writer.add_histogram("third", rng.normal(0, 1 + step / 50, 50), step)
            if step > 150:  # first met in the child's part
                writer.add_histogram("late", rng.normal(0, 1, 50), step)
        writer.add_histogram("every", rng.normal(0, 1, 50), 7)  # out of order, at the very end
    for keep in (5, 8, 50, 501):
        one_pass, split, merged = both_ways(tmp_path, monkeypatch, light=False, keep=keep)
        assert merged == 1 and split == one_pass, keep
    data = dict((t, kept) for t, (*_, kept), _ in split["data"])
    assert [t for t, *_ in split["histograms"]] == ["every", "third", "late"] and len(data) == 3


def test_a_full_read_whose_child_counted_other_values_before_the_middle_is_read_on_here(tmp_path, monkeypatch):
    """The child counts each tag's values before the middle with a light scan; if the full read
    here found other counts, the child kept the wrong steps: its part is read again here."""
    write_torch_style(tmp_path)
    counted = halves._first_half_counts

    def one_off(*args):
        plugins, counts = counted(*args)
        return plugins, {tag: n + 1 for tag, n in counts.items()}

    monkeypatch.setattr(halves, "_first_half_counts", one_off)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch, light=False)
    assert merged == 0 and split == one_pass


def test_the_child_hands_over_large_arrays_intact_and_writable():
    """Arrays come back through a memory file mapped copy-on-write (not the pipe): same values,
    writable, and a write does not reach the file the other arrays are mapped from."""
    big = np.arange(300_000, dtype=np.float64)
    got = halves.Forked(lambda: {"big": big * 2, "small": np.ones(3), "rest": "text"}).result()
    assert np.array_equal(got["big"], big * 2) and np.array_equal(got["small"], np.ones(3)) and got["rest"] == "text"
    got["big"][0] = -1.0
    assert got["big"][0] == -1.0 and got["big"][1] == 2.0
    assert halves.Forked(lambda: 1 / 0).result() is None
    assert halves.Forked(lambda: ("no arrays", 1)).result() == ("no arrays", 1)


def test_work_done_meanwhile_runs_while_the_child_reads_and_the_parent_takes_a_smaller_part(tmp_path, monkeypatch):
    """load_located's `meanwhile` (the build's imports) runs once the child has started and
    before this process reads; this process then reads less (split_share); the result is one
    pass's. Without another process reading, it runs after the read."""
    from reportgen.reading.loader import load_located, located_runs

    size = os.path.getsize(write_torch_style(tmp_path, steps=200))
    middles, seen = [], []
    real = halves.boundary_after
    monkeypatch.setattr(halves, "boundary_after", lambda p, size, middle: middles.append(middle / size) or real(
        p, size, middle))
    started = halves.Forked.__init__
    monkeypatch.setattr(halves.Forked, "__init__", lambda self, f: (started(self, f), seen.append("child"))[0])
    decoding = halves.decoded  # in this process only: the child's are not seen here
    monkeypatch.setattr(halves, "decoded", lambda *a, **k: (seen.append("read"), decoding(*a, **k))[1])
    settings = ReadSettings(readers=2, split_big_files=True)
    one_pass = summary(load([str(tmp_path)], ReadSettings(readers=1)).runs[0], light=False)
    for meanwhile in (None, lambda: seen.append("meanwhile")):
        logs = load_located(*located_runs([str(tmp_path)], settings), settings, **({"meanwhile": meanwhile}
                                                                                   if meanwhile else {}))
        assert summary(logs.runs[0], light=False) == one_pass
    assert seen == ["child", "read", "child", "meanwhile", "read"]  # once: after the fork, before reading here
    assert middles == pytest.approx([halves.FULL_READ_SPLIT, halves.split_share(size, False, True)], abs=1e-4)
    assert halves.split_share(size, False, True) < halves.FULL_READ_SPLIT

    monkeypatch.setattr(halves, "SPLIT_MIN_BYTES", 1 << 40)  # not split: after reading
    monkeypatch.setattr(halves, "MEANWHILE_SPLIT_MIN_BYTES", 1 << 40)
    order: list[str] = []
    reading = loader.read_run
    monkeypatch.setattr(loader, "read_run", lambda *a, **k: (order.append("read"), reading(*a, **k))[1])
    load_located(*located_runs([str(tmp_path)], settings), settings, meanwhile=lambda: order.append("meanwhile"))
    assert order == ["read", "meanwhile"]


def test_a_file_too_small_to_split_for_reading_alone_is_split_when_there_is_work_meanwhile(tmp_path, monkeypatch):
    """Between MEANWHILE_SPLIT_MIN_BYTES and SPLIT_MIN_BYTES a file is read by a child only while
    this process has other work (a build's imports), with the result of one pass."""
    from reportgen.reading.loader import load_located, located_runs

    size = os.path.getsize(write_torch_style(tmp_path, steps=200))
    monkeypatch.setattr(halves, "SPLIT_MIN_BYTES", size + 1)
    monkeypatch.setattr(halves, "MEANWHILE_SPLIT_MIN_BYTES", size)
    children: list[str] = []
    started = halves.Forked.__init__
    monkeypatch.setattr(halves.Forked, "__init__", lambda self, f: (started(self, f), children.append("child"))[0])
    settings = ReadSettings(readers=2, split_big_files=True)
    one_pass = summary(load([str(tmp_path)], ReadSettings(readers=1)).runs[0], light=False)
    alone = load_located(*located_runs([str(tmp_path)], settings), settings)
    assert children == []
    meanwhile = load_located(*located_runs([str(tmp_path)], settings), settings, meanwhile=lambda: None)
    assert children == ["child"]
    assert summary(alone.runs[0], light=False) == summary(meanwhile.runs[0], light=False) == one_pass


def test_the_parents_part_shrinks_by_the_work_it_does_meanwhile_down_to_a_floor():
    """split_share: a light read splits in the middle; a full one at FULL_READ_SPLIT; with work
    meanwhile, smaller by MEANWHILE_BYTES' share of the file, never below MIN_SPLIT."""
    mb = 1 << 20
    assert halves.split_share(267 * mb, True, True) == 0.5
    assert halves.split_share(267 * mb, False, False) == halves.FULL_READ_SPLIT
    assert halves.split_share(267 * mb, False, True) == pytest.approx(0.35, abs=0.005)  # what was measured best
    assert halves.split_share(2000 * mb, False, True) > halves.split_share(267 * mb, False, True)
    assert halves.split_share(64 * mb, False, True) == halves.MIN_SPLIT  # the imports take longer than reading


def test_an_interrupted_meanwhile_stops_the_child(tmp_path):
    import multiprocessing

    from reportgen.reading.loader import load_located, located_runs

    write_torch_style(tmp_path, steps=200)
    settings = ReadSettings(readers=2, split_big_files=True)

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_located(*located_runs([str(tmp_path)], settings), settings, meanwhile=interrupted)
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("error", [ValueError("bad"), OSError("cannot load library 'pango'")])
def test_a_failing_meanwhile_raises_its_error_and_is_not_taken_for_a_broken_file(tmp_path, error):
    """WeasyPrint's import raises OSError without its libraries: that is not the event file's
    problem, which reading (read_run) would report as "cannot read" and leave out."""
    from reportgen.reading.loader import load_located, located_runs

    write_torch_style(tmp_path, steps=200)
    settings = ReadSettings(readers=2, split_big_files=True)
    calls = []

    def fail() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error), match=str(error)):
        load_located(*located_runs([str(tmp_path)], settings), settings, meanwhile=fail)
    assert calls == [1]


def test_work_done_meanwhile_runs_once_while_a_pool_reads_the_runs(tmp_path, monkeypatch):
    from reportgen.reading.loader import load_located, located_runs

    for name in ("a", "b", "c"):
        write_torch_style(tmp_path / name, steps=20)
    import concurrent.futures

    calls: list[str] = []

    class Pool(concurrent.futures.ProcessPoolExecutor):
        def __exit__(self, *exc):
            calls.append("pool closed")
            return super().__exit__(*exc)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)
    settings = ReadSettings(readers=2)
    logs = load_located(*located_runs([str(tmp_path)], settings), settings, meanwhile=lambda: calls.append("meanwhile"))
    assert calls == ["meanwhile", "pool closed"]  # while the readers read
    one_pass = load([str(tmp_path)], ReadSettings(readers=1))
    assert [summary(r, light=False) for r in logs.runs] == [summary(r, light=False) for r in one_pass.runs]
