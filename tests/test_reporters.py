"""SARIF, JUnit, HTML and annotated-workbook reports of the example filing, read back and checked.

Each report is produced for the example text dump (and, for the workbook, for the .xlsx and
.docx versions built at test time by ``tests/make_xlsx.py`` and ``tests/make_docx.py``) and
parsed back with an independent reader: the official SARIF 2.1.0 schema, ``xml.etree``,
``html.parser`` and openpyxl.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from html.parser import HTMLParser
from importlib import resources
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from jsonschema import Draft4Validator, FormatChecker

from hegui.engine.findings import STATUS_CANNOT_VERIFY, Finding
from hegui.engine.waivers import Waiver, apply_waivers
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.reports import FilingOutcome
from hegui.reports.html import to_html
from hegui.reports.junit import to_junit
from hegui.reports.sarif import to_sarif
from hegui.reports.xlsx import FILL_COLOURS, RESULTS_SHEET, annotated_workbook, to_xlsx

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
RELATIVE_EXAMPLE = "examples/shifeng-zzb-2023.txt"
SARIF_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def _load_helper(name: str):
    # --import-mode=importlib puts nothing on sys.path; load the generator by file.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


make_xlsx = _load_helper("make_xlsx")
make_docx = _load_helper("make_docx")


# --- fixtures -------------------------------------------------------------------------------------


def _outcome(evaluator, path) -> FilingOutcome:
    filing = read_filing(path)
    result = evaluator.check(filing, explain=True)
    return FilingOutcome(str(path), filing, result.findings, jurisdiction=result.jurisdiction)


@pytest.fixture
def in_repo(monkeypatch):
    """Run from the repository so the example is given by its relative path, as a user would."""
    monkeypatch.chdir(REPO)
    return RELATIVE_EXAMPLE


@pytest.fixture
def example(evaluator, in_repo) -> FilingOutcome:
    return _outcome(evaluator, in_repo)


@pytest.fixture(scope="session")
def form_xlsx(tmp_path_factory) -> Path:
    return make_xlsx.write_form_xlsx(tmp_path_factory.mktemp("xlsx") / "石峰区委组织部.xlsx")


@pytest.fixture(scope="session")
def form_docx(tmp_path_factory) -> Path:
    return make_docx.write_docx(tmp_path_factory.mktemp("docx") / "form.docx")


@pytest.fixture
def unreadable(tmp_path) -> FilingOutcome:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(InputError) as info:
        read_filing(path)
    return FilingOutcome(str(path), error=info.value)


def _waive(outcome: FilingOutcome, rule_id: str, *, today: dt.date = dt.date(2023, 6, 1)) -> FilingOutcome:
    """The outcome with the first finding of ``rule_id`` under a waiver valid until 2023-12-31."""
    finding = next(f for f in outcome.findings if f.rule_id == rule_id)
    waiver = Waiver(
        rule_id,
        Path(outcome.path).name,
        finding.item,
        "<b>经区财政局批准</b>",
        "区财政局绩效科",
        dt.date(2023, 12, 31),
        "waivers.yaml",
        3,
    )
    findings = apply_waivers(outcome.findings, outcome.path, outcome.filing.department, [waiver], today)
    return replace(outcome, findings=findings)


def _sarif_validator() -> Draft4Validator:
    schema = json.loads(
        resources.files("hegui.reports").joinpath("schemas/sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    # FormatChecker() checks every format jsonschema knows (uri, uri-reference with
    # rfc3986-validator installed), not only draft-04's own list.
    return Draft4Validator(schema, format_checker=FormatChecker())


# --- SARIF ----------------------------------------------------------------------------------------


def test_vendored_sarif_schema_is_the_official_2_1_0_one():
    path = resources.files("hegui.reports").joinpath("schemas/sarif-schema-2.1.0.json")
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SARIF_SHA256  # unmodified copy: see reports/schemas/README.md
    schema = json.loads(data)
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)


def test_sarif_of_the_example_validates_against_the_official_schema(example, ruleset):
    log = json.loads(to_sarif([example], ruleset))
    errors = sorted(_sarif_validator().iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    # The validator is live: a level SARIF does not know is refused.
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert list(_sarif_validator().iter_errors(log))


def test_sarif_batch_with_workbook_waiver_and_unreadable_file_validates(
    evaluator, ruleset, example, form_xlsx, unreadable
):
    outcomes = [_waive(example, "QG-IND-003"), _outcome(evaluator, form_xlsx), unreadable]
    log = json.loads(to_sarif(outcomes, ruleset))
    errors = list(_sarif_validator().iter_errors(log))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_sarif_rules_results_and_locations(example, ruleset):
    log = json.loads(to_sarif([example], ruleset))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "hegui" and driver["version"]
    rules = driver["rules"]
    assert sorted(r["id"] for r in rules) == sorted(r.id for r in ruleset.rules)
    by_id = {r.id: r for r in ruleset.rules}
    for descriptor in rules:
        rule = by_id[descriptor["id"]]
        assert descriptor["shortDescription"]["text"] == rule.title
        assert (
            descriptor["defaultConfiguration"]["level"]
            == {"error": "error", "warning": "warning", "info": "note"}[rule.severity]
        )
        assert rule.source.document in descriptor["help"]["text"]
        assert descriptor["properties"]["citation"]["document"] == rule.source.document

    results = run["results"]
    assert len(results) == len(example.findings)
    for result, finding in zip(results, example.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        assert result["message"]["text"] == finding.message
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == RELATIVE_EXAMPLE  # as given, relative
        assert location["region"]["startLine"] == finding.line
        if finding.status == STATUS_CANNOT_VERIFY:
            assert result["kind"] == "review" and result["level"] == "none"
        else:
            assert result["kind"] == "fail"
            assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding.severity]
        assert "suppressions" not in result
    zz = next(r for r in results if r["ruleId"] == "ZZ-ZCDY-001")
    assert zz["locations"][0]["physicalLocation"]["region"] == {"startLine": 741}
    assert "29.76万元" in zz["properties"]["explanationText"]
    assert {loc["physicalLocation"]["region"]["startLine"] for loc in zz["relatedLocations"]} == {741, 761, 831}
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_sarif_cells_are_logical_locations_waivers_suppress_and_input_errors_notify(
    evaluator, ruleset, form_xlsx, unreadable
):
    workbook = _waive(_outcome(evaluator, form_xlsx), "QG-IND-003")
    run = json.loads(to_sarif([workbook, unreadable], ruleset))["runs"][0]
    zz = next(r for r in run["results"] if r["ruleId"] == "ZZ-ZCDY-001")
    location = zz["locations"][0]
    assert "region" not in location["physicalLocation"]  # SARIF has no cell regions
    assert location["logicalLocations"] == [
        {"fullyQualifiedName": "附件3-5!B5:C5", "kind": "cell", "name": "附件3-5!B5:C5"}
    ]
    assert location["properties"] == {"cell": "附件3-5!B5:C5"}
    # A non-ASCII file name is percent-encoded into a valid URI reference.
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "/%E7%9F%B3%E5%B3%B0%E5%8C%BA%E5%A7%94%E7%BB%84%E7%BB%87%E9%83%A8.xlsx"
    )
    waived = next(r for r in run["results"] if r["ruleId"] == "QG-IND-003")
    assert waived["suppressions"] == [
        {
            "justification": "<b>经区财政局批准</b>",
            "kind": "external",
            "status": "accepted",
            "properties": {"approvedBy": "区财政局绩效科", "expires": "2023-12-31", "source": "waivers.yaml:3"},
        }
    ]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and unreadable.error.message in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == 1


def test_expired_waiver_does_not_suppress(example, ruleset):
    expired = _waive(example, "QG-IND-003", today=dt.date(2024, 7, 1))
    result = next(
        r for r in json.loads(to_sarif([expired], ruleset))["runs"][0]["results"] if r["ruleId"] == "QG-IND-003"
    )
    assert "suppressions" not in result and result["properties"]["waiver"]["status"] == "expired"
    root = ET.fromstring(to_junit([expired], ruleset).encode("utf-8"))
    assert root.find("testsuite/testcase[@name='QG-IND-003']/failure") is not None
    assert "豁免已于2023-12-31过期" in to_html([expired], ruleset)


# --- JUnit ----------------------------------------------------------------------------------------


def _suite_counts(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    return {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }


def test_junit_has_one_case_per_rule_and_counts_that_match(example, ruleset, unreadable):
    waived = _waive(example, "QG-IND-003")
    root = ET.fromstring(to_junit([waived, unreadable], ruleset).encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [RELATIVE_EXAMPLE, unreadable.path]
    totals = Counter()
    for suite in suites:
        counts = _suite_counts(suite)
        assert {k: int(suite.get(k)) for k in counts} == counts
        totals.update(counts)
    assert {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")} == dict(totals)

    checked = suites[0]
    cases = {c.get("name"): c for c in checked.findall("testcase")}
    assert sorted(cases) == sorted(r.id for r in ruleset.rules)  # passing and not-applicable rules too
    assert all(c.get("classname") == RELATIVE_EXAMPLE for c in cases.values())
    live = [f for f in waived.findings if not f.waived]
    failing = {f.rule_id for f in live if f.status != STATUS_CANNOT_VERIFY}
    unverifiable = {f.rule_id for f in live if f.status == STATUS_CANNOT_VERIFY} - failing
    assert {n for n, c in cases.items() if c.find("failure") is not None} == failing
    assert {n for n, c in cases.items() if c.find("skipped") is not None} == unverifiable
    assert "QG-IND-003" not in failing and cases["QG-IND-003"].find("failure") is None  # waived: passes
    assert "已豁免" in cases["QG-IND-003"].find("system-out").text

    failure = cases["QG-X-003"].find("failure")
    assert failure.get("type") == "error"
    assert failure.text.count("\n") == 2  # its three findings, one line each
    assert f"{RELATIVE_EXAMPLE}:157" in failure.text
    zz = cases["ZZ-ZCDY-001"].find("failure")
    assert "29.76万元" in zz.get("message") and f"{RELATIVE_EXAMPLE}:741" in zz.text

    (case,) = suites[1].findall("testcase")
    assert case.get("name") == "读取"
    assert case.find("error").get("message") == unreadable.error.message


def test_junit_escapes_markup_and_control_characters(example, ruleset):
    finding = example.findings[0]
    hostile = replace(finding, message='a<b>&"c\x0bd\x00</testcase>', status="fail")
    outcome = replace(example, findings=[hostile])
    root = ET.fromstring(to_junit([outcome], ruleset).encode("utf-8"))  # still well-formed XML
    failure = root.find(f"testsuite/testcase[@name='{finding.rule_id}']/failure")
    assert failure.get("message") == 'a<b>&"c\ufffdd\ufffd</testcase>'


# --- HTML -----------------------------------------------------------------------------------------


class _Findings(HTMLParser):
    """Collects the report's finding elements and anything that would load or run something."""

    def __init__(self) -> None:
        super().__init__()
        self.rules: list[str] = []
        self.statuses: list[str] = []
        self.scripts = 0
        self.external: list[str] = []
        self.details = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "finding" in (attributes.get("class") or "").split():
            self.rules.append(attributes.get("data-rule"))
            self.statuses.append(attributes.get("data-status"))
        if tag == "script":
            self.scripts += 1
        if tag == "details":
            self.details += 1
        for name in ("src", "href"):
            value = attributes.get(name)
            if value and not value.startswith("#"):
                self.external.append(value)
        if tag == "link":
            self.external.append(str(attrs))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Findings:
    parser = _Findings()
    parser.feed(page)
    parser.close()
    return parser


