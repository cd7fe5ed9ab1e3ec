"""A small event-file writer (numpy + tensorboard's protos, no TensorFlow).

Used to make `sample_logs/`, test logs and benchmark logs; not part of the installed package
(reportgen only reads). It writes the same records the
real writers do: legacy `HistogramProto` with TensorFlow's exponential bucket limits (as
torch.utils.tensorboard and tensorboardX do by default), TF2 tensor histograms with the
`histograms` plugin (30 equal buckets, the v3 layout), and scalars as `simple_value` or as
TF2 tensors with the `scalars` plugin.
"""

from __future__ import annotations

import os
import socket
import struct
import time

import numpy as np
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2

from reportgen.reading.records import masked_crc


def frame(payload: bytes) -> bytes:
    """One TFRecord: the length, its masked CRC, the payload and its masked CRC."""
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload))


def _tensorflow_bucket_limits() -> np.ndarray:
    """TensorFlow's default exponential bucket limits (core/lib/histogram/histogram.cc)."""
    v, positive = 1e-12, []
    while v < 1e20:
        positive.append(v)
        v *= 1.1
    positive.append(np.finfo(np.float64).max)
    positive = np.array(positive)
    return np.concatenate((-positive[::-1], [0.0], positive))


TF_BUCKET_LIMITS = _tensorflow_bucket_limits()


def legacy_histogram(values: np.ndarray) -> summary_pb2.HistogramProto:
    """A HistogramProto as torch's `make_histogram(values, bins='tensorflow')` builds it."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        return summary_pb2.HistogramProto()
    counts, _ = np.histogram(values, bins=np.concatenate(([-np.finfo(np.float64).max], TF_BUCKET_LIMITS)))
    nonzero = np.flatnonzero(counts)
    start, end = max(nonzero[0] - 1, 0), nonzero[-1] + 1
    return summary_pb2.HistogramProto(
        min=float(values.min()), max=float(values.max()), num=float(values.size),
        sum=float(values.sum()), sum_squares=float((values * values).sum()),
        bucket_limit=TF_BUCKET_LIMITS[start:end].tolist(), bucket=counts[start:end].astype(float).tolist(),
    )


def tensor_histogram(values: np.ndarray, bucket_count: int = 30) -> np.ndarray:
    """TF2 `tf.summary.histogram` v3 buckets: `bucket_count` equal buckets over [min, max].

    Constant input gives `bucket_count` zero-width buckets at that value with all the count in
    the last one; empty input gives all-zero rows, as TF 2.x writes them.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        return np.zeros((bucket_count, 3))
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        out = np.zeros((bucket_count, 3))
        out[:, :2] = lo
        out[-1, 2] = values.size
        return out
    edges = np.linspace(lo, hi, bucket_count + 1)
    counts, _ = np.histogram(values, bins=edges)
    return np.stack([edges[:-1], edges[1:], counts.astype(float)], axis=1)


def _tensor_proto(arr: np.ndarray, dtype=types_pb2.DT_DOUBLE) -> tensor_pb2.TensorProto:
    np_dtype = np.float64 if dtype == types_pb2.DT_DOUBLE else np.float32
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in arr.shape])
    return tensor_pb2.TensorProto(dtype=dtype, tensor_shape=shape, tensor_content=np.asarray(arr, np_dtype).tobytes())


class EventWriter:
    """Writes one event file. Use as a context manager or call close()."""

    def __init__(self, logdir: str, filename_suffix: str = "", wall_time: float | None = None,
                 hostname: str | None = None):
        os.makedirs(logdir, exist_ok=True)
        self._clock = wall_time
        start = int(wall_time if wall_time is not None else time.time())
        name = f"events.out.tfevents.{start:010d}.{hostname or socket.gethostname()}{filename_suffix}"
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close() / the context manager
        self._tf2_tags: set[str] = set()
        self._write(event_pb2.Event(file_version="brain.Event:2"), 0)

    def _now(self) -> float:
        if self._clock is None:
            return time.time()
        self._clock += 1.0
        return self._clock

    def _write(self, event: event_pb2.Event, step: int) -> None:
        event.step = step
        if not event.wall_time:
            event.wall_time = self._now()
        self._file.write(frame(event.SerializeToString()))

    def _summary(self, value: summary_pb2.Summary.Value, step: int) -> None:
        self._write(event_pb2.Event(summary=summary_pb2.Summary(value=[value])), step)

    def _metadata(self, tag: str, plugin: str) -> summary_pb2.SummaryMetadata | None:
        # TF2 writers attach metadata to a tag's first value only.
        if tag in self._tf2_tags:
            return None
        self._tf2_tags.add(tag)
        return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        self._summary(summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), step)

    def add_tensor_scalar(self, tag: str, value: float, step: int) -> None:
        v = summary_pb2.Summary.Value(tag=tag, tensor=_tensor_proto(np.asarray(value), types_pb2.DT_FLOAT))
        md = self._metadata(tag, "scalars")
        if md is not None:
            v.metadata.CopyFrom(md)
        self._summary(v, step)

    def add_histogram(self, tag: str, values: np.ndarray, step: int) -> None:
        """Legacy HistogramProto, as torch and tensorboardX write it."""
        self._summary(summary_pb2.Summary.Value(tag=tag, histo=legacy_histogram(values)), step)

    def add_histogram_proto(self, tag: str, histo: summary_pb2.HistogramProto, step: int) -> None:
        self._summary(summary_pb2.Summary.Value(tag=tag, histo=histo), step)

    def add_tensor_histogram(self, tag: str, values: np.ndarray | None, step: int,
                             buckets: np.ndarray | None = None) -> None:
        """TF2 tensor histogram; pass `buckets` to write rows as they are."""
        rows = tensor_histogram(values) if buckets is None else np.asarray(buckets, dtype=np.float64)
        v = summary_pb2.Summary.Value(tag=tag, tensor=_tensor_proto(rows))
        md = self._metadata(tag, "histograms")
        if md is not None:
            v.metadata.CopyFrom(md)
        self._summary(v, step)

    def add_hparams_records(self, hparams: dict[str, float | str | bool], step: int = 0) -> None:
        """The three hparams plugin records torch's `add_hparams` writes (experiment, session
        start with the values, session end), each an empty tensor whose metadata holds them."""
        from google.protobuf import struct_pb2
        from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

        def record(tag: str, data: plugin_data_pb2.HParamsPluginData) -> None:
            meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(
                plugin_name="hparams", content=data.SerializeToString()))
            self._summary(summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=tensor_pb2.TensorProto(
                dtype=types_pb2.DT_FLOAT)), step)

        values = {}
        for name, value in hparams.items():
            v = struct_pb2.Value()
            if isinstance(value, bool):
                v.bool_value = value
            elif isinstance(value, (int, float)):
                v.number_value = float(value)
            else:
                v.string_value = str(value)
            values[name] = v
        experiment = api_pb2.Experiment(hparam_infos=[api_pb2.HParamInfo(name=n) for n in hparams])
        record("_hparams_/experiment", plugin_data_pb2.HParamsPluginData(version=0, experiment=experiment))
        start = plugin_data_pb2.SessionStartInfo()
        for name, v in values.items():
            start.hparams[name].CopyFrom(v)
        record("_hparams_/session_start_info", plugin_data_pb2.HParamsPluginData(version=0, session_start_info=start))
        end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS)
        record("_hparams_/session_end_info", plugin_data_pb2.HParamsPluginData(version=0, session_end_info=end))

    def add_raw_record(self, payload: bytes) -> None:
        self._file.write(frame(payload))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
