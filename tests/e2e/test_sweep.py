"""A sweep written by real training (benchmarks/make_sweep.py: a numpy MLP over a learning-rate
x width grid, seeds, hparams through add_hparams and hparams.yaml), read end to end: every run's
hyperparameters, its seed group, and the finding-against-hyperparameter sentence, whose counts
come from the training's own labels (exact zeros in the activations), never from reportgen."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import pytest

from benchmarks.make_sweep import run_name, write_sweep
from reportgen.charts.sweep import log_axis
from reportgen.cli import main
from reportgen.config import Options
from reportgen.outputs import html as html_writer
from reportgen.outputs import jsonreport, markdown
from reportgen.pipeline import analyse, build_report, run_colors
from reportgen.pipeline.plan import sweep_jobs
from reportgen.reading.loader import load
from tests.conftest import write_events

LRS, WIDTHS, SEEDS, STEPS = [0.01, 0.1, 1.0], [8, 16], 2, 120


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("sweep")
    return root, write_sweep(str(root), LRS, WIDTHS, SEEDS, steps=STEPS)


@pytest.fixture(scope="module")
def report(grid):
    root, _ = grid
    logs = load([str(root)])
    return logs, build_report(logs, Options(), analyse(logs), [], [])


def test_every_run_has_its_hyperparameters_from_both_writers(grid, report):
    """The add_hparams `<run>/<time.time()>/` sub-folders are their runs', not runs of their own;
    the records (lr, width, seed) and hparams.yaml (the rest, nested) are one set."""
    _, labels = grid
    logs, _ = report
    assert sorted(run.name for run in logs.runs) == sorted(labels)
    for run in logs.runs:
        label = labels[run.name]
        assert run.hparams == {"lr": label["lr"], "width": label["width"], "seed": label["seed"], "steps": STEPS,
                               "optimizer.name": "sgd", "optimizer.clip_norm": 5.0, "data.n_train": 2048,
                               "data.noise": 0.1}
        assert "hp_metric" in run.scalars and len(run.files) == 2 and not run.warnings


def test_seeds_of_one_setting_are_one_group(grid, report):
    _, labels = grid
    _, built = report
    expected = {(lr, w): sorted(run_name(lr, w, s) for s in range(SEEDS)) for lr in LRS for w in WIDTHS}
    got = {(g.hparams["lr"], g.hparams["width"]): sorted(g.runs) for g in built.sweep.groups}
    assert got == expected
    for group in built.sweep.groups:
        dead = sum(labels[name]["dead_units"] for name in group.runs)
        votes = {v.code: v.runs for v in group.votes}
        assert votes.get("dead_units", 0) == dead
        assert {"train/loss", "val/loss"} <= {b.tag for b in group.bands}


def test_the_dead_units_sentence_counts_what_the_training_did(grid, report):
    _, labels = grid
    _, built = report
    dead = {name for name, label in labels.items() if label["dead_units"]}
    high = [name for name, label in labels.items() if label["lr"] >= 1]
    # What the training did (not reportgen): every run at lr 1 has most activations of a ReLU
    # layer exactly 0 at the end, and no run at a lower learning rate does.
    assert dead == set(high)
    by_code = {c.code: c for c in built.sweep.against}
    low = len(labels) - len(high)
    assert by_code["dead_units"].sentence == (f"dead_units in {len(dead)} of {len(high)} runs with lr >= 1, "
                                              f"in 0 of {low} with lr < 1")
    assert {row.run for row in built.sweep.rows if "dead_units" in row.findings} == dead


def test_the_best_run_is_the_lowest_validation_loss(grid, report):
    _, labels = grid
    _, built = report
    assert built.sweep.metric == "val/loss" and not built.sweep.higher_is_better
    ends = [row.metric_end for row in built.sweep.rows]
    assert ends == sorted(ends)
    # the labels' last val/loss is the metric's last point; the end is the median of its end window
    best = min(labels, key=lambda n: labels[n]["val_loss_last"])
    assert built.sweep.best_run == best


def test_json_and_markdown_hold_the_sweep(grid, report):
    _, labels = grid
    _, built = report
    data = json.loads(jsonreport.render(built))
    assert data["format_version"] == 5
    assert {run["name"]: run["hparams"]["lr"] for run in data["runs"]} == {n: v["lr"] for n, v in labels.items()}
    assert len(data["seed_groups"]) == len(LRS) * len(WIDTHS)
    assert all(set(g) >= {"runs", "hparams", "verdict", "votes"} and "seed" not in g["hparams"]
               for g in data["seed_groups"])
    assert data["sweep"]["varying"] == ["lr", "width", "seed"] and data["sweep"]["constant"]["steps"] == STEPS
    text = markdown.render(built).decode()
    sentence = next(c.sentence for c in built.sweep.against if c.code == "dead_units")
    assert f"- {sentence.replace('_', chr(92) + '_').replace('>', '&gt;').replace('<', '&lt;')}" in text
    section = text[text.index("### Sweep"):text.index("### Full report")]
    rows = [line for line in section.splitlines() if line.startswith("| lr")]
    assert len(rows) == len(labels) + len(LRS) * len(WIDTHS)  # the table's runs, then the groups


class _Table(html.parser.HTMLParser):
    """The sweep table's header and rows as cell texts (only the table with class sweep-table)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._in = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "sweep-table" in (attrs.get("class") or ""):
            self._in = True
        elif self._in and tag == "tr":
            self.rows.append([])
        elif self._in and tag in ("td", "th"):
            self._cell = []
        elif self._in and tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif self._in and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_the_html_sweep_table_is_ranked_and_links_every_run(grid, report):
    """The HTML opens with the sweep: a header per varying hyperparameter, one row per run best
    first (by the labels' val/loss), each linking to its run page, and the dead_units sentence."""
    _, labels = grid
    _, built = report
    page = html_writer.render(built).decode()
    table = _Table()
    table.feed(page)
    header, *rows = table.rows
    assert header[:4] == ["Run", "lr", "width", "seed"] and "val/loss end" in header
    assert sorted(row[0] for row in rows) == sorted(labels)
    assert [float(row[1]) for row in rows] == [labels[row[0]]["lr"] for row in rows]
    assert rows[0][0] == min(labels, key=lambda n: labels[n]["val_loss_last"])
    for href in table.links:
        assert f'id="{href[1:]}"' in page
    assert len(table.links) == len(labels)
    high = sum(label["lr"] >= 1 for label in labels.values())
    dead = sum(bool(label["dead_units"]) for label in labels.values())
    assert f"dead units in {dead} of {high} runs with lr &gt;= 1, in 0 of {len(labels) - high} with lr &lt; 1" in page
    assert page.index('id="sweep"') < page.index(f'id="{table.links[0][1:]}"')


