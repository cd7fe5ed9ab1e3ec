"""The templates' compiled code, kept on disk between builds (templating._TemplateCache)."""

from __future__ import annotations

import tempfile

import pytest

from reportgen.outputs import templating


@pytest.fixture
def templates(tmp_path, monkeypatch):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "t.html").write_text("A {{ x }}")
    monkeypatch.setattr(templating, "templates_dir", lambda: str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


def _not_compiled(*args, **kwargs):
    raise AssertionError("compiled again")


def test_a_template_compiled_once_is_loaded_from_the_cache_until_it_changes(templates):
    assert templating._environment("html").get_template("t.html").render(x=1) == "A 1"
    cached = templating._environment("html")
    cached.compile = _not_compiled  # type: ignore[method-assign]
    assert cached.get_template("t.html").render(x=1) == "A 1"
    (templates / "t.html").write_text("B {{ x }}")
    assert templating._environment("html").get_template("t.html").render(x=1) == "B 1"


def test_each_environment_has_its_own_cache_as_escaping_is_compiled_in(templates):
    (templates / "t.html").write_text("{{ x }}")
    assert templating._environment("html", autoescape=True).get_template("t.html").render(x="<b>") == "&lt;b&gt;"
    assert templating._environment("text", autoescape=False).get_template("t.html").render(x="<b>") == "<b>"


def test_templates_render_when_the_cache_cannot_be_made_or_written(templates, tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "a-file"))  # no folder can be made under a file
    assert templating._environment("html").get_template("t.html").render(x=1) == "A 1"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    assert templating._environment("html").get_template("t.html").render(x=1) == "A 1"


def test_no_cache_is_made_in_a_relative_folder(templates, tmp_path, monkeypatch):
    """A relative XDG_CACHE_HOME is ignored (the XDG spec), and without a home of its own the
    command makes no folder named "~" where it runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert templating.template_cache_dir() == str(tmp_path / "home" / ".cache" / "reportgen" /
                                                  f"templates-jinja{templating.jinja2.__version__}")
    monkeypatch.setattr(templating.os.path, "expanduser", lambda path: path)  # no home: "~" stays "~"
    assert templating.template_cache_dir() is None
    assert templating._environment("html").get_template("t.html").render(x=1) == "A 1"
    assert not (tmp_path / "~").exists() and not (tmp_path / "relative").exists()
