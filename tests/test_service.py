"""The HTTP service: the same report as ``hegui check --format json``, the rule catalogue,
hostile inputs answered 4xx with the service still up, the worker pool's limits, and a real server.

One app serves the whole module: two worker processes, a 2 s time limit, a queue of one and a
768 MiB address space per worker. Checks that misbehave *inside a worker* come from the
test-only reader plugin of conftest.py (``reader_plugin``): ``.nap`` sleeps the seconds the
upload says and then refuses the file, ``.hungry`` allocates the bytes the upload says, ``.boom``
returns something that is not a grid (hegui's own code then fails: an internal error). Each logs
the worker's pid first, so a test knows which process holds its request.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import struct
import tempfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import docx
import jsonschema
import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from hegui.app import service as service_module
from hegui.app.service import create_app, make_server
from hegui.cli import main
from hegui.engine.rules import RuleLoadError
from hegui.plugins.manager import PluginError, build_registry, load_registered_rules
from hegui.reports import report_schema

VILLAGE = {
    "年度": 2023,
    "部门": "石峰区委组织部",
    "附件3": [{"名称": "驻村工作队员待遇保障", "项目金额": 20, "年度绩效目标": "下派工作队2支6人"}],
}


TIMEOUT = 2.0  # seconds per check: ample for a real one (≈0.1–0.5 s), and what a timeout test costs
NAP = 1.0  # seconds a slow check takes in the concurrency test
MEMORY = 768 * 1024 * 1024  # each worker's address space; a worker uses about 220 MB of it


@pytest.fixture(scope="module")
def pid_log(reader_plugin):
    """The test-only reader plugin (conftest.py), installed for this module and its workers."""
    return reader_plugin


@pytest.fixture(scope="module")
def app(pid_log):
    app = create_app(workers=2, timeout_seconds=TIMEOUT, max_queue=1, worker_memory_bytes=MEMORY)
    yield app
    app.state.hegui.close()


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Uploads land here, so a test can see that none is left behind."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def _leftovers(where: Path) -> list[str]:
    return sorted(p.name for p in where.iterdir() if p.name.startswith("hegui-upload-"))


def _still_up(client: TestClient) -> None:
    """The service answers health and a real check after whatever came before."""
    assert client.get("/healthz").json()["status"] == "ok"
    answer = client.post("/v1/check", json=VILLAGE)
    assert answer.status_code == 200
    assert any(f["rule_id"] == "ZZ-ZCDY-001" for f in answer.json()["filings"][0]["findings"])


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and "location" in error
    return error


# --- checking -------------------------------------------------------------------------------------


def test_upload_gives_exactly_the_cli_report(client, example_path, private_tmp, monkeypatch):
    monkeypatch.chdir(example_path.parent)
    cli = CliRunner().invoke(main, ["check", "--format", "json", example_path.name])
    assert cli.exit_code == 1, cli.output
    answer = client.post("/v1/check", files={"file": (example_path.name, example_path.read_bytes(), "text/plain")})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    # Same file name, same report, byte for byte: the temp file's path appears nowhere.
    assert answer.text == cli.output
    document = answer.json()
    jsonschema.validate(document, report_schema())
    assert document["filings"][0]["file"] == example_path.name
    assert document["filings"][0]["findings"][0]["location"].startswith(f"{example_path.name}:")
    assert _leftovers(private_tmp) == []


def test_upload_file_name_is_reduced_to_its_base_name(client, example_path, private_tmp):
    answer = client.post("/v1/check", files={"file": ("../../etc/申报.txt", example_path.read_bytes())})
    assert answer.status_code == 200
    assert answer.json()["filings"][0]["file"] == "申报.txt"
    assert "hegui-upload-" not in answer.text and str(private_tmp) not in answer.text


def test_inline_json_filing(client):
    answer = client.post("/v1/check", json=VILLAGE)
    assert answer.status_code == 200
    filing = answer.json()["filings"][0]
    assert filing["file"] == "filing.json" and filing["status"] == "checked"
    assert filing["jurisdiction"] == ["石峰区", "株洲市", "湖南省", "全国"]
    village = [f for f in filing["findings"] if f["rule_id"] == "ZZ-ZCDY-001"]
    assert len(village) == 1 and "29.76万元" in village[0]["message"] and "20.00万元" in village[0]["message"]
    assert village[0]["location"].startswith("filing.json:")
    assert "explanation" not in village[0]
    jsonschema.validate(answer.json(), report_schema())


def test_explain_adds_explanations(client):
    answer = client.post("/v1/check", params={"explain": "true"}, json=VILLAGE)
    assert answer.status_code == 200
    findings = answer.json()["filings"][0]["findings"]
    assert findings and all("explanation" in f for f in findings)
    village = next(f for f in findings if f["rule_id"] == "ZZ-ZCDY-001")
    assert village["explanation"]["verdict"] == "fail"
    assert any("14.40万元" in step for step in village["explanation"]["steps"])
    jsonschema.validate(answer.json(), report_schema())


def test_district_parameter(client):
    unnamed = {k: v for k, v in VILLAGE.items() if k != "部门"}
    national = client.post("/v1/check", json=unnamed).json()["filings"][0]
    assert national["jurisdiction"] == ["全国"]
    assert not any(f["rule_id"] == "ZZ-ZCDY-001" for f in national["findings"])
    city = client.post("/v1/check", params={"district": "株洲市"}, json=unnamed).json()["filings"][0]
    assert city["jurisdiction"] == ["株洲市", "湖南省", "全国"]
    assert any(f["rule_id"] == "ZZ-ZCDY-001" for f in city["findings"])
    # An unknown district would silently leave only the national rules: refused instead.
    error = _error(client.post("/v1/check", params={"district": "石峰"}, json=unnamed), 422, "invalid_parameter")
    assert error["suggestions"] == ["石峰区"] and "石峰区" in error["message"]


# --- the rule catalogue ---------------------------------------------------------------------------


def test_rules_list_is_every_loaded_rule(client):
    ruleset = load_registered_rules(build_registry())
    listing = client.get("/v1/rules").json()
    assert listing["count"] == len(ruleset.rules) == len(listing["rules"])
    assert [r["id"] for r in listing["rules"]] == [r.id for r in ruleset.rules]
    village = next(r for r in listing["rules"] if r["id"] == "ZZ-ZCDY-001")
    assert village["severity"] == "error" and village["pack"] == "株洲市" and village["jurisdiction"] == "株洲市"
    assert "株组〔2018〕93号" in village["citation"]["document"]
    # The rate is known only from a filing's quotation of the policy: the catalogue says so.
    assert village["citation"]["basis"] == "申报引用"


def test_one_rule_in_full(client):
    rule = client.get("/v1/rules/ZZ-ZCDY-001").json()
    assert rule["id"] == "ZZ-ZCDY-001" and rule["title"]
    assert "项目金额" in rule["checks"] and rule["why"] and rule["example"] and rule["fix"]
    assert "2000元/人/月" in rule["citation"]["quote"]
    transport = next(p for p in rule["parameters"] if p["name"] == "驻村交通费标准")
    assert transport["periods"] == [{"value": "2000", "unit": "元/人/月", "from": 2021, "until": None}]
    assert "定义于" not in rule["text"] and "如何改正" in rule["text"]
    # Ids are matched regardless of case.
    assert client.get("/v1/rules/zz-zcdy-001").json()["id"] == "ZZ-ZCDY-001"


def test_unknown_rule_is_404_with_did_you_mean(client):
    error = _error(client.get("/v1/rules/ZZ-ZCDY-01"), 404, "not_found")
    assert error["suggestions"][0] == "ZZ-ZCDY-001" and "您是不是想找" in error["message"]
    assert _error(client.get("/v1/rules/NOTHING-LIKE-IT"), 404, "not_found")["suggestions"] == []


def test_health_and_openapi(client):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["rules"] > 0 and health["version"] and health["busy"] is False
    spec = client.get("/openapi.json").json()
    check = spec["paths"]["/v1/check"]["post"]
    assert {"multipart/form-data", "application/json"} <= set(check["requestBody"]["content"])
    assert {p["name"] for p in check["parameters"]} == {"explain", "district"}
    assert {"200", "413", "415", "422", "504"} <= set(check["responses"])
    for path in ("/v1/rules", "/v1/rules/{rule_id}", "/healthz"):
        summary = spec["paths"][path]["get"]["summary"]
        assert " / " in summary and any("\u4e00" <= ch <= "\u9fff" for ch in summary), summary
    assert client.get("/v1/schema/report").json() == report_schema()


def test_unknown_paths_and_methods_use_the_error_body(client):
    _error(client.get("/v1/nothing"), 404, "not_found")
    _error(client.get("/v1/check"), 405, "method_not_allowed")
    _error(client.post("/v1/check", params={"explain": "maybe"}, json=VILLAGE), 422, "invalid_parameter")


# --- hostile and broken input ---------------------------------------------------------------------


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "附件1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _declared_size_bomb() -> bytes:
    """A small valid workbook whose central directory declares its sheet 4 GB uncompressed."""
    data = bytearray(_xlsx())
    offset = data.find(b"PK\x01\x02")
    while offset >= 0:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if data[offset + 46 : offset + 46 + name_length] == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, offset + 24, 0xFFFFFFF0)
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise AssertionError("sheet part not found")


def _entity_bomb_docx() -> bytes:
    """A Word document whose body is a billion-laughs entity expansion."""
    document = docx.Document()
    document.add_paragraph("附件1")
    source = io.BytesIO()
    document.save(source)
    entities = ['<!ENTITY a "haha">'] + [
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcd", "bcde", strict=True)
    ]
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE w:document [' + "".join(entities) + "]>\n"
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&e;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, body if info.filename == "word/document.xml" else old.read(info.filename))
    return out.getvalue()


UPLOADS = {
    "binary_txt": ("申报.txt", lambda: bytes(range(256)) * 64, 422, "input_error", "二进制"),
    "truncated_xlsx": ("申报.xlsx", lambda: _xlsx()[: len(_xlsx()) // 2], 422, "input_error", "损坏或不完整"),
    "zip_bomb_xlsx": ("申报.xlsx", _declared_size_bomb, 422, "input_error", "压缩炸弹"),
    "entity_bomb_docx": ("申报.docx", _entity_bomb_docx, 422, "input_error", "实体"),
    "docx_named_xlsx": ("申报.xlsx", _entity_bomb_docx, 422, "input_error", "扩展名与内容不符"),
    # .pdf and .xls are read since issue 11: a damaged one is the client's input error, with advice.
    "pdf": ("申报.pdf", lambda: b"%PDF-1.7\n", 422, "input_error", "PDF"),
    "legacy_xls": ("申报.xls", lambda: b"\xd0\xcf\x11\xe0", 422, "input_error", "另存为"),
    "legacy_doc": ("申报.doc", lambda: b"\xd0\xcf\x11\xe0", 415, "unsupported_media_type", "另存为"),
    "no_suffix": ("申报", lambda: b"x", 415, "unsupported_media_type", "无扩展名"),
}


@pytest.mark.parametrize("case", sorted(UPLOADS))
def test_hostile_uploads_are_refused_and_the_service_stays_up(client, private_tmp, case):
    name, build, status, code, words = UPLOADS[case]
    error = _error(client.post("/v1/check", files={"file": (name, build())}), status, code)
    assert words in error["message"], error["message"]
    assert "hegui-upload-" not in error["message"] and str(private_tmp) not in error["message"]
    assert _leftovers(private_tmp) == []
    _still_up(client)


INLINE = {
    "syntax": (b'{"\xe5\xb9\xb4\xe5\xba\xa6": 2023,', "不是有效的 JSON", "第1行"),
    "wrong_shape": (json.dumps({"年度": 2023, "附件3": 5}, ensure_ascii=False).encode(), "应为列表", ""),
    "unknown_key": (json.dumps({"年度": 2023, "附件9": {}}, ensure_ascii=False).encode(), "附件9", ""),
    "no_year": (json.dumps({"部门": "石峰区委组织部"}, ensure_ascii=False).encode(), "缺少预算年度", ""),
    "not_an_object": (b"[1, 2, 3]", "映射", ""),
    "ambiguous_number": ('{"年度": 2023, "附件3": [{"名称": "x", "项目金额": 1e3}]}'.encode(), "有歧义", "第1行"),
    "not_utf8": ('{"年度": 2023, "部门": "石峰区"}'.encode("gb18030"), "UTF-8", ""),
    "deep_nesting": (b"[" * 100_000 + b"]" * 100_000, "", ""),
}


@pytest.mark.parametrize("case", sorted(INLINE))
def test_malformed_json_filings_are_422(client, case):
    body, words, where = INLINE[case]
    error = _error(
        client.post("/v1/check", content=body, headers={"content-type": "application/json"}), 422, "input_error"
    )
    assert words in error["message"], error["message"]
    assert where in error["location"]
    _still_up(client)


def test_request_shape_errors(client):
    _error(
        client.post("/v1/check", content=b"hello", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    _error(client.post("/v1/check", content=b"hello"), 415, "unsupported_media_type")
    _error(client.post("/v1/check", data={"other": "x"}, files={"attachment": ("a.txt", b"x")}), 400, "invalid_request")
    _error(
        client.post("/v1/check", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data"}),
        400,
        "invalid_request",
    )
    _still_up(client)


def test_oversized_uploads_are_413(app, client, private_tmp, monkeypatch):
    # The limit is read per request: this app's, lowered for the test (no second pool started).
    monkeypatch.setattr(app.state.hegui, "max_upload_bytes", 64 * 1024)
    small = client
    # Just over the limit: the body passes the framing allowance, the file itself is measured.
    error = _error(
        small.post("/v1/check", files={"file": ("big.txt", b"x" * (64 * 1024 + 1))}), 413, "payload_too_large"
    )
    assert "64 KB" in error["message"]
    # A body larger than its declared Content-Length is cut off while it streams ...
    chunks = (b"x" * 8192 for _ in range(200))
    _error(
        small.post("/v1/check", content=chunks, headers={"content-type": "multipart/form-data; boundary=b"}),
        413,
        "payload_too_large",
    )
    # ... and a declared length over the limit is refused before anything is read.
    _error(
        small.post(
            "/v1/check", content=b"{}", headers={"content-type": "application/json", "content-length": str(10**9)}
        ),
        413,
        "payload_too_large",
    )
    _error(
        small.post("/v1/check", content=b" " * (64 * 1024 + 1), headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )
    assert (
        small.post("/v1/check", files={"file": ("ok.txt", b"x" * (64 * 1024))}).status_code == 422
    )  # at the limit: read
    assert _leftovers(private_tmp) == []
    _still_up(small)


# --- the worker pool: time, memory, deaths, concurrency ----------------------------------------


def _nap(client: TestClient, seconds: float):
    return client.post("/v1/check", files={"file": ("申报.nap", str(seconds).encode())})


def _pids(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()]


def _next_pid(log: Path, seen: int, timeout: float = 30) -> int:
    """The pid of the worker that takes the next slow check (the log's line ``seen + 1``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _pids(log)
        if len(pids) > seen:
            return pids[seen]
        time.sleep(0.02)
    raise AssertionError("no worker took the check")


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ready(client: TestClient) -> dict:
    """Wait until every worker is ready (started now, if not yet, or replaced)."""
    client.app.state.hegui.pool.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = client.get("/healthz").json()["workers"]
        if workers["ready"] == workers["size"] and workers["busy"] == 0:
            return workers
        time.sleep(0.05)
    raise AssertionError(f"workers not ready: {workers}")


def test_checks_run_concurrently_and_health_answers_while_every_worker_is_busy(client):
    _still_up(client)
    _ready(client)
    answers: dict[str, object] = {}

    def nap(key: str, seconds: float) -> None:
        answers[key] = _nap(client, seconds)

    started = time.monotonic()
    both = [threading.Thread(target=nap, args=(key, NAP)) for key in ("a", "b")]
    for thread in both:
        thread.start()
    # /healthz answers at once while both workers check: it never waits for one.
    deadline = time.monotonic() + 10
    while True:
        asked = time.monotonic()
        health = client.get("/healthz").json()
        assert time.monotonic() - asked < 0.5
        if health["workers"]["busy"] == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert health["busy"] is True and health["workers"]["busy"] == 2
    # One more request waits in the queue (max_queue=1) ...
    queued = threading.Thread(target=nap, args=("c", 0))
    queued.start()
    while client.get("/healthz").json()["workers"]["queued"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    # ... and the next one is refused at once, with a hint when to come back.
    refused = client.post("/v1/check", json=VILLAGE)
    _error(refused, 503, "busy")
    assert refused.headers["retry-after"] == str(round(TIMEOUT))
    for thread in both:
        thread.join()
    elapsed = time.monotonic() - started
    queued.join()
    # Two checks of NAP seconds each took about NAP, not 2 × NAP: they ran side by side.
    assert elapsed < 1.8 * NAP, elapsed
    for key in ("a", "b", "c"):
        assert _error(answers[key], 422, "input_error")["message"] == "睡醒了"


def test_a_check_past_its_time_limit_is_killed_and_the_next_one_runs_at_once(app, client, pid_log):
    _ready(client)
    seen = len(_pids(pid_log))
    started = time.monotonic()
    error = _error(_nap(client, 60), 504, "timeout")
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 3
    assert f"{TIMEOUT:g}秒" in error["message"]
    pid = _next_pid(pid_log, seen)
    # Killed and reaped before the answer: not running on in the background, not a zombie.
    assert not _exists(pid) and pid not in app.state.hegui.pool.pids()
    started = time.monotonic()
    assert client.post("/v1/check", json=VILLAGE).status_code == 200
    assert time.monotonic() - started < TIMEOUT  # the other worker took it: no wait for the replacement
    assert client.get("/healthz").json()["workers"]["replaced"] >= 1


def test_a_worker_killed_mid_check_is_a_5xx_and_is_replaced(client, pid_log):
    _ready(client)
    seen = len(_pids(pid_log))
    answers = []
    thread = threading.Thread(target=lambda: answers.append(_nap(client, 30)))
    thread.start()
    pid = _next_pid(pid_log, seen)
    os.kill(pid, signal.SIGKILL)  # as the OOM killer would
    thread.join(10)
    error = _error(answers[0], 500, "worker_died")
    assert "SIGKILL" in error["message"] and "重试" in error["message"]
    _still_up(client)
    assert _ready(client)["alive"] == 2


def test_a_check_over_the_memory_cap_is_an_error_not_a_dead_service(app, client, pid_log):
    _ready(client)
    seen = len(_pids(pid_log))
    # Without the cap this allocation succeeds (the machine has the memory; the pages are
    # never touched); with it, the worker cannot have it.
    answer = client.post("/v1/check", files={"file": ("申报.hungry", str(MEMORY).encode())})
    error = _error(answer, 422, "out_of_memory")
    assert "内存" in error["message"] and "0.75 GiB" in error["message"]
    # The worker retired (its state may be damaged) and was replaced.
    pid = _next_pid(pid_log, seen)
    deadline = time.monotonic() + 10
    while _exists(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _exists(pid)
    _still_up(client)


def test_unexpected_failure_is_500_and_the_service_stays_up(client, caplog):
    error = _error(client.post("/v1/check", files={"file": ("申报.boom", b"x")}), 500, "internal_error")
    assert "boom" not in error["message"] and "错误编号" in error["message"]
    assert "boom" in caplog.text and "RuntimeError" in caplog.text  # the worker's traceback, logged
    _still_up(client)


def test_invalid_rules_or_plugins_stop_the_app_from_starting(tmp_path, monkeypatch):
    pack = tmp_path / "bad.yaml"
    pack.write_text("pack: {name: 坏, jurisdiction: 全国}\nrules:\n  - id: BAD-1\n    titel: 拼错\n", encoding="utf-8")
    with pytest.raises(RuleLoadError):
        create_app(rule_paths=[pack])
    monkeypatch.setenv("HEGUI_PLUGINS", "no-such-plugin")
    with pytest.raises(PluginError):
        create_app()


# --- a real server --------------------------------------------------------------------------------


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "hegui-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_real_uvicorn_server_on_localhost(app, example_path, monkeypatch):
    monkeypatch.setattr(service_module, "BODY_SECONDS", 1.0)
    server = make_server(app, log_level="warning")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other processes
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.02)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as answer:
            assert answer.status == 200 and json.load(answer)["status"] == "ok"
        body, kind = _multipart("申报.txt", example_path.read_bytes())
        request = urllib.request.Request(
            f"{base}/v1/check?explain=false", data=body, headers={"Content-Type": kind}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=20) as answer:
            document = json.load(answer)
        assert answer.status == 200 and document["filings"][0]["file"] == "申报.txt"
        assert any(f["rule_id"] == "ZZ-ZCDY-001" for f in document["filings"][0]["findings"])
        request = urllib.request.Request(
            f"{base}/v1/check",
            data=json.dumps(VILLAGE).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=20) as answer:
            assert any("29.76万元" in f["message"] for f in json.load(answer)["filings"][0]["findings"])

        # A client that sends its headers and then dribbles the body is cut off after
        # BODY_SECONDS, and nothing is answered to it; /healthz answers throughout.
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(
            b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        started = time.monotonic()
        closed = False
        received = b""
        while time.monotonic() - started < 8:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                assert answer.status == 200
            try:
                slow.sendall(b" ")
                slow.settimeout(0.2)
                chunk = slow.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
            received += chunk
            if chunk == b"":
                closed = True
                break
        assert closed and 0.9 < time.monotonic() - started < 4
        assert b"HTTP/1.1" not in received
        slow.close()
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
    assert not thread.is_alive()
