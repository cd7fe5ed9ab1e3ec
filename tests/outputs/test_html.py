"""The single-file HTML report, read back with html.parser as a browser would see it."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from reportgen.outputs import html
from tests.outputs.factory import HOSTILE_TAG, finding, make_report, with_weight_series


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]

    @property
    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.elements if attrs.get("id")}


@pytest.fixture(scope="module")
def page() -> Page:
    return Page(html.render(make_report()).decode("utf-8"))


def test_no_script_and_no_network_reference(page):
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    for name, attrs in page.elements:
        for attr in ("src", "href", "srcset", "action", "poster", "data"):
            value = attrs.get(attr)
            if value is not None:
                assert value.startswith(("#", "data:image/png;base64,")), (name, attr, value[:60])
        assert not any(a.startswith("on") for a in attrs), (name, attrs)
    css = "".join(page.styles)
    assert "@import" not in css and not re.search(r"url\(", css)


def test_every_chart_is_a_figure_with_run_tag_kind_and_an_embedded_image(page):
    report = make_report()
    expected = [(c.run, c.tag, c.kind) for run in report.runs for layer in run.layers for c in layer.charts]
    expected += [(c.run, c.tag, c.kind) for run in report.runs for c in run.scalar_charts]
    expected += [(c.run, c.tag, c.kind) for c in report.comparison_charts]
    figures = page.all("figure")
    assert sorted((f["data-run"], f["data-tag"], f["data-kind"]) for f in figures) == sorted(expected)
    images = page.all("img")
    assert len(images) == len(expected)
    assert all(i["src"].startswith("data:image/png;base64,") and i["alt"] for i in images)


def test_hostile_tag_is_text_not_markup(page):
    raw = html.render(make_report()).decode("utf-8")
    assert HOSTILE_TAG not in raw  # only ever escaped
    assert any(HOSTILE_TAG in t for t in page.text)  # and readable as text
    assert all(attrs.get("src", "").startswith("data:") for attrs in page.all("img"))
    assert any(f["data-tag"].startswith(HOSTILE_TAG) for f in page.all("figure"))


def test_every_in_page_link_has_a_target(page):
    links = [a["href"][1:] for a in page.all("a") if a.get("href", "").startswith("#")]
    assert links and set(links) <= page.ids


def test_summary_gives_each_run_one_line_and_its_summary_only_once():
    """Answer first, once: the summary names each run with its verdict and worst finding and links
    to the run's page, where the run's summary is printed (not a second time here)."""
    report = make_report()
    doc = html.render(report).decode("utf-8")
    summary = doc[doc.index('id="summary"'):doc.index('id="contents"')]
    for run in report.runs:
        assert f'href="#{run.anchor}">{run.name}</a>' in summary
        assert doc.count(run.summary) == 1 and run.summary not in summary
    assert "dense1: dead units and 2 more" in summary


def test_structure_has_metadata_summary_toc_how_to_read_and_appendix(page):
    assert {"summary", "contents", "comparison", "how-to-read", "appendix"} <= page.ids
    text = " ".join(page.text)
    for needle in ("/logs", "Steps", "0–90", "Wall clock", "1 h 02 min", "2026-01-02T03:04:05Z",
                   "Lower the learning rate.", "not an event file", "1 record with a bad CRC skipped"):
        assert needle in text, needle
    assert "Each slice is one step" in text  # how_to_read text from the report


def test_comparison_table_lists_every_run_with_its_main_metric_and_worst_finding():
    """The metric that says how training went (reward or eval metric when the loss is a
    surrogate), not a "final loss"; the comparison comes after the run pages."""
    report = make_report()
    report.runs[0].main_metric, report.runs[1].main_metric = "reward 0.14 (best 0.2)", "reward 0.23"
    doc = html.render(report).decode("utf-8")
    table = doc[doc.index('id="comparison"'):doc.index("</table>", doc.index('id="comparison"'))]
    rows = Page(table).all("tr")
    assert len(rows) == 3  # header + 2 runs
    assert "reward 0.14 (best 0.2)" in table and "reward 0.23" in table and "dense1</a>: dead units" in table
    assert doc.index('id="comparison"') > max(doc.index(f'id="{run.anchor}"') for run in report.runs)


def _layer_table(doc: str) -> str:
    start = doc.index('class="layers-compared"')
    return doc[start:doc.index("</table>", start)]


@pytest.mark.parametrize("runs", [2, html.RUN_COLUMNS, html.RUN_COLUMNS + 1, 30])
def test_the_layer_table_has_a_column_per_run_only_while_they_fit_across_a_page(runs):
    """A column per run up to RUN_COLUMNS; beyond, a row per run (a 250-run PDF cut all but 6
    columns off at the page edge), each row with every layer's cell."""
    report = with_weight_series(make_report(n_runs=runs))
    rows = _layer_table(html.render(report).decode("utf-8")).split("<tr")[1:]
    layers = len(report.runs[0].layers)
    head = rows[0].count("<th")
    if runs <= html.RUN_COLUMNS:
        assert (len(rows), head) == (layers + 1, runs + 1)
    else:
        assert (len(rows), head) == (runs + 1, layers + 1)
        assert all(row.count("<td") == layers + 1 for row in rows[1:])  # the run's cell, then its layers
        assert [run.name in row for run, row in zip(report.runs, rows[1:])] == [True] * runs
        assert [f">{i + 1}.0%" in row for i, row in enumerate(rows[1:])] == [True] * runs  # each its own moves