def test_html_lists_every_finding_with_its_explanation(example, ruleset, unreadable):
    waived = _waive(example, "QG-IND-003")
    page = to_html([waived, unreadable], ruleset)
    parsed = _parse(page)
    assert Counter(parsed.rules) == Counter(f.rule_id for f in waived.findings)
    assert len(parsed.rules) == len(waived.findings)
    assert parsed.details == len(waived.findings)  # every finding has its derivation
    assert parsed.scripts == 0 and parsed.external == []
    text = "".join(parsed.text)
    for needle in (
        "石峰区委组织部",
        "2023",
        "石峰区 → 株洲市 → 湖南省 → 全国",
        "附件3-5",
        "无法核实",
        "已豁免",
        "29.76万元",
        "2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元",
        f"{RELATIVE_EXAMPLE}:761",
        unreadable.error.message,
    ):
        assert needle in text, needle
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page


def test_html_escapes_cell_text(evaluator, ruleset, mutate, tmp_path):
    path = tmp_path / "hostile.txt"
    path.write_text(mutate({157: "\t<script>alert(1)</script>"}), encoding="utf-8")
    outcome = _outcome(evaluator, path)
    assert any("<script>" in f.message for f in outcome.findings)
    page = to_html([outcome], ruleset)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parsed = _parse(page)
    assert parsed.scripts == 0
    assert "<script>alert(1)</script>" in "".join(parsed.text)  # shown to the reader as text
    assert len(parsed.rules) == len(outcome.findings)


