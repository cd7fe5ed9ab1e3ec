"""End-to-end speed and memory of `reportgen build`, against tensorboard's EventAccumulator.

    python benchmarks/bench_build.py                 # everything below (a few minutes)
    python benchmarks/bench_build.py --only ratio    # or: memory, steps, runs, processes

Logs are made under --root (default /tmp/rg-bench) by make_big_log.py when missing.

- ratio: build of the 30-tag x 1000-step log (~270 MB) to PDF and to HTML (median of --repeat
  builds, default 3), against the time tensorboard's EventAccumulator (size_guidance 0) needs
  only to load it: pure Python (no TensorFlow), and with --tf-python (a Python that has
  TensorFlow installed, whose record reader and CRC EventAccumulator then uses) in the same run.
  Targets (issue 19): at most 0.1x of the pure-Python load, or at most 0.5x of the load with
  TensorFlow. Then the same for a 30-tag x 200-step log (~55 MB) against its pure-Python load:
  at most 0.5x.
- memory: peak RSS of the PDF build at 1000 and at 10000 steps. Targets (from issue 7; issue
  19's memory target is the 2,000-run sweep's, bench_sweep_scale.py): <= 500 MB, and the 10x log
  under 2x the memory. Two numbers: the largest single process (what `/usr/bin/time -v` calls
  maximum resident set size) and the whole process tree's PSS sampled every 50 ms (chart
  workers included, shared pages counted once).
- steps / runs: build time at 1k, 2k, 4k steps and for 50, 100, 200 small runs, with the time
  per step (per run) so linear growth shows as a flat column.
- processes: the 200-run sweep with --processes 1 and 2: ingestion alone (load) and the build.

Every build prints how long each phase took (from reportgen's own progress lines), so the
stage that dominates is visible. Only the memory section samples the process tree's PSS: the
sampling slows the build it watches (see run_measured), so no timed build is sampled.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env(checkout: str = REPO) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = checkout + os.pathsep + e.get("PYTHONPATH", "")
    # Run reportgen as an installed package runs: with its compiled bytecode cached (some CI
    # images set PYTHONDONTWRITEBYTECODE, which would compile every module at every start).
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    return e


def ensure(logdir: str, *args: str) -> str:
    if not os.path.isdir(logdir) or not os.listdir(logdir):
        subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "make_big_log.py"), logdir, *args],
                       check=True, env=env())
    return logdir


def subset(sweep: str, runs: int, root: str) -> str:
    """A logdir of the first `runs` runs of a sweep, as symlinks (discovery follows them)."""
    target = os.path.join(root, f"sweep_first{runs}")
    if not os.path.isdir(target):
        os.makedirs(target)
        for name in sorted(os.listdir(sweep))[:runs]:
            os.symlink(os.path.join(sweep, name), os.path.join(target, name))
    return target


def tree_pss(pid: int) -> tuple[int, int]:
    """Proportional set size (bytes) of a process and all its descendants, and of the process
    alone (Linux /proc).

    PSS splits pages shared between processes (fork's copy-on-write) among them, so the sum
    over the tree is the memory the whole build really holds, not a multiple of it.
    """
    total, own, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:")) * 1024
            total += pss
            own = pss if p == pid else own
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError, StopIteration):
            continue
    return total, own


def run_measured(cmd: list[str], sample_tree: bool = False, checkout: str = REPO) -> dict:
    """Run `cmd`; wall time, phases (from 'reportgen: <phase>' lines), peak RSS of the largest
    process and, with `sample_tree`, of the whole tree (and of the main process alone: its own
    peak, its share at the tree's peak, and the phase the build was in then).

    Sampling the tree's PSS slows the build it watches by ~20% (the kernel walks each process's
    page tables, and page faults wait for it), so timed builds run without it; the memory
    section samples, and its times are not compared with anything."""
    phases: list[tuple[float, str]] = []
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=checkout, env=env(checkout), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    peak_tree, peak_main, main_at_peak, phase_at_peak = 0, 0, 0, "start"
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_main, main_at_peak, phase_at_peak
        while not done.is_set():
            tree, main = tree_pss(proc.pid)
            peak_main = max(peak_main, main)
            if tree > peak_tree:
                peak_tree, main_at_peak = tree, main
                phase_at_peak = phases[-1][1] if phases else "start"
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    if sample_tree:
        sampler.start()
    lines = []
    assert proc.stderr is not None  # stderr=PIPE
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("reportgen: "):
            phases.append((time.perf_counter() - started, line[len("reportgen: "):].strip()))
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    done.set()
    if sample_tree:
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{''.join(lines[-20:])}")
    # ru_maxrss of a reaped child: the largest of it and its own reaped children, in KiB on Linux
    return {"wall": wall, "phases": phases, "max_process_mb": usage.ru_maxrss / 1024,
            "max_tree_mb": peak_tree / 2**20 if sample_tree else None,
            "max_main_mb": peak_main / 2**20 if sample_tree else None,
            "main_at_tree_peak_mb": main_at_peak / 2**20 if sample_tree else None,
            "phase_at_tree_peak": phase_at_peak if sample_tree else None}


def build(logdir: str, out: str, *extra: str, sample_tree: bool = False, checkout: str = REPO) -> dict:
    """`reportgen build` of `checkout` (default: this one), measured (run_measured)."""
    return run_measured([sys.executable, "-m", "reportgen", "build", logdir, "-o", out, *extra], sample_tree,
                        checkout)


def phase_text(result: dict) -> str:
    parts = []
    marks = result["phases"]
    for (t, name), nxt in zip(marks, [*marks[1:], (result["wall"], "end")]):
        parts.append(f"{name.split(' ')[0]} {nxt[0] - t:.1f}s")
    startup = marks[0][0] if marks else result["wall"]
    return f"start {startup:.1f}s, " + ", ".join(parts)


def event_accumulator_load(logdir: str, python: str = sys.executable) -> float:
    code = ("import time\n"
            "from tensorboard.backend.event_processing import event_accumulator as ea\n"
            "t = time.perf_counter()\n"
            f"acc = ea.EventAccumulator({logdir!r}, size_guidance={{k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE}})\n"
            "acc.Reload()\n"
            "print(time.perf_counter() - t)\n")
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


# Issue 19's targets: the build against each anchor's load, for the 267 MB log ("big") and the
# 55 MB one of 30 tags x 200 steps ("medium", only against pure Python).
TARGETS = {"big": {"pure Python": 0.1, "TensorFlow": 0.5}, "medium": {"pure Python": 0.5}}
LOGS = {"big": ("30 tags x 1000 steps", ()), "medium": ("30 tags x 200 steps", ("--steps", "200"))}


def section_ratio(root: str, repeat: int = 3, tf_python: str | None = None) -> None:
    """Builds repeated and interleaved, the median reported: on a shared VM the same build
    varies by +-15% from one minute to the next (CPU time too, not only wall time), and more when
    the host is busy. The pure-Python anchor (~40 s for the big log) loads each log once, in the
    middle of the builds; the TensorFlow one (~8 s) after every PDF and HTML build of the big log,
    its median taken as the builds' is (one load of it varied 7.9-16 s between runs on a busy
    day)."""
    for name, (shape, args) in LOGS.items():
        logdir = ensure(os.path.join(root, name), *args)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(logdir) for f in fs) / 1e6
        print(f"== end to end vs tensorboard EventAccumulator load ({shape}, {size:.0f} MB), median of {repeat} builds")
        runs: dict[str, list[dict]] = {"PDF": [], "HTML": []}
        loads: dict[str, list[float]] = {}
        for i in range(repeat):
            runs["PDF"].append(build(logdir, os.path.join(root, f"{name}.pdf")))
            runs["HTML"].append(build(logdir, os.path.join(root, f"{name}.html")))
            if tf_python and "TensorFlow" in TARGETS[name]:
                loads.setdefault("TensorFlow", []).append(event_accumulator_load(logdir, tf_python))
            if i == repeat // 2:
                loads["pure Python"] = [event_accumulator_load(logdir)]
        anchors = {anchor: statistics.median(times) for anchor, times in loads.items()}
        for anchor, seconds in anchors.items():
            each = f" (median of {', '.join(f'{t:.1f}' for t in loads[anchor])})" if len(loads[anchor]) > 1 else ""
            print(f"EventAccumulator load (size_guidance 0, {anchor}): {seconds:7.1f} s{each}")
        for output, results in runs.items():
            r = sorted(results, key=lambda x: x["wall"])[len(results) // 2]
            samples = ", ".join(f"{x['wall']:.1f}" for x in results)
            ratios = "; ".join(f"vs {anchor} {r['wall'] / seconds:.3f}x (target <= {TARGETS[name][anchor]}: "
                               f"{'met' if r['wall'] / seconds <= TARGETS[name][anchor] else 'NOT met'})"
                               for anchor, seconds in anchors.items())
            print(f"reportgen build -> {output:<4}: {r['wall']:7.1f} s   {ratios}   peak RSS "
                  f"{r['max_process_mb']:.0f} MB   [{phase_text(r)}]   all: {samples} s")


def section_memory(root: str) -> None:
    print("== memory: PDF build at 1000 and 10000 steps")
    results = {}
    for steps in (1000, 10000):
        logdir = ensure(os.path.join(root, "big" if steps == 1000 else f"big{steps // 1000}k"), "--steps", str(steps))
        results[steps] = build(logdir, os.path.join(root, f"mem{steps}.pdf"), sample_tree=True)
        r = results[steps]
        print(f"{steps:>6} steps: peak RSS largest process {r['max_process_mb']:6.0f} MB, whole tree "
              f"{r['max_tree_mb']:6.0f} MB, {r['wall']:.1f} s   [{phase_text(r)}]")
    a, b = results[1000], results[10000]
    print(f"10x steps / 1x: largest process x{b['max_process_mb'] / a['max_process_mb']:.2f}, tree "
          f"x{b['max_tree_mb'] / a['max_tree_mb']:.2f} (issue 7's targets: < 2, and <= 500 MB: "
          f"{'met' if max(a['max_process_mb'], b['max_process_mb']) <= 500 else 'NOT met'})")


def section_steps(root: str) -> None:
    print("== growth with steps (30 tags, PDF)")
    rows = []
    for steps in (1000, 2000, 4000):
        logdir = ensure(os.path.join(root, "big" if steps == 1000 else f"big{steps // 1000}k"), "--steps", str(steps))
        r = build(logdir, os.path.join(root, f"steps{steps}.pdf"))
        rows.append((steps, r))
        print(f"{steps:>6} steps: {r['wall']:6.1f} s  {1000 * r['wall'] / steps:6.2f} ms/step   [{phase_text(r)}]")
    _linearity(rows)


def section_runs(root: str) -> None:
    print("== growth with runs (sweep of small runs: 14 tags x 100 steps each, PDF)")
    sweep = ensure(os.path.join(root, "sweep200"), "--runs", "200")
    rows = []
    for runs in (50, 100, 200):
        r = build(subset(sweep, runs, root), os.path.join(root, f"runs{runs}.pdf"))
        rows.append((runs, r))
        print(f"{runs:>6} runs : {r['wall']:6.1f} s  {r['wall'] / runs:6.3f} s/run   [{phase_text(r)}]")
    _linearity(rows)


def _linearity(rows) -> None:
    (n0, r0), (n1, r1) = rows[0], rows[-1]
    growth = (r1["wall"] / r0["wall"]) / (n1 / n0)
    print(f"time grows x{r1['wall'] / r0['wall']:.2f} for x{n1 / n0:.0f} input: "
          f"{'linear or better' if growth <= 1.1 else 'worse than linear'} (x{growth:.2f} of linear)")


def section_processes(root: str) -> None:
    print("== 200 runs: 1 vs 2 processes")
    sweep = ensure(os.path.join(root, "sweep200"), "--runs", "200")
    code = ("import time; from reportgen.config import Options; from reportgen.reading.loader import load; "
            "settings = Options(processes=%d).read_settings(); t = time.perf_counter(); "
            f"load([{sweep!r}], settings); print(time.perf_counter() - t)")
    load_times = {}
    for n in (1, 2):
        out = subprocess.run([sys.executable, "-c", code % n], cwd=REPO, env=env(), check=True,
                             capture_output=True, text=True)
        load_times[n] = float(out.stdout.strip())
    print(f"ingestion (load) : 1 process {load_times[1]:.1f} s, 2 processes {load_times[2]:.1f} s, "
          f"speed-up x{load_times[1] / load_times[2]:.2f}")
    builds = {n: build(sweep, os.path.join(root, f"proc{n}.pdf"), "--processes", str(n)) for n in (1, 2)}
    print(f"build (PDF)      : 1 process {builds[1]['wall']:.1f} s, 2 processes {builds[2]['wall']:.1f} s, "
          f"speed-up x{builds[1]['wall'] / builds[2]['wall']:.2f}")
    for n, r in builds.items():
        print(f"  {n} process(es): [{phase_text(r)}]")


SECTIONS = {"ratio": section_ratio, "memory": section_memory, "steps": section_steps, "runs": section_runs,
            "processes": section_processes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reportgen build: speed, memory and growth")
    parser.add_argument("--root", default="/tmp/rg-bench", help="where benchmark logs and outputs go")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--repeat", type=int, default=3, help="builds per output format in the ratio section")
    parser.add_argument("--tf-python", help="a Python with TensorFlow and tensorboard installed: the ratio "
                        "section's second anchor")
    args = parser.parse_args(argv)
    os.makedirs(args.root, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for name in args.only or SECTIONS:
        if name == "ratio":
            section_ratio(args.root, args.repeat, args.tf_python)
        else:
            SECTIONS[name](args.root)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
