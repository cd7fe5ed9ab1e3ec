"""Which activation function a histogram of activations comes from, read from the values it
shows (or the layer's name when it says), and where that function passes almost no gradient.

Each family leaves a mark on the range: ReLU mass at exactly 0; ReLU6 a cap at 6; ELU a floor at
-1 (alpha 1, the default of every framework); SELU a floor at -lambda*alpha = -1.7581; GELU a
minimum of -0.1700 (at z = -0.75) and SiLU of -0.2785 (at z = -1.28); leaky ReLU a negative tail
that is a small fraction of the positive side (slope 0.01 by default); tanh [-1, 1], sigmoid
[0, 1]. One network mostly uses one activation, so a series that shows no mark (all its values
at ELU's floor, or all on leaky ReLU's negative side) takes the family its run's other
activation series agree on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from reportgen import histmath
from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures

SELU_FLOOR = -1.0507009873554805 * 1.6732632423543772
GELU_MIN = -0.16997  # min of x * Phi(x)
SILU_MIN = -0.27846  # min of x * sigmoid(x)
LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU and tf.nn.leaky_relu default (Keras' LeakyReLU: 0.3)

_NAMED = (("relu6", re.compile(r"relu6|hardtanh|hard_tanh", re.I)),
          ("leaky", re.compile(r"leaky|lrelu|prelu", re.I)),
          ("selu", re.compile(r"selu", re.I)),
          ("gelu", re.compile(r"gelu", re.I)),
          ("silu", re.compile(r"silu|swish", re.I)),
          ("elu", re.compile(r"(^|[^a-z])elu|celu", re.I)),
          ("tanh", re.compile(r"tanh", re.I)),
          ("sigmoid", re.compile(r"sigmoid|softmax", re.I)),
          ("relu", re.compile(r"relu", re.I)))
# Outputs whose zeros or bounds are not a ReLU's or a squashing unit's: recurrent cells, gates,
# attention and dropout.
NOT_AN_ACTIVATION = re.compile(r"lstm|gru|rnn|gate|attn|attention|dropout|mask", re.I)


@dataclass(frozen=True)
class Family:
    name: str  # relu | relu6 | elu | selu | gelu | silu | leaky | tanh | sigmoid | ""
    words: str  # for a message: "ELU", "leaky ReLU"
    from_name: bool = False
    from_run: bool = False  # taken from the run's other activation series


WORDS = {"relu": "ReLU", "relu6": "ReLU6", "elu": "ELU", "selu": "SELU", "gelu": "GELU", "silu": "SiLU",
         "leaky": "leaky ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "": "unknown"}


def _from_values(s: SeriesFeatures) -> str:
    finite_lo, finite_hi = s.min[np.isfinite(s.min)], s.max[np.isfinite(s.max)]
    if not finite_lo.size or not finite_hi.size:
        return ""
    lo, hi = float(finite_lo.min()), float(finite_hi.max())
    zeros = float(s.zero_fraction.max()) if s.zero_fraction.size else 0.0
    if lo >= 0 and zeros > 0.05:
        return "relu6" if abs(hi - 6.0) < 1e-6 else "relu"
    if abs(lo - SELU_FLOOR) < 0.01 * abs(SELU_FLOOR):
        return "selu"
    if abs(lo - GELU_MIN) < 0.003:
        return "gelu"
    if abs(lo - SILU_MIN) < 0.003:
        return "silu"
    if -1.0 - 1e-6 <= lo <= -0.95 and hi > 1.0:
        return "elu"
    if s.bound:
        return s.bound
    if lo < 0 < hi and -lo <= 0.2 * hi:
        return "leaky"
    return ""


def family_of(s: SeriesFeatures, layer: str) -> Family:
    """The family of one activation series, from its name or its values; "" when unknown."""
    for name, pattern in _NAMED:
        if pattern.search(s.tag) or pattern.search(layer):
            return Family(name, WORDS[name], from_name=True)
    found = _from_values(s)
    return Family(found, WORDS[found])


def families(run: RunFeatures) -> dict[str, Family]:
    """Every activation series' family, by tag; unknown ones take the family all the run's known
    ones agree on."""
    found = {s.tag: family_of(s, lf.layer.name) for lf in run.layers for s in lf.of_kind("activations")}
    known = {f.name for f in found.values() if f.name}
    if len(known) == 1:
        agreed = known.pop()
        found = {tag: f if f.name else Family(agreed, WORDS[agreed], from_run=True) for tag, f in found.items()}
    return found


@dataclass(frozen=True)
class LowGradient:
    """Where a family passes almost no gradient, and what share of a step's values sit there."""

    where: str  # words: "at ELU's floor of -1 (below -0.9, where its slope is under 0.1)"
    share_first: float
    share_last: float


def low_gradient(family: Family, s: SeriesFeatures, zone: float) -> LowGradient | None:
    """The share of the first and last step's values in the family's low-gradient region: within
    `zone` of ELU's or SELU's floor (their slope there is below `zone` times their largest
    negative-side slope), on leaky ReLU's negative side, at ReLU6's cap. None for other families
    (tanh/sigmoid: the saturation rule's bounds; ReLU: exact zeros)."""
    if family.name in ("elu", "selu"):
        floor = -1.0 if family.name == "elu" else SELU_FLOOR
        top = floor * (1 - zone)
        region = (-np.inf, top)
        where = f"at {family.words}'s floor of {floor:.4g} (below {top:.3g}, where its slope is under {zone:g})"
    elif family.name == "leaky":
        region = (-np.inf, 0.0)
        where = f"on leaky ReLU's negative side (where its slope is {LEAKY_SLOPE:g} by default)"
    elif family.name == "relu6":
        region = (6.0 - 1e-6, np.inf)
        where = "at ReLU6's cap of 6 (slope 0)"
    else:
        return None
    return LowGradient(where, _share(s.buckets_first, *region), _share(s.buckets_last, *region))


def _share(buckets: np.ndarray, lo: float, hi: float) -> float:
    total = histmath.total_count(buckets)
    return float(min(histmath.mass_between(buckets, lo, hi) / total, 1.0)) if total > 0 else 0.0


def recurrent_or_gated(layer: LayerFeatures, s: SeriesFeatures) -> bool:
    """Outputs of LSTM/GRU cells, gates, attention or dropout: their zeros are not dead ReLUs."""
    return bool(NOT_AN_ACTIVATION.search(layer.layer.name) or NOT_AN_ACTIVATION.search(s.tag))
