"""Rule text is data, never code.

(a) A hostile rule corpus: Python-ish payloads in every text field of a rule either make
    ``load_rules`` refuse the pack or stay inert data through compiling and checking.
(b) An audit hook (in a subprocess, because audit hooks cannot be removed) proves that loading,
    compiling and checking run no ``exec`` and no ``compile`` at all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hegui.engine.evaluate import Evaluator
from hegui.engine.rules import RuleLoadError, RuleSet, load_rules
from hegui.facts.read import read_filing
from hegui.plugins.manager import build_registry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "shifeng-zzb-2023.txt"
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():  # pragma: no cover - another layout; the running interpreter is the venv's
    PYTHON = Path(sys.executable)

#: The built-in packs' jurisdictions, as a library user without installed plugins has them.
BUILTIN_REGISTRY = build_registry(entry_points=False)
MARKER_NAME = "PWNED"

#: ``{marker}`` is replaced by a path in the test's tmp folder: if anything ever ran a payload,
#: that file would appear.
PAYLOADS = {
    "import_system": "__import__('os').system('touch {marker}')",
    "format_attr": "{0.__class__}",
    "format_dunder": "{金额.__class__.__mro__}",
    "template": "${x}",
    "percent": "%(x)s",
    "fullwidth_exec": "ｅｘｅｃ('1')",
    "lambda": "lambda: 1",
    "eval_compile": "eval(compile('open(\"{marker}\",\"w\")','','exec'))",
    "huge_number": "1" + "0" * 400,
    "deep_parens": "(" * 200 + "1" + ")" * 200,
    "dunder_class": "__class__",
    "dunder_builtins": "__builtins__",
    "datalog_variable": "X",
    "generated_variable": "V1",
    "dotted": "os.system",
    "fullwidth_name": "ｅｘｅｃ",
}

# A rule that fails on every 明细 of the example filing (no amount there is 0), so a payload
# that is inert data shows up verbatim in the findings.
TEMPLATE = """\
pack:
  name: 敌意测试
  jurisdiction: 全国
parameters:
  {param}:
    unit: {unit}
    values:
      - {{value: 1, from: 2000}}
rules:
  - id: {id}
    title: {title}
    severity: error
    source:
      document: {document}
    subject: 明细
    where:
      - {{field: 支出内容简介, {where_op}: [{where}]}}
    inputs:
      金额: {{amount: 金额}}
      {input}: {{amount: 金额}}
    check: {check}
{message}"""

SAFE = {
    "param": "备用标准",
    "unit": "元/年",
    "id": "HX-TEST-001",
    "title": "敌意测试规则",
    "document": "测试文件",
    "where_op": "excludes_any",
    "where": "不会出现的词",
    "input": "另一金额",
    "check": "金额 = 0元/年",
    "message": "",
}


def q(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text`` (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def pack_text(**fields: str) -> str:
    values = {k: q(v) if k not in ("where_op", "message") else v for k, v in {**SAFE, **fields}.items()}
    return TEMPLATE.format(**values)


@pytest.fixture(scope="module")
def filing():
    return read_filing(EXAMPLE)


@pytest.fixture
def no_processes(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Record any attempt to start a process or run a shell command during the test."""
    calls: list[tuple] = []

    def forbidden(name):
        def record(*args, **kwargs):
            calls.append((name, args))
            raise AssertionError(f"{name} called with {args!r}")

        return record

    monkeypatch.setattr(os, "system", forbidden("os.system"))
    monkeypatch.setattr(os, "popen", forbidden("os.popen"))
    monkeypatch.setattr(subprocess, "Popen", forbidden("subprocess.Popen"))
    return calls


def load(tmp_path: Path, text: str) -> RuleSet | RuleLoadError:
    folder = tmp_path / "pack"
    folder.mkdir(parents=True)
    (folder / "hostile.yaml").write_text(text, encoding="utf-8")
    try:
        return load_rules([folder])
    except RuleLoadError as exc:
        return exc


def payload(name: str, tmp_path: Path) -> str:
    return PAYLOADS[name].replace("{marker}", str(tmp_path / MARKER_NAME))


def test_control_pack_loads_and_fails_on_every_row(tmp_path: Path, filing) -> None:
    ruleset = load(tmp_path, pack_text())
    assert isinstance(ruleset, RuleSet)
    findings = Evaluator(ruleset, BUILTIN_REGISTRY).check(filing).findings
    assert len(findings) > 5
    assert {f.rule_id for f in findings} == {"HX-TEST-001"}


