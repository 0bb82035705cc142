"""The workbench's checks run in the service's worker processes, under its hard limits.

A filing whose check passes the time limit has its worker killed (not left running), and the
page says so in Chinese with status 504; one that needs more memory than a worker's cap gets
422; a bug is 500 with an incident number. Other filings on the same page are still shown, the
server answers ``/healthz`` throughout, and the next check runs in a fresh worker. The
misbehaving files come from the test-only reader plugin of conftest.py (``reader_plugin``).

One app for the module: one worker, a 2 s time limit, a 768 MiB address space. Then what a
worker sends back for the pages: a checked filing, pickled, equal to the objects it was made of.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hegui.app.checker import Checker
from hegui.app.service_worker import WorkerState
from hegui.engine.explain import Explainer
from hegui.facts.read import read_grid
from hegui.facts.tables import build_filing
from hegui.reports import reporters_for
from hegui.web import jobs
from hegui.web.jobs import CheckFiling, Impact, load_checked

TIMEOUT = 2.0
MEMORY = 768 * 1024 * 1024
NAME = "shifeng-zzb-2023.txt"


@pytest.fixture(scope="module")
def client(reader_plugin, tmp_path_factory, served):
    db = tmp_path_factory.mktemp("db") / "review.db"
    with served(db_url=f"sqlite:///{db}", workers=1, timeout_seconds=TIMEOUT, worker_memory_bytes=MEMORY) as client:
        yield client


def _upload(client: TestClient, *files: tuple[str, bytes]) -> str:
    answer = client.post("/upload", files=[("files", f) for f in files], follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _pids(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()]


def _gone(pid: int, wait: float = 0.0) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def test_a_check_past_the_time_limit_is_killed_and_the_page_says_so(client, reader_plugin, example_path):
    review = _upload(client, ("慢.nap", b"60"), (NAME, Path(example_path).read_bytes()))
    seen = len(_pids(reader_plugin))
    answers = []
    thread = threading.Thread(target=lambda: answers.append(client.get(review)))
    started = time.monotonic()
    thread.start()
    # While the worker sleeps in the file, the server answers at once.
    while len(_pids(reader_plugin)) == seen and time.monotonic() - started < 30:
        time.sleep(0.02)
    asked = time.monotonic()
    health = client.get("/healthz").json()
    assert time.monotonic() - asked < 0.5 and health["workers"]["busy"] == 1
    thread.join(60)
    page = answers[0]
    assert page.status_code == 504
    assert f"未能检查：检查超过{TIMEOUT:g}秒仍未完成，已终止" in page.text
    # The worker was killed, not left sleeping; the example beside it was checked by its replacement.
    assert _gone(_pids(reader_plugin)[seen])
    assert 'data-rule="ZZ-ZCDY-001"' in page.text and 'id="filing-2"' in page.text
    assert client.get("/healthz").json()["workers"]["replaced"] >= 1


def test_a_check_over_the_memory_cap_is_422_and_its_worker_retires(client, reader_plugin):
    review = _upload(client, ("大.hungry", str(MEMORY).encode()))
    seen = len(_pids(reader_plugin))
    page = client.get(review)
    assert page.status_code == 422
    assert "未能检查：检查所需内存超过上限（每项检查 0.75 GiB），已放弃" in page.text
    assert _gone(_pids(reader_plugin)[seen], wait=10)  # its state may be damaged: replaced
    # The why endpoint says the same, with the service's error code.
    why = client.get("/v1/why", params={"filing": review.split("f=")[1], "selector": "x"})
    assert why.status_code == 422 and why.json()["error"]["code"] == "out_of_memory"


def test_a_bug_in_a_check_is_500_with_an_incident_number(client):
    page = client.get(_upload(client, ("坏.boom", b"x")))
    assert page.status_code == 500
    assert re.search(r"服务内部错误，本次检查未完成（错误编号 [0-9a-f]{12}）", page.text)


def test_the_server_process_neither_reads_uploads_nor_renders_reports(client, example_path, monkeypatch):
    def not_here(*_args, **_kwargs):
        raise AssertionError("called in the server process")

    # Were the check or the workbook rendered in this process, these would fail the page.
    monkeypatch.setattr(jobs, "read_grid", not_here)
    monkeypatch.setattr(jobs, "annotated_workbook", not_here)
    content = Path(example_path).read_bytes() + b"\n\n"  # bytes of its own: not checked before
    review = _upload(client, (NAME, content))
    page = client.get(review)
    assert page.status_code == 200 and 'data-rule="ZZ-ZCDY-001"' in page.text
    annotated = client.get(f"/filings/{review.split('f=')[1]}/report.xlsx")
    assert annotated.status_code == 200 and annotated.content[:2] == b"PK"


# --- what a worker sends back -------------------------------------------------------------------


@pytest.fixture(scope="module")
def state(registry, ruleset, evaluator) -> WorkerState:
    """A service worker's state, in this process, on the session's compiled rules."""
    checker = Checker(registry, ruleset, evaluator=evaluator)
    return WorkerState(checker, reporters_for(registry), None)


def test_a_checked_filing_comes_back_from_a_worker_equal_to_the_objects_it_was_made_of(
    state, example_path, tmp_path, registry, evaluator
):
    path = tmp_path / "stored.txt"
    path.write_bytes(Path(example_path).read_bytes())
    checked = load_checked(CheckFiling("sha", NAME, str(path)).run(state)["value"])
    grid = read_grid(path, registry)
    result = evaluator.check(build_filing(grid), explain=True)
    assert checked.error == "" and checked.grid == grid
    assert checked.result is not None and checked.result.filing == result.filing == checked.filing
    assert checked.result.findings == result.findings  # every field, explanations included
    assert checked.result.facts == result.facts and checked.result.evaluations == result.evaluations
    assert checked.result.jurisdiction == ["石峰区", "株洲市", "湖南省", "全国"]
    assert [f.location.split(":")[0] for f in checked.findings] == [NAME] * len(result.findings)
    # why for an item, the rules that did not fire included, reads only what came back.
    entity = next(f.subject for f in result.findings if f.rule_id == "ZZ-ZCDY-001")
    assert Explainer(evaluator, checked.result).subject(entity) == Explainer(evaluator, result).subject(entity)


def test_a_checked_filing_too_large_to_show_is_refused_with_the_sizes(state, example_path, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ANSWER_BYTES", 100_000)  # the example's answer is about 270 KB
    checked = load_checked(CheckFiling("sha", NAME, str(example_path)).run(state)["value"])
    assert checked.grid is None and checked.findings == []
    assert "工作台无法显示" in checked.error and "hegui check" in checked.error


def test_an_impact_preview_leaves_the_worker_checking_with_the_loaded_rules(state, example_path, tmp_path):
    # A filing that states no rate takes the policy's 2000元/人/月: 29.76万元 (26.16万元 at 1500).
    text = Path(example_path).read_text(encoding="utf-8").replace("按2000元/人/月落实交通费，", "按规定落实交通费，")
    path = tmp_path / "no-rate.txt"
    path.write_text(text, encoding="utf-8")

    def expected() -> str:
        checked = load_checked(CheckFiling("sha", "no-rate.txt", str(path)).run(state)["value"])
        return next(f.message for f in checked.findings if f.rule_id == "ZZ-ZCDY-001")

    before = expected()
    changes, impacts, error = Impact({str(path): "no-rate.txt"}, "株洲市:驻村交通费标准", "1500").run(state)["value"]
    assert error == "" and changes == ["株洲市:驻村交通费标准：2000（2021年起） → 1500元/人/月"]
    assert [i.path for i in impacts] == ["no-rate.txt"]
    assert "26.16万元" in impacts[0].changed[0][1].message
    # The same worker's next check uses the rules it loaded, not the previewed ones.
    assert expected() == before and "29.76万元" in before
