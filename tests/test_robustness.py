"""The hostile inputs of issue 13, each run as a real ``hegui`` process: every one ends with
exit 0, 1 or 2, without a traceback, in under 15 s and under 1 GB of peak RSS, and a refused
file names itself and its place; a hostile file beside a good one never costs the good one
its report. The files are generated here (tests/hostile.py), nothing large is kept."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile

SECONDS = 15
MEGABYTES = 1024

# (writer, words the error must contain, place it must name or "")
FILINGS = {
    "19 MB of one-character rows": (hostile.one_char_rows, "超过上限 200000 行", ""),
    "one cell at XFD on every sheet": (hostile.xfd_on_every_sheet, "", ""),
    "16 MB XML attribute in a .docx": (hostile.huge_attribute_docx, "XML 属性或文本", ""),
    "16 MB XML attribute in a .xlsx": (hostile.huge_attribute_xlsx, "XML 属性或文本", ""),
    ".docx with millions of elements": (hostile.many_elements_docx, "XML 元素超过上限", ""),
    "amounts of 10^28": (hostile.huge_amounts, "金额超过 10^16 元", "第29行"),
    "5,000-digit label number": (hostile.long_label_number, "超过 40 位的数字", "第189行"),
}


def _assert_bounded(run) -> None:
    assert run.returncode in (0, 1, 2), (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    # app/checker.py turns an unforeseen exception into the input's error record: still a crash.
    assert "程序出错" not in run.stdout + run.stderr, run.stdout[-2000:]
    assert run.seconds < SECONDS, run.seconds
    assert run.peak_rss_mb < MEGABYTES, run.peak_rss_mb


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    """Each hostile file, written once for the module (the large ones take a second to make)."""
    folder = tmp_path_factory.mktemp("hostile")
    made: dict[str, Path] = {}

    def get(case: str) -> Path:
        if case not in made:
            made[case] = FILINGS[case][0](folder)
        return made[case]

    return get


@pytest.fixture(scope="module")
def checked(hostile_file):
    """``hegui check --format json`` of one hostile file, run once for the module."""
    runs: dict[str, hostile.Run] = {}

    def get(case: str) -> hostile.Run:
        if case not in runs:
            runs[case] = hostile.run_hegui("check", "--format", "json", str(hostile_file(case)), timeout=60)
        return runs[case]

    return get


@pytest.mark.parametrize("case", sorted(FILINGS))
def test_hostile_filing_is_refused_or_read_within_bounds(hostile_file, checked, case):
    _, words, place = FILINGS[case]
    run = checked(case)
    _assert_bounded(run)
    report = json.loads(run.stdout)
    (entry,) = report["filings"]
    assert entry["file"] == str(hostile_file(case))
    if words:
        assert run.returncode == 2
        assert words in entry["error"]["message"], entry["error"]
        assert entry["error"]["location"] == place


def test_xfd_workbook_is_read_from_the_cells_that_exist(checked):
    """The stray cells at XFD no longer widen every row: the sheets are read (in well under a
    second each), and what is refused is the content — these sheets are not a filing — not
    the grid's size."""
    run = checked("one cell at XFD on every sheet")
    _assert_bounded(run)
    (entry,) = json.loads(run.stdout)["filings"]
    message = entry.get("error", {}).get("message", "")
    assert "范围过大" not in message and "上限" not in message, message


def test_hostile_files_beside_a_good_one_keep_its_report(hostile_file):
    paths = [hostile_file(case) for case in FILINGS]
    run = hostile.run_hegui("check", "--format", "json", str(hostile.EXAMPLE), *map(str, paths), timeout=90)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.peak_rss_mb < MEGABYTES
    filings = {f["file"]: f for f in json.loads(run.stdout)["filings"]}
    good = filings[str(hostile.EXAMPLE)]
    assert "error" not in good or not good["error"]
    assert good["findings"], "the example's findings are reported"
    for path in paths:  # each refused with its own error (the XFD workbook is read and checked)
        entry = filings[str(path)]
        assert entry.get("error", {}).get("message") or "findings" in entry, entry
        assert "程序出错" not in json.dumps(entry, ensure_ascii=False)


