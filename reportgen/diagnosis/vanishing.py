"""Which layers' gradients vanish: shared by the rule that says so and the rules whose symptoms
it explains (a layer that does not learn because its gradient vanished is one problem, not two)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.diagnosis.features import LayerFeatures, RunFeatures, SeriesFeatures
from reportgen.diagnosis.thresholds import Thresholds


@dataclass(frozen=True)
class GradientSize:
    layer: str
    tag: str
    size: float  # median over steps of the weight gradient's root mean square


def _weight_gradient(lf: LayerFeatures) -> SeriesFeatures | None:
    grads = [s for s in lf.of_kind("gradients") if lf.layer.gradient_of.get(s.tag) == "weights"]
    return grads[0] if grads else None


def gradient_sizes(run: RunFeatures) -> list[GradientSize]:
    """Each layer's typical weight-gradient size, in the order of the run's layers."""
    sizes = []
    for lf in run.layers:
        s = _weight_gradient(lf)
        if s is not None and np.isfinite(s.rms).any():
            sizes.append(GradientSize(lf.layer.name, s.tag, float(np.nanmedian(s.rms))))
    return sizes


def vanishing_layers(run: RunFeatures, t: Thresholds) -> list[GradientSize]:
    """Layers whose weight gradient is below `vanishing_ratio` of the last layer's, or below
    `vanishing_absolute`, in order (the first is nearest the input)."""
    sizes = gradient_sizes(run)
    if not sizes:
        return []
    last = sizes[-1].size
    ratio = [g for g in sizes[:-1] if last > 0 and g.size / last < t.vanishing_ratio]
    tiny = [g for g in sizes if g.size < t.vanishing_absolute and g not in ratio]
    return sorted(ratio + tiny, key=sizes.index)