def test_a_layer_table_of_many_runs_and_layers_is_split_into_tables_of_as_many_layers_as_fit():
    """8 runs of 14 layers: a row per run, and the layers 6 a table (6, 6, 2), each captioned
    with its range; every run in every table, its cells the moves of that table's layers."""
    names = tuple(f"block{k}.conv" for k in range(14))
    report = with_weight_series(make_report(n_runs=8, layer_names=names))
    for i, run in enumerate(report.runs):  # run i's layer k moved 10 (i + 1) + k / 10 % of its spread
        for k, layer in enumerate(run.layers):
            layer.series[0].change = 0.1 * (i + 1) + 0.001 * k
    doc = html.render(report).decode("utf-8")
    starts = [m.start() for m in re.finditer('class="layers-compared"', doc)]
    tables = [doc[a:doc.index("</table>", a)] for a in starts]
    assert len(tables) == 3
    text = re.sub(r"\s+", " ", "".join(Page(doc).text))
    assert all(f"Layers {a}–{b} of 14" in text for a, b in ((1, 6), (7, 12), (13, 14)))
    for t, table in enumerate(tables):
        layers = list(range(6 * t, min(6 * t + 6, 14)))
        rows = table.split("<tr")[1:]
        assert re.findall(r"<code>([^<]*)</code>", rows[0]) == [names[k] for k in layers]
        assert len(rows) == 9
        for i, row in enumerate(rows[1:]):
            assert report.runs[i].name in row
            assert re.findall(r">([0-9.]+)%<", row) == [f"{10 * (i + 1) + k / 10:.1f}" for k in layers]


def test_a_middot_between_words_has_a_space_before_it():
    """"no finding · reward 0.23", not "no finding· reward 0.23": the templates' trimmed blocks
    removed the whitespace before the metric, in the summary table and a run's header."""
    report = make_report()
    report.runs[1].main_metric = "reward 0.23"
    doc = html.render(report).decode("utf-8")
    table = doc[doc.index('class="runs-at-a-glance"'):doc.index("</table>", doc.index('class="runs-at-a-glance"'))]
    text = re.sub(r"\s+", " ", "".join(Page(table).text))
    assert re.search(r"\w · reward 0\.23", text), text
    page = re.sub(r"\s+", " ", "".join(Page(doc).text))  # nor a run page's header, nor anywhere
    assert "reward 0.23" in page and not re.findall(r".{20}\S·", page)


def test_single_run_has_no_comparison_section():
    page = Page(html.render(make_report(n_runs=1)).decode("utf-8"))
    assert "comparison" not in page.ids


