"""The workbench's routes: pages at ``/``, the why endpoint, downloads, decisions, impact preview.

Everything the page needs is served from this package (``/static``) and Swagger UI's own
files from the ``swagger-ui-py`` package (``/static/swagger``), so the page and ``/docs``
work without internet.

Whatever reads an uploaded file or runs the rules — a filing's check, a report download, an
impact preview — runs in the service's worker processes (:mod:`hegui.web.jobs`), under the same
hard limits as ``POST /v1/check``: a check past the time limit has its worker killed (504 and a
Chinese message on the page), one past the memory cap fails in its worker (422), and the
server keeps answering. The pages keep what a worker sent back for each checked filing (grid,
filing, findings with explanations, the facts and evaluations ``why`` reads) in a cache bounded
by count and bytes, so a reload or a recorded decision does not check it again. ``why`` for an
item (the rules that did not fire, and why not) is answered here from that data: it reads the
facts and the rules, never the engine, in a few milliseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile

from hegui import __version__
from hegui.app.service_errors import ServiceError
from hegui.engine.explain import Explainer, render_text
from hegui.engine.findings import Finding
from hegui.engine.select import SelectionError, select
from hegui.facts.errors import InputError
from hegui.facts.units import format_decimal
from hegui.reports import FilingOutcome, Reporters
from hegui.web import impact as impact_mod
from hegui.web.jobs import Checked, CheckFiling, Impact, RenderReport, load_checked
from hegui.web.store import DECISIONS, DecisionError, ReviewStore, waiver_yaml
from hegui.web.workbench import FilingView, build_view, error_view, with_decisions

HERE = Path(__file__).parent
#: How the page names a format on its download button; other formats show their name.
_FORMAT_LABELS = {"xlsx": "批注的 Excel", "junit": "JUnit XML", "jsonl": "JSON Lines", "text": "文字"}


def download_formats(reporters: Reporters) -> list[tuple[str, str, str, str]]:
    """Every format of the report registry (plugins' too): (format, file suffix, media type, label)."""
    return [
        (r.name, r.suffix.lstrip(".") or r.name, r.media_type, _FORMAT_LABELS.get(r.name, r.name.upper()))
        for r in reporters
    ]


_MAX_FILES = 20
#: Checked filings kept for the pages: at most this many, and at most this many bytes as the
#: workers sent them (about 4× as much once loaded: 64 MB is ≈ 280 MB of the server's memory).
_CACHE_SIZE = 32
_CACHE_BYTES = 64 * 1024 * 1024


class Workbench:
    """The state behind the pages: the service (rules, worker pool), the review store, checked filings."""

    def __init__(self, service, db_url: str | None) -> None:
        self.service = service
        self.db_url = db_url
        self._store: ReviewStore | None = None
        self._store_lock = threading.Lock()
        self.workdir = tempfile.mkdtemp(prefix="hegui-web-")
        self._checked: OrderedDict[str, Checked] = OrderedDict()
        #: Checks under way, by filing: a second request for the same filing waits for the first.
        self._checking: dict[str, asyncio.Task] = {}

    @property
    def store(self) -> ReviewStore:
        """The review database, created on first use (not when the app starts: a service used
        only through the JSON API never creates a file)."""
        with self._store_lock:
            if self._store is None:
                self._store = ReviewStore(self.db_url)
            return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def run(self, job) -> Any:
        """``job``'s value from a worker of the service's pool; its refusals (busy, timed out and
        killed, out of memory, the worker died, a bug) become a :class:`PageError` with the
        service's status and Chinese message."""
        try:
            answer = await self.service.run(job)
        except ServiceError as exc:
            raise PageError(exc.status, exc.message, exc.code) from None
        return answer["value"]

    def materialise(self, sha: str, name: str, content: bytes) -> str:
        folder = os.path.join(self.workdir, sha[:24])
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            with open(path, "wb") as out:
                out.write(content)
        return path

    def written(self, sha: str, name: str) -> str:
        """Where the stored filing ``sha`` is written for the workers to read; its bytes are
        loaded from the store only when it is not there yet (an impact preview takes every
        stored filing: never all their bytes in this process at once)."""
        path = os.path.join(self.workdir, sha[:24], name)
        if os.path.exists(path):
            return path
        stored = self.store.filing(sha)
        return self.materialise(sha, name, stored.content if stored is not None else b"")

    async def checked(self, sha: str) -> Checked:
        """The filing stored under ``sha``, checked in a worker (once per server run while it stays
        in the cache)."""
        if sha in self._checked:
            self._checked.move_to_end(sha)
            return self._checked[sha]
        task = self._checking.get(sha)
        if task is None:
            task = asyncio.ensure_future(self._check(sha))
            self._checking[sha] = task
            task.add_done_callback(lambda done: self._checked_out(sha, done))
        # Shielded: a client that goes away does not cancel the check others may be waiting for.
        return await asyncio.shield(task)

    def _checked_out(self, sha: str, task: asyncio.Task) -> None:
        self._checking.pop(sha, None)
        if not task.cancelled():
            task.exception()  # seen: when every waiter went away, asyncio would log it as lost

    async def _check(self, sha: str) -> Checked:
        stored = self.store.filing(sha)
        if stored is None:
            raise PageError(404, "没有这份申报：它可能在另一个数据库里，请重新上传")
        path = self.materialise(sha, stored.name, stored.content)
        data = await self.run(CheckFiling(sha, stored.name, path))
        checked = await asyncio.to_thread(load_checked, data)
        self._checked[sha] = checked
        while len(self._checked) > 1 and (
            len(self._checked) > _CACHE_SIZE or sum(c.size for c in self._checked.values()) > _CACHE_BYTES
        ):
            self._checked.popitem(last=False)
        return checked

    def findings(self, checked: Checked, decisions) -> list[Finding]:
        return with_decisions(
            checked.findings, list(decisions.values()), checked.name, checked.filing.department, dt.date.today()
        )

    async def view(self, number: int, sha: str) -> FilingView:
        """One filing's part of the review page. A check the service stopped (time or memory limit,
        busy) shows its message in place of the tables, and the page answers with its status
        (:attr:`FilingView.status`); the other filings on the page are shown as usual."""
        try:
            checked = await self.checked(sha)
        except PageError as exc:
            if exc.status == 404:
                raise
            stopped = error_view(number, sha, self._name(sha), exc.message)
            stopped.status = exc.status
            return stopped
        if checked.error:
            return error_view(number, sha, checked.name, checked.error)
        decisions = {fid: d for (_, fid), d in self.store.decisions(sha).items()}
        assert checked.grid is not None and checked.result is not None
        return build_view(
            number,
            sha,
            checked.name,
            checked.grid,
            checked.filing,
            self.findings(checked, decisions),
            checked.result.jurisdiction,
            decisions,
        )

    def _name(self, sha: str) -> str:
        stored = self.store.filing(sha)
        return stored.name if stored is not None else sha[:12]


class PageError(Exception):
    """A page's answer other than 200: its status, a Chinese message and, when the service
    refused the work, the service's error code (timeout, out_of_memory, busy …)."""

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.globals["version"] = __version__
    env.globals["decisions"] = DECISIONS
    env.filters["explanation_text"] = render_text
    return templates


def _shas(request: Request) -> list[str]:
    shas = [s for s in request.query_params.getlist("f") if s and all(c in "0123456789abcdef" for c in s)]
    return list(dict.fromkeys(shas))[:_MAX_FILES]


def review_url(shas: list[str], anchor: str = "") -> str:
    return "/review?" + urlencode([("f", s) for s in shas]) + (f"#{anchor}" if anchor else "")


def mount(app: FastAPI, service, *, db_url: str | None = None, preload=()) -> Workbench:
    """Add the workbench pages, the why endpoint, local static files and an offline ``/docs`` to ``app``.

    ``service`` is the app's service object (registry, ruleset, checker, worker, limits);
    ``db_url`` the review database (SQLAlchemy URL; default a SQLite file in the current
    directory, created on first use); ``preload``: filing files to add to the workbench now,
    so the first page already lists them.
    """
    bench = Workbench(service, db_url)
    for path in preload:
        with open(path, "rb") as handle:
            bench.store.add_filing(_display_name(os.path.basename(path)), handle.read())
    app.state.workbench = bench
    templates = _templates()
    router = APIRouter()
    # Swagger UI 5 (the version that reads OpenAPI 3.1, which FastAPI writes) from the swagger-ui-py package.
    # Located without importing it (its __init__ loads framework adapters the workbench does not use).
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is not installed"
    swagger = Path(next(iter(spec.submodule_search_locations))) / "static"
    app.mount("/static/swagger", StaticFiles(directory=str(swagger)), name="swagger")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def error_page(request: Request, exc: PageError) -> HTMLResponse:
        return page(request, "error.html", exc.status, message=exc.message)

    @router.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png",
        )

    @router.get("/", include_in_schema=False)
    async def home(request: Request) -> HTMLResponse:
        stored = bench.store.filings()
        counts: dict[str, int] = {}
        for sha, _fid in bench.store.decisions():
            counts[sha] = counts.get(sha, 0) + 1
        return page(
            request,
            "home.html",
            filings=stored,
            decided=counts,
            suffixes=service.suffixes,
            rules=len(service.ruleset.rules),
            packs=service.ruleset.packs,
        )

    @router.post("/upload", include_in_schema=False)
    async def upload(request: Request) -> Response:
        try:
            form = await request.form(max_files=_MAX_FILES, max_fields=8)
        except Exception as exc:
            return error_page(request, PageError(400, f"上传失败：{exc}"))
        try:
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
            if not files:
                return error_page(request, PageError(400, "请选择要上传的申报文件"))
            shas = []
            for upload in files:
                name = _display_name(upload.filename or "")
                suffix = Path(name).suffix.lower()
                if suffix not in service.suffixes:
                    return error_page(
                        request,
                        PageError(415, f"“{name}”的类型不支持：请上传 {'、'.join(service.suffixes)} 文件"),
                    )
                content = await upload.read(service.max_upload_bytes + 1)
                if len(content) > service.max_upload_bytes:
                    return error_page(request, PageError(413, f"“{name}”超过上传大小上限"))
                shas.append(bench.store.add_filing(name, content))
        finally:
            await form.close()
        return RedirectResponse(review_url(shas), status_code=303)

    @router.get("/review", include_in_schema=False)
    async def review(request: Request) -> Response:
        shas = _shas(request)
        if not shas:
            return RedirectResponse("/", status_code=303)
        try:
            views = [await bench.view(n, sha) for n, sha in enumerate(shas, start=1)]
        except PageError as exc:
            return error_page(request, exc)
        rules = sorted({fv.finding.rule_id for v in views for fv in v.findings})
        tables = sorted({fv.finding.table or "全文" for v in views for fv in v.findings})
        return page(
            request,
            "review.html",
            next((v.status for v in views if v.status != 200), 200),
            views=views,
            shas=shas,
            rules=rules,
            tables=tables,
            formats=download_formats(service.reporters),
            here=review_url(shas),
            today=dt.date.today().isoformat(),
        )

    @router.post("/decisions", include_in_schema=False)
    async def decide(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=16)
        value = {k: str(form.get(k) or "") for k in ("filing", "finding", "decision", "note", "approver", "expires")}
        value["reviewer"] = str(form.get("reviewer") or "")
        back = str(form.get("back") or "")
        if not back.startswith("/review?"):
            back = review_url([value["filing"]])
        try:
            checked = await bench.checked(value["filing"])
        except PageError as exc:
            return error_page(request, exc)
        finding = next((f for f in checked.findings if f.id == value["finding"]), None)
        if finding is None:
            return error_page(request, PageError(404, f"这份申报没有编号为“{value['finding']}”的发现"))
        try:
            if value["decision"] == "withdraw":
                bench.store.withdraw(value["filing"], finding.id)
            else:
                bench.store.decide(
                    filing_sha256=value["filing"],
                    finding_id=finding.id,
                    decision=value["decision"],
                    rule_id=finding.rule_id,
                    item=finding.item,
                    filing_name=checked.name,
                    department=checked.filing.department if checked.filing else "",
                    note=value["note"],
                    approver=value["approver"],
                    expires=value["expires"],
                    reviewer=value["reviewer"],
                )
        except DecisionError as exc:
            return error_page(request, PageError(422, str(exc)))
        anchor = "decided-" + quote(finding.id, safe="")
        return RedirectResponse(back.split("#")[0] + "#" + anchor, status_code=303)

    @router.get("/waivers.yaml", include_in_schema=False)
    async def waivers(request: Request) -> Response:
        shas = set(_shas(request))
        decisions = [d for (sha, _), d in bench.store.decisions().items() if not shas or sha in shas]
        return Response(
            waiver_yaml(decisions),
            media_type="application/yaml; charset=utf-8",
            headers={"Content-Disposition": "attachment; filename=waivers.yaml"},
        )

    @router.get("/filings/{sha}/report.{fmt}", include_in_schema=False)
    async def report(request: Request, sha: str, fmt: str) -> Response:
        known = {f[0]: f for f in download_formats(service.reporters)}
        if fmt not in known:
            return error_page(request, PageError(404, f"没有“{fmt}”格式"))
        try:
            checked = await bench.checked(sha)
        except PageError as exc:
            return error_page(request, exc)
        decisions = {fid: d for (_, fid), d in bench.store.decisions(sha).items()}
        if checked.error:
            outcome = FilingOutcome(checked.name, error=InputError(checked.name, checked.error))
        else:
            assert checked.result is not None
            outcome = FilingOutcome(
                checked.name,
                checked.filing,
                bench.findings(checked, decisions),
                jurisdiction=checked.result.jurisdiction,
            )
        try:
            body = await bench.run(RenderReport(fmt, outcome, checked.path))
        except PageError as exc:
            return error_page(request, exc)
        _, suffix, media, _ = known.get(fmt, (fmt, fmt, "application/octet-stream", fmt))
        stem = Path(checked.name).stem
        filename = f"{stem}.hegui.{suffix}"
        return Response(
            body,
            media_type=media,
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )

    @router.get(
        "/v1/why",
        summary="为什么：解释一项发现或一个项目 / Why: explain a finding or an item",
        description="对已上传到工作台的申报（filing = 内容的 SHA-256）解释 selector 所指的发现或项目；"
        "selector 可以是发现编号、规则编号、hegui check 输出的位置、表名或项目名称。"
        "返回与 `hegui why --format json` 相同的文档。\n\n"
        "Explain a finding or an item of a filing uploaded to the workbench (filing = SHA-256 of its bytes). "
        "The selector is a finding id, a rule id, a location as `hegui check` prints it, a table or an item name.",
        tags=["why"],
    )
    async def why_stored(filing: str, selector: str) -> JSONResponse:
        try:
            checked = await bench.checked(filing)
        except PageError as exc:
            return _json_error(exc.status, exc.code or "not_found", exc.message)
        return await _why(bench, checked, selector)

    @router.post(
        "/v1/why",
        summary="为什么：上传申报并解释 / Why: upload a filing and explain",
        description="multipart/form-data，字段 file（申报文件）与 selector。返回与 `hegui why --format json` 相同的文档。\n\n"
        "Upload a filing (field `file`) with a `selector`; the answer is the document `hegui why --format json` writes.",
        tags=["why"],
    )
    async def why_upload(request: Request) -> JSONResponse:
        form = await request.form(max_files=1, max_fields=4)
        try:
            upload, selector = form.get("file"), str(form.get("selector") or "")
            if not isinstance(upload, UploadFile) or not selector:
                return _json_error(400, "invalid_request", "请用 multipart/form-data 提交 file（申报文件）和 selector")
            name = _display_name(upload.filename or "")
            if Path(name).suffix.lower() not in service.suffixes:
                return _json_error(
                    415, "unsupported_media_type", f"不支持的文件类型：请上传 {'、'.join(service.suffixes)} 文件"
                )
            content = await upload.read(service.max_upload_bytes + 1)
            if len(content) > service.max_upload_bytes:
                return _json_error(413, "payload_too_large", "上传的文件超过大小上限")
        finally:
            await form.close()
        sha = bench.store.add_filing(name, content)
        try:
            checked = await bench.checked(sha)
        except PageError as exc:
            return _json_error(exc.status, exc.code or "not_found", exc.message)
        return await _why(bench, checked, selector)

    @router.get("/impact", include_in_schema=False)
    async def impact_form(request: Request) -> HTMLResponse:
        return page(request, "impact.html", **_impact_context(bench))

    @router.post("/impact", include_in_schema=False)
    async def impact_run(request: Request) -> HTMLResponse:
        form = await request.form(max_files=5, max_fields=_MAX_FILES + 8)
        try:
            key, value = str(form.get("param") or ""), str(form.get("value") or "").strip()
            chosen = [str(s) for s in form.getlist("f")]
            packs = [f for f in form.getlist("rules") if isinstance(f, UploadFile) and f.filename]
            pack_dir = tempfile.mkdtemp(prefix="hegui-pack-", dir=bench.workdir)
            pack_paths = []
            pack_names: dict[str, str] = {}
            for number, upload in enumerate(packs, start=1):
                path = os.path.join(pack_dir, f"pack{number}.yaml")
                with open(path, "wb") as out:
                    out.write(await upload.read(service.max_upload_bytes))
                pack_paths.append(Path(path))
                pack_names[path] = _display_name(upload.filename or "")
        finally:
            await form.close()
        context = _impact_context(bench, key=key, value=value, chosen=chosen)
        if not (key and value) and not pack_paths:
            return page(request, "impact.html", 422, error="请选择参数并填写新值，或上传改动后的规则包", **context)
        stored = [s for s in bench.store.filings() if not chosen or s.sha256 in chosen]
        paths = {bench.written(s.sha256, s.name): s.name for s in stored}
        try:
            changes, impacts, error = await bench.run(Impact(paths, key, value, pack_names))
        except PageError as exc:
            return error_page(request, exc)
        finally:
            shutil.rmtree(pack_dir, ignore_errors=True)
        if error:
            return page(request, "impact.html", 422, error=error, **context)
        return page(request, "impact.html", changes=changes, impacts=impacts, **context)

    app.include_router(router)
    return bench


