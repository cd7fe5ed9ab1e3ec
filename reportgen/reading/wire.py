"""The fast path: a protobuf wire-format scan of the Event shapes real writers produce.

Parsing every record with protobuf and copying repeated fields into lists costs more than
reading and CRC-checking the file. `scan_event` walks the wire format directly: bucket arrays
become numpy views of the packed bytes (or, for `light`, are only counted, never decoded).
Whatever it is not sure about (unpacked repeated fields, a message field given twice, fields
it does not handle, anything malformed) it hands to `events.decode_event`, the protobuf
reference, so the result is always the same as decode_event's; tensors of any plugin go through
the same `events.tensor_value` dispatch.
"""

from __future__ import annotations

import struct

import numpy as np

from reportgen.reading.events import (
    HPARAMS_PLUGIN,
    Decoded,
    DecodeError,
    FileVersion,
    HistogramValue,
    HParamsValue,
    ScalarValue,
    decode_event,
    file_version_number,
    legacy_rows,
    tensor_value,
)

_UNPACK_DOUBLE = struct.Struct("<d").unpack_from
_UNPACK_FLOAT = struct.Struct("<f").unpack_from
_NO_BUCKETS = np.zeros((0, 3))
_NO_BUCKETS.flags.writeable = False
# Field numbers the scan must not skip as unknown: it does not handle them, protobuf does.
_EVENT_FIELDS = frozenset(range(1, 11))
_SUMMARY_FIELDS = frozenset({1})
_VALUE_FIELDS = frozenset(range(1, 10))
_HISTO_FIELDS = frozenset(range(1, 8))


class _Unsure(Exception):
    """The scan met something it leaves to protobuf."""


def scan_event(buf, start: int, end: int, plugins: dict[str, str], light: bool = False) -> Decoded:
    """`decode_event` of the payload buf[start:end], fast.

    With `light`, legacy histograms are checked for shape but their buckets are not decoded:
    each HistogramValue carries an empty bucket array and no moments (enough to list tags and
    steps). Raises DecodeError exactly when decode_event does.
    """
    learned: dict[str, str] = {}
    try:
        decoded = _scan_usual(buf, start, end, light) or _scan(buf, start, end, plugins, learned, light)
    except (_Unsure, IndexError, UnicodeDecodeError, struct.error, ValueError):
        decoded = None
    if decoded is None:
        return decode_event(memoryview(buf)[start:end], plugins)
    plugins.update(learned)
    return decoded


def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _Unsure


def _length(buf, pos: int) -> tuple[int, int]:
    """The length of a length-delimited field whose length starts at `pos`, and where its bytes start."""
    length = buf[pos]
    if length < 0x80:
        return length, pos + 1
    return _varint(buf, pos)


def _skip_unknown(buf, pos: int, key: int, known: frozenset) -> int:
    """Skip a field the message does not define, as protobuf does; known fields are left to it."""
    if key >= 0x80:
        key, pos = _varint(buf, pos - 1)
    field_number, wire_type = key >> 3, key & 7
    if field_number == 0 or field_number in known:
        raise _Unsure
    if wire_type == 0:
        return _varint(buf, pos)[1]
    if wire_type == 1:
        return pos + 8
    if wire_type == 5:
        return pos + 4
    if wire_type == 2:
        length, pos = _length(buf, pos)
        return pos + length
    raise _Unsure  # groups


def _text(buf, start: int, end: int) -> str:
    return buf[start:end].decode("utf-8")  # proto3 strings must be UTF-8, as protobuf checks


