"""Scores the diagnosis rules on the labeled runs that generate.py wrote.

    python benchmarks/diagnosis/score.py [--verbose]

Per code: recall on the runs labeled with it (`expected`), and false alarms on the runs where
it is neither expected nor allowed (counted separately on healthy controls). A healthy run
must get no warning or critical finding at all.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from reportgen.config import Options  # noqa: E402
from reportgen.diagnosis import diagnose  # noqa: E402
from reportgen.diagnosis.rules import all_rules  # noqa: E402
from reportgen.reading.loader import load  # noqa: E402

LOGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "logs")


def main(verbose: bool) -> int:
    with open(os.path.join(LOGS, "labels.json")) as stream:
        labels = json.load(stream)
    logs = load([LOGS])
    fired: dict[str, set[str]] = defaultdict(set)
    severe: dict[str, set[str]] = defaultdict(set)
    for f in diagnose(logs, Options()).findings:
        fired[f.run].add(f.code)
        if f.severity != "info":
            severe[f.run].add(f.code)
    if verbose:
        for run in sorted(labels):
            print(f"{run:<40} expected {','.join(labels[run]['expected']) or '-':<30} fired {','.join(sorted(fired[run])) or '-'}")
        print()
    print(f"{'code':<20} {'recall':>10} {'false alarms':>14} {'on healthy':>12}")
    for rule in all_rules():
        code = rule.code
        positives = [r for r in labels if code in labels[r]["expected"]]
        negatives = [r for r in labels if code not in labels[r]["expected"] and code not in labels[r]["allowed"]]
        healthy = [r for r in labels if labels[r]["healthy"]]
        hits = sum(code in fired[r] for r in positives)
        alarms = sum(code in fired[r] for r in negatives)
        healthy_alarms = sum(code in fired[r] for r in healthy)
        recall = f"{hits}/{len(positives)}" if positives else "-"
        print(f"{code:<20} {recall:>10} {f'{alarms}/{len(negatives)}':>14} {f'{healthy_alarms}/{len(healthy)}':>12}")
    healthy = [r for r in labels if labels[r]["healthy"]]
    bad = [r for r in healthy if severe[r]]
    print(f"\nhealthy runs with a warning or critical finding: {len(bad)}/{len(healthy)}" + (f" ({', '.join(bad)})" if bad else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main("--verbose" in sys.argv))