# --- annotated workbook -------------------------------------------------------------------------------


def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(BytesIO(data))


def _marked(wb: openpyxl.Workbook) -> dict[tuple[str, str], openpyxl.cell.Cell]:
    return {
        (ws.title, c.coordinate): c
        for ws in wb.worksheets
        if ws.title != RESULTS_SHEET
        for row in ws.iter_rows()
        for c in row
        if c.comment is not None
    }


def _fill(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None


def _results(wb: openpyxl.Workbook) -> list[dict[str, object]]:
    rows = list(wb[RESULTS_SHEET].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _check_results_sheet(wb: openpyxl.Workbook, outcome: FilingOutcome) -> None:
    assert wb.sheetnames[0] == RESULTS_SHEET and wb.active.title == RESULTS_SHEET
    results = _results(wb)
    assert [(r["规则"], r["位置"], r["说明"]) for r in results] == [
        (f.rule_id, f.location, f.message) for f in outcome.findings
    ]


def test_annotated_workbook_of_the_text_dump(example, ruleset):
    data = annotated_workbook(example, example.path)
    wb = _workbook(data)
    assert wb.sheetnames == [RESULTS_SHEET, "附件1", "附件2", "附件3-1", "附件3-2", "附件3-3", "附件3-4", "附件3-5"]
    _check_results_sheet(wb, example)
    marked = _marked(wb)
    # The cell holding 20 in 附件3-5 is the one ZZ-ZCDY-001 names (line 741).
    cell = next(c for (sheet, _), c in marked.items() if sheet == "附件3-5" and "ZZ-ZCDY-001" in c.comment.text)
    assert str(cell.value).strip() == "20"
    assert _fill(cell) == FILL_COLOURS["error"]
    assert "29.76万元" in cell.comment.text and "计算：2000元/人/月 × 6人 × 12月/年" in cell.comment.text
    assert cell.data_type == "s"  # cell text as written, not reinterpreted
    # Column A says where the row was read.
    assert wb["附件3-5"].cell(cell.row, 1).value == "第740-743行"
    # Every finding of the example has its cell; one comment per cell names all its rules.
    results = _results(wb)
    assert all(r["标注单元格"] != "（未在表格中定位）" for r in results)
    named = Counter(
        rule for c in marked.values() for rule in {f.rule_id for f in example.findings} if rule in c.comment.text
    )
    assert set(named) == {f.rule_id for f in example.findings}
    # Cannot-verify alone is yellow; a cell with an error and cannot-verify findings is red.
    djpt = next(c for c in marked.values() if "ZZ-DJPT-001" in c.comment.text)
    assert _fill(djpt) == FILL_COLOURS["review"]
    total = next(c for c in marked.values() if "QG-REQ-001" in c.comment.text)
    assert _fill(total) == FILL_COLOURS["error"] and total.comment.text.startswith("QG-REQ-001")
    txt = next(c for c in marked.values() if "QG-HYG-006" in c.comment.text)
    assert _fill(txt) == FILL_COLOURS["warning"]
    # to_xlsx of one filing is its annotated workbook.
    assert _cells(_workbook(to_xlsx([example], ruleset))) == _cells(wb)


def test_annotated_workbook_of_the_xlsx_marks_the_very_cell_and_leaves_the_file_alone(evaluator, form_xlsx):
    before = form_xlsx.read_bytes()
    outcome = _outcome(evaluator, form_xlsx)
    data = annotated_workbook(outcome, form_xlsx)
    assert form_xlsx.read_bytes() == before  # the submitted workbook is never written
    original = openpyxl.load_workbook(form_xlsx)
    wb = _workbook(data)
    assert wb.sheetnames == [RESULTS_SHEET, *original.sheetnames]
    _check_results_sheet(wb, outcome)
    marked = _marked(wb)
    # Each finding's cell is the top-left cell of its locator, on its sheet.
    expected = {}
    for finding in outcome.findings:
        sheet, _, cells = finding.location.removeprefix(f"{form_xlsx}:").rpartition("!")
        expected.setdefault((sheet, cells.split(":")[0]), set()).add(finding.rule_id)
    assert set(marked) == set(expected)
    for key, rules in expected.items():
        assert all(rule in marked[key].comment.text for rule in rules)
    zz = wb["附件3-5"]["B5"]
    assert zz.value == 20 and "ZZ-ZCDY-001" in zz.comment.text and "29.76万元" in zz.comment.text
    assert _fill(zz) == FILL_COLOURS["error"]
    # Values, number formats and merges of the submitted sheets are kept.
    for ws in original.worksheets:
        copy = wb[ws.title]
        assert [[c.value for c in row] for row in ws.iter_rows()] == [
            [c.value for c in row] for row in copy.iter_rows()
        ]
        assert sorted(map(str, ws.merged_cells.ranges)) == sorted(map(str, copy.merged_cells.ranges))
    assert wb["附件3-5"]["B5"].number_format == original["附件3-5"]["B5"].number_format
    link = next(r for r in _results(wb) if r["规则"] == "ZZ-ZCDY-001")
    assert link["标注单元格"] == "附件3-5!B5"
    row = next(i for i, r in enumerate(_results(wb), start=2) if r["规则"] == "ZZ-ZCDY-001")
    assert wb[RESULTS_SHEET].cell(row, 5).hyperlink.location == "'附件3-5'!B5"


def test_annotated_workbook_of_the_docx(evaluator, form_docx):
    outcome = _outcome(evaluator, form_docx)
    wb = _workbook(annotated_workbook(outcome, form_docx))
    _check_results_sheet(wb, outcome)
    cell = next(c for (sheet, _), c in _marked(wb).items() if sheet == "附件3-5" and "ZZ-ZCDY-001" in c.comment.text)
    assert str(cell.value).strip() == "20" and _fill(cell) == FILL_COLOURS["error"]
    assert "表7 第5行" in str(wb["附件3-5"].cell(cell.row, 1).value)


def test_workbook_keeps_hostile_text_as_text(evaluator, ruleset, mutate, tmp_path):
    path = tmp_path / "hostile.txt"
    path.write_text(
        mutate({157: '\t=HYPERLINK("http://example.invalid","x")', 163: "\t业务\x0b性专项经费"}), encoding="utf-8"
    )
    outcome = _outcome(evaluator, path)
    hostile = replace(outcome.findings[0], message="控制字符\x0b\x00<script>")
    outcome = replace(outcome, findings=[hostile, *outcome.findings[1:]])
    wb = _workbook(annotated_workbook(outcome, path))
    cells = [
        c
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")
    ]
    assert cells and all(c.data_type == "s" for c in cells)  # stored as text, never a formula
    assert any(r["说明"] == "控制字符\ufffd\ufffd<script>" for r in _results(wb))


def test_waived_finding_is_grey_in_the_workbook(example):
    waived = _waive(example, "QG-IND-003")
    wb = _workbook(annotated_workbook(waived, waived.path))
    cell = next(c for c in _marked(wb).values() if "QG-IND-003" in c.comment.text)
    assert _fill(cell) == FILL_COLOURS["waived"] and "已豁免" in cell.comment.text
    assert next(r for r in _results(wb) if r["规则"] == "QG-IND-003")["状态"] == "已豁免"


def test_workbook_of_a_file_gone_since_the_check_still_lists_the_findings(example, tmp_path):
    wb = _workbook(annotated_workbook(example, tmp_path / "gone.txt"))
    assert wb.sheetnames == [RESULTS_SHEET]
    assert [r["规则"] for r in _results(wb)] == [f.rule_id for f in example.findings]
    assert {r["标注单元格"] for r in _results(wb)} == {"（未在表格中定位）"}


def test_to_xlsx_of_several_filings(evaluator, ruleset, example, form_xlsx, unreadable):
    workbook = _outcome(evaluator, form_xlsx)
    wb = _workbook(to_xlsx([example, workbook, unreadable], ruleset))
    assert wb.sheetnames[0] == RESULTS_SHEET
    assert "1-附件3-5" in wb.sheetnames and "2-附件3-5" in wb.sheetnames
    results = _results(wb)
    assert len(results) == len(example.findings) + len(workbook.findings) + 1
    assert results[-1]["状态"] == "无法读取" and results[-1]["说明"] == unreadable.error.message
    for sheet in ("1-附件3-5", "2-附件3-5"):
        cell = next(c for (s, _), c in _marked(wb).items() if s == sheet and "ZZ-ZCDY-001" in c.comment.text)
        assert str(cell.value).strip() in ("20", "20.00万元") and _fill(cell) == FILL_COLOURS["error"]


# --- determinism ------------------------------------------------------------------------------------


def _cells(wb: openpyxl.Workbook) -> list:
    """Everything a reviewer sees in a workbook: values, fills and comments, sheet by sheet."""
    return [
        (
            ws.title,
            [
                (c.coordinate, c.value, _fill(c), c.comment.text if c.comment else None)
                for row in ws.iter_rows()
                for c in row
            ],
        )
        for ws in wb.worksheets
    ]


def test_same_input_same_reports(evaluator, ruleset, in_repo, form_xlsx, unreadable):
    def batch():
        return [_waive(_outcome(evaluator, in_repo), "QG-IND-003"), _outcome(evaluator, form_xlsx), unreadable]

    first, second = batch(), batch()
    for render in (to_sarif, to_junit, to_html):
        assert render(first, ruleset) == render(second, ruleset)  # byte-identical text
    # An .xlsx is a zip whose members carry the time they were written: compare what is in the cells.
    assert _cells(_workbook(to_xlsx(first, ruleset))) == _cells(_workbook(to_xlsx(second, ruleset)))
    one, two = first[0], second[0]
    assert _cells(_workbook(annotated_workbook(one, one.path))) == _cells(_workbook(annotated_workbook(two, two.path)))


def test_reports_without_explanations(evaluator, ruleset, in_repo):
    """``hegui check`` without --explain: findings have no derivation, and every report still works."""
    filing = read_filing(in_repo)
    result = evaluator.check(filing)
    outcome = FilingOutcome(in_repo, filing, result.findings, jurisdiction=result.jurisdiction)
    assert all(f.explanation is None for f in outcome.findings)
    assert not list(_sarif_validator().iter_errors(json.loads(to_sarif([outcome], ruleset))))
    assert _parse(to_html([outcome], ruleset)).details == 0
    ET.fromstring(to_junit([outcome], ruleset).encode("utf-8"))
    wb = _workbook(annotated_workbook(outcome, in_repo))
    assert len(_results(wb)) == len(outcome.findings)


def test_finding_type_is_the_engine_one():
    # The reporters read these fields; a rename in Finding must show up here first.
    fields = set(Finding.__dataclass_fields__)
    assert {
        "rule_id",
        "severity",
        "status",
        "table",
        "item",
        "location",
        "line",
        "message",
        "expected",
        "actual",
        "citation",
        "evidence",
        "waiver",
        "explanation",
        "id",
    } <= fields
