"""One tag in several runs: the scalar or histogram comparison chart, by what the tag holds."""

from __future__ import annotations

from reportgen.charts import ChartJob, distribution, scalar
from reportgen.charts.kinds import MAX_DISTRIBUTION_STEPS
from reportgen.model import ScalarSeries


def draw_job(job: ChartJob) -> tuple[bytes, str]:
    runs = job.runs or None
    if job.data and isinstance(job.data[0], ScalarSeries):
        return scalar.draw_compare(job.data, job.color, job.title, runs=runs)
    return distribution.draw_compare(job.data, job.color, job.title,
                                     MAX_DISTRIBUTION_STEPS if job.max_steps is None else job.max_steps, runs)