def _impact_context(bench: Workbench, **given: Any) -> dict[str, Any]:
    params = []
    for key, param in sorted(bench.service.ruleset.parameters.items()):
        values = "；".join(impact_mod._period_text(v) for v in param.values)
        params.append({"key": key, "unit": param.unit_text, "periods": values})
    return {
        "params": params,
        "filings": bench.store.filings(),
        "key": given.get("key", ""),
        "value": given.get("value", ""),
        "chosen": given.get("chosen", []),
        "format_decimal": format_decimal,
    }


async def _why(bench: Workbench, checked: Checked, selector: str) -> JSONResponse:
    """The document ``hegui why --format json`` writes, for a checked filing."""
    if checked.error:
        return _json_error(422, "input_error", checked.error)
    service = bench.service

    # In this process, off the event loop: select and the why-not read the facts and rules the
    # worker's answer carries (no engine, no file), a few milliseconds for a real filing.
    def job() -> dict[str, Any]:
        result = checked.result
        target = select(result, selector)
        if target.finding is not None:
            finding = next(f for f in checked.findings if f.id == target.finding.id)
            return {
                "file": checked.name,
                "selector": selector,
                "finding": finding.id,
                "explanations": [finding.explanation],
            }
        if target.findings:
            ids = [f.id for f in target.findings]
            shown = [f for f in checked.findings if f.id in ids]
            return {
                "file": checked.name,
                "selector": selector,
                "findings": ids,
                "explanations": [f.explanation for f in shown],
            }
        about = Explainer(service.checker.evaluator, result).subject(target.entity)
        document = {
            "file": checked.name,
            "selector": selector,
            "subject": about["subject"],
            "explanations": about["rules"],
            "note": about["other_rules"],
        }
        return _swap(document, checked.path, checked.name)

    try:
        document = await asyncio.to_thread(job)
    except SelectionError as exc:
        return _json_error(404, "not_found", str(exc))
    return JSONResponse(json.loads(json.dumps(document, ensure_ascii=False, sort_keys=True)))


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_swap(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    return value


def _json_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "location": ""}}, status_code=status)


def _display_name(filename: str) -> str:
    """The upload's own file name, without any directory part or control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "/\0").strip()[:200]
    return name if name not in ("", ".", "..") else "upload.txt"
