"""`reportgen build` end to end: every format from one command, --fail-on after writing, progress."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re

import numpy as np
import pypdf

from reportgen import cli
from reportgen.config import Options
from reportgen.pipeline import DRAWING
from reportgen.pipeline import build as build_report
from reportgen.progress import Progress
from reportgen.reading.loader import load
from tests.conftest import fixture_path, write_events

FORMATS = ("html", "pdf", "eml", "md", "json")


def write_diverging_run(logdir) -> None:
    """A run whose loss grows 1.5x per step: the loss_diverging rule (critical) must fire."""
    write_events(logdir / "run1", {"dense/kernel": lambda step, rng: rng.normal(0, 0.1, 300)},
                 {"loss": lambda step: 1.5**step}, steps=20, seed=7, wall_time=1_700_000_000.0)


def write_healthy_run(logdir) -> None:
    noise = np.random.default_rng(9)
    write_events(logdir / "run1", {"dense/kernel": lambda step, rng: rng.normal(0, 0.1 + 0.002 * step, 300),
                                   "dense/bias": lambda step, rng: rng.normal(0, 0.01 + 0.001 * step, 30)},
                 {"loss": lambda step: 2.0 / (1 + step) + 0.1 * noise.random()}, steps=20, seed=8,
                 wall_time=1_700_000_000.0)


def build(tmp_path, logdir, *extra: str) -> tuple[int, dict[str, object]]:
    paths = {fmt: tmp_path / f"report.{fmt}" for fmt in FORMATS}
    argv = ["build", str(logdir), "--processes", "1", "-q", *extra]
    for path in paths.values():
        argv += ["-o", str(path)]
    return cli.main(argv), paths


def test_one_command_writes_every_format_and_each_parses(tmp_path):
    write_diverging_run(tmp_path / "logs")
    code, paths = build(tmp_path, tmp_path / "logs")
    assert code == 0
    assert paths["html"].read_text().count("<figure") >= 3
    assert len(pypdf.PdfReader(paths["pdf"]).pages) >= 2
    msg = email.message_from_bytes(paths["eml"].read_bytes(), policy=email.policy.default)
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert json.loads(paths["json"].read_text())["artifacts"] == [p.name for p in paths.values()]
    summary = paths["md"].read_text()
    assert "**report.html**" in summary and "**report.pdf**" in summary and "loss" in summary


def test_fail_on_exits_1_only_after_every_output_is_written(tmp_path):
    write_diverging_run(tmp_path / "logs")
    code, paths = build(tmp_path, tmp_path / "logs", "--fail-on", "critical")
    assert code == cli.EXIT_FINDINGS
    assert all(p.stat().st_size > 0 for p in paths.values())
    findings = json.loads(paths["json"].read_text())["findings"]
    assert any(f["severity"] == "critical" for f in findings)


def test_fail_on_warning_passes_a_run_without_warnings(tmp_path):
    write_healthy_run(tmp_path / "logs")
    code, paths = build(tmp_path, tmp_path / "logs", "--fail-on", "warning")
    severities = {f["severity"] for f in json.loads(paths["json"].read_text())["findings"]}
    assert not severities & {"critical", "warning"}, severities  # the healthy run really is healthy
    assert code == cli.EXIT_OK


def test_attach_pdf_puts_the_same_pdf_in_the_email(tmp_path):
    write_diverging_run(tmp_path / "logs")
    _, paths = build(tmp_path, tmp_path / "logs", "--attach-pdf")
    msg = email.message_from_bytes(paths["eml"].read_bytes(), policy=email.policy.default)
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == paths["pdf"].read_bytes()


def test_unknown_extension_and_format_flag(tmp_path, capsys):
    write_diverging_run(tmp_path / "logs")
    assert cli.main(["build", str(tmp_path / "logs"), "-o", str(tmp_path / "out.xyz")]) == cli.EXIT_USAGE
    assert "--format" in capsys.readouterr().err
    assert cli.main(["build", str(tmp_path / "logs"), "-q", "-o", str(tmp_path / "summary"), "--format", "md"]) == 0
    assert (tmp_path / "summary").read_text().startswith("## ")


def test_title_run_and_tag_options_reach_the_report(tmp_path):
    write_diverging_run(tmp_path / "logs")
    out = tmp_path / "r.json"
    assert cli.main(["build", str(tmp_path / "logs"), "-q", "-o", str(out), "--title", "Nightly <b>",
                     "--tag", "^loss$"]) == 0
    data = json.loads(out.read_text())
    assert data["title"] == "Nightly <b>"
    assert [t["tag"] for t in data["runs"][0]["histograms"]] == [] and data["runs"][0]["scalars"][0]["tag"] == "loss"
    assert cli.main(["build", str(tmp_path / "logs"), "-q", "-o", str(out), "--run", "nomatch"]) == cli.EXIT_USAGE


def test_progress_draws_a_bar_on_a_terminal_and_plain_lines_elsewhere():
    tty, plain, quiet = io.StringIO(), io.StringIO(), io.StringIO()
    for stream, is_tty, is_quiet in ((tty, True, False), (plain, False, False), (quiet, False, True)):
        progress = Progress(stream, quiet=is_quiet, tty=is_tty)
        progress.phase("writing", 4)
        for name in "abcd":
            progress.advance(name)
        progress.say("reportgen: wrote x")
        progress.close()
    assert "[" + "#" * 24 + "] 4/4" in tty.getvalue() and "\r" in tty.getvalue()
    assert plain.getvalue().splitlines() == ["reportgen: writing (4)", "reportgen: wrote x"]
    assert quiet.getvalue() == ""


def test_fixture_tf1_graph_end_to_end(tmp_path):
    logdir = fixture_path("tf1_graph")
    code, paths = build(tmp_path, logdir)
    assert code == 0
    outline = [item.title for item in pypdf.PdfReader(paths["pdf"]).outline if not isinstance(item, list)]
    assert any(title.startswith("Run") for title in outline)
    assert len(paths["md"].read_bytes()) < 1024 * 1024 and b"data:" not in paths["md"].read_bytes()
    msg = email.message_from_bytes(paths["eml"].read_bytes(), policy=email.policy.default)
    assert len(msg.get_body(("html",)).get_content().encode()) < 102 * 1024


def test_report_url_is_linked_from_email_and_markdown_and_checked(tmp_path, capsys):
    write_diverging_run(tmp_path / "logs")
    url = "https://github.com/org/repo/actions/runs/42"
    code, paths = build(tmp_path, tmp_path / "logs", "--report-url", url)
    assert code == 0
    msg = email.message_from_bytes(paths["eml"].read_bytes(), policy=email.policy.default)
    assert f'href="{url}"' in msg.get_body(("html",)).get_content() and url in msg.get_body(("plain",)).get_content()
    assert f"]({url})" in paths["md"].read_text()
    assert cli.main(["build", str(tmp_path / "logs"), "-o", str(tmp_path / "x.md"),
                     "--report-url", "javascript:alert(1)"]) == cli.EXIT_USAGE
    assert "--report-url" in capsys.readouterr().err


def test_the_bar_counts_the_charts_found_while_drawing(tmp_path):
    """The overview of a run's layers waits for the diagnosis: its chart is found while the
    others are drawn, and the bar's total grows by it (it showed 73/72)."""
    write_diverging_run(tmp_path / "logs")
    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    phases: list[tuple[str, int]] = []

    def record(name: str, total: int = 0) -> None:
        phases.append((name, total))
        progress(name, total)

    build_report(load([str(tmp_path / "logs")]), Options(), progress=record, advance=progress.advance)
    drawing = [total for name, total in phases if name == DRAWING]
    assert len(drawing) == 2 and drawing[1] > drawing[0]  # the overview, found on the way
    bars = re.findall(r"\] (\d+)/(\d+) ", stream.getvalue())
    assert bars and all(int(done) <= int(total) for done, total in bars)
    assert bars[-1][0] == bars[-1][1] == str(drawing[1])


def test_a_phase_named_again_keeps_its_count_and_takes_the_new_total():
    stream = io.StringIO()
    progress = Progress(stream, tty=True, verbose=True)
    progress.phase("drawing", 4)
    progress.advance("a")
    progress.advance("b")
    progress.phase("drawing", 5)
    progress.advance("c")
    assert stream.getvalue().endswith("[##############----------] 3/5 c")
    assert "took" not in stream.getvalue()  # the phase did not end
