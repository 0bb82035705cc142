"""The workbench in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The tests start ``hegui serve`` themselves on a free localhost port, with their own review
database, and stop it again; one of them restarts it to see that a decision is kept. Every
request the page makes is checked to go to that server: the page must work offline.

Chromium is not optional here: without it these tests fail and say how to install it
(``.ci/run`` installs it), so CI cannot pass without really running them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

NAME = "shifeng-zzb-2023.txt"


def _chromium() -> str:
    path = os.environ.get("HEGUI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "浏览器测试需要 Chromium，但没有找到 chromium 命令：请安装 Debian 的 chromium 包"
            "（apt-get update && apt-get install -y chromium；.ci/run 会自动安装），"
            "或用环境变量 HEGUI_CHROMIUM 指定可执行文件。"
        )
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``hegui serve`` in a subprocess, on a free port, with the given review database."""

    def __init__(self, workdir: Path, db_url: str) -> None:
        self.workdir, self.db_url = workdir, db_url
        self.process: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> Server:
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        log = open(self.workdir / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hegui",
                "serve",
                "--port",
                str(port),
                "--workers",  # the pages and the API check in this pool: one worker is enough here
                "1",
                "--db",
                self.db_url,
                "--log-level",
                "warning",
            ],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"hegui serve exited: {(self.workdir / f'serve-{port}.log').read_text()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("hegui serve did not answer /healthz within 60 seconds")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("serve")
    server = Server(workdir, f"sqlite:///{workdir / 'review.db'}").start()
    yield server
    server.stop()


def _page(browser, server: Server):
    """A new page that fails the test if it asks for anything but ``server``."""
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    outside: list[str] = []

    def guard(route):
        if route.request.url.startswith(server.base + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.outside = outside  # type: ignore[attr-defined]
    return page


def _upload(page, server: Server, example_path) -> None:
    page.goto(server.base + "/")
    page.set_input_files("#files", str(example_path))
    with page.expect_navigation():
        page.click("#upload button[type=submit]")
    assert "/review?f=" in page.url


def test_upload_see_explain_decide_reload_and_restart(browser, served, example_path):
    from playwright.sync_api import expect

    page = _page(browser, served)
    _upload(page, served, example_path)
    finding = page.locator('li.finding[data-rule="ZZ-ZCDY-001"]')
    expect(finding).to_be_visible()
    expect(finding.locator("summary")).to_contain_text("ZZ-ZCDY-001")
    expect(finding.locator("summary")).to_contain_text("29.76万元")

    # Open the explanation: the arithmetic, the parameter with its period, and the cell is shown.
    finding.locator("summary").click()
    explanation = finding.locator(".explanation")
    expect(explanation).to_be_visible()
    expect(explanation).to_contain_text("2000元/人/月 × 6人 × 12月/年 = 144000元 = 14.40万元")
    expect(explanation).to_contain_text("结论：20.00万元 ≥ 29.76万元：不成立")
    expect(explanation.locator("table.params")).to_contain_text("2021年起")
    cell = page.locator("td.focus")
    expect(cell).to_have_count(1)
    expect(cell).to_have_text("20")
    expect(cell).to_have_attribute("data-place", "741")
    expect(cell).to_be_in_viewport()
    # The input's source links to its cell too.
    link = explanation.locator("a.cell-link", has_text=f"{NAME}:761")
    link.click()
    expect(page.locator("td.focus")).to_contain_text("6人")

    # Filters: warnings only hides the error.
    page.select_option("#filter-severity", "warning")
    expect(finding).to_be_hidden()
    expect(page.locator('li.finding[data-rule="QG-HYG-006"]')).to_be_visible()
    page.select_option("#filter-severity", "")
    page.select_option("#filter-rule", "ZZ-ZCDY-001")
    expect(page.locator("li.finding:visible")).to_have_count(1)
    page.select_option("#filter-rule", "")

    # Record a decision: a false alarm with a note.
    form = finding.locator("form.decide")
    form.locator('input[value="false_alarm"]').check()
    form.locator('textarea[name="note"]').fill("帮扶资金由后盾单位另行列支，经核实不计入本项目")
    form.locator('input[name="reviewer"]').fill("张审核")
    with page.expect_navigation():
        form.locator("button", has_text="保存结论").click()
    kept = "审核结论：误报（帮扶资金由后盾单位另行列支，经核实不计入本项目） — 张审核"
    expect(page.locator('li.finding[data-rule="ZZ-ZCDY-001"] .decision')).to_have_text(kept)
    page.reload()
    expect(page.locator('li.finding[data-rule="ZZ-ZCDY-001"] .decision')).to_have_text(kept)
    review = page.url.split(served.base, 1)[1].split("#")[0]
    assert page.outside == []  # type: ignore[attr-defined]
    page.close()

    # Restart the server on the same database: the decision is still there, next to the finding.
    served.stop()
    served.start()
    page = _page(browser, served)
    page.goto(served.base + review)
    expect(page.locator('li.finding[data-rule="ZZ-ZCDY-001"] .decision')).to_have_text(kept)
    # And on the next check of the same filing (uploaded again).
    _upload(page, served, example_path)
    expect(page.locator('li.finding[data-rule="ZZ-ZCDY-001"] .decision')).to_have_text(kept)
    assert page.outside == []  # type: ignore[attr-defined]
    page.close()


def test_docs_work_offline(browser, served):
    from playwright.sync_api import expect

    page = _page(browser, served)
    page.goto(served.base + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("hegui")
    expect(page.locator(".opblock-summary-path", has_text="/v1/why").first).to_be_visible()
    assert page.outside == []  # type: ignore[attr-defined]
    page.close()


_MEASURE = """async (data) => {
  const image = new Image();
  image.src = "data:image/png;base64," + data;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    if (r < 235 || g < 235 || b < 235) inked++;
    if (colours.size < 5000) colours.add((r << 16) | (g << 8) | b);
  }
  return { inked: inked / (pixels.length / 4), colours: colours.size };
}"""


def test_screenshot_is_not_blank(browser, served, example_path, tmp_path):
    page = _page(browser, served)
    _upload(page, served, example_path)
    page.locator('li.finding[data-rule="ZZ-ZCDY-001"] summary').click()
    page.wait_for_timeout(300)
    shot = page.screenshot(path=str(tmp_path / "workbench.png"))
    blank = browser.new_page(viewport={"width": 1400, "height": 900})
    blank.set_content("<html><body></body></html>")
    empty = blank.screenshot()
    # The pixels are measured in the browser itself (a canvas), so no imaging library is needed.
    measured = blank.evaluate(_MEASURE, base64.b64encode(shot).decode())
    baseline = blank.evaluate(_MEASURE, base64.b64encode(empty).decode())
    blank.close()
    page.close()
    assert baseline["inked"] < 0.001 and baseline["colours"] <= 2  # the measure sees a blank page as blank
    assert measured["inked"] > 0.05, measured  # text, table borders, highlighted cells, the header bar
    assert measured["colours"] > 50, measured
    print(f"screenshot: {tmp_path / 'workbench.png'} {measured}")


def test_serve_options_reach_the_worker_pool(served):
    """``hegui serve --workers 1`` (see Server.start) sizes the pool /healthz reports."""
    with urllib.request.urlopen(served.base + "/healthz", timeout=10) as answer:
        workers = json.load(answer)["workers"]
    assert workers["size"] == 1 and workers["alive"] <= 1 and workers["problem"] == ""
