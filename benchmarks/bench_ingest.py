"""Ingestion speed: `reportgen inspect` against tensorboard's Rust data server, in one run.

    python benchmarks/bench_ingest.py [LOGDIR] [--repeat 5]

LOGDIR defaults to /tmp/rg-bench/big (made by make_big_log.py when missing). Both readers
verify every CRC. The two are run alternately, `--repeat` times each, after one untimed
warm-up of each (so both read from the page cache), and the medians are compared:

- data server: the time it reports itself ("Finished load cycle (...)" with -v), run with
  `--checksum` so that it verifies every CRC as reportgen does (its default, `--no-checksum`,
  checks a CRC only when a record fails to parse; that time is printed too, for reference);
- reportgen inspect: the wall time of the whole command (interpreter start and imports
  included), and, for reference, the time `load(..., Options().read_settings(light=True))` (what
  inspect calls: a big file is scanned by two processes) takes inside Python.

The data server keeps every histogram step (`--samples-per-plugin histograms=all`): the same
work as inspect. Targets: issue 2, reportgen inspect <= 0.5 x the data server; issue 19, 0.2x.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import sysconfig
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_LOGDIR = "/tmp/rg-bench/big"
_UNITS = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def data_server_binary() -> str:
    """The `server` binary of the tensorboard_data_server wheel (site-packages/tensorboard_data_server/bin)."""
    try:
        import tensorboard_data_server

        folders = [os.path.dirname(tensorboard_data_server.__file__)]
    except ImportError:
        folders = [os.path.join(sysconfig.get_paths()["purelib"], "tensorboard_data_server")]
    for folder in folders:
        found = glob.glob(os.path.join(folder, "bin", "server*"))
        if found:
            return found[0]
    raise SystemExit("tensorboard_data_server is not installed (it comes with the tensorboard wheel)")


def parse_duration(text: str) -> float:
    """Seconds from a Rust Duration as the data server prints it: '347.3ms', '1.2s', '900µs'."""
    match = re.fullmatch(r"([0-9.]+)\s*(s|ms|µs|us|ns)", text.strip())
    if not match:
        raise ValueError(f"cannot read duration {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def time_data_server(binary: str, logdir: str, checksum: bool = True, timeout: float = 600) -> float:
    """The data server's own load-cycle time; it keeps serving afterwards, so it is stopped then."""
    flag = "--checksum" if checksum else "--no-checksum"
    # Every histogram step, as inspect reads them (by default the server keeps a sample of them).
    cmd = [binary, "--logdir", logdir, "--reload", "once", "-v", flag, "--samples-per-plugin", "histograms=all"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace")
    deadline = time.monotonic() + timeout
    try:
        for line in proc.stderr:
            match = re.search(r"Finished load cycle \(([^)]*)\)", line)
            if match:
                return parse_duration(match.group(1))
            if time.monotonic() > deadline:
                break
        raise RuntimeError("the data server ended without reporting a load cycle")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_inspect(logdir: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reportgen", "inspect", logdir], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - started


def time_load_in_process(logdir: str) -> float:
    code = ("import time; from reportgen.config import Options; from reportgen.reading.loader import load; "
            f"settings = Options().read_settings(light=True); t = time.perf_counter(); "
            f"load([{logdir!r}], settings); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True, env=_env())
    return float(out.stdout.strip())


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    # Run reportgen as an installed package runs: with its compiled bytecode cached (some CI
    # images set PYTHONDONTWRITEBYTECODE, which would compile every module at every start).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def ensure_log(logdir: str) -> None:
    if not os.path.isdir(logdir) or not os.listdir(logdir):
        subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "make_big_log.py"), logdir], check=True)


def log_size(logdir: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(logdir) for f in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reportgen inspect vs tensorboard's Rust data server")
    parser.add_argument("logdir", nargs="?", default=DEFAULT_LOGDIR)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    ensure_log(args.logdir)
    binary = data_server_binary()
    time_data_server(binary, args.logdir, checksum=False)  # warm-up: both read from the page cache afterwards
    time_inspect(args.logdir)
    server, unchecked, inspect, inside = [], [], [], []
    for _ in range(args.repeat):
        server.append(time_data_server(binary, args.logdir))
        unchecked.append(time_data_server(binary, args.logdir, checksum=False))
        inspect.append(time_inspect(args.logdir))
        inside.append(time_load_in_process(args.logdir))
    ds, ds_unchecked, rg, load = (statistics.median(x) for x in (server, unchecked, inspect, inside))
    mb = log_size(args.logdir) / 1e6
    print(f"log: {args.logdir} ({mb:.0f} MB), {args.repeat} alternating runs, medians; {os.cpu_count()} cores")
    print(f"tensorboard data server --checksum : {ds:7.3f} s  ({mb / ds:5.0f} MB/s)  runs: {_fmt(server)}")
    print(f"  (default --no-checksum           : {ds_unchecked:7.3f} s  ({mb / ds_unchecked:5.0f} MB/s)  runs: "
          f"{_fmt(unchecked)})")
    print(f"reportgen inspect (whole command)  : {rg:7.3f} s  ({mb / rg:5.0f} MB/s)  runs: {_fmt(inspect)}")
    print(f"  of which load(light, 2 processes): {load:7.3f} s  ({mb / load:5.0f} MB/s)  runs: {_fmt(inside)}")
    verdicts = ", ".join(f"<= {t}: {'met' if rg / ds <= t else 'NOT met'}" for t in (0.5, 0.2))
    print(f"ratio inspect / data server        : {rg / ds:7.2f}  (targets {verdicts})")
    print(f"ratio load / data server           : {load / ds:7.2f}")
    print(f"ratio inspect / data server without CRC checks: {rg / ds_unchecked:.2f}  (reportgen still checks them)")
    return 0


def _fmt(times: list[float]) -> str:
    return " ".join(f"{t:.3f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
