"""Corruption anywhere in an event file: warnings, and every intact record still read.

Property-based (hypothesis) over the reader: bit flips, truncation at any byte, zero-filled
blocks, absurd length fields, valid frames holding garbage, absurd histogram protos.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import summary_pb2

from reportgen.reading.loader import load, read_run
from tools.eventwriter import EventWriter, frame

HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def make_log(folder: Path, steps: int = 12) -> tuple[bytes, list[tuple[int, int]]]:
    """A small torch-style event file; returns its bytes and (offset, length) of each record."""
    rng = np.random.default_rng(0)
    with EventWriter(str(folder), wall_time=1.0, hostname="test") as writer:
        for step in range(steps):
            writer.add_histogram("fc1.weight", rng.normal(0, 0.1, 500), step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
    path = next(folder.iterdir())
    data = path.read_bytes()
    records, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        records.append((pos, length))
        pos += 12 + length + 4
    return data, records


@pytest.fixture(scope="module")
def good_log(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    data, records = make_log(folder)
    return data, records


def read_bytes(tmp_path: Path, data: bytes, name: str = "events.out.tfevents.1.test"):
    folder = tmp_path / f"case{time.monotonic_ns()}"
    folder.mkdir()
    (folder / name).write_bytes(data)
    return read_run("case", [str(folder / name)])


def steps_read(run) -> set[tuple[str, int]]:
    out = {(tag, int(s)) for tag, series in run.histograms.items() for s in series.steps}
    out |= {(tag, int(s)) for tag, series in run.scalars.items() for s in series.steps}
    return out


def record_values(records) -> list[set[tuple[str, int]]]:
    # make_log writes: file_version, then per step a histogram record and a scalar record.
    out = [set()]
    for step in range((len(records) - 1) // 2):
        out += [{("fc1.weight", step)}, {("loss", step)}]
    return out


@HYPOTHESIS
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash(tmp_path, data):
    run = read_bytes(tmp_path, data)
    account = run.files[0]
    assert account.records_read + account.records_skipped >= 0
    if data and not run.histograms and not run.scalars:
        assert run.warnings  # nothing read from a non-empty file is always explained


@HYPOTHESIS
@given(choice=st.data())
def test_bit_flip_loses_at_most_the_records_it_touches(tmp_path, good_log, choice):
    data, records = good_log
    offset = choice.draw(st.integers(0, len(data) - 1))
    bit = choice.draw(st.integers(0, 7))
    damaged = bytearray(data)
    damaged[offset] ^= 1 << bit
    run = read_bytes(tmp_path, bytes(damaged))
    values = record_values(records)
    hit = next(i for i, (start, length) in enumerate(records) if start <= offset < start + 16 + length)
    start, _ = records[hit]
    expected = set().union(*values)
    got = steps_read(run)
    if offset >= start + 12:
        # payload or payload CRC: exactly that record is lost, every other record is read
        assert got == expected - values[hit]
        assert run.files[0].records_skipped == 1
    else:
        # length or length CRC: the framing is lost from here; everything before is read
        assert set().union(*values[:hit]) <= got
    assert run.warnings


@HYPOTHESIS
@given(choice=st.data())
def test_truncation_at_any_byte_keeps_every_complete_record(tmp_path, good_log, choice):
    data, records = good_log
    cut = choice.draw(st.integers(0, len(data)))
    run = read_bytes(tmp_path, data[:cut])
    values = record_values(records)
    complete = [i for i, (start, length) in enumerate(records) if start + 16 + length <= cut]
    assert steps_read(run) == set().union(set(), *(values[i] for i in complete))
    boundaries = {start for start, _ in records}
    if 0 < cut < len(data) and cut not in boundaries:
        assert any("truncated" in w or "not an event file" in w for w in run.warnings)


def test_cut_at_a_record_boundary_is_a_shorter_valid_file(tmp_path, good_log):
    # A file that ends between two records is what a writer leaves when it is stopped
    # between flushes: complete, so no warning (hypothesis found that the property above
    # wrongly demanded one at byte 40).
    data, records = good_log
    for count in (1, 2, 7):
        cut = records[count][0]
        run = read_bytes(tmp_path, data[:cut])
        assert steps_read(run) == set().union(*record_values(records)[:count])
        assert run.warnings == []


@HYPOTHESIS
@given(choice=st.data())
def test_zero_filled_block_loses_only_what_it_covers(tmp_path, good_log, choice):
    data, records = good_log
    start = choice.draw(st.integers(0, len(data) - 1))
    size = choice.draw(st.integers(1, 2048))
    damaged = data[:start] + bytes(min(size, len(data) - start)) + data[start + size:]
    run = read_bytes(tmp_path, damaged)
    values = record_values(records)
    before = [i for i, (s, length) in enumerate(records) if s + 16 + length <= start]
    assert set().union(set(), *(values[i] for i in before)) <= steps_read(run)


def test_length_field_claiming_terabytes_is_refused_before_allocating(tmp_path, good_log):
    data, records = good_log
    start, _ = records[5]
    header = struct.pack("<Q", 1 << 42)
    from reportgen.reading.records import masked_crc

    damaged = data[:start] + header + struct.pack("<I", masked_crc(header)) + data[start + 12:]
    began = time.monotonic()
    run = read_bytes(tmp_path, damaged)
    assert time.monotonic() - began < 5
    assert any("truncated" in w or "needs" in w for w in run.warnings)
    assert steps_read(run) == set().union(*record_values(records)[:5])


def test_valid_frame_holding_garbage_is_skipped_with_a_warning(tmp_path, good_log):
    data, records = good_log
    garbage = frame(b"\xff\xff\xff\xff garbage that is not a protobuf")
    start, _ = records[3]
    run = read_bytes(tmp_path, data[:start] + garbage + data[start:])
    assert steps_read(run) == set().union(*record_values(records))
    assert any("skipped" in w for w in run.warnings)
    assert run.files[0].records_skipped == 1


@pytest.mark.parametrize("histo", [
    summary_pb2.HistogramProto(min=0, max=1, num=3, bucket_limit=[1.0], bucket=[1.0, 2.0]),  # mismatched
    summary_pb2.HistogramProto(min=float("nan"), max=float("inf"), num=5, bucket_limit=[0.0, 1.0], bucket=[2, 3]),
    summary_pb2.HistogramProto(min=1, max=0, num=1, bucket_limit=[0.5, 2.0], bucket=[-1.0, 1e308]),
    summary_pb2.HistogramProto(min=0, max=1, num=0, bucket_limit=[0.5] * 100000, bucket=[0.0] * 100000),
    summary_pb2.HistogramProto(),
])
def test_absurd_histogram_protos_never_crash(tmp_path, histo):
    with EventWriter(str(tmp_path), wall_time=1.0, hostname="t") as writer:
        writer.add_histogram_proto("bad", histo, 0)
        writer.add_histogram("good", np.arange(10.0), 1)
    run = load([str(tmp_path)]).runs[0]
    assert list(run.histograms["good"].steps) == [1]
    if "bad" not in run.histograms:
        assert any("'bad'" in w for w in run.warnings)


def test_symlink_loop_does_not_hang_discovery(tmp_path):
    make_log(tmp_path / "run")
    os.symlink(tmp_path, tmp_path / "run" / "loop")
    began = time.monotonic()
    logs = load([str(tmp_path)])
    assert time.monotonic() - began < 10
    assert [r.name for r in logs.runs] == ["run"]


def test_unreadable_event_file_is_reported_and_skipped(tmp_path):
    make_log(tmp_path / "run")
    os.symlink(tmp_path / "missing", tmp_path / "run" / "events.out.tfevents.9.broken")
    run = load([str(tmp_path)]).runs[0]
    assert len(run.histograms["fc1.weight"].steps) == 12
    assert any("broken" in w for w in run.warnings)
