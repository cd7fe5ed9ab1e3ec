"""A "last night" for sample_logs/, to show the baseline comparison (README's Since baseline):

    python benchmarks/make_last_night.py DIR
    reportgen build sample_logs/ --baseline DIR -o report.html

The same three runs as sample_logs/generate.py writes, but last night `question` was trained with
Adam at lr 0.001 (someone switched it to plain SGD at lr 0.01 since): the rest is identical.
"""

from __future__ import annotations

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sample_logs"))
from generate import HERE, train


def main(root: str) -> None:
    shutil.rmtree(root, ignore_errors=True)
    train(os.path.join(root, "question"), seed=1, episodes=800, log_every=20, lr=1e-3, biases=False, adam=True)
    for name in ("question_fixed", "tf2_hist"):
        shutil.copytree(os.path.join(HERE, name), os.path.join(root, name))


if __name__ == "__main__":
    main(sys.argv[1])
