"""The diagnosis rules, grouped by what they look at; importing this package registers them all.

Adding a rule: a decorated function in the module of its scope, its thresholds in
`diagnosis/thresholds.py`, a firing and a quiet example in `tests/diagnosis/rule_examples.py`
(see CONTRIBUTING.md).
"""

# Findings of one severity are listed in registration order: the order of these imports, then
# each module's own order. Kept by hand, not sorted.
from reportgen.diagnosis.rules import activations  # noqa: I001
from reportgen.diagnosis.rules import gradients
from reportgen.diagnosis.rules import weights
from reportgen.diagnosis.rules import nonfinite
from reportgen.diagnosis.rules import scalars

__all__ = ["activations", "gradients", "nonfinite", "scalars", "weights"]