# --- fields that must refuse every payload ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_rule_id_is_refused(name: str, tmp_path: Path, no_processes: list) -> None:
    result = load(tmp_path, pack_text(id=payload(name, tmp_path)))
    assert isinstance(result, RuleLoadError)
    assert [p.key_path for p in result.problems] == ["id"]
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_check_expression_is_refused(name: str, tmp_path: Path, no_processes: list) -> None:
    result = load(tmp_path, pack_text(check=payload(name, tmp_path)))
    assert isinstance(result, RuleLoadError)
    assert {p.key_path for p in result.problems} == {"check"}
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_in_a_check_comparison_is_refused(name: str, tmp_path: Path, no_processes: list) -> None:
    """Wrapped as ``金额 = <payload>``: only a plain number or a declared name would parse."""
    result = load(tmp_path, pack_text(check=f"金额 = {payload(name, tmp_path)}"))
    assert isinstance(result, RuleLoadError)
    assert {p.key_path for p in result.problems} == {"check"}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_unit_is_refused(name: str, tmp_path: Path, no_processes: list) -> None:
    result = load(tmp_path, pack_text(unit=payload(name, tmp_path)))
    assert isinstance(result, RuleLoadError)
    assert [p.key_path for p in result.problems] == ["parameters.备用标准.unit"]


# --- fields where a payload is inert data ----------------------------------------------------------


def _check(ruleset: RuleSet, filing) -> list:
    return Evaluator(ruleset, BUILTIN_REGISTRY).check(filing).findings


@pytest.fixture(scope="module")
def control_findings(tmp_path_factory, filing) -> int:
    """How many rows the control pack (no payload anywhere) fails on: the same for every payload."""
    control = load(tmp_path_factory.mktemp("control"), pack_text())
    assert isinstance(control, RuleSet)
    return len(_check(control, filing))


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_in_where_never_matches(
    name: str, tmp_path: Path, filing, control_findings: int, no_processes: list
) -> None:
    text = payload(name, tmp_path)
    contains = load(tmp_path / "c", pack_text(where_op="contains_any", where=text))
    excludes = load(tmp_path / "e", pack_text(where_op="excludes_any", where=text))
    equals = load(tmp_path / "q", pack_text(where_op="equals", where=text))
    for ruleset in (contains, excludes, equals):
        assert isinstance(ruleset, RuleSet)
    # the payload is kept as text (whitespace removed, like every needle), not interpreted
    assert contains.rules[0].where[0].values == (re.sub(r"\s+", "", text),)
    assert _check(contains, filing) == []
    assert _check(equals, filing) == []
    # …and excluding it excludes nothing: every row of the control rule still fails
    assert len(_check(excludes, filing)) == control_findings > 0
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_title_is_inert(name: str, tmp_path: Path, filing, no_processes: list) -> None:
    text = payload(name, tmp_path)
    result = load(tmp_path, pack_text(title=text))
    if len(text) > 200:
        assert isinstance(result, RuleLoadError)
        assert [p.key_path for p in result.problems] == ["title"]
        return
    assert isinstance(result, RuleSet)
    assert result.rules[0].title == text
    findings = _check(result, filing)
    assert findings
    assert all(f.rule_title == text for f in findings)
    assert all(f.message.startswith(text + "：金额为") for f in findings)
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_source_document_is_inert(name: str, tmp_path: Path, filing, no_processes: list) -> None:
    text = payload(name, tmp_path)
    result = load(tmp_path, pack_text(document=text))
    assert isinstance(result, RuleSet)
    findings = _check(result, filing)
    assert findings and all(f.citation.document == text for f in findings)
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_message_is_inert_or_refused(name: str, tmp_path: Path, filing, no_processes: list) -> None:
    text = payload(name, tmp_path)
    result = load(tmp_path, pack_text(message=f"    message: {q(text)}\n"))
    if re.search(r"\{[^{}]*\}", text):
        # a placeholder that is not an input, parameter or built-in name is an error
        assert isinstance(result, RuleLoadError)
        assert {p.key_path for p in result.problems} == {"message"}
        return
    assert isinstance(result, RuleSet)
    findings = _check(result, filing)
    assert findings and all(f.message == text for f in findings)
    assert not (tmp_path / MARKER_NAME).exists()


