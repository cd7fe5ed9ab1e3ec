"""The oracles: TensorBoard's own loader (EventAccumulator, size_guidance 0 = keep everything) and
its data_compat conversion, against which reading is checked."""

from __future__ import annotations

import numpy as np
from tensorboard import data_compat
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util


def oracle(path: str) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(path), size_guidance=dict.fromkeys(ea.DEFAULT_SIZE_GUIDANCE, 0))
    acc.Reload()
    return acc


def oracle_buckets(acc: ea.EventAccumulator, tag: str) -> dict[int, np.ndarray]:
    """Per step, the `[left, right, count]` rows tensorboard itself derives (data_compat)."""
    tags = acc.Tags()
    out = {}
    if tag in tags["histograms"]:
        for event in acc.Histograms(tag):
            h = event.histogram_value
            proto = summary_pb2.HistogramProto(min=h.min, max=h.max, num=h.num, sum=h.sum,
                                               sum_squares=h.sum_squares, bucket_limit=h.bucket_limit, bucket=h.bucket)
            value = data_compat.migrate_value(summary_pb2.Summary.Value(tag=tag, histo=proto))
            out[event.step] = tensor_util.make_ndarray(value.tensor).reshape(-1, 3)
    else:
        for event in acc.Tensors(tag):
            out[event.step] = tensor_util.make_ndarray(event.tensor_proto).reshape(-1, 3)
    return out
