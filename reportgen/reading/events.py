"""Decode event records into one shape, the way tensorboard's `data_compat` does.

Every histogram becomes a float64 array of `[left, right, count]` rows, whichever writer made
it (legacy `HistogramProto` from torch / tensorboardX / TF1, or TF2 tensor histograms); every
scalar becomes a float. Everything else is reported by kind so it can be counted, not dropped
silently.

`decode_event` is the protobuf reference; `wire.scan_event` decodes the same records faster
and must give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# TensorFlow's DataType numbers (tensorflow/core/framework/types.proto, mirrored in
# tensorboard.compat.proto.types_pb2; a test checks they agree). Written out so that reading
# torch-style logs does not import the protobuf modules, which only the fallback path needs.
DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_INT64, DT_BOOL, DT_HALF = 1, 2, 3, 4, 5, 6, 9, 10, 19
_DTYPES = {
    DT_FLOAT: np.float32,
    DT_DOUBLE: np.float64,
    DT_HALF: np.float16,
    DT_INT32: np.int32,
    DT_INT64: np.int64,
    DT_INT16: np.int16,
    DT_INT8: np.int8,
    DT_UINT8: np.uint8,
    DT_BOOL: np.bool_,
}
_VAL_FIELDS = {
    DT_FLOAT: "float_val",
    DT_DOUBLE: "double_val",
    DT_INT32: "int_val",
    DT_INT16: "int_val",
    DT_INT8: "int_val",
    DT_UINT8: "int_val",
    DT_INT64: "int64_val",
    DT_BOOL: "bool_val",
}

HISTOGRAM_PLUGIN = "histograms"
SCALAR_PLUGIN = "scalars"
HPARAMS_PLUGIN = "hparams"


@dataclass(frozen=True)
class HistogramValue:
    tag: str
    step: int
    wall_time: float
    buckets: np.ndarray  # (k, 3) float64: left, right, count
    # Exact moments carried by the legacy proto (None for TF2 tensor histograms).
    exact: tuple[float, float, float, float, float] | None  # min, max, num, sum, sum_squares


@dataclass(frozen=True)
class ScalarValue:
    tag: str
    step: int
    wall_time: float
    value: float


@dataclass(frozen=True)
class OtherValue:
    tag: str
    kind: str  # e.g. "image", "graph", "text", "tensor:pr_curves"


@dataclass(frozen=True)
class HParamsValue:
    """A record of TensorBoard's hparams plugin (`_hparams_/session_start_info` and friends):
    its plugin content, an HParamsPluginData message."""

    tag: str
    step: int
    content: bytes


@dataclass(frozen=True)
class FileVersion:
    """The file's first record: "brain.Event:2" for every writer since 2016. TensorBoard purges
    out-of-order steps only in files of an older version (see accumulate.py)."""

    tag: str  # always "<file_version>": every value read has a tag
    version: float


@dataclass(frozen=True)
class SessionStart:
    """A SessionLog START record (TF1 supervisors write one when a job restarts): TensorBoard
    drops every value already read at or after its step."""

    tag: str  # always "<session_start>"
    step: int


class DecodeError(ValueError):
    """A record whose payload is not a valid Event."""


Value = HistogramValue | ScalarValue | OtherValue | HParamsValue | FileVersion | SessionStart


def tensor_to_array(tensor) -> np.ndarray:
    """A TensorProto as a numpy array, without TensorFlow."""
    dtype = _DTYPES.get(tensor.dtype)
    if dtype is None:
        raise DecodeError(f"unsupported tensor dtype {tensor.dtype}")
    shape = [d.size for d in tensor.tensor_shape.dim]
    size = int(np.prod(shape)) if shape else 1
    arr: np.ndarray
    if tensor.tensor_content:
        arr = np.frombuffer(tensor.tensor_content, dtype=dtype)
    elif tensor.dtype == DT_HALF:
        arr = np.array(tensor.half_val, dtype=np.uint16).view(np.float16)
    else:
        arr = np.array(getattr(tensor, _VAL_FIELDS[tensor.dtype]), dtype=dtype)
    if arr.size == 1 and size > 1:  # a single value stands for a filled tensor
        arr = np.full(size, arr[0], dtype=dtype)
    if arr.size != size:
        raise DecodeError(f"tensor holds {arr.size} values for shape {shape}")
    return arr.reshape(shape).astype(np.float64) if shape else arr.astype(np.float64).reshape(())


def legacy_histogram_buckets(histo) -> np.ndarray:
    """`[left, right, count]` rows from a HistogramProto, as tensorboard's data_compat does it.

    Empty outer buckets are dropped, then the first left edge becomes `min` and the last right
    edge `max` (the proto's outermost limits may be +-DBL_MAX).
    """
    counts = np.asarray(histo.bucket, dtype=np.float64)
    limits = np.asarray(histo.bucket_limit, dtype=np.float64)
    return legacy_rows(counts, limits, histo.min, histo.max)


def legacy_rows(counts: np.ndarray, limits: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The rows of `legacy_histogram_buckets` from the proto's bucket and bucket_limit arrays."""
    if counts.size != limits.size:
        raise DecodeError(f"histogram has {counts.size} buckets but {limits.size} limits")
    nonzero = np.flatnonzero(counts > 0)
    if nonzero.size == 0:
        return np.zeros((0, 3))
    start, end = nonzero[0], nonzero[-1]
    inner = limits[start:end]
    out = np.empty((end - start + 1, 3))
    out[0, 0] = lo
    out[1:, 0] = inner
    out[:-1, 1] = inner
    out[-1, 1] = hi
    out[:, 2] = counts[start : end + 1]
    return out


def tensor_histogram_buckets(arr: np.ndarray) -> np.ndarray:
    """Rows of a TF2 histogram tensor; a shape other than (k, 3) is a decode error."""
    if arr.ndim != 2 or (arr.shape[1] != 3 and arr.size):
        raise DecodeError(f"histogram tensor has shape {arr.shape}, expected (k, 3)")
    return arr.reshape(-1, 3)


_LEGACY_KINDS = {"image": "image", "audio": "audio", "obsolete_old_style_histogram": "histogram (obsolete)"}


Decoded = tuple[int, float, list[Value], list[str]]  # step, wall time, values, problems


def decode_event(payload: bytes | memoryview, plugins: dict[str, str]) -> Decoded:
    """Decode one record into (step, wall_time, values, problems).

    `plugins` remembers each tag's plugin within a file: TF2 writers attach a tag's metadata
    only to its first value (tensorboard's EventAccumulator remembers it the same way).
    A value that does not decode is left out and described in `problems`; the other values of
    the record are kept. A payload that is not an Event at all raises DecodeError.
    """
    from tensorboard.compat.proto import event_pb2

    try:
        event = event_pb2.Event.FromString(bytes(payload))
    except Exception as exc:  # protobuf raises its own DecodeError types
        raise DecodeError(f"not a valid Event ({exc.__class__.__name__})") from None
    step, wall_time = int(event.step), float(event.wall_time)
    what = event.WhichOneof("what")
    if what != "summary":
        if what in ("graph_def", "meta_graph_def", "tagged_run_metadata"):
            return step, wall_time, [OtherValue(tag=f"<{what}>", kind="graph")], []
        if what == "file_version":
            return step, wall_time, [FileVersion("<file_version>", file_version_number(event.file_version))], []
        if what == "session_log" and event.session_log.status == event.session_log.START:
            return step, wall_time, [SessionStart("<session_start>", step)], []
        return step, wall_time, [], []
    values: list[Value] = []
    problems: list[str] = []
    for value in event.summary.value:
        try:
            values.append(_decode_value(value, step, wall_time, plugins))
        except DecodeError as exc:
            problems.append(f"value {value.tag!r} at step {step} skipped: {exc}")
    return step, wall_time, values, problems


def _decode_value(value, step: int, wall_time: float, plugins: dict[str, str]) -> Value:
    tag = value.tag
    kind = value.WhichOneof("value")
    if value.HasField("metadata") and value.metadata.plugin_data.plugin_name:
        plugins[tag] = value.metadata.plugin_data.plugin_name
        if plugins[tag] == HPARAMS_PLUGIN:  # torch writes these with no value at all
            return HParamsValue(tag, step, bytes(value.metadata.plugin_data.content))
    if kind == "simple_value":
        return ScalarValue(tag, step, wall_time, float(value.simple_value))
    if kind == "histo":
        h = value.histo
        return HistogramValue(
            tag, step, wall_time, legacy_histogram_buckets(h), (h.min, h.max, h.num, h.sum, h.sum_squares)
        )
    if kind == "tensor":
        return tensor_value(tag, step, wall_time, plugins.get(tag, ""), value.tensor)
    return OtherValue(tag, _LEGACY_KINDS.get(kind or "", kind or "empty"))


def tensor_value(tag: str, step: int, wall_time: float, plugin: str, tensor) -> Value:
    """The value a TensorProto stands for, by the plugin its tag was written with: the one place
    both decoders (`decode_event` and the wire scan in `wire.py`) dispatch on plugins."""
    if plugin == HISTOGRAM_PLUGIN:
        return HistogramValue(tag, step, wall_time, tensor_histogram_buckets(tensor_to_array(tensor)), None)
    if plugin == SCALAR_PLUGIN:
        arr = tensor_to_array(tensor)
        if arr.size != 1:
            raise DecodeError(f"scalar tensor {tag!r} has {arr.size} values")
        return ScalarValue(tag, step, wall_time, float(arr.reshape(-1)[0]))
    return OtherValue(tag, f"tensor:{plugin or 'unknown'}")


def file_version_number(text: str) -> float:
    """2.0 from "brain.Event:2"; 0.0 when the text says no version (as TensorBoard's
    event_util.ParseFileVersion treats it)."""
    try:
        return float(text.rsplit(":", 1)[-1])
    except ValueError:
        return 0.0


def hparams_of(content: bytes) -> dict[str, float | str | bool]:
    """The hyperparameters of an hparams plugin record (a session_start_info; {} for the
    experiment and session_end_info records, and for content that does not parse)."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    try:
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except Exception:  # protobuf's own DecodeError types: a damaged record says nothing
        return {}
    if not data.HasField("session_start_info"):
        return {}
    found: dict[str, float | str | bool] = {}
    # A protobuf map has no order (upb's changes from one process to the next), so the names are
    # sorted: the sweep's columns and the report must not change between two builds of one log.
    for name, value in sorted(data.session_start_info.hparams.items()):
        kind = value.WhichOneof("kind")
        if kind in ("number_value", "string_value", "bool_value"):
            found[name] = getattr(value, kind)
    return found
