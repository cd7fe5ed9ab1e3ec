"""Reading runs on a Dask cluster (`--executor dask`): the map step runs where the data is.

Each worker reads its runs' event files (local to it, or any fsspec URL such as s3://) and
sends back their summary (summary.py), a small fraction of the files' size, which this process
decodes into the same Runs as reading them here would give. The workers need reportgen (the
same version) and, for URLs, the fsspec package of the protocol. With no scheduler address,
a LocalCluster of one single-threaded worker process per core is started for the build.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from reportgen.errors import UserError
from reportgen.model import Run
from reportgen.reading.summary import Summarised, dumps, loads

INSTALL = "pip install 'reportgen[dask]'"


class ExecutorError(UserError):
    """The Dask cluster cannot be used: dask missing, the scheduler unreachable, a worker failing."""


def read_on_dask(found: list[tuple[str, list[str]]], keep: int, light: bool,
                 scheduler: str) -> list[tuple[Run, dict[str, Any]]]:
    """The runs `found`, each read on a worker of the cluster at `scheduler` (or a LocalCluster),
    with its summary entry as the worker encoded it (`analyse` writes it as it is)."""
    distributed = _distributed()
    try:
        with _client(distributed, scheduler) as client:
            futures = client.map(summary_of_run, [n for n, _ in found], [f for _, f in found], keep=keep,
                                 light=light, pure=False)
            payloads = client.gather(futures)
    except ExecutorError:
        raise
    except Exception as exc:  # the scheduler unreachable, a worker without reportgen, ...
        where = f"the Dask scheduler at {scheduler}" if scheduler else "a local Dask cluster"
        raise ExecutorError(f"reading on {where} failed: {type(exc).__name__}: {exc}") from None
    return [_received(payload, name) for payload, (name, _) in zip(payloads, found)]


def summary_of_run(name: str, files: list[str], keep: int, light: bool) -> bytes:
    """On a worker: the summary file of the run read from its files."""
    from reportgen.reading.loader import read_run

    return dumps([Summarised("", name, read_run(name, files, keep, light))])


def _received(payload: bytes, name: str) -> tuple[Run, dict[str, Any]]:
    """A worker's summary of one run, checked as a file's (format version: the workers may run
    another reportgen), and its entry as it is."""
    summarised = loads(payload, f"the summary of run {name} from a Dask worker")[0]
    entry = {k: v for k, v in json.loads(payload)["runs"][0].items() if k not in ("source", "name")}
    return summarised.run, entry


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ExecutorError(f"--executor dask needs dask's distributed scheduler: {INSTALL}") from None
    return distributed


@contextlib.contextmanager
def _client(distributed: Any, scheduler: str) -> Iterator[Any]:
    if scheduler:
        with distributed.Client(scheduler) as client:  # waits dask's distributed.comm.timeouts.connect
            yield client
        return
    with distributed.LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0",  # any free port: 8787 may be taken
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        yield client