def test_findings_show_severity_badges_and_recommendations():
    report = make_report(n_runs=1)
    report.runs[0].layers[0].findings.append(finding("baseline", "dense1", "info", "still_at_init"))
    page = Page(html.render(report).decode("utf-8"))
    badges = [d["class"] for d in page.all("span") if "badge" in (d.get("class") or "")]
    assert any("badge-critical" in b for b in badges) and any("badge-info" in b for b in badges)
    assert len(page.all("ol")) > 2


def test_print_medium_adds_paged_rules_only_for_pdf():
    screen = html.render(make_report()).decode("utf-8")
    printed = html.render(replace(make_report(), page_size="letter"), medium="print").decode("utf-8")
    assert "@page" not in screen.split("@media print")[0] and "bookmark-level" not in screen
    assert "size: letter" in printed and "bookmark-level" in printed


def test_a_sweep_summary_names_the_runs_that_need_a_look_and_counts_the_healthy_ones():
    """A sweep of many runs: the summary lists the runs with findings and counts the healthy
    ones (each keeps its summary in its own section and its row in "Runs compared"); the
    contents list the runs without their layers. Without the compact set, every run is named."""
    report = make_report(n_runs=14)
    for run in report.runs[2:]:
        run.verdict, run.top_findings = "healthy", []
    report.findings = [f for f in report.findings if f.run in ("baseline", "lr=0.1")]
    doc = html.render(replace(report, compact=True)).decode("utf-8")
    summary = doc[doc.index('id="summary"'):doc.index('id="contents"')]
    contents = doc[doc.index('id="contents"'):doc.index('</nav>')]
    assert '">baseline</a>' in summary and '">lr=0.1</a>' in summary
    assert '">run5</a>' not in summary
    assert "The other 12 runs are healthy" in summary
    assert 'href="#run-5"' in contents and 'href="#layer-5-0"' not in contents
    assert f'id="{report.runs[5].anchor}"' in doc and report.runs[5].summary in doc  # still in its section

    full = html.render(report).decode("utf-8")
    summary = full[full.index('id="summary"'):full.index('id="contents"')]
    assert '">run5</a>' in summary and "runs are healthy" not in summary
    assert 'href="#layer-5-0"' in full[full.index('id="contents"'):full.index('</nav>')]


def test_the_appendix_groups_tags_read_alike_and_keeps_apart_those_read_differently():
    from reportgen.report import TagInventory

    report = make_report()
    run = replace(report.runs[0], histograms=[
        TagInventory("a/weights", "histogram", 10, 0, 90), TagInventory("b/weights", "histogram", 10, 0, 90),
        TagInventory("late/weights", "histogram", 5, 50, 90), TagInventory("c/weights", "histogram", 10, 0, 90,
                                                                           events=12)],
        scalars=[TagInventory("loss", "scalar", 10, 0, 90)], other=[])
    rows = html.inventory_rows(run)
    assert [r["tags"] for r in rows] == [["a/weights", "b/weights"], ["late/weights"], ["c/weights"], ["loss"]]
    assert rows[2]["repeated"] == 2 and rows[1]["first_step"] == 50


def test_the_appendix_names_a_file_inside_its_run_folder_by_its_path_there():
    run = replace(make_report().runs[0], path="s3://bucket/logs/run1")
    assert html.file_name(run, "s3://bucket/logs/run1/events.out.tfevents.1") == "events.out.tfevents.1"
    assert html.file_name(run, "s3://bucket/logs/run1/sub/events.out.tfevents.2") == "sub/events.out.tfevents.2"
    assert html.file_name(run, "s3://bucket/logs/run10/events.out.tfevents.3") == (
        "s3://bucket/logs/run10/events.out.tfevents.3")  # another folder whose name starts the same


def test_long_names_may_wrap_between_their_parts_but_never_inside_a_word_or_a_number():
    from reportgen.outputs.templating import breakable

    assert str(breakable("learning_rate")) == "learning_<wbr>rate"
    assert str(breakable("PPO_x_lr=0.0001,num_sgd_iter=30,a.b/c")) == \
        "PPO_<wbr>x_<wbr>lr=0.0001,<wbr>num_<wbr>sgd_<wbr>iter=30,<wbr>a.<wbr>b/<wbr>c"
    assert str(breakable("<b>_")) == "&lt;b&gt;_"  # escaped first; nothing to break after the end


