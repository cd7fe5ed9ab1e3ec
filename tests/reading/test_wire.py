"""The fast wire-format scan (`scan_event`) gives exactly what the protobuf reference
(`decode_event`, protobuf's own parser) gives, on real-writer records and on wire-format edge
cases the fast path must hand over or get right; and the framing reader keeps its contract
when records straddle its read chunks."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensorboard.compat.proto import event_pb2, summary_pb2

from reportgen.reading.events import DecodeError, HistogramValue, decode_event
from reportgen.reading.loader import ReadSettings, load
from reportgen.reading.records import FileAccount, iter_spans
from reportgen.reading.wire import scan_event
from tests.conftest import FIXTURES
from tools.eventwriter import EventWriter, legacy_histogram


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _delimited(field: int, body: bytes) -> bytes:
    return _key(field, 2) + _varint(len(body)) + body


def _double(field: int, x: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", x)


def _event(value_body: bytes, step: int = 7, extra: bytes = b"") -> bytes:
    summary = _delimited(1, value_body)
    return _double(1, 1.5e9) + _key(2, 0) + _varint(step) + extra + _delimited(5, summary)


def _normal(decoded):
    step, wall, values, problems = decoded
    out = []
    for v in values:
        if isinstance(v, HistogramValue):
            out.append(("h", v.tag, v.step, v.wall_time, v.buckets.tolist(), v.exact))
        else:
            out.append((type(v).__name__, *[getattr(v, f) for f in v.__dataclass_fields__]))
    return step, wall, out, problems


def both(payload: bytes, plugins_seen: dict | None = None):
    """(reference, fast) results or exception types, each with its own plugins memory."""
    results = []
    for decode in (lambda p, pl: decode_event(p, pl), lambda p, pl: scan_event(bytearray(p), 0, len(p), pl)):
        plugins = dict(plugins_seen or {})
        try:
            results.append((_normal(decode(payload, plugins)), plugins))
        except DecodeError:
            results.append(("DecodeError", plugins))
    return results


def assert_same(payload: bytes, plugins_seen: dict | None = None):
    reference, fast = both(payload, plugins_seen)
    assert fast == reference
    return reference[0]


def _histo_body(values, packed: bool = True) -> bytes:
    proto = legacy_histogram(np.asarray(values))
    body = b"".join(_double(f, getattr(proto, n)) for f, n in
                    ((1, "min"), (2, "max"), (3, "num"), (4, "sum"), (5, "sum_squares")))
    for field, seq in ((6, proto.bucket_limit), (7, proto.bucket)):
        if packed:
            body += _delimited(field, struct.pack(f"<{len(seq)}d", *seq))
        else:
            body += b"".join(_double(field, x) for x in seq)
    return body


VALUES = np.random.default_rng(3).normal(0, 0.1, 500)


def test_packed_and_unpacked_repeated_doubles_decode_alike():
    packed = _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)))
    unpacked = _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES, packed=False)))
    a, b = assert_same(packed), assert_same(unpacked)
    assert a == b and a[2][0][4]  # same non-empty buckets either way


def test_the_usual_records_never_need_protobuf(monkeypatch):
    """The speed comes from not parsing with protobuf: the usual records must not fall back."""
    from reportgen.reading import events

    monkeypatch.setattr(events, "decode_event", lambda *a: pytest.fail("fell back to protobuf"))
    for value in (_delimited(5, _histo_body(VALUES)), _key(2, 5) + struct.pack("<f", 0.25)):
        payload = _event(_delimited(1, b"fc1.weight") + value, step=123456)
        for light in (False, True):
            step, _, values, problems = scan_event(bytearray(payload), 0, len(payload), {}, light)
            assert step == 123456 and values[0].tag == "fc1.weight" and not problems


def test_unknown_fields_are_skipped_at_every_level():
    histo = _histo_body(VALUES) + _key(99, 0) + _varint(5)
    value = _delimited(1, b"w") + _key(40, 5) + b"\0\0\0\0" + _delimited(5, histo)
    event = _event(value, extra=_delimited(77, b"unknown bytes") + _key(300, 1) + b"\1" * 8)
    decoded = assert_same(event)
    assert decoded[2][0][1] == "w" and decoded[2][0][4]


def test_tf2_metadata_on_the_first_value_only_is_remembered():
    meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="histograms"))
    rows = np.array([[0.0, 1.0, 3.0], [1.0, 2.0, 4.0]])
    from tools.eventwriter import _tensor_proto
    first = event_pb2.Event(step=1, summary=summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="h", metadata=meta, tensor=_tensor_proto(rows))])).SerializeToString()
    later = event_pb2.Event(step=2, summary=summary_pb2.Summary(value=[
        summary_pb2.Summary.Value(tag="h", tensor=_tensor_proto(rows))])).SerializeToString()
    (reference, plugins_ref), (fast, plugins_fast) = both(first)
    assert fast == reference and plugins_fast == plugins_ref == {"h": "histograms"}
    decoded = assert_same(later, plugins_ref)
    assert decoded[2][0][0] == "h"  # a histogram thanks to the remembered plugin
    assert assert_same(later)[2][0][0] == "OtherValue"  # without the memory: not a histogram


@pytest.mark.parametrize("payload", [
    _event(_delimited(1, b"\xff\xfe") + _key(2, 5) + struct.pack("<f", 1.0)),  # tag not UTF-8
    _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)))[:-3],  # truncated
    _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)), step=-5),  # negative step
    _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)), step=0),
    _event(_delimited(1, b"w") + _key(2, 5) + struct.pack("<f", 2.5)),  # simple_value
    # the value's oneof given twice
    _event(_delimited(1, b"w") + _key(2, 5) + struct.pack("<f", 2.5) + _delimited(5, _histo_body(VALUES))),
    _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)) + _delimited(5, _histo_body(VALUES[:9]))),  # merged
    _event(_delimited(1, b"w") + _delimited(5, _histo_body(VALUES)[:-8 * 3] + b"")),  # counts != limits (or broken)
    _event(_delimited(1, b"w") + _delimited(5, _double(1, 0.0) + _delimited(6, struct.pack("<2d", 1, 2))
                                           + _delimited(7, struct.pack("<1d", 3)))),  # 1 bucket, 2 limits
    _event(_delimited(1, b"w") + _key(5, 0) + _varint(3)),  # histo with the wrong wire type
    event_pb2.Event(step=3, file_version="brain.Event:2").SerializeToString(),
    event_pb2.Event(step=3, graph_def=b"\x01\x02").SerializeToString(),
    b"",
    b"\xff\xff\xff\xff not a protobuf",
])
def test_edge_cases_match_the_protobuf_reference(payload):
    assert_same(payload)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_payloads_match_the_protobuf_reference(data):
    payload = bytearray(_event(_delimited(1, b"layer/w") + _delimited(5, _histo_body(VALUES[:50]))))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(payload) - 1))
        payload[where] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(payload) // 2, len(payload)))
    assert_same(bytes(payload[:cut]))


def _fixture_files():
    if not FIXTURES.exists():
        return []
    return sorted(str(p) for p in FIXTURES.rglob("*tfevents*") if "damaged" not in p.parts)


@pytest.mark.parametrize("path", _fixture_files() or [pytest.param(None, marks=pytest.mark.skip("no fixtures"))])
def test_every_record_of_every_real_writer_matches_the_reference(path):
    size = os.path.getsize(path)
    ref_plugins: dict = {}
    fast_plugins: dict = {}
    records = 0
    with open(path, "rb") as stream:
        for _, buf, start, end in iter_spans(stream, size, FileAccount(path)):
            reference = _normal(decode_event(bytes(buf[start:end]), ref_plugins))
            assert _normal(scan_event(buf, start, end, fast_plugins)) == reference
            light = scan_event(buf, start, end, dict(fast_plugins), light=True)
            assert [(type(v).__name__, v.tag) for v in light[2]] == [(x[0] if x[0] != "h" else "HistogramValue", x[1])
                                                                    for x in reference[2]]
            records += 1
    assert records > 1 and fast_plugins == ref_plugins


def test_records_straddling_read_chunks_are_all_read(tmp_path):
    with EventWriter(str(tmp_path), wall_time=100.0) as writer:
        for step in range(40):
            writer.add_histogram("w", VALUES * (1 + step / 10), step)
    path = writer.path
    size = os.path.getsize(path)
    with open(path, "rb") as stream:
        whole = [bytes(b[s:e]) for _, b, s, e in iter_spans(stream, size, FileAccount(path))]
    for chunk in (13, 100, 1000, 4099):  # smaller than, about, and larger than one record
        account = FileAccount(path)
        with open(path, "rb") as stream:
            pieces = [bytes(b[s:e]) for _, b, s, e in iter_spans(stream, size, account, chunk=chunk)]
        assert pieces == whole and account.records_read == 41 and not account.problems


def test_light_load_lists_the_same_tags_and_steps_as_full_load(tmp_path):
    with EventWriter(str(tmp_path), wall_time=100.0) as writer:
        for step in range(0, 30, 3):
            writer.add_histogram("fc1.weight", VALUES + step, step)
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_tensor_histogram("tf2/h", VALUES, step)
        writer.add_raw_record(b"\xff\xff not an Event")  # skipped, warned
    full, light = load([str(tmp_path)]).runs[0], load([str(tmp_path)], ReadSettings(light=True)).runs[0]
    steps_of = lambda run: {t: list(s.steps) for t, s in run.histograms.items()}
    assert steps_of(light) == steps_of(full)
    assert list(light.scalars["loss"].steps) == list(full.scalars["loss"].steps) == list(range(0, 30, 3))
    assert light.warnings == full.warnings and len(full.warnings) == 1


def test_reading_runs_in_worker_processes_gives_the_same_logs_in_the_same_order(tmp_path):
    rng = np.random.default_rng(5)
    for r in range(5):
        with EventWriter(str(tmp_path / f"run{4 - r}"), wall_time=10.0) as writer:  # written out of name order
            for step in range(8):
                writer.add_histogram("w", rng.normal(0, 1 + r, 100), step)
                writer.add_scalar("loss", float(r + step), step)
    serial, pooled = load([str(tmp_path)]), load([str(tmp_path)], ReadSettings(readers=2, split_big_files=True))
    assert [r.name for r in pooled.runs] == [r.name for r in serial.runs] == [f"run{i}" for i in range(5)]
    for a, b in zip(serial.runs, pooled.runs):
        np.testing.assert_array_equal(a.histograms["w"].quantiles, b.histograms["w"].quantiles)
        np.testing.assert_array_equal(a.scalars["loss"].values, b.scalars["loss"].values)
        assert [x.tolist() for x in a.histograms["w"].buckets] == [x.tolist() for x in b.histograms["w"].buckets]


@pytest.mark.parametrize("batch", [1, 7, 128])
def test_batched_step_statistics_equal_the_per_step_ones_bit_for_bit(batch):
    """step_stats of many steps at once (the loader's batches, padded into one matrix) against the
    same steps one at a time: legacy and TF2 buckets, constant input, empty steps, empty outer
    buckets, NaN/Inf."""
    from reportgen.reading.accumulate import step_stats
    from reportgen.reading.events import legacy_histogram_buckets
    from tools.eventwriter import tensor_histogram

    rng = np.random.default_rng(0)
    values = []
    for i in range(120):
        x = rng.normal(rng.uniform(-3, 3), 10 ** rng.uniform(-6, 2), rng.integers(1, 500))
        kind = i % 6
        if kind == 0:
            h = legacy_histogram(x)
            exact = (h.min, h.max, h.num, h.sum, h.sum_squares)
            b = legacy_histogram_buckets(h)
            if i % 12 == 6:  # fractional counts (weighted samples): their sums depend on the order
                b[:, 2] *= 0.1
            values.append(HistogramValue("t", i, 0.0, b, exact))
            continue
        b = tensor_histogram(np.full(5, 2.0) if kind == 2 else x)
        exact = None
        if kind == 3:
            b = np.zeros((0, 3))
        elif kind == 4:
            b[:5, 2] = b[-3:, 2] = 0
        elif kind == 5:
            b[3, 1] = np.inf if i % 12 == 5 else np.nan
            exact = (1.0, np.inf, 3.0, 1.0, 1.0)
        values.append(HistogramValue("t", i, 0.0, b, exact))
    got = np.concatenate([step_stats(values[start:start + batch]) for start in range(0, len(values), batch)])
    expected = np.concatenate([step_stats([v]) for v in values])
    np.testing.assert_array_equal(got, expected)
    counts = [float(v.buckets[:, 2].sum()) if v.buckets.size else 0.0 for v in values]
    assert got[:, 0].tobytes() == np.array(counts).tobytes()  # as numpy sums one step's counts
    proto = [(r, v.exact) for r, v in enumerate(values) if v.exact is not None and v.exact[2] > 0]
    assert len(proto) > 20 and all(got[r, 3] == total / num for r, (_, _, num, total, _) in proto)  # mean: sum / num


def test_statistics_of_legacy_steps_come_from_their_exact_moments_one_by_one():
    """A batch of legacy (torch, TF1) steps only, as the loader's batches of one tag are: lo,
    hi, mean, std from each proto's min/max/num/sum/sum_squares as step_moments gives them for
    one step, NaN without values, and a step is non-finite when its buckets or its moments are."""
    from reportgen.reading.accumulate import step_moments, step_stats
    from reportgen.reading.events import legacy_histogram_buckets

    rng = np.random.default_rng(3)
    values = []
    for i in range(60):
        h = legacy_histogram(rng.normal(rng.uniform(-3, 3), 10 ** rng.uniform(-6, 2), rng.integers(1, 500)))
        exact = [h.min, h.max, h.num, h.sum, h.sum_squares]
        if i % 10 == 3:
            exact[2] = 0.0  # no values
        elif i % 10 == 5:
            exact[3 + i % 2] = np.inf  # an overflowed sum, finite buckets
        elif i % 10 == 7:
            exact[4] = exact[3] ** 2 / exact[2] * (1 - 1e-12)  # rounding: a variance just below 0
        buckets = legacy_histogram_buckets(h)
        if i % 10 == 9:
            buckets[len(buckets) // 2, 2] = np.nan  # a count lost on the way, finite moments
        values.append(HistogramValue("t", i, 0.0, buckets, tuple(exact)))
    got = step_stats(values)
    expected = np.array([step_moments(v) for v in values])
    assert got[:, 1:5].tobytes() == expected.tobytes()
    assert np.isnan(got[3::10, 1:5]).all() and (got[7::10, 4] == 0).all()
    nonfinite = [not (np.isfinite(v.buckets).all() and np.isfinite(np.array(v.exact)[[0, 1, 3, 4]]).all())
                 for v in values]
    assert got[:, 14].tolist() == [float(x) for x in nonfinite] and sum(nonfinite) == 12


def test_crc32c_loaded_without_its_package_init_is_the_packages_function():
    import crc32c

    from reportgen.reading.records import crc32c_of

    assert crc32c_of(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720, B.4)
    data = np.random.default_rng(1).bytes(100_000)
    assert all(crc32c_of(data[i:]) == crc32c.crc32c(data[i:]) for i in (0, 1, 7, 4096))
    assert crc32c_of(memoryview(data)[3:999]) == crc32c.crc32c(data[3:999])