def test_message_fill_is_plain_substitution(tmp_path: Path, filing, no_processes: list) -> None:
    message = "%(金额)s ${金额} {{金额}} {实际!r} {金额}"
    result = load(tmp_path, pack_text(message=f"    message: {q(message)}\n"))
    # "{实际!r}" is not a known placeholder: refused rather than handed to str.format
    assert isinstance(result, RuleLoadError)
    assert [p.message for p in result.problems] == ["消息模板中的“{实际!r}”不是输入、参数或内置名称"]

    message = "%(金额)s ${金额} {金额}"
    ruleset = load(tmp_path / "ok", pack_text(message=f"    message: {q(message)}\n"))
    assert isinstance(ruleset, RuleSet)
    finding = _check(ruleset, filing)[0]
    assert finding.message == f"%(金额)s ${finding.actual} {finding.actual}"


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_input_name(name: str, tmp_path: Path, filing, no_processes: list) -> None:
    """Input names are refused unless they are plain words; a plain word (even a dunder) is just a key."""
    text = payload(name, tmp_path)
    result = load(tmp_path, pack_text(input=text))
    plain = re.fullmatch(r"[\w\u3400-\u9fff]+", text) is not None
    if not plain:
        assert isinstance(result, RuleLoadError)
        assert [p.key_path for p in result.problems] == [f"inputs.{text}"]
        return
    assert isinstance(result, RuleSet)
    assert [i.name for i in result.rules[0].inputs] == ["金额", text]
    if not text[0].isdigit():
        # use the name in the check so it is compiled and evaluated too
        used = load(tmp_path / "used", pack_text(input=text, check=f"金额 + {text} = 0元/年"))
        assert isinstance(used, RuleSet)
        findings = _check(used, filing)
        assert findings
        assert all(any(e.name == text for e in f.evidence) for f in findings)
    assert not (tmp_path / MARKER_NAME).exists()


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payload_as_parameter_name(name: str, tmp_path: Path, filing, no_processes: list) -> None:
    text = payload(name, tmp_path)
    result = load(tmp_path, pack_text(param=text))
    plain = re.fullmatch(r"[\w\u3400-\u9fff]+", text) is not None
    if not plain:
        assert isinstance(result, RuleLoadError)
        assert [p.key_path for p in result.problems] == [f"parameters.{text}"]
        return
    assert isinstance(result, RuleSet)
    assert f"敌意测试:{text}" in result.parameters
    if not text[0].isdigit():
        used = load(tmp_path / "used", pack_text(param=text, check=f"金额 = {text} × 0"))
        assert isinstance(used, RuleSet)
        findings = _check(used, filing)
        assert findings
        assert all(any(e.name == text for e in f.evidence) for f in findings)
    assert not (tmp_path / MARKER_NAME).exists()


def test_deeply_nested_parentheses_in_a_check_are_refused(tmp_path: Path) -> None:
    result = load(tmp_path, pack_text(check="金额 = " + "(" * 100 + "0元/年" + ")" * 100))
    assert isinstance(result, RuleLoadError)
    assert [p.message for p in result.problems] == ["表达式嵌套过深（超过16层）"]


def test_huge_numbers_in_yaml_values_are_refused(tmp_path: Path) -> None:
    huge = "1" + "0" * 400
    result = load(tmp_path, pack_text().replace("value: 1,", f"value: {huge},"))
    assert isinstance(result, RuleLoadError)
    assert [p.message for p in result.problems] == ["数值过大"]
    result = load(tmp_path / "t", pack_text().replace("    check:", f"    tolerance: {huge}\n    check:"))
    assert isinstance(result, RuleLoadError)
    assert [p.key_path for p in result.problems] == ["tolerance"]


def test_yaml_python_tags_never_run(tmp_path: Path, no_processes: list) -> None:
    marker = tmp_path / MARKER_NAME
    text = pack_text().replace(
        "    severity: error\n",
        f'    severity: error\n    tags: !!python/object/apply:os.system ["touch {marker}"]\n',
    )
    result = load(tmp_path, text)
    assert not marker.exists()
    if isinstance(result, RuleSet):  # the tag is ignored (see test_strictyaml): the list stays plain text
        assert result.rules[0].tags == (f"touch {marker}",)


# --- (b) audit hook: no exec, no compile --------------------------------------------------------------

