"""A run's summary: what reading its event files gave (the model's `Run`), in a small JSON file
that `build` reads back exactly as if it had read the files (`reportgen analyse`).

Reading the event files is the expensive part of a build and each run's is independent of the
others, so it can happen next to the data (the map step); the report, which compares runs, is
made from the summaries (the reduce step). A summary holds every step's statistics and the raw
buckets of the evenly spread steps the reader keeps (at most `loader.DEFAULT_KEEP` per tag; a
build of many runs thins them as reading would), so the diagnosis, the charts and every
option of `build` work on it as on the logs. Arrays are stored bit for bit: little-endian,
deflated, base64; bucket edges as indices into each tag's table of distinct edges, bucket counts
byte-shuffled first.

FORMAT_VERSION changes whenever an older reader would misread a newer file:
  1: the first format (reportgen 0.1.0).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from reportgen import __version__
from reportgen.model import BucketRows, FileAccount, HistogramSeries, Run, ScalarSeries
from reportgen.reading.sources import InputError

FORMAT = "reportgen-summary"
FORMAT_VERSION = 1


class SummaryError(InputError):
    """A summary file that cannot be used: not one, garbled, or of another format version."""


@dataclass(frozen=True)
class Summarised:
    """One run of a summary: where it was read from and what reading it gave."""

    source: str  # the LOGDIR (or event file, or URL) it was found under, as given to `analyse`
    name: str  # its name under that source, as discovery names it ("." for files right in it)
    run: Run
    entry: dict[str, Any] | None = None  # encode_run(run) when it was encoded already (on a Dask worker)


def dumps(summarised: list[Summarised]) -> bytes:
    """The summary file of these runs."""
    index = {source: i for i, source in enumerate(dict.fromkeys(s.source for s in summarised))}
    document = {"format": FORMAT, "version": FORMAT_VERSION, "reportgen": __version__, "sources": list(index),
                "runs": [{"source": index[s.source], "name": s.name, **(s.entry or encode_run(s.run))}
                         for s in summarised]}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def loads(data: bytes, where: str) -> list[Summarised]:
    """The runs of a summary file's bytes; SummaryError (one line naming `where`) for anything wrong."""
    document = _document(data, where)
    try:
        sources = [str(s) for s in document["sources"]]
        return [Summarised(sources[entry["source"]], str(entry["name"]), decode_run(entry))
                for entry in document["runs"]]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, zlib.error, binascii.Error) as exc:
        raise SummaryError(f"{where}: garbled reportgen summary ({exc or type(exc).__name__})") from None


def is_summary(data: bytes) -> bool:
    """Whether these bytes say they are a summary (the format's name opens every one)."""
    return data.lstrip()[:40].replace(b" ", b"").startswith(b'{"format":"' + FORMAT.encode())


