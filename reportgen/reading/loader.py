"""Read runs into the model: `load` is the one entry point (`summarise` the one of `analyse`).

The files of a run are read in file-name order; when a later file rewrites steps an earlier
one already had (a resumed job), the later file's values are kept and a warning says so
(accumulate.py). Runs may be read by a pool of worker processes, and a run's big first file
by two (halves.py), or on a Dask cluster (dask_executor.py); the result is the same as reading
everything in one pass. A run from a summary (summary.py) was read already: it is taken as it is,
its buckets thinned to the build's number of runs as reading them would have.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from reportgen.memory import clean_workers, return_free_memory
from reportgen.model import FileAccount, Logs, Run
from reportgen.reading import halves
from reportgen.reading.accumulate import RunBuilder, decoded, thinned
from reportgen.reading.hparamfiles import merge_hparams, read_hparam_files
from reportgen.reading.inputs import Located, locate
from reportgen.reading.sources import Found, check_limits, local_bytes, open_file, parent
from reportgen.reading.summary import Summarised

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

# Raw buckets are kept for at most this many steps per tag (plus the last step): a heatmap column
# each (TensorBoard's distribution view also draws up to 501 steps) and enough for every offset chart.
DEFAULT_KEEP = 501
# Raw buckets are most of what a build holds in memory, so their total over runs is capped: with
# more than four runs each keeps fewer steps (a sweep of 200 runs would otherwise hold most of its
# log), never fewer than MIN_KEEP, enough for the first, the last and the trend between them.
# Per-step statistics (distribution charts, scalars of every step) are kept for every step anyway.
KEEP_BUDGET = 4 * DEFAULT_KEEP
MIN_KEEP = 21
# With readers=0, runs are read in worker processes only when there is at least this much
# data: starting the pool costs a few tenths of a second.
POOL_MIN_BYTES = 64 << 20
# Where runs are read: local, in this machine's processes (`readers`); dask, on a Dask cluster
# (dask_executor.py), each worker reading its runs through fsspec and sending back their summary.
EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class ReadSettings:
    """What `load` reads and with how many processes."""

    keep: int = DEFAULT_KEEP  # steps per tag whose raw buckets are kept (fewer with many runs)
    light: bool = False  # tags and steps only: no buckets, no statistics (`inspect`)
    readers: int = 1  # processes reading runs; 0: one per core when there is enough local data
    split_big_files: bool = False  # a run's big first file read by two processes (halves.py)
    run_pattern: str = ""  # regex searched in run names: other runs are not read at all
    max_runs: int = 0  # refuse more runs than this (0: unlimited), before reading anything
    max_bytes: int = 0  # refuse more bytes of event files than this (0: unlimited)
    executor: str = "local"  # one of EXECUTORS
    scheduler: str = ""  # executor dask: the scheduler's address ("": a LocalCluster started here)


def read_run(name: str, files: list[str], keep: int = DEFAULT_KEEP, light: bool = False, split: bool = False,
             meanwhile: Callable[[], None] | None = None) -> Run:
    """Read one run's files into a Run. Problems become warnings; nothing raises for bad data.

    `split`: a big first file may be read by two processes (see halves.py); `meanwhile` is then
    called while the other process reads (not called otherwise)."""
    builder = RunBuilder(Run(name=name, path=parent(files[0]) if files else ""), keep, light)
    for index, path in enumerate(files):
        account = FileAccount(path=path)
        builder.run.files.append(account)
        first_in_file: set[str] = set()
        try:
            with open_file(path) as (stream, size):
                account.size = size
                if not (split and index == 0 and halves.read_big_first_file(stream, account, builder, first_in_file,
                                                                              meanwhile)):
                    builder.apply(decoded(stream, account, {}, light), account, index, first_in_file)
        except OSError as exc:
            account.problems.append(f"cannot read: {exc.strerror or exc}")
        builder.report_rewrites(account)
        _file_warnings(account, builder.run)
    run = builder.build()
    # The plugin records' values win over the files' (they are what TensorBoard's HParams
    # dashboard shows); the files add what the records do not hold.
    from_files, warnings = read_hparam_files(run.path)
    run.hparams = merge_hparams(from_files, run.hparams)
    run.warnings.extend(warnings)
    return run


def _file_warnings(account: FileAccount, run: Run) -> None:
    where = account.path
    if account.records_read == 0 and account.records_skipped and account.size:
        run.warnings.append(f"{where}: not an event file ({account.problems[0]}); ignored")
        return
    if account.size == 0:
        run.warnings.append(f"{where}: empty file")
    for problem in account.problems:
        run.warnings.append(f"{where}: {problem}")


def load(logdirs: list[str], settings: ReadSettings = ReadSettings()) -> Logs:
    """Read every run under every logdir, or from its summary (`reportgen analyse`). Raises
    InputError when there is nothing to read.

    Readers > 1 read runs in that many worker processes; 0 means one per core when there are
    several runs and enough local data to repay starting the workers. The result is the same,
    in the same order, as reading them one after another.

    With more than four runs each keeps the buckets of fewer steps (KEEP_BUDGET); statistics are
    kept for every step. `max_runs` and `max_bytes` refuse, before anything is read, logs with
    more runs or more bytes of event files than that (a summary's runs count as runs, their
    files, read already, as no bytes).
    """
    sources, located = located_runs(logdirs, settings)
    return load_located(sources, located, settings)


def located_runs(logdirs: list[str], settings: ReadSettings = ReadSettings()) -> tuple[list[str], list[Located]]:
    """(the LOGDIRs, every run under them) as `load` finds them, its limits checked."""
    sources, located = locate(logdirs, settings.run_pattern)
    check_limits([(run.name, run.files) for run in located], logdirs, settings.max_runs, settings.max_bytes)
    return sources, located


def load_located(sources: list[str], located: list[Located], settings: ReadSettings = ReadSettings(),
                 meanwhile: Callable[[], None] | None = None) -> Logs:
    """`load` of the runs `located_runs` found. `meanwhile`, if given, is called once: while
    other processes read, where some do (a big file's second part, a pool of readers), else
    after reading."""
    work = _Meanwhile(meanwhile) if meanwhile is not None else None
    runs = read_located(located, keep_per_run(settings.keep, len(located)), settings, work)
    if work is not None:
        work.finish()
    return_free_memory()  # thinning freed buckets all over the heap; chart workers are forked from it
    return Logs(sources=sources, runs=attach_hparams_runs(runs))


def summarise(inputs: list[str], settings: ReadSettings = ReadSettings()) -> list[Summarised]:
    """Every run under the inputs as its summary holds it (`reportgen analyse`): read alone,
    keeping the buckets of `settings.keep` steps per tag whatever the number of runs (the build
    thins them to its own), and not yet folded into another (the build folds add_hparams runs)."""
    _, located = locate(inputs, settings.run_pattern)
    check_limits([(run.name, run.files) for run in located], inputs, settings.max_runs, settings.max_bytes)
    found = [(run.name, run.files) for run in located if run.summarised is None]
    fresh = iter(read_found_encoded(found, settings.keep, settings))
    return [Summarised(where.source, where.relative, *next(fresh)) if where.summarised is None
            else Summarised(where.source, where.relative, taken(where.summarised, where.name, settings.keep))
            for where in located]


def keep_per_run(keep: int, runs: int) -> int:
    """Steps per tag whose buckets each of `runs` runs keeps (KEEP_BUDGET)."""
    return min(keep, max(MIN_KEEP, KEEP_BUDGET // max(runs, 1)))


def read_located(located: list[Located], keep: int, settings: ReadSettings,
                 meanwhile: Callable[[], None] | None = None) -> list[Run]:
    """Each run read from its files, or taken from its summary and thinned to `keep`, in order."""
    found = [(run.name, run.files) for run in located if run.summarised is None]
    read = iter(read_found(found, keep, settings, meanwhile))
    return [next(read) if run.summarised is None else taken(run.summarised, run.name, keep) for run in located]


def located_path(run: Located) -> str:
    """The folder a located run will have as its path (read_run: its first file's)."""
    if run.summarised is not None:
        return run.summarised.path
    return parent(run.files[0]) if run.files else ""


def may_fold_into(path: str, parent_path: str) -> bool:
    """Whether a run in `path` may be one torch's add_hparams wrote for the run in `parent_path`
    (attach_hparams_runs decides from what it holds)."""
    return bool(path and parent_path and os.path.dirname(os.path.normpath(path)) == os.path.normpath(parent_path)
                and TIMESTAMP_FOLDER.fullmatch(os.path.basename(os.path.normpath(path))))


def fold_parents(paths: list[str]) -> dict[int, list[int]]:
    """For each of `paths` that may be an add_hparams run (`may_fold_into`) of others of them,
    the indices of those. Only the paths of its folder's parent can be: looking those up, not
    checking every pair (5.7 s CPU for 2,000 runs), makes it linear."""
    by_folder: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        if path:
            by_folder.setdefault(os.path.normpath(path), []).append(i)
    parents = {}
    for i, path in enumerate(paths):
        candidates = by_folder.get(os.path.dirname(os.path.normpath(path)), []) if path else []
        found = [j for j in candidates if may_fold_into(path, paths[j])]
        if found:
            parents[i] = found
    return parents


def read_in_parts(located: list[Located], parts: list[tuple[int, int]], keep: int,
                  settings: ReadSettings) -> Iterator[list[Run]]:
    """The runs of each part (a slice of `located`, start to end), read and folded as `load`
    reads them (a part holds every add_hparams run with its parent). The next part is read in
    worker processes while the caller works on this one, so at most two parts are in memory."""
    found = [(run.name, run.files) for run in located if run.summarised is None]
    readers = settings.readers
    if readers <= 0:
        readers = (os.cpu_count() or 1) if local_bytes(found) >= POOL_MIN_BYTES else 1
    if readers <= 1 or len(found) < 2:
        for start, end in parts:
            yield attach_hparams_runs(read_located(located[start:end], keep, replace(settings, readers=1)))
            return_free_memory()
        return
    from concurrent.futures import Future, ProcessPoolExecutor

    def submitted(pool: ProcessPoolExecutor, start: int, end: int) -> list[Future | Run]:
        return [pool.submit(read_run, run.name, run.files, keep, settings.light) if run.summarised is None
                else taken(run.summarised, run.name, keep) for run in located[start:end]]

    with ProcessPoolExecutor(readers, mp_context=_reading_context()) as pool:
        ahead = [submitted(pool, *parts[0])] if parts else []
        for i in range(len(parts)):
            if i + 1 < len(parts):
                ahead.append(submitted(pool, *parts[i + 1]))
            runs = [item.result() if isinstance(item, Future) else item for item in ahead.pop(0)]
            yield attach_hparams_runs(runs)
            del runs
            return_free_memory()


def read_found(found: Found, keep: int, settings: ReadSettings, meanwhile: Callable[[], None] | None = None
               ) -> list[Run]:
    return [run for run, _ in read_found_encoded(found, keep, settings, meanwhile)]


def read_found_encoded(found: Found, keep: int, settings: ReadSettings, meanwhile: Callable[[], None] | None = None
                       ) -> list[tuple[Run, dict | None]]:
    """Each run read, with its summary entry when a Dask worker encoded it already (else None);
    `meanwhile`, if any, called while worker processes read (if none do, not called)."""
    if settings.executor == "dask" and found:
        from reportgen.reading.dask_executor import read_on_dask

        return list(read_on_dask(found, keep, settings.light, settings.scheduler))
    readers = settings.readers
    if readers <= 0:
        readers = (os.cpu_count() or 1) if local_bytes(found) >= POOL_MIN_BYTES else 1
    workers = min(readers, len(found))
    if workers <= 1:
        # meanwhile: while the first run's big file is read by two processes, if it is
        runs = [read_run(n, f, keep, settings.light, settings.split_big_files, meanwhile if i == 0 else None)
                for i, (n, f) in enumerate(found)]
    else:
        runs = _read_in_pool(found, keep, settings.light, workers, meanwhile)
    return [(run, None) for run in runs]


def taken(run: Run, name: str, keep: int) -> Run:
    """A summary's run named `name`, each histogram's buckets thinned to `keep` steps as reading
    would have kept them."""
    return replace(run, name=name,
                   histograms={tag: replace(thinned(h, keep), run=name) for tag, h in run.histograms.items()},
                   scalars={tag: replace(s, run=name) for tag, s in run.scalars.items()})


TIMESTAMP_FOLDER = re.compile(r"\d{9,11}(\.\d+)?")  # time.time() as str: 1690483601.5213287


def attach_hparams_runs(runs: list[Run]) -> list[Run]:
    """Each run that torch's `add_hparams` wrote, folded into the run it belongs to.

    `SummaryWriter.add_hparams` writes its hparams records and its metric values into a new
    sub-folder `<run>/<timestamp>/` (named `str(time.time())`), which TensorBoard lists as a run
    of its own. It is the parent run's: its hyperparameters and metrics go to the parent, its
    files to the parent's inventory. Sub-runs with other names are runs of their own even when
    they hold hparams records (TF's hparams API writes the experiment in the root and one
    session per trial folder)."""
    by_folder = {os.path.normpath(run.path): run for run in runs if run.path}
    kept = []
    for run in runs:
        parent = by_folder.get(os.path.dirname(os.path.normpath(run.path))) if run.path else None
        if (parent is None or run.histograms or not TIMESTAMP_FOLDER.fullmatch(os.path.basename(run.path))
                or not any(tag.startswith("_hparams_/") for tag in run.other)):
            kept.append(run)
            continue
        parent.hparams = merge_hparams(parent.hparams, run.hparams)
        for tag, series in run.scalars.items():
            parent.scalars.setdefault(tag if tag not in parent.scalars else f"{tag} (add_hparams)", series)
        for tag, kind in run.other.items():
            parent.other[tag] = kind
            parent.other_counts[tag] = parent.other_counts.get(tag, 0) + run.other_counts.get(tag, 0)
        parent.files.extend(run.files)
        parent.warnings.extend(run.warnings)
    return kept


def _reading_context() -> BaseContext:
    """The start method of reading workers: they start from a clean process that has imported
    the reader, not from a fork of this one (which may hold threads, e.g. fsspec's event loop)."""
    return clean_workers("reportgen.reading.loader")


def _read_in_pool(found: Found, keep: int, light: bool, workers: int,
                  meanwhile: Callable[[], None] | None = None) -> list[Run]:
    from concurrent.futures import ProcessPoolExecutor

    chunksize = max(1, len(found) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=_reading_context()) as pool:
        read = pool.map(_read_run_args, [(n, f, keep, light) for n, f in found], chunksize=chunksize)  # submits all
        if meanwhile is not None:
            meanwhile()
        return list(read)


def _read_run_args(args: tuple) -> Run:
    return read_run(*args)


class _Meanwhile:
    """`work`, run the first time it is called; an error it raises is held until `finish`:
    where reading calls it, read_run would report an OSError as the event file's (WeasyPrint's
    import raises one without its libraries) and leave the file out."""

    def __init__(self, work: Callable[[], None]):
        self.work = work
        self.done = False
        self.error: Exception | None = None

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            try:
                self.work()
            except Exception as exc:  # not ^C: that stops reading now
                self.error = exc

    def finish(self) -> None:
        """Run it if reading did not, and raise what it raised."""
        self()
        if self.error is not None:
            raise self.error