AUDIT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    # 1. import everything first: hegui, and the modules hegui and pyDatalog import lazily
    #    (pyDatalog.pyParser.Term.__call__ does ``from . import Aggregate``; rule files are
    #    read as utf-8-sig; the built-in packs are located through importlib.resources).
    import encodings.utf_8_sig
    import pyDatalog.Aggregate
    from hegui.engine.evaluate import Evaluator
    from hegui.engine.rules import RuleLoadError, load_rules
    from hegui.facts.read import read_filing
    from hegui.plugins import builtin_rule_paths
    from hegui.plugins.manager import build_registry

    mode, example, packs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    builtin = builtin_rule_paths()  # locating packages is part of importing
    paths = [builtin] if mode == "builtin" else [[Path(p)] for p in packs]

    # 2. install the hook
    events = []

    def hook(event, args):
        if event not in ("exec", "compile"):
            return
        frames, f = [], sys._getframe(1)
        while f is not None and len(frames) < 40:
            frames.append(f"{f.f_code.co_filename}:{f.f_lineno}:{f.f_code.co_name}")
            f = f.f_back
        what = args[1] if event == "compile" else getattr(args[0], "co_filename", repr(args[0]))
        events.append({"event": event, "what": str(what), "stack": frames})

    sys.addaudithook(hook)

    # 3. load, compile and check (the registry is built and the example read once, under the
    #    hook as well: both are the same for every pack)
    registry = build_registry(entry_points=False)
    filing = read_filing(example)
    outcomes = []
    for group in paths:
        try:
            ruleset = load_rules(group)
        except RuleLoadError as exc:
            outcomes.append({"loaded": False, "problems": len(exc.problems)})
            continue
        result = Evaluator(ruleset, registry).check(filing)
        outcomes.append({"loaded": True, "rules": len(ruleset.rules), "findings": len(result.findings)})
    print(json.dumps({"events": events, "outcomes": outcomes}, ensure_ascii=False))
    """
)


def run_audited(mode: str, packs: list[str] | None = None) -> dict:
    completed = subprocess.run(
        [str(PYTHON), "-c", AUDIT_SCRIPT, mode, str(EXAMPLE), json.dumps(packs or [])],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def describe(events: list[dict]) -> str:
    return "\n".join(f"{e['event']} {e['what']}\n    " + "\n    ".join(e["stack"][:12]) for e in events)


def test_builtin_rules_load_compile_and_check_without_exec_or_compile() -> None:
    report = run_audited("builtin")
    assert report["outcomes"] == [
        {"loaded": True, "rules": report["outcomes"][0]["rules"], "findings": report["outcomes"][0]["findings"]}
    ]
    assert report["outcomes"][0]["rules"] >= 30
    assert report["outcomes"][0]["findings"] > 0  # the hook really watched a full check
    assert report["events"] == [], describe(report["events"])


def test_hostile_corpus_runs_without_exec_or_compile(tmp_path: Path) -> None:
    packs: list[str] = []
    expected: list[str] = []  # refused | silent (loads, no finding) | fails (loads, findings)
    for index, name in enumerate(sorted(PAYLOADS)):
        text = payload(name, tmp_path)
        variants = [
            (pack_text(where_op="contains_any", where=text), "silent"),
            (pack_text(where_op="equals", where=text), "silent"),
            (pack_text(where_op="excludes_any", where=text), "fails"),
            (pack_text(document=text), "fails"),
            (pack_text(check=text), "refused"),
            (pack_text(check=f"金额 = {text}"), "refused"),
            (pack_text(id=text), "refused"),
            (pack_text(unit=text), "refused"),
            (pack_text(title=text), "fails" if len(text) <= 200 else "refused"),
            (pack_text(message=f"    message: {q(text)}\n"), "refused" if re.search(r"\{[^{}]*\}", text) else "fails"),
        ]
        for number, (content, outcome) in enumerate(variants):
            folder = tmp_path / f"p{index}-{number}"
            folder.mkdir()
            (folder / "hostile.yaml").write_text(content, encoding="utf-8")
            packs.append(str(folder))
            expected.append(outcome)
    report = run_audited("packs", packs)
    seen = ["refused" if not o["loaded"] else "fails" if o["findings"] > 0 else "silent" for o in report["outcomes"]]
    assert seen == expected
    assert report["events"] == [], describe(report["events"])
    assert not (tmp_path / MARKER_NAME).exists()


def test_first_use_of_pydatalog_only_imports_modules() -> None:
    """Without pre-importing pyDatalog.Aggregate, the first clause built triggers
    ``from . import Aggregate`` in ``pyDatalog.pyParser.Term.__call__``; that import pulls in
    ``concurrent.futures`` and ``statistics``, whose ``collections.namedtuple`` calls ``eval``.
    Those are the only exec/compile events, and all of them happen inside the import system."""
    script = AUDIT_SCRIPT.replace("import encodings.utf_8_sig\nimport pyDatalog.Aggregate\n", "")
    assert script != AUDIT_SCRIPT
    completed = subprocess.run(
        [str(PYTHON), "-c", script, "builtin", str(EXAMPLE), "[]"],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["outcomes"][0]["loaded"] is True
    assert report["events"], "expected the lazy imports to be visible without pre-importing"
    for event in report["events"]:
        # every event happens while a module is being imported…
        assert any("importlib._bootstrap" in frame for frame in event["stack"]), describe([event])
        # …and the code that called exec/eval/compile is never hegui's own
        caller = event["stack"][0]
        assert not (caller.startswith(str(ROOT) + os.sep) and "/.venv/" not in caller), describe([event])
    namedtuple_evals = [e for e in report["events"] if e["event"] == "compile" and e["what"] == "<string>"]
    assert all(
        any("pyDatalog/pyParser.py" in f and f.endswith(":__call__") for f in e["stack"]) for e in namedtuple_evals
    ), describe(namedtuple_evals)