def small_sweep(root: Path, seed_word: str = "s") -> Path:
    """Scalars only, quick to build through the CLI: the seed in the names, config.json beside."""
    for width in (8, 32):
        for seed in (1, 2):
            folder = root / f"w{width}_{seed_word}{seed}"
            write_events(folder, scalars={
                "loss": lambda s, w=width: 1.0 / (s + 1) + 1 / w,
                "val/accuracy": lambda s, w=width, k=seed: 0.5 + w / 100 + k / 1000 + s / 1e4})
            (folder / "config.json").write_text(json.dumps({"model": {"width": width}, "batch": 64}))
    return root


def test_the_cli_sorts_by_a_hyperparameter_then_by_the_metric(tmp_path):
    logs = small_sweep(tmp_path / "logs")
    out = tmp_path / "r.json"
    assert main(["build", str(logs), "-o", str(out), "-q", "--sort", "model.width"]) == 0
    sweep = json.loads(out.read_text())["sweep"]
    assert sweep["metric"] == "val/accuracy" and sweep["higher_is_better"] and sweep["sort"] == "model.width"
    assert [r["run"] for r in sweep["rows"]] == ["w8_s2", "w8_s1", "w32_s2", "w32_s1"]
    assert sweep["best_run"] == "w32_s2" and sweep["constant"] == {"batch": 64}


def test_the_seed_pattern_from_the_config(tmp_path):
    logs = small_sweep(tmp_path / "logs", seed_word="rep")
    out = tmp_path / "r.json"
    assert main(["build", str(logs), "-o", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["seed_groups"] == []  # `_rep1` is no seed by default
    (logs / "pyproject.toml").write_text('[tool.reportgen]\nseed-pattern = "_rep\\\\d+$"\n')
    assert main(["build", str(logs), "-o", str(out), "-q"]) == 0
    groups = json.loads(out.read_text())["seed_groups"]
    assert [(g["name"], g["runs"], g["seeds"]) for g in groups] == [("w32", ["w32_rep1", "w32_rep2"], ["1", "2"]),
                                                                    ("w8", ["w8_rep1", "w8_rep2"], ["1", "2"])]


@pytest.mark.parametrize("args, message", [
    (["--sort", "momentum"], "--sort 'momentum' is neither a scalar tag nor a hyperparameter"),
    (["--seed-pattern", "(seed"], "bad regular expression '(seed'"),
])
def test_a_bad_sweep_option_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    logs = small_sweep(tmp_path / "logs")
    assert main(["build", str(logs), "-o", str(tmp_path / "r.json"), "-q", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and not (tmp_path / "r.json").exists()


def test_the_sweep_charts_plot_the_metric_against_each_setting_and_each_seed_group(grid, report):
    """One `against` chart per varying numeric hyperparameter but the seed (lr on a log axis: the
    grid spans 100x; width linear), one band per seed group, each band over the group's runs."""
    _, labels = grid
    _, built = report
    jobs = sweep_jobs(built.sweep, run_colors(report[0]))
    against = {job.tag: job.data for job in jobs if job.kind == "against"}
    assert sorted(against) == ["lr", "width"]
    assert log_axis(against["lr"].values) and not log_axis(against["width"].values)
    assert sorted(against["lr"].values) == sorted(label["lr"] for label in labels.values())
    bands = [job for job in jobs if job.kind == "seeds"]
    assert sorted(job.run for job in bands) == sorted(g.name for g in built.sweep.groups)
    for job in bands:
        assert job.tag == "val/loss" and len(job.runs) == SEEDS
        assert (job.data.low <= job.data.mean + 1e-12).all() and (job.data.mean <= job.data.high + 1e-12).all()


def test_the_built_html_shows_the_sweep_charts(tmp_path):
    logs = small_sweep(tmp_path / "logs")
    out = tmp_path / "r.html"
    assert main(["build", str(logs), "-o", str(out), "-q"]) == 0
    page = out.read_text()
    sweep = page[page.index('id="sweep"'):page.index("</section>", page.index('id="sweep"'))]
    assert sweep.count("chart-against") == 1  # model.width; the seed is not a setting to plot
    assert sweep.count("chart-seeds") == 2  # w8 and w32
    assert "val/accuracy at the end against model.width, mean per value: 8: " in sweep
    assert "How to read it: The sweep" in sweep and "How to read it: One setting of a sweep" in sweep
