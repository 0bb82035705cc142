"""District plugins: discovery, precedence, fail-closed loading, and faults contained to a filing."""

from __future__ import annotations

import inspect
import json
import sys
from importlib import metadata

import pytest
from click.testing import CliRunner

import hegui.cli as cli
from hegui.cli import main
from hegui.engine.evaluate import Evaluator
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.plugins import hookspecs
from hegui.plugins.manager import HOOKS, PluginError, build_registry, load_registered_rules


@pytest.fixture(autouse=True)
def _fresh_cli_registry(monkeypatch):
    monkeypatch.setattr(cli, "_REGISTRY", None)


def test_every_hook_and_argument_is_documented():
    specs = {name: getattr(hookspecs, name) for name in dir(hookspecs) if name.startswith("hegui_")}
    assert sorted(specs) == sorted(HOOKS)
    for name, spec in specs.items():
        doc = inspect.getdoc(spec) or ""
        assert len(doc) > 80, f"{name} has no real docstring"
        for argument in inspect.signature(spec).parameters:
            assert argument in doc, f"{name}: argument {argument} is not documented"
        assert "register(" in doc, f"{name}: the docstring must show how to call register"


def test_example_district_package_is_discovered():
    names = {ep.name: ep for ep in metadata.entry_points(group="hegui")}
    assert "hetang" in names, "examples/hegui-hetang-example must be installed (see the README's test command)"
    registry = build_registry()
    info = next(p for p in registry.plugins if p.name == "hetang")
    assert (info.distribution, info.version, info.builtin) == ("hegui-hetang-example", "0.1.0", False)
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0
    assert (
        "hetang" in result.output and "hegui-hetang-example 0.1.0" in result.output and "地区：荷塘区" in result.output
    )


def _hetang_filing(mutate, tmp_path):
    text = mutate(
        {
            16: "\t荷塘区委组织部",
            429: "\t社区服务群众专项经费",
            433: "\t全区15个社区，每个社区1.8万元",
        }
    )
    path = tmp_path / "hetang.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full_checker():
    registry = build_registry()
    return Evaluator(load_registered_rules(registry), registry)


def test_district_rule_fires_only_for_its_district(full_checker, mutate, tmp_path):
    hetang = full_checker.check(read_filing(_hetang_filing(mutate, tmp_path)))
    assert hetang.jurisdiction == ["荷塘区", "株洲市", "湖南省", "全国"]
    fired = [f for f in hetang.findings if f.rule_id == "HT-SQFW-001"]
    assert [f.item for f in fired] == ["社区服务群众专项经费"]
    assert "30.00万元" in fired[0].message
    # The same line in a 石峰区 filing: the 荷塘区 rule does not apply, and 石峰区's rules do.
    shifeng_path = tmp_path / "shifeng.txt"
    shifeng_path.write_text(
        mutate({429: "\t社区服务群众专项经费", 433: "\t全区15个社区，每个社区1.8万元"}), encoding="utf-8"
    )
    shifeng = full_checker.check(read_filing(shifeng_path))
    assert not [f for f in shifeng.findings if f.rule_id == "HT-SQFW-001"]
    assert not [f for f in hetang.findings if f.rule_id.startswith("SF-")]
    assert [f for f in shifeng.findings if f.rule_id.startswith("SF-")]