@pytest.mark.parametrize("char", ["\x07", "\u0090"], ids=["BEL", "U+0090"])
def test_control_character_in_rules_waivers_and_cases_is_a_located_error(tmp_path, char):
    rules = tmp_path / "rules.yaml"
    source = (hostile.REPO / "rules" / "hunan" / "pension.yaml").read_text(encoding="utf-8")
    rules.write_text(source.replace("湖南省委组织部", "湖南省委" + char + "组织部", 1), encoding="utf-8")
    run = hostile.run_hegui("check", "--rules", str(rules), str(hostile.EXAMPLE))
    _assert_bounded(run)
    assert run.returncode == 2
    assert f"{rules}:5:" in run.stderr and f"U+{ord(char):04X}" in run.stderr, run.stderr

    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        f"waivers:\n  - rule: QG-IND-003\n    item: 总费用控制\n    reason: 按全年{char}口径\n"
        "    approved_by: 区财政局\n    expires: 2024-06-30\n",
        encoding="utf-8",
    )
    run = hostile.run_hegui("check", "--waivers", str(waivers), str(hostile.EXAMPLE))
    _assert_bounded(run)
    assert run.returncode == 2
    assert f"{waivers}:4:" in run.stderr and f"U+{ord(char):04X}" in run.stderr, run.stderr

    cases = tmp_path / "pension.cases.yaml"
    text = (hostile.REPO / "rules" / "hunan" / "pension.cases.yaml").read_text(encoding="utf-8")
    cases.write_text(text.replace("cases:", f"# {char}\ncases:", 1), encoding="utf-8")
    run = hostile.run_hegui("rules", "test", str(cases))
    _assert_bounded(run)
    assert run.returncode == 2
    assert f"{cases}:4:" in run.stderr and f"U+{ord(char):04X}" in run.stderr, run.stderr


@pytest.fixture(scope="module")
def service_app():
    """One service for this module's service tests: one check worker is all they need."""
    from hegui.app.service import create_app

    app = create_app(workers=1)
    yield app
    app.state.hegui.close()