def _document(data: bytes, where: str) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if is_summary(data):
            raise SummaryError(f"{where}: truncated or garbled reportgen summary ({exc})") from None
        raise SummaryError(f"{where}: not a reportgen summary (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SummaryError(f"{where}: not a reportgen summary (no \"format\": \"{FORMAT}\"; "
                           "write one with `reportgen analyse LOGDIR -o FILE.json`)")
    if document.get("version") != FORMAT_VERSION:
        raise SummaryError(f"{where}: summary format version {document.get('version')!r} (written by reportgen "
                           f"{document.get('reportgen', '?')}), but reportgen {__version__} reads version "
                           f"{FORMAT_VERSION}: analyse the logs again with this version")
    return document


def encode_run(run: Run) -> dict[str, Any]:
    """A run as JSON-ready data (without its name: the build names runs from their sources)."""
    return {"path": run.path, "files": [asdict(f) for f in run.files], "warnings": list(run.warnings),
            "hparams": dict(run.hparams), "other": dict(run.other), "other_counts": dict(run.other_counts),
            "scalars": {tag: _encode_scalar(s) for tag, s in run.scalars.items()},
            "histograms": {tag: _encode_histogram(h) for tag, h in run.histograms.items()}}


def decode_run(entry: dict[str, Any], name: str = "") -> Run:
    """The Run `encode_run` was given, named `name`; raises KeyError, ValueError... when garbled."""
    name = name or str(entry["name"])
    run = Run(name=name, path=str(entry["path"]), files=[FileAccount(**f) for f in entry["files"]],
              warnings=[str(w) for w in entry["warnings"]], hparams=dict(entry["hparams"]),
              other={str(k): str(v) for k, v in entry["other"].items()},
              other_counts={str(k): int(v) for k, v in entry["other_counts"].items()})
    run.scalars = {tag: _decode_scalar(name, tag, s) for tag, s in entry["scalars"].items()}
    run.histograms = {tag: _decode_histogram(name, tag, h) for tag, h in entry["histograms"].items()}
    return run


def _encode_scalar(s: ScalarSeries) -> dict[str, Any]:
    return {"steps": _pack(s.steps), "wall_times": _pack(s.wall_times), "values": _pack(s.values)}


def _decode_scalar(run: str, tag: str, data: dict[str, Any]) -> ScalarSeries:
    steps, wall_times, values = (_unpack(data[k], np.int64 if k == "steps" else np.float64)
                                 for k in ("steps", "wall_times", "values"))
    _same_length(tag, steps, wall_times, values)
    return ScalarSeries(run, tag, steps, wall_times, values)


# The per-step arrays of a histogram series, in the order the file holds them.
STEP_ARRAYS = ("wall_times", "count", "min", "max", "mean", "std", "quantiles")


def _encode_histogram(h: HistogramSeries) -> dict[str, Any]:
    rows = [np.asarray(b, dtype=np.float64).reshape(-1, 3) for b in h.buckets]
    sizes = np.array([len(r) for r in rows], dtype=np.int64)
    table, left, right = _edge_indices(np.concatenate(rows) if rows else np.zeros((0, 3)))
    counts = np.concatenate([r[:, 2] for r in rows]) if rows else np.zeros(0)
    return {"steps": _pack(h.steps), **{k: _pack(getattr(h, k)) for k in STEP_ARRAYS},
            "nonfinite": _pack(h.nonfinite), "kept": _pack(h.kept), "bucket_sizes": _pack(sizes),
            "edges": _pack(table), "left": _pack(_deltas(left)), "right": _pack(_deltas(right)),
            "counts": _pack(counts, shuffled=True)}


def _decode_histogram(run: str, tag: str, data: dict[str, Any]) -> HistogramSeries:
    steps = _unpack(data["steps"], np.int64)
    per_step = {k: _unpack(data[k], np.float64) for k in STEP_ARRAYS}
    nonfinite, kept = _unpack(data["nonfinite"], np.bool_), _unpack(data["kept"], np.int64)
    _same_length(tag, steps, nonfinite, *per_step.values())
    sizes = _unpack(data["bucket_sizes"], np.int64)
    table = _unpack(data["edges"], np.float64)
    left, right = (np.cumsum(_unpack(data[k], np.int32), dtype=np.int64) for k in ("left", "right"))
    counts = _unpack(data["counts"], np.float64)
    if len(sizes) != len(kept) or (kept.size and not 0 <= kept.min() <= kept.max() < len(steps)):
        raise ValueError(f"{tag}: kept steps do not match the series")
    rows = np.column_stack([table[left], table[right], counts]) if counts.size else np.zeros((0, 3))
    if sizes.sum() != len(rows) or sizes.min(initial=0) < 0:
        raise ValueError(f"{tag}: bucket rows do not add up")
    buckets = BucketRows(list(np.split(rows, np.cumsum(sizes)[:-1]))) if len(sizes) else BucketRows([])
    return HistogramSeries(run, tag, steps, nonfinite=nonfinite, kept=kept, buckets=buckets, **per_step)


def _edge_indices(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(table of distinct edges, index of each row's left edge, of its right edge). Edges are
    compared bit for bit (-0.0 is not 0.0), so the rows come back exactly. A tag's steps mostly
    share their edges (torch and TF1 take them from one fixed series), and a row's left edge is
    the one before's right, so the indices' differences are mostly 1 and deflate to almost nothing."""
    bits = np.ascontiguousarray(rows[:, :2]).view(np.uint64).reshape(-1, 2)
    table, inverse = np.unique(bits, return_inverse=True)  # fewer than 2**31 edges: int32 indices
    inverse = inverse.reshape(-1, 2)
    return table.view(np.float64), inverse[:, 0].astype(np.int32), inverse[:, 1].astype(np.int32)


def _deltas(indices: np.ndarray) -> np.ndarray:
    return np.diff(indices, prepend=0).astype(np.int32)


def _same_length(tag: str, first: np.ndarray, *others: np.ndarray) -> None:
    if any(len(a) != len(first) for a in others):
        raise ValueError(f"{tag}: its arrays have different lengths")


def _pack(array: np.ndarray, shuffled: bool = False) -> dict[str, Any]:
    """An array as its shape and its little-endian bytes, deflated and in base64. `shuffled`:
    the bytes grouped by their place in each item first (as Blosc does), which halves deflated
    bucket counts (whose high bytes are the same) and would enlarge the noisier arrays."""
    a = np.ascontiguousarray(array)
    raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
    if shuffled:
        raw = np.frombuffer(raw, np.uint8).reshape(-1, a.dtype.itemsize).T.tobytes()
    data = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    return {"shape": list(a.shape), "shuffled": True, "data": data} if shuffled else {"shape": list(a.shape),
                                                                                       "data": data}


def _unpack(packed: dict[str, Any], dtype: type) -> np.ndarray:
    shape = tuple(int(n) for n in packed["shape"])
    raw = zlib.decompress(base64.b64decode(packed["data"], validate=True))
    little = np.dtype(dtype).newbyteorder("<")
    if packed.get("shuffled"):
        raw = np.frombuffer(raw, np.uint8).reshape(little.itemsize, -1).T.tobytes()
    return np.frombuffer(raw, dtype=little).astype(dtype).reshape(shape)
