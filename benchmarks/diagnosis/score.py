"""Scores the diagnosis rules on the labeled runs that the generators wrote.

    python benchmarks/diagnosis/generate.py         # numpy trainings, reportgen's EventWriter -> logs/numpy/
    python benchmarks/diagnosis/generate_torch.py   # real torch trainings, torch's SummaryWriter -> logs/torch/
    python benchmarks/diagnosis/score.py [--verbose] [numpy|torch ...]

Each set (a folder under logs/ with a labels.json) is scored on its own. Per code: recall on
the runs labeled with it (`expected`), and false alarms on the runs where it is neither
expected nor allowed (counted separately on healthy controls), both at the rule's own severity;
"softer" counts findings a rule made below its own severity (saturation that grew while the loss
fell is info). A run's `any_of` lists symptoms any
one of which counts as detecting its fault (a far-too-high learning rate shows in several ways).
A healthy run must get no
warning or critical finding at all. The torch set is held out: the rules were not tuned on it
before its first score was recorded.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from reportgen.diagnosis import all_rules, diagnose
from reportgen.reading.loader import load

LOGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logs")


def score_set(folder: str, verbose: bool) -> int:
    """Prints the table for one set; returns the number of healthy runs with a warning or worse."""
    with open(os.path.join(folder, "labels.json")) as stream:
        labels = json.load(stream)
    fired: dict[str, set[str]] = defaultdict(set)  # at the rule's own severity or worse
    severe: dict[str, set[str]] = defaultdict(set)  # warning or critical
    softer: dict[str, set[str]] = defaultdict(set)  # only below the rule's severity (e.g. saturation as info)
    default = {r.code: r.severity.rank for r in all_rules()}
    for f in diagnose(load([folder])).findings:
        if f.severity.rank <= default[f.code]:
            fired[f.run].add(f.code)
        else:
            softer[f.run].add(f.code)
        if f.severity != "info":
            severe[f.run].add(f.code)
    if verbose:
        for run in sorted(labels):
            missed = set(labels[run]["expected"]) - fired[run]
            extra = fired[run] - set(labels[run]["expected"]) - set(labels[run]["allowed"])
            soft = softer[run] - fired[run]
            flag = "".join(f" {word} " + ",".join(sorted(codes))
                           for word, codes in (("softer", soft), ("MISSED", missed), ("EXTRA", extra)) if codes)
            print(f"{run:<36} expected {','.join(labels[run]['expected']) or '-':<28} "
                  f"fired {','.join(sorted(fired[run])) or '-'}{flag}")
        print()
    healthy = [r for r in labels if labels[r]["healthy"]]
    print(f"{'code':<20} {'recall':>8} {'false alarms':>14} {'on healthy':>12} {'softer on healthy':>18}")
    for rule in all_rules():
        code = rule.code
        positives = [r for r in labels if code in labels[r]["expected"]]
        negatives = [r for r in labels if code not in labels[r]["expected"] and code not in labels[r]["allowed"]]
        hits = sum(code in fired[r] for r in positives)
        alarms = sum(code in fired[r] for r in negatives)
        healthy_alarms = sum(code in fired[r] for r in healthy)
        healthy_soft = sum(code in softer[r] and code not in fired[r] for r in healthy)
        recall = f"{hits}/{len(positives)}" if positives else "-"
        print(f"{code:<20} {recall:>8} {f'{alarms}/{len(negatives)}':>14} {f'{healthy_alarms}/{len(healthy)}':>12} "
              f"{f'{healthy_soft}/{len(healthy)}':>18}")
    faulty = [r for r in labels if labels[r].get("any_of", labels[r]["expected"])]
    detected = [r for r in faulty if set(labels[r].get("any_of", labels[r]["expected"])) & severe[r]]
    print(f"fault runs with at least one of their symptoms (warning or worse): {len(detected)}/{len(faulty)}"
          + (f" (missed: {', '.join(sorted(set(faulty) - set(detected)))})" if len(detected) < len(faulty) else ""))
    bad = [r for r in healthy if severe[r]]
    print(f"healthy runs with a warning or critical finding: {len(bad)}/{len(healthy)}"
          + (f" ({', '.join(bad)})" if bad else ""))
    return len(bad)


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    wanted = [a for a in argv if not a.startswith("-")]
    found = os.listdir(LOGS) if os.path.isdir(LOGS) else []
    sets = sorted(d for d in found if os.path.isfile(os.path.join(LOGS, d, "labels.json")))
    sets = [s for s in sets if not wanted or s in wanted]
    if not sets:
        print(f"no labeled sets under {LOGS}: run generate.py (and generate_torch.py) first", file=sys.stderr)
        return 2
    for name in sets:
        print(f"\n== {name} set ({os.path.join(LOGS, name)})")
        score_set(os.path.join(LOGS, name), verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