def test_nearest_jurisdiction_decides_a_parameter(full_checker, mutate, tmp_path):
    # The filing states 2000元/人/月; 荷塘区 sets 2500: for a 荷塘区 filing the stated rate
    # disagrees with the nearest jurisdiction's rate, for a 石峰区 filing (株洲市's 2000) it agrees.
    hetang = full_checker.check(read_filing(_hetang_filing(mutate, tmp_path)), explain=True)
    tree = next(f.explanation for f in hetang.findings if f.rule_id == "ZZ-ZCDY-002")
    params = {p["name"]: p for p in tree["parameters"]}
    assert (params["驻村交通费标准"]["value"], params["驻村交通费标准"]["pack"]) == ("2500元/人/月", "荷塘区（示例）")
    shifeng = full_checker.check(read_filing(_hetang_filing(mutate, tmp_path)), explain=True, district="石峰区")
    assert not [f for f in shifeng.findings if f.rule_id == "ZZ-ZCDY-002"]
    # With no rate stated, the budget check falls back to the nearest jurisdiction's rate.
    path = _hetang_filing(mutate, tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("按2000元/人/月落实交通费，", ""), encoding="utf-8")
    hetang = full_checker.check(read_filing(path), explain=True)
    tree = next(f.explanation for f in hetang.findings if f.rule_id == "ZZ-ZCDY-001")
    assert tree["steps"][0] == "2500元/人/月 × 6人 × 12月/年 = 180000元 = 18.00万元"
    inputs = {i["name"]: i for i in tree["inputs"]}
    assert inputs["交通费标准"]["location"] == "规则包参数 荷塘区（示例）:驻村交通费标准"
    assert inputs["交通费标准"]["text"].startswith("申报未写明该标准，按政策参数：荷塘区驻村工作补充规定（示例）")


# --- broken plugins -----------------------------------------------------------------------------


def _fake_plugins(monkeypatch, tmp_path, sources: dict[str, str]):
    """Install modules as 'hegui' entry points for this test only."""
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in sources:
        sys.modules.pop(name, None)
    points = [metadata.EntryPoint(name=name, value=name, group="hegui") for name in sources]
    monkeypatch.setattr("hegui.plugins.manager.metadata.entry_points", lambda group: points if group == "hegui" else [])


GOOD_PACK = """pack: {name: 测试区, jurisdiction: 测试区}
rules:
  - id: TS-A-001
    title: 测试
    severity: error
    source: {document: 测试}
    subject: 附件3
    check: {required: [名称]}
"""


@pytest.mark.parametrize(
    "source, hook, words",
    [
        ("import no_such_module_anywhere\n", "导入", "ModuleNotFoundError"),
        (
            "from hegui.plugins.hookspecs import hookimpl\n@hookimpl\ndef hegui_register_rule_pack(register):\n    pass\n",
            "注册",
            "未定义的钩子",
        ),
        (
            "from hegui.plugins.hookspecs import hookimpl\n@hookimpl\ndef hegui_register_rule_packs(register, extra):\n    pass\n",
            "注册",
            "钩子签名不对",
        ),
        (
            "from hegui.plugins.hookspecs import hookimpl\n@hookimpl\ndef hegui_register_jurisdictions(register):\n    raise RuntimeError('boom')\n",
            "hegui_register_jurisdictions",
            "RuntimeError: boom",
        ),
        (
            "from hegui.plugins.hookspecs import hookimpl\n@hookimpl\ndef hegui_register_jurisdictions(register):\n    register('石峰区', '湖南省')\n",
            "hegui_register_jurisdictions",
            "矛盾",
        ),
    ],
)
def test_broken_plugin_stops_the_run_with_its_name(monkeypatch, tmp_path, source, hook, words):
    _fake_plugins(monkeypatch, tmp_path, {"broken_district": source})
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert (caught.value.plugin, caught.value.hook) == ("broken_district", hook)
    assert words in str(caught.value) and "broken_district" in str(caught.value)
    result = CliRunner().invoke(main, ["check", "examples/shifeng-zzb-2023.txt"])
    assert result.exit_code == 2 and "broken_district" in result.output


