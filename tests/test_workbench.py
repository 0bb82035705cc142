"""The reviewer's workbench over HTTP: pages, cells marked by findings, why, decisions, downloads, /docs offline."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.engine.rules import RuleLoadError
from hegui.engine.waivers import load_waivers
from hegui.web.store import ReviewStore, waiver_yaml

NAME = "shifeng-zzb-2023.txt"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'review.db'}"


@pytest.fixture(scope="module")
def client(db_url, served):
    with served(db_url=db_url, workers=1) as client:
        yield client


@pytest.fixture(scope="module")
def uploaded(client, example_path) -> str:
    """The example uploaded once; its review page's address."""
    with open(example_path, "rb") as handle:
        answer = client.post("/upload", files=[("files", (NAME, handle, "text/plain"))], follow_redirects=False)
    assert answer.status_code == 303
    return answer.headers["location"]


def _sha(review: str) -> str:
    return review.split("f=")[1]


class _Refs(HTMLParser):
    """Every URL a page loads or links to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action") and value:
                self.urls.append(value)


def _refs(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


def test_pages_and_docs_load_nothing_from_outside(client, uploaded):
    for path in ("/", uploaded, "/impact", "/docs"):
        page = client.get(path)
        assert page.status_code == 200, path
        for url in _refs(page.text):
            assert not re.match(r"^(https?:)?//", url), (path, url)
            if url.startswith("/static/"):
                assert client.get(url).status_code == 200, url
    docs = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/redoc").status_code == 404  # ReDoc would come from a CDN: not offered


def test_the_service_without_the_page_creates_no_database(tmp_path, monkeypatch, served):
    monkeypatch.chdir(tmp_path)
    with served(workers=1) as client:
        assert client.get("/healthz").status_code == 200
        assert not (tmp_path / "hegui-review.db").exists()
        assert client.get("/").status_code == 200
        assert (tmp_path / "hegui-review.db").exists()  # created on first use, next to where it runs


def test_review_page_marks_the_cells_of_findings(client, uploaded):
    page = client.get(uploaded).text
    finding = re.search(
        r'<li class="finding sev-error" id="finding-1-(ZZ-ZCDY-001@[0-9a-f]{8})"[^>]*data-cells="([^"]*)"', page
    )
    assert finding is not None
    cell = finding.group(2).split()[0]
    # The 项目金额 cell of 附件3-5 (line 741 of the dump), marked as an error, showing its value.
    marked = re.search(rf'<td id="{cell}" class="hit sev-error"[^>]*data-place="741">20</td>', page)
    assert marked is not None
    # Every finding of the example is listed, with its id, and the explanation is on the page.
    document = json.loads(CliRunner().invoke(main, ["check", "--format", "json", "examples/" + NAME]).output)
    ids = [f["id"] for f in document["filings"][0]["findings"]]
    assert sorted(re.findall(r'data-id="([^"]+)"', page)) == sorted(ids)
    assert "计算：2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元" in page
    assert "驻村交通费标准" in page and "2021年起" in page  # the parameter and its period
    # A passing cell is not marked.
    assert not re.search(r'class="hit[^"]*"[^>]*data-place="742"', page)


def test_filters_offer_each_severity_table_and_rule(client, uploaded):
    page = client.get(uploaded).text
    rules = re.findall(r'data-rule="([^"]+)"', page)
    for rule in set(rules):
        assert f"<option>{rule}</option>" in page
    assert "<option>附件3-5</option>" in page
    assert 'value="cannot_verify"' in page


def test_why_endpoint_for_an_uploaded_filing(client, uploaded):
    sha = _sha(uploaded)
    answer = client.get("/v1/why", params={"filing": sha, "selector": "ZZ-ZCDY-001"})
    assert answer.status_code == 200
    document = answer.json()
    assert document["file"] == NAME and document["finding"].startswith("ZZ-ZCDY-001@")
    tree = document["explanations"][0]
    assert tree["steps"][0] == "2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元"
    assert tree["inputs"][0]["location"] == f"{NAME}:741"  # the upload's name, not a server path
    by_line = client.get("/v1/why", params={"filing": sha, "selector": "454"}).json()
    assert by_line["subject"]["item"] == "村主干（仅村书记）养老保险补贴"
    several = client.get("/v1/why", params={"filing": sha, "selector": "QG-X-003"}).json()
    assert len(several["findings"]) == 3 and len(several["explanations"]) == 3
    unknown = client.get("/v1/why", params={"filing": sha, "selector": "没有这一项"})
    assert unknown.status_code == 404 and "找不到" in unknown.json()["error"]["message"]
    assert client.get("/v1/why", params={"filing": "0" * 64, "selector": "x"}).status_code == 404


def test_why_endpoint_with_an_upload(client, example_path):
    with open(example_path, "rb") as handle:
        answer = client.post("/v1/why", files={"file": (NAME, handle)}, data={"selector": f"{NAME}:741"})
    assert answer.status_code == 200
    assert answer.json()["subject"]["item"] == "驻村工作队员待遇保障"
    cli = json.loads(
        CliRunner().invoke(main, ["why", str(example_path), f"{example_path}:741", "--format", "json"]).output
    )
    assert [t["rule"]["id"] for t in answer.json()["explanations"]] == [t["rule"]["id"] for t in cli["explanations"]]


def test_downloads_in_every_format(client, uploaded):
    sha = _sha(uploaded)
    for fmt in ("html", "xlsx", "json", "sarif", "junit", "jsonl", "text"):
        answer = client.get(f"/filings/{sha}/report.{fmt}")
        assert answer.status_code == 200, fmt
        assert "attachment" in answer.headers["content-disposition"]
        assert b"hegui-web-" not in answer.content  # no server path leaks into a report
    got = client.get(f"/filings/{sha}/report.json").json()
    assert all("explanation" in f for f in got["filings"][0]["findings"])  # as check --explain writes it
    html = client.get(f"/filings/{sha}/report.html").text
    assert "推导过程" in html and "2000元/人/月 × 6人 × 12月/年" in html  # the HTML report carries the explanation
    assert client.get(f"/filings/{sha}/report.exe").status_code == 404


def test_json_download_equals_the_cli(tmp_path, example_path, monkeypatch, served):
    with served(workers=1, db_url=f"sqlite:///{tmp_path / 'fresh.db'}") as client, open(example_path, "rb") as handle:
        review = client.post("/upload", files=[("files", (NAME, handle))], follow_redirects=False).headers["location"]
        got = client.get(f"/filings/{_sha(review)}/report.json").text
    shutil.copy(example_path, tmp_path / NAME)
    monkeypatch.chdir(tmp_path)
    assert got == CliRunner().invoke(main, ["check", "--explain", "--format", "json", NAME]).output


def test_decisions_are_kept_across_a_restart_and_shown_next_to_the_finding(tmp_path, example_path, served):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with served(workers=1, db_url=url) as client, open(example_path, "rb") as handle:
        review = client.post("/upload", files=[("files", (NAME, handle))], follow_redirects=False).headers["location"]
        sha = _sha(review)
        # The truncated citation 《关于》（株组〔2018〕93号）: a finding a reviewer may well call a false alarm.
        finding = re.search(r'data-id="(QG-HYG-006@[0-9a-f]{8})"', client.get(review).text).group(1)
        no_note = client.post("/decisions", data={"filing": sha, "finding": finding, "decision": "false_alarm"})
        assert no_note.status_code == 422 and "理由" in no_note.text
        saved = client.post(
            "/decisions",
            data={
                "filing": sha,
                "finding": finding,
                "decision": "false_alarm",
                "note": "标题在附件中已写全",
                "back": review,
            },
            follow_redirects=False,
        )
        assert saved.status_code == 303 and saved.headers["location"].startswith(review.split("#")[0])
    with served(workers=1, db_url=url) as client:  # a restart: nothing in memory
        page = client.get(review).text
        item = page[page.index(f'data-id="{finding}"') :]
        item = item[: item.index("</summary>")]
        assert "审核结论：误报（标题在附件中已写全）" in item


def test_a_waiver_decision_becomes_a_waiver_file_check_understands(tmp_path, example_path, served):
    url = f"sqlite:///{tmp_path / 'review.db'}"
    with served(workers=1, db_url=url) as client, open(example_path, "rb") as handle:
        review = client.post("/upload", files=[("files", (NAME, handle))], follow_redirects=False).headers["location"]
        sha = _sha(review)
        finding = re.search(r'data-id="(ZZ-ZCDY-001@[0-9a-f]{8})"', client.get(review).text).group(1)
        incomplete = client.post(
            "/decisions", data={"filing": sha, "finding": finding, "decision": "waived", "note": "追加预算已批"}
        )
        assert incomplete.status_code == 422 and "批准人" in incomplete.text and "有效期至" in incomplete.text
        client.post(
            "/decisions",
            data={
                "filing": sha,
                "finding": finding,
                "decision": "waived",
                "note": '追加预算已批: 见"株组〔2023〕1号"',
                "approver": "区委组织部",
                "expires": "2099-12-31",
            },
        )
        page = client.get(review).text
        assert re.search(rf'<li class="finding sev-waived"[^>]*data-id="{re.escape(finding)}"', page)
        yaml_text = client.get("/waivers.yaml", params={"f": sha}).text
    (tmp_path / "waivers.yaml").write_text(yaml_text, encoding="utf-8")
    waivers = load_waivers(tmp_path / "waivers.yaml")
    assert [(w.rule, w.filing, w.item, w.approved_by) for w in waivers] == [
        ("ZZ-ZCDY-001", NAME, "驻村工作队员待遇保障", "区委组织部")
    ]
    assert waivers[0].reason == '追加预算已批: 见"株组〔2023〕1号"'
    shutil.copy(example_path, tmp_path / NAME)
    result = CliRunner().invoke(
        main, ["check", "--format", "json", "--waivers", str(tmp_path / "waivers.yaml"), str(tmp_path / NAME)]
    )
    found = next(f for f in json.loads(result.output)["filings"][0]["findings"] if f["rule_id"] == "ZZ-ZCDY-001")
    assert found["waiver"]["status"] == "active"


def test_waiver_yaml_without_waivers_loads_as_empty(tmp_path):
    (tmp_path / "w.yaml").write_text(waiver_yaml([]), encoding="utf-8")
    try:
        assert load_waivers(tmp_path / "w.yaml") == []
    except RuleLoadError as exc:  # pragma: no cover - the message says why
        pytest.fail(str(exc))


def test_store_keys_decisions_by_content_and_finding(tmp_path):
    store = ReviewStore(f"sqlite:///{tmp_path / 's.db'}")
    a = store.add_filing("a.txt", b"same bytes")
    assert store.add_filing("renamed.txt", b"same bytes") == a  # the same filing, whatever its name
    store.decide(filing_sha256=a, finding_id="R-1@00000000", decision="confirmed", rule_id="R-1")
    store.decide(filing_sha256=a, finding_id="R-1@00000000", decision="false_alarm", rule_id="R-1", note="n")
    decisions = store.decisions(a)
    assert [d.decision for d in decisions.values()] == ["false_alarm"]  # the latest replaces the earlier
    store.withdraw(a, "R-1@00000000")
    assert store.decisions(a) == {}
    store.close()


def test_upload_refuses_unknown_types_in_chinese(client):
    answer = client.post("/upload", files=[("files", ("a.doc", b"\xd0\xcf\x11\xe0", "application/msword"))])
    assert answer.status_code == 415 and "类型不支持" in answer.text


def test_several_filings_on_one_page(client, example_path, tmp_path):
    other = tmp_path / "copy.txt"
    other.write_text(Path(example_path).read_text(encoding="utf-8").replace("\t20\n", "\t21\n", 1), encoding="utf-8")
    with open(example_path, "rb") as one, open(other, "rb") as two:
        answer = client.post(
            "/upload", files=[("files", (NAME, one)), ("files", ("copy.txt", two))], follow_redirects=False
        )
    page = client.get(answer.headers["location"]).text
    assert 'id="filing-1"' in page and 'id="filing-2"' in page and "copy.txt" in page


def test_impact_page(client, uploaded, example_path):
    sha = _sha(uploaded)
    form = client.get("/impact").text
    assert re.search(
        r'<option value="株洲市:驻村交通费标准">株洲市:驻村交通费标准：2000（2021年起） 元/人/月</option>', form
    )
    answer = client.post("/impact", data={"param": "株洲市:驻村交通费标准", "value": "1500", "f": sha})
    assert answer.status_code == 200
    page = answer.text
    assert "株洲市:驻村交通费标准：2000（2021年起） → 1500元/人/月" in page
    # The example states its own 2000元/人/月: ZZ-ZCDY-001 keeps that rate and does not change;
    # the stated rate now disagrees with the policy (ZZ-ZCDY-002).
    rows = re.findall(r'<tr class="(gained|lost|changed)">(.*?)</tr>', page, re.S)
    assert [kind for kind, _ in rows] == ["gained"]
    row = rows[0][1]
    assert "ZZ-ZCDY-002@" in row and "2000元/人/月" in row and "1500元/人/月" in row and "株组〔2018〕93号" in row
    # A filing that states no rate takes the policy's: its ZZ-ZCDY-001 changes with it.
    text = Path(example_path).read_text(encoding="utf-8")
    assert text.count("按2000元/人/月落实交通费，") == 1
    unstated = text.replace("按2000元/人/月落实交通费，", "按规定落实交通费，").encode("utf-8")
    other = client.post("/upload", files=[("files", ("no-rate.txt", unstated))], follow_redirects=False)
    answer = client.post(
        "/impact", data={"param": "株洲市:驻村交通费标准", "value": "1500", "f": _sha(other.headers["location"])}
    )
    rows = re.findall(r'<tr class="(gained|lost|changed)">(.*?)</tr>', answer.text, re.S)
    assert [kind for kind, _ in rows] == ["changed"]
    assert "ZZ-ZCDY-001@" in rows[0][1] and "29.76万元" in rows[0][1] and "26.16万元" in rows[0][1]
    bad = client.post("/impact", data={"param": "株洲市:驻村交通费标准", "value": "很多", "f": sha})
    assert bad.status_code == 422 and "十进制数" in bad.text


def test_serve_with_files_lists_them_on_the_first_page(tmp_path, example_path, served):
    with served(workers=1, db_url=f"sqlite:///{tmp_path / 'pre.db'}", preload=[str(example_path)]) as client:
        home = client.get("/").text
        link = re.search(r'<a href="(/review\?f=[0-9a-f]{64})">' + re.escape(NAME) + "</a>", home)
        assert link is not None
        assert "ZZ-ZCDY-001" in client.get(link.group(1)).text


def test_text_from_uploads_is_escaped(client, example_path):
    hostile = "<img src=x onerror=alert(1)>.txt"
    content = Path(example_path).read_bytes() + b"\n"  # other bytes: a filing of its own, under this name
    answer = client.post("/upload", files=[("files", (hostile, content))], follow_redirects=False)
    page = client.get(answer.headers["location"]).text
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in page
    assert "<img src=x" not in page and "<img src=x" not in client.get("/").text


def _make_xlsx():
    # --import-mode=importlib puts nothing on sys.path; load the generator by file (as test_xlsx does).
    import importlib.util
    import sys

    if "make_xlsx" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_xlsx", Path(__file__).parent / "make_xlsx.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_xlsx"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_xlsx"]


def test_a_workbook_filing_marks_its_cells_by_locator(client, tmp_path):
    path = _make_xlsx().write_form_xlsx(tmp_path / "石峰区委组织部.xlsx")
    with open(path, "rb") as handle:
        answer = client.post("/upload", files=[("files", (path.name, handle))], follow_redirects=False)
    page = client.get(answer.headers["location"]).text
    cells = re.search(r'data-rule="ZZ-ZCDY-001" data-cells="([^"]+)"', page).group(1).split()
    assert re.search(rf'<td id="{cells[0]}" class="hit sev-error"[^>]*data-place="附件3-5!B5:C5">20.00万元</td>', page)
    assert "<h2>附件3-5</h2>" in page  # one table per sheet
    unmapped = re.findall(r'<li class="finding[^"]*" id="[^"]*" data-id="([^"]+)"[^>]*data-cells=""', page)
    assert unmapped == []  # every finding of the example points at a cell of its workbook
    sha = answer.headers["location"].split("f=")[1]
    annotated = client.get(f"/filings/{sha}/report.xlsx")
    assert annotated.status_code == 200 and annotated.content[:2] == b"PK"


def test_impact_page_with_a_changed_rule_pack(client, uploaded):
    text = (Path(__file__).parents[1] / "rules" / "zhuzhou" / "village.yaml").read_text(encoding="utf-8")
    changed = text.replace("- {value: 2000, from: 2021}", "- {value: 1500, from: 2021}").encode("utf-8")
    answer = client.post("/impact", data={"f": _sha(uploaded)}, files=[("rules", ("village.yaml", changed))])
    assert answer.status_code == 200
    assert "规则包“株洲市”换为上传的版本" in answer.text
    rows = re.findall(r'<tr class="(gained|lost|changed)">(.*?)</tr>', answer.text, re.S)
    assert [kind for kind, _ in rows] == ["gained"]  # as with the parameter: the stated 2000 now disagrees
    assert "ZZ-ZCDY-002@" in rows[0][1] and "规定1500元/人/月" in rows[0][1]
    broken = client.post("/impact", data={"f": _sha(uploaded)}, files=[("rules", ("v.yaml", b"rules: [oops"))])
    assert broken.status_code == 422 and "v.yaml:1:" in broken.text and "hegui-web-" not in broken.text
