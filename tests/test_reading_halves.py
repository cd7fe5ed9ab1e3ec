"""A light read that scans a big file's second half in a forked child must give exactly what one
pass gives: same tags in the same order, steps, scalar values, other tags, warnings and counts.

The oracle is the one-pass read (`processes=1`), itself checked against tensorboard's
EventAccumulator in test_reading.py. Files here are small: SPLIT_MIN_BYTES is lowered.
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from reportgen.reading import halves, loader
from reportgen.reading.loader import load
from reportgen.reading.records import frame
from reportgen.reading.writer import EventWriter


@pytest.fixture(autouse=True)
def small_files_split(monkeypatch):
    monkeypatch.setattr(halves, "SPLIT_MIN_BYTES", 0)


def summary(run) -> dict:
    return {
        "histograms": [(t, list(s.steps), list(s.wall_times)) for t, s in run.histograms.items()],
        "scalars": [(t, list(s.steps), list(s.values)) for t, s in run.scalars.items()],
        "other": list(run.other.items()), "other_counts": dict(run.other_counts),
        "warnings": list(run.warnings),
        "files": [(f.records_read, f.records_skipped, list(f.problems)) for f in run.files],
    }


def both_ways(folder, monkeypatch) -> tuple[dict, dict, int]:
    merged = []
    original = loader._merge
    monkeypatch.setattr(loader, "_merge", lambda *a: (merged.append(1), original(*a)))
    one_pass = summary(load([str(folder)], light=True, processes=1).runs[0])
    split = summary(load([str(folder)], light=True, processes=2).runs[0])
    return one_pass, split, len(merged)


def write_torch_style(folder, steps=60) -> str:
    rng = np.random.default_rng(0)
    with EventWriter(str(folder), wall_time=10.0, hostname="t") as writer:
        for step in range(steps):
            writer.add_histogram("fc1.weight", rng.normal(0, 1, 200), step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            if step % 7 == 0:
                writer.add_raw_record(b"\xff\xff not an Event")  # skipped, with a warning
    return writer.path


def test_torch_style_file_read_in_halves_equals_one_pass(tmp_path, monkeypatch):
    write_torch_style(tmp_path)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch)
    assert merged == 1  # the child's half was used
    assert split == one_pass
    assert len(split["histograms"][0][1]) == 60 and split["files"][0][1] == 9


def test_tf2_tags_named_only_in_their_first_record_are_classified_in_the_second_half(tmp_path, monkeypatch):
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(80):
            writer.add_tensor_histogram("dense/kernel", np.arange(20.0) * (step + 1), step)
            writer.add_tensor_scalar("epoch_loss", 2.0 / (step + 1), step)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch)
    assert merged == 1 and split == one_pass
    assert [t for t, *_ in split["histograms"]] == ["dense/kernel"] and split["other"] == []


def test_a_plugin_named_after_the_seed_records_sends_the_second_half_back_to_one_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(halves, "SEED_RECORDS", 5)  # the child does not know 'late' is a histogram
    with EventWriter(str(tmp_path), wall_time=10.0, hostname="t") as writer:
        for step in range(80):
            writer.add_scalar("loss", 1.0, step)
            if step >= 10:
                writer.add_tensor_histogram("late", np.arange(10.0), step)
    one_pass, split, merged = both_ways(tmp_path, monkeypatch)
    assert merged == 0 and split == one_pass
    assert [t for t, *_ in split["histograms"]] == ["late"]


def test_damage_in_either_half_is_reported_as_one_pass_reports_it(tmp_path, monkeypatch):
    path = write_torch_style(tmp_path)
    data = bytearray(open(path, "rb").read())
    data[len(data) * 3 // 4] ^= 0x40  # a payload byte in the second half: that record is skipped
    open(path, "wb").write(bytes(data))
    one_pass, split, merged = both_ways(tmp_path, monkeypatch)
    assert merged == 1 and split == one_pass and any("bad CRC" in p for p in split["files"][0][2])

    (length,) = struct.unpack_from("<Q", data, 0)
    second = 16 + length
    data[second] ^= 0x01  # the second record's length field: one pass stops there
    open(path, "wb").write(bytes(data))
    one_pass, split, _ = both_ways(tmp_path, monkeypatch)
    assert split == one_pass and split["histograms"] == [] and any("corrupt record header" in p for p in split["files"][0][2])


def test_a_false_boundary_inside_a_record_is_passed_over(tmp_path, monkeypatch):
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
    where = open(path, "rb").read().index(fake)
    real = halves.boundary_after
    monkeypatch.setattr(halves, "boundary_after", lambda p, size, middle: real(p, size, where - 3))
    assert real(path, os.path.getsize(path), where - 3) == where  # the fake frame's CRCs check
    one_pass, split, merged = both_ways(tmp_path, monkeypatch)
    assert merged == 0 and split == one_pass
    assert split["scalars"][0][1] == list(range(40))


def test_later_files_of_a_run_and_single_process_reads_are_not_split(tmp_path, monkeypatch):
    forks = []
    monkeypatch.setattr(halves, "Forked", lambda f: forks.append(f) or pytest.fail("forked"))
    write_torch_style(tmp_path)
    load([str(tmp_path)], light=True, processes=1)
    load([str(tmp_path)])  # a full read keeps buckets: never split
    assert forks == []
