"""The one registry of report formats: built-in and plugin formats alike, documented, fail closed.

In the manner of datasette's documentation tests: every registered format has a docstring
saying what it writes, the README lists exactly the registered formats, and the CLI offers
exactly them (plugin formats included).
"""

from __future__ import annotations

import ast
import inspect
import io
import pkgutil
import re
import sys
from importlib import metadata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import hegui.cli as cli
import hegui.reports
from hegui.cli import main
from hegui.facts.read import read_filing
from hegui.plugins.manager import PluginError, build_registry
from hegui.reports import (
    BUILTIN_REPORTERS,
    FilingOutcome,
    FormatNameTaken,
    ReportContext,
    Reporter,
    Reporters,
    reporters_for,
)

REPO = Path(__file__).resolve().parent.parent
BUILTIN_NAMES = ("text", "json", "jsonl", "sarif", "junit", "html", "xlsx")

TSV_PLUGIN = (
    "from hegui.plugins.hookspecs import hookimpl\n"
    "def render(outcomes, ruleset):\n"
    "    '''Tab-separated: one line per filing, its path and number of findings.'''\n"
    "    return ''.join(f'{o.path}\\t{len(o.findings)}\\n' for o in outcomes)\n"
    "@hookimpl\ndef hegui_register_reporters(register):\n    register('{name}', render)\n"
)


@pytest.fixture(autouse=True)
def _fresh_cli_registry(monkeypatch):
    monkeypatch.setattr(cli, "_REGISTRY", None)


def _fake_plugins(monkeypatch, tmp_path, sources: dict[str, str]) -> None:
    """Install modules as the only 'hegui' entry points, for this test only."""
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
        sys.modules.pop(name, None)
    monkeypatch.syspath_prepend(str(tmp_path))
    points = [metadata.EntryPoint(name=name, value=name, group="hegui") for name in sources]
    monkeypatch.setattr("hegui.plugins.manager.metadata.entry_points", lambda group: points if group == "hegui" else [])


def _tsv(name: str) -> str:
    return TSV_PLUGIN.replace("{name}", name)


# --- documentation ---------------------------------------------------------------------------------


def test_every_registered_reporter_says_what_it_writes(monkeypatch, tmp_path):
    _fake_plugins(monkeypatch, tmp_path, {"tsv_reporter": _tsv("tsv")})
    reporters = reporters_for(build_registry())
    assert reporters.names() == (*BUILTIN_NAMES, "tsv")
    for reporter in reporters:
        doc = inspect.getdoc(reporter.render) or ""
        assert len(doc) > 40, f"format {reporter.name}: render() has no docstring describing its output"
        assert reporter.description and reporter.description in doc.replace("\n", " ")
    assert reporters.get("tsv").description.startswith("Tab-separated")
    assert reporters.get("tsv").origin == "tsv_reporter" and not reporters.get("tsv").builtin


def test_one_module_per_built_in_format_and_each_is_registered():
    modules = {
        info.name
        for info in pkgutil.iter_modules(hegui.reports.__path__)
        if info.name not in ("common", "outcome", "source", "jsonstream")
    }
    assert modules - {"registry"} == set(BUILTIN_NAMES)
    for reporter in BUILTIN_REPORTERS:
        assert reporter.builtin
        assert reporter.render.__module__ == f"hegui.reports.{reporter.name}"
        module = sys.modules[reporter.render.__module__]
        assert module.REPORTER is reporter
        assert len(inspect.getdoc(module) or "") > 30, f"hegui.reports.{reporter.name} has no module docstring"


