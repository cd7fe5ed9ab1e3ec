"""Since the baseline: one layer's last-step weights, the baseline's against tonight's, each as
the density its quantiles imply (the baseline is known only by its quantiles in report.json, so
tonight's is drawn the same way: the two curves differ only where the data do)."""

from __future__ import annotations

import numpy as np

from reportgen.baseline import QUANTILE_POINTS, LayerChange
from reportgen.charts import ChartJob
from reportgen.charts.encode import to_png
from reportgen.charts.style import SINGLE_SIZE, no_data, one_axes, set_title, styled

BASELINE_COLOR = "#8c959f"  # grey and dashed, as the first step in the run page's overview


def density(quantiles: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """A step density from quantiles at QUANTILE_POINTS: between two neighbouring quantiles lies
    1/20 of the values, so the height there is (1/20) / their distance."""
    q = np.asarray(quantiles, dtype=float)
    share = np.diff(QUANTILE_POINTS)
    width = np.diff(q)
    height = np.where(width > 0, share / np.where(width > 0, width, 1.0), 0.0)
    return q, np.concatenate([height, [0.0]])


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    change: LayerChange = job.data
    with styled():
        fig = one_axes(SINGLE_SIZE)
        ax = fig.axes[0]
        set_title(ax, job.title)
        if not (np.isfinite(change.before).all() and np.isfinite(change.now).all()):
            no_data(ax, "NaN or Inf in the weights: no distribution to draw")
        else:
            for quantiles, color, style, label in ((change.before, BASELINE_COLOR, "--", "baseline"),
                                                   (change.now, job.color, "-", "now")):
                x, y = density(quantiles)
                ax.step(x, y, where="post", color=color, linestyle=style, linewidth=1.4, label=label)
            ax.set_xlabel("value (the middle 95%)")
            ax.set_ylabel("density")
            ax.set_yticks([])
            ax.legend(loc="best", frameon=False)
        png = to_png(fig)
    return png, alt_text(change)


def alt_text(change: LayerChange) -> str:
    def span(q: list[float]) -> str:
        return f"median {q[len(q) // 2]:.3g}, middle 95% {q[0]:.3g} to {q[-1]:.3g}" if q else "no values"

    return (f"{change.tag} in {change.run}, last step: baseline {span(change.before)}; now {span(change.now)}; "
            f"apart by {change.distance:.1%} of the baseline's spread (Wasserstein-1).")