def test_plugin_with_an_invalid_rule_stops_the_run(monkeypatch, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "p.yaml").write_text(GOOD_PACK.replace("severity: error", "severity: fatal"), encoding="utf-8")
    source = (
        "from pathlib import Path\nfrom hegui.plugins.hookspecs import hookimpl\n"
        "@hookimpl\ndef hegui_register_jurisdictions(register):\n    register('测试区', '株洲市')\n"
        f"@hookimpl\ndef hegui_register_rule_packs(register):\n    register(Path({str(pack)!r}), '测试区')\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"bad_rules": source})
    registry = build_registry()
    with pytest.raises(PluginError) as caught:
        load_registered_rules(registry)
    assert caught.value.plugin == "bad_rules" and caught.value.hook == "hegui_register_rule_packs"
    assert "severity" in str(caught.value)


def test_pack_of_another_jurisdiction_than_registered_is_refused(monkeypatch, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "p.yaml").write_text(GOOD_PACK.replace("jurisdiction: 测试区", "jurisdiction: 株洲市"), encoding="utf-8")
    source = f"from pathlib import Path\nfrom hegui.plugins.hookspecs import hookimpl\n@hookimpl\ndef hegui_register_rule_packs(register):\n    register(Path({str(pack)!r}), '荷塘区')\n"
    _fake_plugins(monkeypatch, tmp_path, {"mislabelled": source})
    with pytest.raises(PluginError, match="写明适用地区“株洲市”，但插件注册为“荷塘区”"):
        load_registered_rules(build_registry())


def test_plugin_raising_while_reading_affects_only_that_filing(monkeypatch, tmp_path, example_path):
    source = (
        "from hegui.plugins.hookspecs import hookimpl\n"
        "def read(path):\n    raise ZeroDivisionError('plugin bug')\n"
        "@hookimpl\ndef hegui_register_readers(register):\n    register(('.csv',), read)\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"csv_reader": source})
    bad = tmp_path / "filing.csv"
    bad.write_text("a,b\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(bad), str(example_path)])
    document = json.loads(result.stdout)
    assert [f["status"] for f in document["filings"]] == ["error", "checked"]
    assert "插件“csv_reader”读取文件时出错：ZeroDivisionError: plugin bug" in document["filings"][0]["error"]["message"]
    assert document["filings"][1]["counts"]["error"] > 0
    assert result.exit_code == 2


def test_any_failure_in_one_file_is_its_error_record_in_plain_cli_mode(monkeypatch, tmp_path, example_path):
    """A reader that returns garbage makes the table builder raise (not an InputError): the
    plain ``hegui check`` must still report the good file beside it and exit 2."""
    source = (
        "from hegui.plugins.hookspecs import hookimpl\n"
        "def read(path):\n    return 'not a grid'\n"
        "@hookimpl\ndef hegui_register_readers(register):\n    register(('.odd',), read)\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"odd_reader": source})
    bad = tmp_path / "filing.odd"
    bad.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(example_path), str(bad)])
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert [f["status"] for f in document["filings"]] == ["checked", "error"]
    assert document["filings"][0]["counts"]["error"] > 0
    assert document["filings"][1]["error"]["message"].startswith("检查时程序出错：AttributeError")
    assert document["counts"]["input_errors"] == 1
    # The text report, too, lists the good file's findings and the bad file's error.
    monkeypatch.setattr(cli, "_REGISTRY", None)
    text = CliRunner().invoke(main, ["check", str(example_path), str(bad)])
    assert text.exit_code == 2
    assert "ZZ-ZCDY-001" in text.stdout and f"{bad}" in text.stdout and "检查时程序出错" in text.stdout


def test_hegui_plugins_selects_installed_plugins(monkeypatch):
    monkeypatch.setenv("HEGUI_PLUGINS", "")
    assert [p.name for p in build_registry().plugins if not p.builtin] == []
    monkeypatch.setenv("HEGUI_PLUGINS", "hetang")
    assert [p.name for p in build_registry().plugins if not p.builtin] == ["hetang"]
    monkeypatch.setenv("HEGUI_PLUGINS", "hetang,no-such-plugin")
    with pytest.raises(PluginError, match="没有安装名为“no-such-plugin”的插件"):
        build_registry()


def test_reporter_plugin_adds_a_format(monkeypatch, tmp_path, example_path):
    source = (
        "from hegui.plugins.hookspecs import hookimpl\n"
        "def render(outcomes, ruleset):\n    return ''.join(f'{o.path}\\t{len(o.findings)}\\n' for o in outcomes)\n"
        "@hookimpl\ndef hegui_register_reporters(register):\n    register('tsv', render)\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"tsv_reporter": source})
    result = CliRunner().invoke(main, ["check", "--format", "tsv", str(example_path)])
    assert result.output == f"{example_path}\t79\n"


def test_unknown_jurisdiction_in_a_pack_is_refused(tmp_path, example_path):
    (tmp_path / "p.yaml").write_text(GOOD_PACK, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--rules", str(tmp_path), str(example_path)])
    assert result.exit_code == 2
    assert "未知的适用地区“测试区”" in result.output


def test_read_filing_without_plugins_refuses_unknown_suffix_as_text(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(InputError):
        read_filing(path)


# --- plugins fail closed (issue 13): exits, reader and reporter failures, empty packs -----------

_HOOK = "from hegui.plugins.hookspecs import hookimpl\nimport sys\n"


@pytest.mark.parametrize(
    "source, hook, words",
    [
        ("import sys\nsys.exit(0)\n", "导入", "SystemExit"),
        (
            _HOOK + "@hookimpl\ndef hegui_register_jurisdictions(register):\n    sys.exit(0)\n",
            "hegui_register_jurisdictions",
            "SystemExit",
        ),
        (
            _HOOK + "@hookimpl\ndef hegui_register_jurisdictions(register):\n    raise KeyboardInterrupt\n",
            "hegui_register_jurisdictions",
            "KeyboardInterrupt",
        ),
    ],
    ids=["exit-on-import", "exit-in-hook", "interrupt-in-hook"],
)
def test_plugin_that_exits_while_loading_stops_the_run_with_2(monkeypatch, tmp_path, source, hook, words):
    _fake_plugins(monkeypatch, tmp_path, {"exiting": source})
    with pytest.raises(PluginError) as caught:
        build_registry()
    assert (caught.value.plugin, caught.value.hook) == ("exiting", hook)
    result = CliRunner().invoke(main, ["check", "examples/shifeng-zzb-2023.txt"])
    assert result.exit_code == 2 and "exiting" in result.output and words in result.output


def test_plugin_reader_that_exits_is_its_filings_error_and_the_others_are_reported(monkeypatch, tmp_path):
    source = (
        _HOOK + "@hookimpl\ndef hegui_register_readers(register):\n    register(('.quit',), lambda path: sys.exit(0))\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"quitter": source})
    bad = tmp_path / "a.quit"
    bad.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(bad), "examples/shifeng-zzb-2023.txt"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    entries = {f["file"]: f for f in report["filings"]}
    assert "quitter" in entries[str(bad)]["error"]["message"] and "SystemExit" in entries[str(bad)]["error"]["message"]
    assert entries["examples/shifeng-zzb-2023.txt"]["findings"]


@pytest.mark.parametrize("body", ["raise RuntimeError('boom')", "sys.exit(0)", "return None"])
def test_plugin_reporter_that_fails_stops_the_run_with_2(monkeypatch, tmp_path, body):
    source = _HOOK + (
        "def render(outcomes, ruleset):\n    " + body + "\n"
        "@hookimpl\ndef hegui_register_reporters(register):\n    register('broken-format', render)\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"bad_format": source})
    result = CliRunner().invoke(main, ["check", "--format", "broken-format", "examples/shifeng-zzb-2023.txt"])
    assert result.exit_code == 2, result.output
    assert "bad_format" in result.output


@pytest.mark.parametrize(
    "files",
    [{}, {"p.yaml": "pack: {name: 测试区, jurisdiction: 测试区}\nrules: []\n"}],
    ids=["empty-folder", "no-rules"],
)
def test_plugin_pack_without_rules_is_refused(monkeypatch, tmp_path, files):
    pack = tmp_path / "pack"
    pack.mkdir()
    for name, text in files.items():
        (pack / name).write_text(text, encoding="utf-8")
    source = (
        "from pathlib import Path\nfrom hegui.plugins.hookspecs import hookimpl\n"
        "@hookimpl\ndef hegui_register_jurisdictions(register):\n    register('测试区', '株洲市')\n"
        f"@hookimpl\ndef hegui_register_rule_packs(register):\n    register(Path({str(pack)!r}), '测试区')\n"
    )
    _fake_plugins(monkeypatch, tmp_path, {"empty_pack": source})
    with pytest.raises(PluginError) as caught:
        load_registered_rules(build_registry())
    assert caught.value.plugin == "empty_pack"
    result = CliRunner().invoke(main, ["check", "examples/shifeng-zzb-2023.txt"])
    assert result.exit_code == 2 and "empty_pack" in result.output