def _scan_usual(buf, pos: int, end: int, light: bool):
    """The record nearly every writer writes: wall_time, step, and a summary holding one value
    of a tag and a legacy histogram or a simple_value. None for any other layout."""
    if buf[pos] != 0x09 or buf[pos + 9] != 0x10:
        return None
    (wall_time,) = _UNPACK_DOUBLE(buf, pos + 1)
    step = buf[pos + 10]
    pos += 11
    if step >= 0x80:
        step, pos = _varint(buf, pos - 1)
        step &= 0xFFFFFFFFFFFFFFFF
        if step >= 1 << 63:
            step -= 1 << 64
    if buf[pos] != 0x2A:  # summary
        return None
    length, pos = _length(buf, pos + 1)
    if pos + length != end or buf[pos] != 0x0A:  # its one value
        return None
    length, pos = _length(buf, pos + 1)
    if pos + length != end or buf[pos] != 0x0A:  # the value's tag
        return None
    length = buf[pos + 1]
    if length >= 0x80:
        return None
    pos += 2
    tag = buf[pos : pos + length].decode()
    pos += length
    key = buf[pos]
    if key == 0x15 and pos + 5 == end:
        return step, wall_time, [ScalarValue(tag, step, wall_time, _UNPACK_FLOAT(buf, pos + 1)[0])], []
    if key != 0x2A:
        return None
    length, pos = _length(buf, pos + 1)
    if pos + length != end:
        return None
    try:
        return step, wall_time, [_scan_histo(buf, (pos, end), tag, step, wall_time, light)], []
    except DecodeError as exc:
        return step, wall_time, [], [f"value {tag!r} at step {step} skipped: {exc}"]


def _scan(buf, pos: int, end: int, plugins: dict[str, str], learned: dict[str, str], light: bool):
    step, wall_time, summary, oneofs, version = 0, 0.0, None, 0, None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key == 0x09:  # wall_time, double
            (wall_time,) = _UNPACK_DOUBLE(buf, pos)
            pos += 8
        elif key == 0x10:  # step, int64
            step = buf[pos]
            pos += 1
            if step >= 0x80:
                step, pos = _varint(buf, pos - 1)
        elif key == 0x2A:  # summary
            length, pos = _length(buf, pos)
            if summary is not None:
                raise _Unsure  # protobuf would merge the two
            summary = (pos, pos + length)
            pos += length
            oneofs += 1
        elif key == 0x1A:  # file_version, string
            length, pos = _length(buf, pos)
            version = _text(buf, pos, pos + length)
            pos += length
            oneofs += 1
        else:
            pos = _skip_unknown(buf, pos, key, _EVENT_FIELDS)
    if pos != end or oneofs > 1:
        raise _Unsure
    step &= 0xFFFFFFFFFFFFFFFF
    if step >= 1 << 63:
        step -= 1 << 64
    if summary is None:
        found = [] if version is None else [FileVersion("<file_version>", file_version_number(version))]
        return step, wall_time, found, []
    values: list = []
    problems: list[str] = []
    pos, end = summary
    while pos < end:
        key = buf[pos]
        pos += 1
        if key != 0x0A:
            pos = _skip_unknown(buf, pos, key, _SUMMARY_FIELDS)
            continue
        length, pos = _length(buf, pos)
        _scan_value(buf, pos, pos + length, step, wall_time, plugins, learned, light, values, problems)
        pos += length
    if pos != end:
        raise _Unsure
    return step, wall_time, values, problems


def _scan_value(buf, pos, end, step, wall_time, plugins, learned, light, values, problems) -> None:
    tag, kind, span, metadata = "", None, None, None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key == 0x0A:  # tag
            length, pos = _length(buf, pos)
            tag = buf[pos : pos + length].decode()  # proto3 strings must be UTF-8, as protobuf checks
            pos += length
        elif key == 0x15:  # simple_value, float
            if kind is not None:
                raise _Unsure
            kind, span = "simple_value", _UNPACK_FLOAT(buf, pos)[0]
            pos += 4
        elif key == 0x2A or key == 0x42 or key == 0x4A or key == 0x3A:  # histo, tensor, metadata, node_name
            length, pos = _length(buf, pos)
            here = (pos, pos + length)
            pos += length
            if key == 0x4A:
                if metadata is not None:
                    raise _Unsure
                metadata = here
            elif key == 0x3A:
                _text(buf, *here)
            else:
                if kind is not None:
                    raise _Unsure
                kind, span = ("histo" if key == 0x2A else "tensor"), here
        else:
            pos = _skip_unknown(buf, pos, key, _VALUE_FIELDS)  # image, audio, ...: left to protobuf
    if pos != end or kind is None:
        raise _Unsure
    tensor = None
    if kind == "tensor":  # parsed even when not used: protobuf would reject a bad one
        from tensorboard.compat.proto import tensor_pb2

        tensor = _parse(tensor_pb2.TensorProto, buf, span)
    if metadata is not None:
        from tensorboard.compat.proto import summary_pb2

        plugin_data = _parse(summary_pb2.SummaryMetadata, buf, metadata).plugin_data
        if plugin_data.plugin_name:
            learned[tag] = plugin_data.plugin_name
        if plugin_data.plugin_name == HPARAMS_PLUGIN:  # as decode_event: the content is the value
            values.append(HParamsValue(tag, step, bytes(plugin_data.content)))
            return
    try:
        if kind == "simple_value":
            values.append(ScalarValue(tag, step, wall_time, float(span)))  # type: ignore[arg-type]  # the float read
        elif kind == "histo":
            values.append(_scan_histo(buf, span, tag, step, wall_time, light))
        else:
            values.append(tensor_value(tag, step, wall_time, learned.get(tag) or plugins.get(tag, ""), tensor))
    except DecodeError as exc:
        problems.append(f"value {tag!r} at step {step} skipped: {exc}")