def test_the_page_written_into_a_file_is_the_page_rendered_and_never_one_write_of_all_of_it():
    """html.write (what a build writes) gives render's bytes, in writes of about WRITE_CHARS: a
    sweep's page is never held whole (a 40-run report here, its charts inlined: ~575 KB)."""
    report = with_weight_series(make_report(n_runs=40))

    class Writes:
        def __init__(self):
            self.sizes: list[int] = []
            self.data = bytearray()

        def write(self, chunk: bytes) -> int:
            self.sizes.append(len(chunk))
            self.data += chunk
            return len(chunk)

    out = Writes()
    html.write(report, out)
    assert bytes(out.data) == html.render(report)
    assert len(out.data) > 8 * html.WRITE_CHARS
    assert max(out.sizes) < 2 * html.WRITE_CHARS


def test_an_output_whose_writer_fails_leaves_no_file_behind(tmp_path):
    from reportgen.outputs.atomic import write_atomic

    def failing(stream):
        stream.write(b"half a page")
        raise RuntimeError("the template broke")

    with pytest.raises(RuntimeError):
        write_atomic(str(tmp_path / "report.html"), failing)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("lines", "columns", "expected"), [
    ([3, 3, 2, 1, 1, 1], 2, [[3, 3], [2, 1, 1, 1]]),  # sample_logs' contents: 6 lines and 5
    ([1, 1, 1, 1, 1], 2, [[1, 1, 1], [1, 1]]),  # the first column is the taller, as CSS columns fill
    ([5, 1, 1], 2, [[5], [1, 1]]),
    ([1, 1, 4], 3, [[1, 1], [4], []]),  # every column is there, empty or not
    ([], 2, [[], []]),
    ([2] * 7, 3, [[2, 2, 2], [2, 2, 2], [2]]),  # the height is the least that holds all; then filled in order
])
def test_balanced_columns_keep_the_order_and_make_the_tallest_as_short_as_can_be(lines, columns, expected):
    items = list(range(len(lines)))
    got = html.balanced(items, lines, columns)
    assert [[lines[i] for i in c.entries] for c in got] == expected
    assert [i for c in got for i in c.entries] == items
    assert [c.start for c in got] == [1 + sum(len(c.entries) for c in got[:k]) for k in range(columns)]


def test_print_sets_the_contents_side_by_side_numbered_on_and_the_screen_one_list():
    report = make_report()
    screen = html.toc_columns(report, "screen")
    assert len(screen) == 1 and [e.label for e in screen[0].entries][:1] == ["Summary"]
    columns = html.toc_columns(report, "print")
    assert len(columns) == html.PRINT_COLUMNS
    shown = [e for e in screen[0].entries if not e.above]  # the summary is right above the contents in print
    assert [e for c in columns for e in c.entries] == shown
    text = html.render(report, medium="print").decode("utf-8")
    contents = text[text.index('id="contents"'):text.index("</nav>")]
    second = columns[1].start
    assert contents.count('class="print-columns"') == 1
    # WeasyPrint reads the style, not start
    assert f'<ol start="{second}" style="counter-reset: list-item {second - 1}">' in contents


def test_contents_too_long_for_a_page_stay_one_list_that_css_columns_break_in_order():
    names = tuple(f"block{i}_attention_projection" for i in range(100))  # ~60 lines a run
    report = make_report(n_runs=2, layer_names=names)
    columns = html.toc_columns(report, "print")
    assert len(columns) == 1
    text = html.render(report, medium="print").decode("utf-8")
    assert 'class="print-columns"' not in text[text.index('id="contents"'):text.index("</nav>")]


def test_a_sweeps_contents_stay_one_list_of_runs_in_print():
    report = replace(make_report(), compact=True)
    columns = html.toc_columns(report, "print")
    assert len(columns) == 1 and "Summary" not in [e.label for e in columns[0].entries]