def _readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_lists_exactly_the_registered_formats():
    section = _readme().split("### Report formats", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9_-]+)` \| `([^`]+)` \|", section, flags=re.M)
    reporters = reporters_for()
    assert [name for name, _ in rows] == list(reporters.names())
    assert dict(rows) == {r.name: r.media_type for r in reporters}
    synopsis = re.search(r"hegui check FILE_OR_DIR\.\.\. \[--format ([a-z|]+)\]", _readme())
    assert synopsis is not None and tuple(synopsis.group(1).split("|")) == reporters.names()


# --- the registry ------------------------------------------------------------------------------------


def test_registering_a_taken_name_is_refused():
    reporters = reporters_for()

    def render(outcomes, context):
        """Nothing."""
        return ""

    with pytest.raises(FormatNameTaken, match="报告格式名“html”已被内置格式占用"):
        reporters.register(Reporter("html", "text/html", ".html", False, render, origin="someone"))
    reporters.register(Reporter("csv", "text/csv", ".csv", False, render, origin="a"))
    with pytest.raises(FormatNameTaken, match="报告格式名“csv”已由插件“a”注册"):
        reporters.register(Reporter("csv", "text/csv", ".csv", False, render, origin="b"))
    assert reporters.get("html").builtin and reporters.get("csv").origin == "a"


def test_each_format_renders_what_it_declares(evaluator, ruleset, example_path):
    filing = read_filing(example_path)
    result = evaluator.check(filing)
    outcome = FilingOutcome(str(example_path), filing, result.findings, jurisdiction=result.jurisdiction)
    context = ReportContext(ruleset)
    for reporter in reporters_for():
        output = reporter.render([outcome], context)
        assert isinstance(output, bytes) == reporter.binary, reporter.name
        assert reporter.suffix.startswith(".") and "/" in reporter.media_type
    workbook = reporters_for().render("xlsx", [outcome], context)
    assert isinstance(workbook, bytes)
    assert openpyxl.load_workbook(io.BytesIO(workbook)).sheetnames[0] == "检查结果"


# --- plugins join the same registry ------------------------------------------------------------------


def test_plugin_format_is_offered_by_the_cli_and_listed_in_its_help(monkeypatch, tmp_path, example_path):
    _fake_plugins(monkeypatch, tmp_path, {"tsv_reporter": _tsv("tsv")})
    help_text = CliRunner().invoke(main, ["check", "--help"]).output
    assert "[text|json|jsonl|sarif|junit|html|xlsx|tsv]" in help_text
    result = CliRunner().invoke(main, ["check", "--format", "tsv", str(example_path)])
    assert result.exit_code == 1 and result.output == f"{example_path}\t79\n"


def test_unknown_format_lists_every_registered_one(monkeypatch, tmp_path, example_path):
    _fake_plugins(monkeypatch, tmp_path, {"tsv_reporter": _tsv("tsv")})
    result = CliRunner().invoke(main, ["check", "--format", "xml", str(example_path)])
    assert result.exit_code == 2
    assert "未知的输出格式“xml”；可用：text、json、jsonl、sarif、junit、html、xlsx、tsv" in result.output


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_plugin_format_taking_a_built_in_name_stops_the_run(monkeypatch, tmp_path, example_path, name):
    _fake_plugins(monkeypatch, tmp_path, {"thief": _tsv(name)})
    with pytest.raises(PluginError) as caught:
        reporters_for(build_registry())
    assert (caught.value.plugin, caught.value.hook) == ("thief", "hegui_register_reporters")
    assert f"报告格式名“{name}”已被内置格式占用" in str(caught.value)
    for args in (["check", str(example_path)], ["check", "--format", name, str(example_path)], ["plugins"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, args
        assert "插件“thief”" in result.output and f"报告格式名“{name}”已被内置格式占用" in result.output
        assert "ZZ-ZCDY-001" not in result.output  # nothing was checked


def test_two_plugins_with_one_format_name_stop_the_run(monkeypatch, tmp_path, example_path):
    _fake_plugins(monkeypatch, tmp_path, {"first_tsv": _tsv("tsv"), "second_tsv": _tsv("tsv")})
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert caught.value.plugin == "second_tsv" and "已由插件“first_tsv”注册" in str(caught.value)
    result = CliRunner().invoke(main, ["check", "--format", "tsv", str(example_path)])
    assert result.exit_code == 2 and "second_tsv" in result.output and "first_tsv" in result.output


def test_a_plugin_registry_adds_to_a_fresh_copy_of_the_built_ins(monkeypatch, tmp_path):
    _fake_plugins(monkeypatch, tmp_path, {"tsv_reporter": _tsv("tsv")})
    with_plugin = reporters_for(build_registry())
    assert "tsv" in with_plugin and "tsv" not in reporters_for()
    assert isinstance(with_plugin, Reporters) and len(with_plugin) == len(BUILTIN_NAMES) + 1


# --- layering ---------------------------------------------------------------------------------------

#: Applications that still live in engine/ until they move out (they may use reports).
ENGINE_APPLICATIONS = {"batch.py", "service.py"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["facts", "engine", "plugins"])
def test_lower_layers_never_import_reports(folder):
    for path in sorted((REPO / folder).glob("*.py")):
        if folder == "engine" and path.name in ENGINE_APPLICATIONS:
            continue
        bad = [m for m in _imported_modules(path) if m == "hegui.reports" or m.startswith("hegui.reports.")]
        assert not bad, f"{folder}/{path.name} imports {bad}: reports sit above the engine and plugins"