def _parse(message_type, buf, span):
    try:
        return message_type.FromString(bytes(buf[span[0] : span[1]]))
    except Exception:  # protobuf's own DecodeError types
        raise _Unsure from None


_FIXED_HISTO_KEYS = frozenset({0x09, 0x11, 0x19, 0x21, 0x29})  # min max num sum sum_squares: 8-byte doubles


def _light_histo(buf, pos: int, end: int, tag, step, wall_time) -> HistogramValue:
    """`_scan_histo(..., light=True)` for the usual field order (doubles, bucket_limit, bucket)."""
    fixed = _FIXED_HISTO_KEYS
    while pos < end and buf[pos] in fixed:
        pos += 9
    sizes = []
    for key in (0x32, 0x3A):
        if pos >= end or buf[pos] != key:
            raise _Unsure
        length, pos = _length(buf, pos + 1)
        sizes.append(length)
        pos += length
    if pos != end or sizes[0] & 7 or sizes[1] & 7:
        raise _Unsure
    if sizes[0] != sizes[1]:
        raise DecodeError(f"histogram has {sizes[1] >> 3} buckets but {sizes[0] >> 3} limits")
    return HistogramValue(tag, step, wall_time, _NO_BUCKETS, None)


def _scan_histo(buf, span, tag, step, wall_time, light) -> HistogramValue:
    pos, end = span
    if light:
        try:
            return _light_histo(buf, pos, end, tag, step, wall_time)
        except _Unsure:
            pass  # another field order or layout: the general scan below
    lo = hi = num = total = squares = 0.0
    limits = counts = None
    while pos < end:
        key = buf[pos]
        pos += 1
        if key == 0x32 or key == 0x3A:  # bucket_limit, bucket: packed doubles
            length, pos = _length(buf, pos)
            if length & 7 or (limits if key == 0x32 else counts) is not None:
                raise _Unsure  # a second run of the same field: protobuf concatenates them
            if key == 0x32:
                limits = (pos, length >> 3)
            else:
                counts = (pos, length >> 3)
            pos += length
        elif key == 0x09 or key == 0x11 or key == 0x19 or key == 0x21 or key == 0x29:  # min max num sum sum_squares
            if not light:
                (number,) = _UNPACK_DOUBLE(buf, pos)
                if key == 0x09:
                    lo = number
                elif key == 0x11:
                    hi = number
                elif key == 0x19:
                    num = number
                elif key == 0x21:
                    total = number
                else:
                    squares = number
            pos += 8
        else:
            pos = _skip_unknown(buf, pos, key, _HISTO_FIELDS)  # unpacked doubles: left to protobuf
    if pos != end:
        raise _Unsure
    limits, counts = limits or (0, 0), counts or (0, 0)
    if light:
        if limits[1] != counts[1]:
            raise DecodeError(f"histogram has {counts[1]} buckets but {limits[1]} limits")
        return HistogramValue(tag, step, wall_time, _NO_BUCKETS, None)
    rows = legacy_rows(np.frombuffer(buf, "<f8", counts[1], counts[0]), np.frombuffer(buf, "<f8", limits[1], limits[0]),
                       lo, hi)
    return HistogramValue(tag, step, wall_time, rows, (lo, hi, num, total, squares))
