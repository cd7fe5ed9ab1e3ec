"""The command line as users and CI meet it: exit codes, one-line errors, outputs, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reportgen.cli import main
from reportgen.config import Options
from reportgen.reading.loader import load
from tools.eventwriter import EventWriter

REPO = Path(__file__).resolve().parents[2]


def small_logs(root: Path) -> Path:
    rng = np.random.default_rng(1)
    for run, drift in (("good", 0.05), ("other", 0.0)):
        with EventWriter(str(root / run), wall_time=100.0, hostname="t") as writer:
            w = rng.uniform(-0.2, 0.2, 2000)
            for step in range(8):
                w = w + rng.normal(0, drift, w.size)
                writer.add_histogram("fc1.weight", w, step)
                writer.add_histogram("relu1", np.maximum(rng.normal(0, 1, 1000), 0), step)
                writer.add_scalar("loss", 2.0 * 0.7**step, step)
    return root


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=REPO, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["build", "/no/such/dir", "-o", "{tmp}/r.json"], "no such file or directory"),
    (["build", "{tmp}/empty", "-o", "{tmp}/r.json"], "no event files"),
    (["build", "{logs}", "-o", "{tmp}/missing/r.json"], "does not exist"),
    (["build", "{logs}", "-o", "{tmp}/r.docx"], "cannot tell the format"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--tag", "("], "bad regular expression"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--max-steps", "1"], "max-steps"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--max-runs", "1"], "2 runs, more than --max-runs 1"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--max-bytes", "1K"], "more than --max-bytes 1.0 KB"),
    (["inspect", "{logs}", "--max-bytes", "lots"], "not a size"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--run", "nothing"], "no run matches --run 'nothing'"),
    (["build", "{logs}", "-o", "{tmp}/r.json", "--tag", "nomatch"], "no tag matches --tag 'nomatch'"),
    (["build", "{tmp}/garbage", "-o", "{tmp}/r.json"], "is not an event file"),
    (["build", "README.md", "-o", "{tmp}/r.json"], "README.md is not an event file"),
    (["build", "{tmp}/header_only", "-o", "{tmp}/r.json"], "holds no values (only the header)"),
    (["build", "{logs}"], "required"),
    (["inspect"], "required"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, args, message):
    """Among them, input with nothing to report: a 5 KB garbage file named like an event file,
    a README given as the logdir, a --tag that matches nothing, files that hold only their header.
    A report would say "healthy" of them, and a CI job would email a green report."""
    monkeypatch.chdir(REPO)
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "events.out.tfevents.1.host").write_bytes(np.random.default_rng(0).bytes(5000))
    EventWriter(str(tmp_path / "header_only"), wall_time=1.0, hostname="t").close()
    logs = small_logs(tmp_path / "logs")
    argv = [a.format(tmp=tmp_path, logs=logs) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0], err
    assert errors == err.splitlines()[-1:]  # the error is the last word; before it only progress lines


def test_a_full_temporary_folder_is_one_line_and_exit_2_and_other_outputs_need_none(tmp_path, capsys, monkeypatch):
    """The PDF is laid out into a temporary file (a sweep's is hundreds of MB): when there is no
    room for it the build says so in one line; a JSON build never asks for one."""
    import tempfile

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    logs = small_logs(tmp_path / "logs")
    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    assert main(["build", str(logs), "-o", str(tmp_path / "r.pdf"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and err.splitlines()[-1].endswith("No space left on device"), err
    assert not (tmp_path / "r.pdf").exists()
    assert main(["build", str(logs), "-o", str(tmp_path / "r.json"), "-q"]) == 0


def test_config_errors_are_one_line(tmp_path, capsys):
    logs = small_logs(tmp_path / "logs")
    bad = tmp_path / "bad.toml"
    bad.write_text("max_steps = 'many'\n")
    assert main(["build", str(logs), "-o", str(tmp_path / "r.json"), "--config", str(bad)]) == 2
    assert "max_steps" in capsys.readouterr().err


def test_build_writes_every_requested_output_and_the_json_inventory(tmp_path):
    logs = small_logs(tmp_path / "logs")
    out = [tmp_path / "r.json", tmp_path / "r.html", tmp_path / "r.pdf"]
    result = run_cli("build", str(logs), *sum((["-o", str(p)] for p in out), []))
    assert result.returncode == 0, result.stderr
    assert out[2].read_bytes().startswith(b"%PDF")
    assert b"<html" in out[1].read_bytes()[:500]
    report = json.loads(out[0].read_text())
    runs = {r["name"]: r for r in report["runs"]}
    assert set(runs) == {"good", "other"}
    hist = {h["tag"]: h for h in runs["good"]["histograms"]}
    assert hist["fc1.weight"] == {"tag": "fc1.weight", "steps": 8, "events": 8, "first_step": 0, "last_step": 7}
    assert [(s["tag"], s["role"]) for s in runs["good"]["scalars"]] == [("loss", "objective")]
    assert isinstance(report["findings"], list)


def test_fail_on_exits_1_after_writing_outputs(tmp_path):
    logs = small_logs(tmp_path / "logs")
    # relu1 is half zeros and 'other' never moves: at least an info finding exists; force a
    # critical one with a NaN scalar.
    with EventWriter(str(logs / "good"), wall_time=500.0, hostname="u", filename_suffix=".nan") as writer:
        writer.add_scalar("loss", float("nan"), 8)
    out = tmp_path / "r.json"
    result = run_cli("build", str(logs), "-o", str(out), "--fail-on", "critical")
    assert result.returncode == 1, result.stderr
    findings = json.loads(out.read_text())["findings"]
    assert any(f["severity"] == "critical" for f in findings)
    healthy = run_cli("build", str(logs), "-o", str(out), "--fail-on", "critical", "--run", "^other$")
    assert healthy.returncode == 0, healthy.stderr


def test_same_logs_give_the_same_json_and_html(tmp_path):
    logs = small_logs(tmp_path / "logs")
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    outputs = []
    for attempt in range(2):
        (tmp_path / str(attempt)).mkdir()
        paths = [tmp_path / str(attempt) / "r.json", tmp_path / str(attempt) / "r.html"]
        result = run_cli("build", str(logs), "-o", str(paths[0]), "-o", str(paths[1]), "-q", env=env)
        assert result.returncode == 0, result.stderr
        outputs.append([p.read_bytes() for p in paths])
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0][0])["generated_at"] == "2023-11-14T22:13:20Z"


def test_inspect_lists_runs_tags_steps_and_warnings(tmp_path):
    logs = small_logs(tmp_path / "logs")
    (logs / "good" / "events.out.tfevents.0.junk").write_bytes(b"junk" * 10)
    result = run_cli("inspect", str(logs), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    good = next(r for r in data["runs"] if r["name"] == "good")
    tags = {t["tag"]: t for t in good["tags"]}
    assert tags["fc1.weight"]["kind"] == "histogram" and tags["fc1.weight"]["steps"] == 8
    assert tags["loss"]["kind"] == "scalar" and (tags["loss"]["first_step"], tags["loss"]["last_step"]) == (0, 7)
    assert any("junk" in w for w in good["warnings"])


def test_limits_let_through_logs_within_them_and_read_only_the_chosen_runs(tmp_path, capsys):
    logs = small_logs(tmp_path / "logs")
    size = sum(f.stat().st_size for f in logs.rglob("*tfevents*"))
    assert main(["build", str(logs), "-o", str(tmp_path / "r.json"), "--max-runs", "2", "--max-bytes", str(size)]) == 0
    # Over the byte limit with both runs, within it once --run leaves one out: the other is never read.
    (logs / "other" / "events.out.tfevents.9.broken").write_bytes(b"\xff" * 64)
    good = sum(f.stat().st_size for f in (logs / "good").glob("*tfevents*"))
    assert main(["inspect", str(logs), "--json", "--run", "^good$", "--max-runs", "1", "--max-bytes", str(good)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in data["runs"]] == ["good"] and data["runs"][0]["warnings"] == []


def test_limits_from_the_config_file(tmp_path, capsys):
    logs = small_logs(tmp_path / "logs")
    (tmp_path / "pyproject.toml").write_text('[tool.reportgen]\nmax_bytes = "1K"\n')
    assert main(["inspect", str(logs)]) == 2
    assert "more than --max-bytes 1.0 KB" in capsys.readouterr().err


def test_version_and_help_explain_every_option():
    assert run_cli("--version").stdout.startswith("reportgen ")
    text = run_cli("build", "--help").stdout
    for option in ("--output", "--format", "--title", "--run", "--tag", "--max-steps", "--mode", "--page-size",
                   "--fail-on", "--config", "--max-runs", "--max-bytes"):
        assert option in text


def test_compact_charts_are_said_in_the_report(tmp_path):
    logs = small_logs(tmp_path / "logs")
    out = tmp_path / "r.html"
    assert main(["build", str(logs), "-o", str(out), "--charts", "compact", "-q"]) == 0
    html = out.read_text()
    assert "--charts full" in html  # the reader is told what is left out and how to get it
    assert 'data-kind="offset"' not in html and 'data-kind="heatmap"' not in html
    assert 'data-kind="distribution"' in html and 'data-kind="scalar"' in html


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`reportgen inspect LOGDIR | head -1`: the pipe closes while inspect still prints."""
    logs = small_logs(tmp_path)
    with EventWriter(str(logs / "many_tags"), wall_time=1.0, hostname="t") as writer:
        for i in range(3000):  # ~250 KB of listing: more than a pipe holds, so a write must fail
            writer.add_scalar(f"metric/{i:04d}", 1.0, 0)
    proc = subprocess.Popen([sys.executable, "-m", "reportgen", "inspect", str(logs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err and err == ""


def test_the_command_exits_without_teardown_but_flushes_and_runs_the_exit_handlers():
    """`entry` ends the process with os._exit (cli.exit_without_teardown): what a piped stdout
    still holds reaches the reader, atexit handlers run, and the status is the command's."""
    code = ("import atexit, sys\n"
            "from reportgen.cli import exit_without_teardown\n"
            "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
            "for _ in range(2000): print('x' * 99)\n"
            "exit_without_teardown(3)\n")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env=buffered)
    assert (done.returncode, len(done.stdout), done.stderr) == (3, 200_000, "handler ran\n")


def test_steps_are_counted_as_tensorboard_shows_them(tmp_path, capsys):
    """Lightning's `epoch` tag: one value per step, and the same step again at each epoch's end."""
    with EventWriter(str(tmp_path / "run"), wall_time=1.0, hostname="t") as writer:
        for step in range(10):
            writer.add_scalar("epoch", step // 5, step)
        writer.add_scalar("epoch", 1, 9)  # the last step logged twice
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    [tag] = json.loads(capsys.readouterr().out)["runs"][0]["tags"]
    assert (tag["steps"], tag["events"]) == (10, 11)
    assert main(["inspect", str(tmp_path)]) == 0
    assert "10 steps  0..9  (1 repeated)" in capsys.readouterr().out


def test_outputs_without_images_draw_no_chart_and_say_the_same():
    """JSON, JUnit and Markdown show no image, so a build of only those draws none (a 60-run
    sweep took 90 s to JSON, drawing 800 charts nobody saw); what they list of the charts
    (titles, alt texts) is the same as in a build that draws them."""
    from reportgen import pipeline

    logs = load([str(REPO / "sample_logs")])
    charts = lambda report: [*(c for run in report.runs for layer in run.layers for c in layer.charts),
                             *(c for run in report.runs for c in [*run.scalar_charts, run.overview, run.trend] if c),
                             *report.comparison_charts, *report.sweep_charts]
    drawn, described = [], []
    for options in (Options(), Options(charts="compact")):  # the compact set has the layer rows
        drawn += charts(pipeline.build(logs, options))
        described += charts(pipeline.build(logs, options, pixels=False))
    assert {c.kind for c in drawn} >= {"layer", "offset", "distribution", "scalar", "overview", "compare"}
    assert [(c.kind, c.title, c.alt, c.error) for c in described] == [(c.kind, c.title, c.alt, c.error) for c in drawn]
    assert all(c.png for c in drawn) and not any(c.png for c in described)



def test_a_build_to_ci_formats_only_encodes_no_image(tmp_path, monkeypatch):
    """The CLI asks for no pixels when no output shows them: with PNG encoding broken, a JSON +
    JUnit + Markdown build still has no chart error, and an HTML build has them all."""
    import reportgen.charts.encode as encode

    def broken(image):
        raise RuntimeError("encoded")

    monkeypatch.setattr(encode, "palette_png", broken)
    logs = str(REPO / "sample_logs")
    ci = [tmp_path / "r.json", tmp_path / "r.junit.xml", tmp_path / "summary.md"]
    assert main(["build", logs, "-q", "--processes", "1", *sum((["-o", str(p)] for p in ci), [])]) == 0
    errors = [c["error"] for run in json.loads(ci[0].read_text())["runs"] for layer in run["layers"]
              for c in layer["charts"]]
    assert errors and not any(errors)
    assert main(["build", logs, "-q", "--processes", "1", "-o", str(ci[0]), "-o", str(tmp_path / "r.html")]) == 0
    errors = [c["error"] for run in json.loads(ci[0].read_text())["runs"] for layer in run["layers"]
              for c in layer["charts"]]
    assert errors and all(e and "encoded" in e for e in errors)