@pytest.mark.parametrize(
    "body",
    [
        '{"年度": 2023, "部门": "区委\u0090组织部"}',
        '{"年度": 2023, "部门": "区委\x07组织部"}',
        '{"年度": 2023, "部门": "区委组织部", "附件1": {"资金总额": 1' + "0" * 28 + "}}",
    ],
    ids=["U+0090", "BEL", "1e28"],
)
def test_service_answers_4xx_for_hostile_inline_filings(service_app, body):
    from fastapi.testclient import TestClient

    client = TestClient(service_app)
    answer = client.post("/v1/check", content=body.encode("utf-8"), headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["code"]
    assert client.get("/healthz").status_code == 200


# --- what the fuzzer found (bench/fuzz_inputs.py), kept as regressions ---------------------------


def test_html_cut_off_inside_a_script_inside_a_table_ends(tmp_path):
    """An unclosed <script> inside a table made the parser's close() loop for ever."""
    from hegui.facts.errors import InputError
    from hegui.facts.html import read_html

    path = tmp_path / "cut.html"
    path.write_text("<html><body><table><tr><td>资金总额</td><td>10<script>var x = 1;", encoding="utf-8")
    try:
        grid = read_html(path)
    except InputError as exc:
        assert exc.path == str(path)
    else:
        assert any("资金总额" in c.text for row in grid.rows for c in row.cells)


def test_xml_declaring_an_unknown_encoding_is_an_input_error(tmp_path):
    from hegui.facts.errors import InputError
    from hegui.facts.read import read_filing

    path = hostile._zip(
        tmp_path / "enc.docx",
        hostile._docx_members(b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"),
    )
    import zipfile

    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("word/settings.xml", b'<?xml version="1.0" encoding="UTF-99.9"?><w:settings/>')
    with pytest.raises(InputError) as caught:
        read_filing(path)
    assert "word/settings.xml" in caught.value.message


def test_number_of_thousands_of_digits_in_yaml_is_located():
    """A 4,400-digit 年度 in an inline filing reached the JSON report, which cannot print it."""
    from hegui.engine.cases import inline_filing_from_text
    from hegui.facts.errors import InputError

    with pytest.raises(InputError) as caught:
        inline_filing_from_text('{"年度": ' + "4" * 4400 + "}", "filing.json")
    assert caught.value.location == "第1行第8列"
    assert "4400 位" in caught.value.message
    with pytest.raises(InputError) as caught:  # shorter, but still no year
        inline_filing_from_text('{"年度": ' + "4" * 400 + "}", "filing.json")
    assert "预算年度不合理" in caught.value.message


# --- limits in every mode ----------------------------------------------------------------------


def test_plain_check_stops_a_slow_file_and_reports_the_others(monkeypatch, tmp_path):
    """Plain ``hegui check`` (no --timeout, no --jobs) has a per-file time limit too."""
    import time

    from click.testing import CliRunner

    import hegui.cli as cli
    from hegui.plugins import manager

    (tmp_path / "slow_reader.py").write_text(
        "import time\nfrom hegui.plugins.hookspecs import hookimpl\n"
        "@hookimpl\ndef hegui_register_readers(register):\n    register(('.slow',), lambda path: time.sleep(60))\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from importlib import metadata

    points = [metadata.EntryPoint(name="slow_reader", value="slow_reader", group="hegui")]
    monkeypatch.setattr(manager.metadata, "entry_points", lambda group: points if group == "hegui" else [])
    monkeypatch.setattr(cli, "_REGISTRY", None)
    monkeypatch.setattr(cli, "DEFAULT_SECONDS", 1.0)
    slow = tmp_path / "a.slow"
    slow.write_text("x", encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli.main, ["check", "--format", "json", str(slow), str(hostile.EXAMPLE)])
    assert time.monotonic() - started < 20
    assert result.exit_code == 2, result.output
    entries = {f["file"]: f for f in json.loads(result.stdout)["filings"]}
    assert "检查超时（超过1秒）" in entries[str(slow)]["error"]["message"]
    assert entries[str(hostile.EXAMPLE)]["findings"]
    monkeypatch.setattr(cli, "_REGISTRY", None)


def test_the_hegui_command_caps_its_memory():
    """``hegui`` (the console script and ``python -m hegui``) runs with its address space capped:
    an allocation past the cap is a MemoryError, never the machine swapping."""
    import subprocess

    probe = (
        "import resource\nfrom hegui.cli import console\nimport hegui.cli as cli\n"
        "cli.main = lambda: None\nconsole()\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0])\n"
        "try:\n    bytearray(3 * 1024 ** 3)\nexcept MemoryError:\n    print('MemoryError')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60).stdout.split()
    from hegui.facts.limits import MEMORY_BYTES

    assert out == [str(MEMORY_BYTES), "MemoryError"]


def test_service_closes_slow_header_and_idle_connections(service_app, monkeypatch):
    """A client that opens a connection and sends its headers a byte at a time, or nothing at
    all, is cut off; /healthz answers throughout."""
    import socket
    import threading
    import time
    import urllib.request

    from hegui.app import service

    monkeypatch.setattr(service, "HEADER_SECONDS", 1.0)
    server = service.make_server(service_app, log_level="warning")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        started = time.monotonic()
        closed = False
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.status == 200
            try:
                slow.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            slow.settimeout(0.3)
            try:
                if slow.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed and time.monotonic() - started < 8
        idle.settimeout(5)
        assert idle.recv(1) == b""  # closed by the server, nothing answered
        slow.close()
        idle.close()
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
