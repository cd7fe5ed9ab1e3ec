"""Scores the diagnosis on every labeled set: faults found, false alarms, repeated findings.

    python benchmarks/diagnosis/generate.py                                    # numpy runs -> logs/numpy/
    /work/venv-torch/bin/python benchmarks/diagnosis/generate_torch.py         # torch (needs torch)
    /work/venv-torch/bin/python benchmarks/diagnosis/generate_torch_arch.py    # LSTM, GRU, transformer, AMP, ...
    /work/venv-torch/bin/python benchmarks/diagnosis/generate_scalar_cases.py  # HF, Keras, RL, detection curves
    /work/venv-tf/bin/python benchmarks/diagnosis/generate_keras.py            # Keras' own callback (needs TF)
    python benchmarks/diagnosis/score.py [--verbose] [set ...]

Two kinds of labels, both written from the logged numbers, never from reportgen's output:
- generated sets (logs/<set>/labels.json): per run (or per logdir of runs), `healthy`,
  `expected` codes (which must be found), `allowed` codes (which may be), optionally
  `expected_layers` (where) and `any_of` (symptoms any one of which detects the fault);
- real logdirs from public repositories (`wild`: ../shared/fixtures/wild and, when present, the
  cache given by --wild or $REPORTGEN_WILD_CACHE): per logdir, `expect` and `forbid` (codes, or
  [code, substring of the layer or tag]) and `verdicts` per run.

Per set it prints: faults found of those expected; false alarms (a warning or critical finding on
a healthy run, a forbidden code, or a code neither expected nor allowed); repeats (more than one
finding with the same run, code and layer); and verdicts that disagree with the labels
("not judged" included). The torch sets are held out: rules are not tuned on them before their
first score is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from reportgen.diagnosis import Diagnosis, diagnose
from reportgen.findings import Finding, Severity, Verdict
from reportgen.reading.loader import load

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "logs")
SHARED_WILD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "..", "shared", "fixtures", "wild")
WILD_CACHE = os.environ.get("REPORTGEN_WILD_CACHE", "/work/wild_cache")


@dataclass
class Score:
    runs: int = 0
    expected: int = 0
    found: int = 0
    false_alarms: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    repeats: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    verdicts_checked: int = 0
    per_code: Counter = field(default_factory=Counter)

    def add(self, other: Score) -> None:
        for name in ("runs", "expected", "found", "verdicts_checked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("false_alarms", "missed", "repeats", "verdicts"):
            getattr(self, name).extend(getattr(other, name))
        self.per_code.update(other.per_code)


def _severe(f: Finding) -> bool:
    return f.severity is not Severity.INFO


def _under(run: str, key: str) -> bool:
    return key in (".", "") or run == key or run.startswith(key.rstrip("/") + "/")


def _matches(f: Finding, item) -> bool:
    code, where = (item, "") if isinstance(item, str) else (item[0], item[1])
    return f.code == code and (not where or where in f.layer or any(where in t for t in f.tags))


def repeats(diagnosis: Diagnosis) -> list[str]:
    counted = Counter((f.run, f.code, f.layer) for f in diagnosis.findings)
    return [f"{run}: {code} on {layer} x{n}" for (run, code, layer), n in counted.items() if n > 1]


def repeated_codes(lines: list[str]) -> Counter:
    return Counter(line.split(": ", 1)[1].split(" on ", 1)[0] for line in lines)


def score_generated(folder: str) -> Score:
    with open(os.path.join(folder, "labels.json")) as stream:
        labels = json.load(stream)
    diagnosis = diagnose(load([folder]))
    score = Score(repeats=repeats(diagnosis))
    for key, label in labels.items():
        findings = [f for f in diagnosis.findings if _under(f.run, key)]
        score.runs += 1
        wanted = label.get("any_of") or label.get("expected", [])
        layers = label.get("expected_layers", {})
        if label.get("expected"):
            score.expected += 1
            score.per_code.update(f"expected {c}" for c in label["expected"])
            hit = any(f.code in wanted and (_severe(f) or f.code not in _SEVERE_CODES) for f in findings)
            hit = hit and all(any(_matches(f, [code, where]) for f in findings for where in places)
                              for code, places in layers.items() if code in label["expected"])
            score.per_code.update(f"found {c}" for c in label["expected"]
                                  if any(f.code == c and (_severe(f) or c not in _SEVERE_CODES) for f in findings))
            if hit:
                score.found += 1
            else:
                score.missed.append(f"{key}: expected {label['expected']}, found "
                                    f"{sorted({f.code for f in findings}) or 'nothing'}")
        allowed = set(label.get("expected", [])) | set(label.get("allowed", [])) | set(label.get("any_of", []))
        for f in findings:
            if _severe(f) and (label.get("healthy") or f.code not in allowed):
                score.false_alarms.append(f"{f.run}: {f.code} [{f.severity}] {f.layer}: {f.message[:140]}")
                score.per_code[f"false {f.code}"] += 1
    return score


_SEVERE_CODES = {"nan_or_inf", "exploding", "dead_units", "saturation", "not_learning", "vanishing_gradient",
                 "loss_diverging", "loss_plateau", "loss_oscillating", "overfitting", "weight_collapse"}


def score_wild(root: str, name: str, label: dict) -> Score:
    path = os.path.join(root, name)
    diagnosis = diagnose(load([path]))
    score = Score(runs=len(diagnosis.run_verdict), repeats=[f"{name}/{r}" for r in repeats(diagnosis)])
    for item in label.get("expect", []):
        score.expected += 1
        code = item if isinstance(item, str) else item[0]
        score.per_code[f"expected {code}"] += 1
        if any(_matches(f, item) for f in diagnosis.findings):
            score.found += 1
            score.per_code[f"found {code}"] += 1
        else:
            score.missed.append(f"{name}: expected {item}")
    for f in diagnosis.findings:
        if _severe(f) and any(_matches(f, item) for item in label.get("forbid", [])):
            score.false_alarms.append(f"{name}/{f.run}: {f.code} [{f.severity}] {f.layer}: {f.message[:140]}")
            score.per_code[f"false {f.code}"] += 1
    runs = {os.path.relpath(os.path.normpath(r.path), os.path.normpath(path)): r.name
            for r in load([path]).runs}
    for relative, wanted in label.get("verdicts", {}).items():
        run = runs.get(relative)
        if run is None:
            continue
        score.verdicts_checked += 1
        got = diagnosis.run_verdict.get(run)
        agree = {"healthy": {Verdict.HEALTHY}, "problem": {Verdict.WARNINGS, Verdict.CRITICAL},
                 "not judged": {Verdict.NOT_JUDGED}}.get(wanted, set())
        if got not in agree:
            score.verdicts.append(f"{name}/{relative}: labeled {wanted}, got {got}")
    return score


def wild_sets(extra: str | None) -> list[tuple[str, str]]:
    return [(label, root) for label, root in (("wild (shared)", SHARED_WILD), ("wild (cache)", extra or WILD_CACHE))
            if os.path.isfile(os.path.join(root, "labels.json"))]


def report(name: str, score: Score, verbose: bool, details: bool = True) -> None:
    print(f"\n== {name}: {score.runs} runs")
    print(f"   faults found        {score.found}/{score.expected}")
    print(f"   false alarms        {len(score.false_alarms)}")
    print(f"   repeated findings   {len(score.repeats)}")
    if score.verdicts_checked:
        print(f"   verdicts as labeled {score.verdicts_checked - len(score.verdicts)}/{score.verdicts_checked}")
    if details:
        for line in score.missed:
            print(f"   MISSED  {line}")
        for line in score.false_alarms:
            print(f"   FALSE   {line}")
        for line in score.repeats:
            print(f"   REPEAT  {line}")
        for line in score.verdicts:
            print(f"   VERDICT {line}")


def set_table(scores: list[tuple[str, Score]]) -> list[str]:
    """Per set: runs, faults found of those expected, false alarms, repeats, verdicts."""
    lines = ["| set | runs | faults found | false alarms (warning or worse) | repeated findings | "
             "verdicts as labeled |", "|---|--:|--:|--:|--:|--:|"]
    for name, score in scores:
        verdicts = f"{score.verdicts_checked - len(score.verdicts)}/{score.verdicts_checked}" \
            if score.verdicts_checked else "·"
        lines.append(f"| {SET_NAMES.get(name, name)} | {score.runs} | {score.found}/{score.expected} | "
                     f"{len(score.false_alarms)} | {len(score.repeats)} | {verdicts} |")
    return lines


SET_NAMES = {"numpy": "numpy-simulated runs (`generate.py`)", "torch": "torch MLPs and CNNs (`generate_torch.py`)",
             "torch_arch": "torch LSTM, GRU, transformer, BN, AMP, fine-tuning, ELU/GELU/leaky "
                           "(`generate_torch_arch.py`)",
             "scalars": "scalar-only runs named as real writers name them (`generate_scalar_cases.py`)",
             "keras": "Keras' own TensorBoard callback, TF 2.21 (`generate_keras.py`)",
             "wild (shared)": "real public logdirs in ../shared/fixtures/wild",
             "wild (cache)": "real public logdirs collected for issue 17 (not in the repository)"}


def code_table(scores: list[tuple[str, Score]]) -> list[str]:
    """Per rule code and set: faults found of those expected, false alarms, repeats."""
    codes = sorted({key.split(" ", 1)[1] for _, score in scores for key in score.per_code}
                   | {code for _, score in scores for code in repeated_codes(score.repeats)})
    lines = ["| code | " + " | ".join(name for name, _ in scores) + " |", "|---|" + "---|" * len(scores)]
    for code in codes:
        cells = []
        for _, score in scores:
            expected, found = score.per_code[f"expected {code}"], score.per_code[f"found {code}"]
            false, again = score.per_code[f"false {code}"], repeated_codes(score.repeats)[code]
            parts = [f"{found}/{expected} found" if expected else "", f"{false} false" if false else "",
                     f"{again} repeated" if again else ""]
            cells.append(", ".join(p for p in parts if p) or "·")
        lines.append(f"| `{code}` | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", help="generated sets (numpy, torch, torch_arch, scalars, keras) or wild")
    parser.add_argument("--wild", help="a folder of real logdirs with a labels.json (default $REPORTGEN_WILD_CACHE)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--markdown", help="also write the per-set and per-code tables to this file (the rules "
                                           "page includes benchmarks/diagnosis/results.md)")
    args = parser.parse_args(argv)
    generated = sorted(d for d in (os.listdir(LOGS) if os.path.isdir(LOGS) else [])
                       if os.path.isfile(os.path.join(LOGS, d, "labels.json")))
    total = Score()
    scored: list[tuple[str, Score]] = []
    for name in generated:
        if args.sets and name not in args.sets:
            continue
        score = score_generated(os.path.join(LOGS, name))
        report(name, score, args.verbose)
        total.add(score)
        scored.append((name, score))
    if not args.sets or "wild" in args.sets:
        for name, root in wild_sets(args.wild):
            with open(os.path.join(root, "labels.json")) as stream:
                labels = json.load(stream)
            score = Score()
            for logdir, label in labels.items():
                score.add(score_wild(root, logdir, label))
            report(name, score, args.verbose)
            total.add(score)
            scored.append((name, score))
    report("all sets", total, verbose=False, details=False)
    tables = [*set_table(scored), "", "Per rule code (found of the runs labeled with it; false alarms; repeats):", "",
              *code_table(scored)]
    print("\n" + "\n".join(tables))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as stream:
            stream.write("\n".join(tables) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
