"""Report view-models built directly, for the output writers' tests (no event files, no charts code).

`make_report()` gives a small but complete Report: two runs, layers with findings of every
severity, tiny real PNGs, scalars, a comparison chart, inventory, warnings, and a hostile tag.
"""

from __future__ import annotations

import struct
import zlib

from reportgen.findings import Finding, Severity, Verdict, worst_first
from reportgen.report import Chart, FileInventory, LayerSection, Report, RunSection, SeriesSummary, TagInventory

HOSTILE_TAG = "<img src=x onerror=alert(1)>"


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (40, 120, 200), noise: int = 0) -> bytes:
    """A valid RGB PNG; `noise` > 0 makes rows differ so the image does not compress to nothing."""
    rows = b"".join(b"\x00" + bytes((rgb[0], rgb[1], (rgb[2] + (y * x * noise) % 97) % 256)[c]
                                    for x in range(width) for c in range(3)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def chart(run: str, tag: str, kind: str, image: bytes | None = None) -> Chart:
    return Chart(run=run, tag=tag, kind=kind, title=f"{tag} ({run})", png=image or png(),
                 alt=f"{kind} chart of {tag}", width_px=24, height_px=16)


def finding(run: str, layer: str, severity: str, code: str = "dead_units", tags: tuple[str, ...] = ()) -> Finding:
    return Finding(code=code, severity=Severity(severity), run=run, layer=layer, tags=tags or (layer + "/activations",),
                   steps=(0, 90), message=f"{code} in {layer}: 97% of activations at exactly 0 (threshold 70%)",
                   evidence={"fraction": 0.97, "threshold": 0.7},
                   recommendation=("Lower the learning rate.", "Use LeakyReLU instead of ReLU."))


def layer(run: str, run_index: int, index: int, name: str, findings: list[Finding],
          kinds: tuple[str, ...] = ("offset", "distribution", "heatmap"), image: bytes | None = None) -> LayerSection:
    tags = {f"{name}/weights": "weights", f"{name}/activations": "activations"}
    return LayerSection(run=run, name=name, anchor=f"layer-{run_index}-{index}", tags=tags,
                        paragraph=f"The weights of {name} spread slowly from their start; nothing unusual.",
                        findings=findings, charts=[chart(run, t, k, image) for t in tags for k in kinds])


def run_section(name: str, index: int, layer_names: list[str], findings: list[Finding], **layer_kwargs) -> RunSection:
    layers = [layer(name, index, j, ln, [f for f in findings if f.layer == ln], **layer_kwargs)
              for j, ln in enumerate(layer_names)]
    hist = [TagInventory(t, "histogram", 10, 0, 90) for ls in layers for t in ls.tags]
    verdict = Verdict.of(f.severity for f in findings)
    return RunSection(
        name=name, anchor=f"run-{index}", color=["#ff7043", "#0077bb"][index % 2], path=f"/logs/{name}",
        verdict=verdict, summary=f"Run {name}: {len(findings)} findings; loss falls from 2.3 to 0.4.",
        top_findings=findings[:3], layers=layers, scalar_charts=[chart(name, "loss", "scalar")],
        histograms=hist, scalars=[TagInventory("loss", "scalar", 10, 0, 90)],
        other=[TagInventory("graph", "other: graph", 1, None, None)],
        files=[FileInventory(f"/logs/{name}/events.out.tfevents.1", 5120, 42, 1, ["1 record with a bad CRC skipped"])],
        warnings=["events.out.tfevents.1: 1 record with a bad CRC skipped"],
        first_step=0, last_step=90, wall_start=1_700_000_000.0, wall_end=1_700_003_725.0,
        loss_tag="loss", final_loss=0.4 + index / 10,
    )


def make_report(n_runs: int = 2, layer_names: tuple[str, ...] = ("dense1", "dense2", HOSTILE_TAG), **layer_kwargs
                ) -> Report:
    runs, everything = [], []
    for i in range(n_runs):
        name = ["baseline", "lr=0.1"][i] if i < 2 else f"run{i}"
        findings = [finding(name, "dense1", "critical"), finding(name, "dense2", "warning", "saturation"),
                    finding(name, "loss", "info", "loss_plateau", tags=("loss",))] if i == 0 else \
                   [finding(name, "dense2", "warning", "saturation")]
        runs.append(run_section(name, i, list(layer_names), findings, **layer_kwargs))
        everything += findings
    everything = worst_first(everything)
    return Report(
        title="Nightly training report", generated_at="2026-01-02T03:04:05Z", version="0.1.0",
        sources=["/logs"], verdict=Verdict.of(f.severity for f in everything),
        runs=runs, findings=everything,
        comparison_charts=[chart("*", "loss", "compare")] if n_runs > 1 else [],
        how_to_read={"offset": "Each slice is one step; later steps are nearer the front.",
                     "distribution": "Bands show the percentiles over steps."},
        warnings=["/logs/garbage: not an event file"], artifacts=["report.html", "report.pdf"],
    )


def with_weight_series(report: Report) -> Report:
    """`report` with a weights series in every layer, run i's having moved (i + 1)% (the layer
    table of the runs compared is made of these)."""
    for i, run in enumerate(report.runs):
        for layer in run.layers:
            layer.series = [SeriesSummary(tag=f"{layer.name}/weights", kind="weights", shape="bell",
                                          shape_first="uniform", values=100, mean=0.0, std=0.1, skewness=0.0,
                                          excess_kurtosis=0.0, quantiles={}, zero_fraction=0.0, bound_fraction=0.0,
                                          change=0.01 * (i + 1), init=None)]
    return report
