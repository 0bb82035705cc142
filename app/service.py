"""The HTTP service (``hegui serve``): check a filing over HTTP, browse the rule catalogue.

Endpoints (OpenAPI at ``/openapi.json``, interactive docs at ``/docs``):

* ``POST /v1/check`` — a filing uploaded as ``multipart/form-data`` (field ``file``; its
  suffix picks the reader: .txt, .xlsx/.xlsm, .docx, or a plugin's) or written inline as JSON
  (``application/json``, the model of the rule test cases). Answers the same JSON document
  ``hegui check --format json`` writes for that one file.
* ``GET /v1/rules``, ``GET /v1/rules/{id}`` — the loaded rules, one rule in full.
* ``GET /v1/schema/report`` — the JSON Schema of the check report.
* ``GET /healthz`` — liveness, number of rules, version, the check workers' state.

Every error has the body ``{"error": {"code", "message", "location"}}``; ``message`` is
Chinese and meant for the person who submitted the filing.

The rules and plugins are loaded once, when the app is created, and fail closed: invalid
rules or a broken plugin make :func:`create_app` raise, so a server never starts with a
rule pack missing (a missing pack would make filings look compliant).

Processes: every check runs in a pool of worker processes (:mod:`hegui.app.workers`), by
default one per core (``workers``). Each worker loads the plugins and compiles the rules once,
when it starts, and takes requests as plain data (:mod:`hegui.app.service_worker`): where the
upload was written, or the inline body, and the options; it answers with the report text or
a structured error. Each check has hard limits: past ``timeout_seconds`` its worker is
killed (504, ``timeout``) and replaced, never left running; a worker's address space is
capped (``worker_memory_bytes``), so a check that needs more fails with ``out_of_memory``
(422); a worker that dies (SIGKILL, the OOM killer, a crash) is replaced and its request
answered 500 ``worker_died``. Requests beyond the workers wait in a queue of ``max_queue``;
past it they are answered 503 ``busy`` with ``Retry-After``. ``/healthz`` never waits for a
worker. A client must send a request's headers within :data:`HEADER_SECONDS` and its body
within :data:`BODY_SECONDS`, or its connection is closed. The workbench's pages
(:mod:`hegui.web`) check, render reports and preview impacts in the same workers, under the
same limits (:meth:`Service.run`); only what the pages show is kept in this process.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from hegui import __version__
from hegui.app.checker import Checker
from hegui.app.service_errors import ServiceError
from hegui.app.service_worker import INLINE_NAME, CheckRequest, Job, WorkerOptions
from hegui.app.service_worker import answer as answer_request
from hegui.app.service_worker import load as load_worker
from hegui.app.workers import (
    PoolClosed,
    PoolFull,
    PoolUnavailable,
    TaskTimedOut,
    WorkerDied,
    WorkerEntry,
    WorkerPool,
)
from hegui.engine.catalogue import _check_summary, _condition, _periods, describe_rule
from hegui.engine.registry import Registry
from hegui.engine.rules import SEVERITY_NAMES, Citation, Parameter, Rule, describe_input
from hegui.engine.strictyaml import MAX_RULE_FILE_BYTES
from hegui.facts.limits import MEMORY_BYTES
from hegui.facts.read import LEGACY_REFUSED, READABLE_SUFFIXES
from hegui.facts.units import format_decimal
from hegui.reports import SCHEMA_ID, report_schema, reporters_for
from hegui.web import mount as mount_workbench

log = logging.getLogger("hegui.service")

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 30.0
#: Room for the multipart framing (boundaries, part headers) around the file itself: the raw
#: body may exceed the file limit by this much before it is cut off; the file is then
#: measured exactly.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
#: Requests that may wait for a worker, per worker, unless ``max_queue`` says otherwise.
QUEUE_PER_WORKER = 4
#: Address space of each check worker (see :data:`hegui.facts.limits.MEMORY_BYTES`).
WORKER_MEMORY_BYTES = MEMORY_BYTES
#: Suffixes the built-in readers handle (facts/read.py); plugins may register more.
BUILTIN_SUFFIXES = READABLE_SUFFIXES
_CHUNK = 64 * 1024

# Error codes of the error body; stable, clients branch on them.
INPUT_ERROR = "input_error"
INVALID_REQUEST = "invalid_request"
INVALID_PARAMETER = "invalid_parameter"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
PAYLOAD_TOO_LARGE = "payload_too_large"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
TIMEOUT = "timeout"
BUSY = "busy"
UNAVAILABLE = "unavailable"
OUT_OF_MEMORY = "out_of_memory"
WORKER_DIED = "worker_died"
INTERNAL_ERROR = "internal_error"


# --- response models (for the OpenAPI document) ----------------------------------------------------


class ErrorInfo(BaseModel):
    """What went wrong, for a program (``code``) and for a person (``message``)."""

    code: str = Field(
        description="稳定的错误代码 / stable error code: input_error, invalid_request, invalid_parameter, "
        "unsupported_media_type, payload_too_large, not_found, method_not_allowed, out_of_memory, timeout, busy, "
        "unavailable, worker_died, internal_error"
    )
    message: str = Field(
        description="中文说明，面向提交申报的人 / Chinese message for the person who submitted the filing"
    )
    location: str = Field(
        "",
        description="出错的行、单元格或参数，整个文件有误时为空 / line, cell or parameter; empty when the whole input is concerned",
    )
    suggestions: list[str] | None = Field(
        None, description="您是不是想找 / did-you-mean candidates (not_found, invalid_parameter)"
    )


class ErrorBody(BaseModel):
    error: ErrorInfo


class CitationInfo(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "政策依据 / the policy document a rule enforces"})

    document: str = Field(description="文件名称或文号 / document name or number")
    clause: str | None = Field(None, description="条款 / clause")
    title: str | None = Field(None, description="文件标题 / title")
    quote: str | None = Field(None, description="原文 / quoted text")
    url: str | None = None
    basis: str | None = Field(
        None, description="依据性质 / how the basis is known: 政策原文、申报引用、申报自述、表式、审核实务"
    )


class RuleSummary(BaseModel):
    id: str
    title: str = Field(description="标题 / title (Chinese)")
    severity: str = Field(description="error | warning | info")
    severity_name: str = Field(description="严重程度 / severity in Chinese")
    pack: str = Field(description="规则包 / rule pack")
    jurisdiction: str = Field(description="适用地区 / jurisdiction the rule applies to")
    citation: CitationInfo


class RuleList(BaseModel):
    count: int
    packs: list[str]
    rules: list[RuleSummary]


class PeriodInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    value: str = Field(description="数值（按参数单位书写）/ value as written, in the parameter's unit")
    unit: str
    from_year: int | None = Field(
        None, alias="from", description="起始年度（含），空为不限 / first budget year, null = open"
    )
    until_year: int | None = Field(
        None, alias="until", description="截止年度（含），空为不限 / last budget year, null = open"
    )


class ParameterInfo(BaseModel):
    name: str
    key: str = Field(description="规则包限定的名称 / pack-qualified key, e.g. 株洲市:交通费标准")
    unit: str
    description: str = ""
    source: CitationInfo | None = None
    periods: list[PeriodInfo]
    text: str = Field(description="取值与有效期 / values and periods as text")


class InputInfo(BaseModel):
    name: str
    description: str


class RuleDetail(RuleSummary):
    tags: list[str]
    checks: str = Field(description="检查什么 / what the rule checks")
    subject: str = Field(description="检查对象 / what it checks (附件1, 附件3, 明细, 指标 …)")
    conditions: list[str] = Field(description="适用条件 / when it applies")
    why: str = Field(description="为什么检查 / why (empty when not written)")
    parameters: list[ParameterInfo] = Field(description="参数及有效期 / parameters with their periods")
    inputs: list[InputInfo]
    example: str = Field(description="不合规示例 / a non-compliant example")
    fix: str = Field(description="如何改正 / how to fix")
    text: str = Field(
        description="hegui rule ID 的文字输出（不含安装路径）/ the text of `hegui rule ID`, without install paths"
    )


class WorkersInfo(BaseModel):
    size: int = Field(description="检查进程数 / worker processes the pool keeps")
    alive: int = Field(description="正在运行的检查进程 / worker processes running (loading or ready)")
    ready: int = Field(description="已载入规则的检查进程 / workers that have loaded the rules")
    busy: int = Field(description="正在检查的进程 / workers checking a filing now")
    queued: int = Field(description="排队等候的请求 / requests waiting for a worker")
    replaced: int = Field(description="被终止或异常退出后更换的进程 / workers killed or found dead and replaced")
    problem: str = Field(description="检查进程无法启动的原因，正常时为空 / why workers cannot start; empty when fine")


class Health(BaseModel):
    status: str = Field(description="ok")
    rules: int = Field(description="已加载的规则数 / rules loaded")
    version: str
    busy: bool = Field(
        description="所有检查进程都在工作（新请求须排队）/ every worker is checking (a new check would wait)"
    )
    workers: WorkersInfo


# --- errors ---------------------------------------------------------------------------------------


def _error_response(error: ServiceError) -> JSONResponse:
    body: dict[str, Any] = {"code": error.code, "message": error.message, "location": error.location}
    if error.suggestions is not None:
        body["suggestions"] = error.suggestions
    return JSONResponse({"error": body}, status_code=error.status, headers=error.headers)


def _internal_error(exc: BaseException | None, what: str, detail: str = "") -> ServiceError:
    """Log the traceback (``exc``'s, or a worker's as ``detail``) under an incident id; the
    client gets the id, not the internals."""
    incident = uuid.uuid4().hex[:12]
    log.error("%s failed (incident %s)%s", what, incident, f": {detail}" if detail else "", exc_info=exc)
    return ServiceError(500, INTERNAL_ERROR, f"服务内部错误，本次检查未完成（错误编号 {incident}），请联系管理员。")


def _size_text(size: int) -> str:
    if size >= 1024 * 1024 and size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


class _PayloadTooLarge(Exception):
    """Raised from inside the body stream once it passes its limit (stops reading at once)."""


# --- helpers --------------------------------------------------------------------------------------


def _citation(source: Citation) -> dict[str, str]:
    return {
        k: v
        for k, v in (
            ("document", source.document),
            ("clause", source.clause),
            ("title", source.title),
            ("quote", source.quote),
            ("url", source.url),
            ("basis", source.basis),
        )
        if v
    }


def _rule_summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity,
        "severity_name": SEVERITY_NAMES[rule.severity],
        "pack": rule.pack,
        "jurisdiction": rule.jurisdiction,
        "citation": _citation(rule.source),
    }


def _parameter(param: Parameter) -> dict[str, Any]:
    return {
        "name": param.name,
        "key": param.key,
        "unit": param.unit_text,
        "description": param.description,
        "source": _citation(param.source) if param.source else None,
        "periods": [
            {"value": format_decimal(v.written), "unit": param.unit_text, "from": v.start_year, "until": v.end_year}
            for v in param.values
        ],
        "text": _periods(param),
    }


def rule_detail(rule: Rule) -> dict[str, Any]:
    """One rule as JSON: the fields ``hegui rule ID`` (describe_rule) prints, structured."""
    # The definition file differs between installations and reveals server paths: leave
    # it out, as the generated rule docs do.
    text = "\n".join(line.split("    定义于：")[0] for line in describe_rule(rule).split("\n"))
    return {
        **_rule_summary(rule),
        "tags": list(rule.tags),
        "checks": _check_summary(rule),
        "subject": rule.subject,
        "conditions": [_condition(c) for c in rule.where],
        "why": rule.description,
        "parameters": [_parameter(p) for p in rule.parameters],
        "inputs": [{"name": inp.name, "description": describe_input(inp)} for inp in rule.inputs],
        "example": rule.example,
        "fix": rule.fix,
        "text": text,
    }


def _display_name(filename: str | None, suffix: str) -> str:
    """The upload's own file name, without any directory part or control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:255]
    return name if name not in ("", ".", "..") else f"upload{suffix}"


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()


def _content_length(request: Request) -> int | None:
    try:
        return int(request.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _limited(request: Request, limit: int, too_large: ServiceError) -> Request:
    """``request`` whose body stream stops with 413 once more than ``limit`` bytes arrived.

    Content-Length is checked first (reject before reading anything) but not trusted: the
    bytes are counted as they arrive, so a missing or lying header changes nothing.
    """
    declared = _content_length(request)
    if declared is not None and declared > limit:
        raise too_large
    seen = 0
    receive = request.receive

    async def counted() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _PayloadTooLarge()
        return message

    return Request(request.scope, counted)


@dataclass
class _Job:
    """What one check needs from the request: the upload's private file, or the inline body."""

    display: str
    temp_path: str | None = None
    temp_dir: str | None = None
    body: bytes | None = None

    def cleanup(self) -> None:
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


# --- the app --------------------------------------------------------------------------------------


class Service:
    """What the app serves: the registry, the rules compiled once, the worker pool, the limits."""

    def __init__(
        self,
        checker: Checker,
        *,
        rule_paths=(),
        max_upload_bytes: int,
        timeout_seconds: float,
        workers: int,
        max_queue: int,
        worker_memory_bytes: int | None,
    ) -> None:
        self.checker = checker
        self.registry: Registry = checker.registry
        self.ruleset = checker.ruleset
        self.reporters = reporters_for(self.registry)  # the formats `hegui check --format` offers
        self.max_upload_bytes = max_upload_bytes
        self.timeout_seconds = timeout_seconds
        self.worker_memory_bytes = worker_memory_bytes
        self.suffixes = tuple(dict.fromkeys([*BUILTIN_SUFFIXES, *sorted(self.registry.readers)]))
        options = WorkerOptions(tuple(os.fspath(p) for p in rule_paths or ()), worker_memory_bytes)
        entry = WorkerEntry(load_worker, answer_request, options, worker_memory_bytes, "hegui-service-worker")
        #: The worker processes of ``POST /v1/check`` and of the workbench; they start with the
        #: first task, or when the server starts (:func:`make_server`).
        self.pool = WorkerPool(entry, workers, timeout_seconds, max_queue)

    async def check(self, request: CheckRequest) -> str:
        """The report text for ``request``, from a worker; every failure is a :class:`ServiceError`."""
        return (await self.run(request))["report"]

    async def run(self, request: CheckRequest | Job) -> dict[str, Any]:
        """A worker's answer to ``request`` (a check, or a workbench :class:`Job`); every failure —
        busy, timed out (the worker killed), out of memory, the worker dead, an error answer — is a
        :class:`ServiceError`."""
        try:
            future = self.pool.submit(request)
        except PoolFull:
            raise self._busy() from None
        except (PoolUnavailable, PoolClosed) as exc:
            raise self._unavailable(exc) from None
        try:
            answer = await asyncio.wrap_future(future)
        except TaskTimedOut:
            raise ServiceError(
                504, TIMEOUT, f"检查超过{self.timeout_seconds:g}秒仍未完成，已终止；请检查文件是否异常庞大"
            ) from None
        except WorkerDied as exc:
            log.error("check worker died: %s", exc.message)
            raise ServiceError(
                500, WORKER_DIED, f"{exc.message}，本次检查未完成；已换上新的检查进程，可以重试"
            ) from None
        except (PoolUnavailable, PoolClosed) as exc:
            raise self._unavailable(exc) from None
        if "error" not in answer:
            return answer
        code = answer["error"]
        if code == INTERNAL_ERROR:  # a bug, not the filing's fault: logged, the service stays up
            raise _internal_error(None, "check", f"{answer['message']}\n{answer.get('detail', '')}")
        status = 422  # input_error, out_of_memory: what the client sent cannot be checked
        raise ServiceError(status, code, answer["message"], answer.get("location", ""))

    def _busy(self) -> ServiceError:
        return ServiceError(
            503,
            BUSY,
            "检查服务正忙（所有检查进程都在工作，排队已满），请稍后重试",
            headers={"Retry-After": str(max(1, round(self.timeout_seconds)))},
        )

    def _unavailable(self, exc: Exception) -> ServiceError:
        detail = f"：{exc}" if str(exc) else ""
        return ServiceError(
            503,
            UNAVAILABLE,
            f"检查进程暂时无法启动{detail}，请稍后重试",
            headers={"Retry-After": str(max(1, round(self.timeout_seconds)))},
        )

    def close(self) -> None:
        """Stop the worker processes."""
        self.pool.close()


_DESCRIPTION = """\
按政策规则检查预算绩效目标表（部门整体支出绩效目标表、专项资金绩效目标表）。
Checks Chinese government budget performance-target tables against policy rules.

* `POST /v1/check`：上传申报文件（.txt、.xlsx、.docx）或提交内联申报（JSON），返回与
  `hegui check --format json` 相同的报告。Upload a filing or post it inline as JSON; the
  answer is the report `hegui check --format json` writes.
* `GET /v1/rules`、`GET /v1/rules/{id}`：规则目录 / the rule catalogue.

错误统一为 / every error is `{"error": {"code", "message", "location"}}`。
"""

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorBody,
        "description": "请求格式有误（multipart 损坏、缺少 file 字段）/ malformed request (invalid_request)",
    },
    413: {"model": ErrorBody, "description": "上传超过大小上限 / upload larger than the limit (payload_too_large)"},
    415: {
        "model": ErrorBody,
        "description": "不支持的文件类型或 Content-Type / unsupported suffix or content type (unsupported_media_type)",
    },
    422: {
        "model": ErrorBody,
        "description": "无法读取为申报（input_error），检查所需内存超过上限（out_of_memory），或参数有误（invalid_parameter）"
        "/ not a readable filing, more memory than a check may use, or a bad parameter",
    },
    500: {
        "model": ErrorBody,
        "description": "内部错误（internal_error），或检查进程异常退出（worker_died，已更换）/ internal error, or the "
        "check's worker process died (it was replaced); the service stays up",
    },
    503: {
        "model": ErrorBody,
        "description": "所有检查进程都在工作且排队已满（busy），或检查进程无法启动（unavailable）/ every worker is busy "
        "and the queue is full, or workers cannot start; retry after Retry-After seconds",
    },
    504: {
        "model": ErrorBody,
        "description": "检查超时，检查进程已终止 / the check took longer than the limit; its worker was killed (timeout)",
    },
}

_INLINE_EXAMPLE = {
    "年度": 2023,
    "部门": "石峰区委组织部",
    "附件3": [{"名称": "驻村工作队员待遇保障", "项目金额": 20, "年度绩效目标": "下派工作队2支6人"}],
}

_CHECK_BODY = {
    "requestBody": {
        "required": True,
        "description": "申报文件（multipart，字段 file）或内联申报（JSON）/ a filing file (multipart field `file`) or an inline filing (JSON)",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "文件扩展名决定读取方式 / the suffix picks the reader: .txt, .xlsx, .xlsm, .docx",
                        }
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "内联申报，与规则用例中的 filing 相同 / an inline filing, as in the rule test cases: "
                    "年度, 部门, 单位, 附件1, 附件2, 附件3. Numbers must be plain decimals (no 1e3).",
                    "required": ["年度"],
                    "additionalProperties": True,
                },
                "example": _INLINE_EXAMPLE,
            },
        },
    }
}


def create_app(
    *,
    rule_paths=None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    db_url: str | None = None,
    preload=(),
    workers: int | None = None,
    max_queue: int | None = None,
    worker_memory_bytes: int | None = WORKER_MEMORY_BYTES,
) -> FastAPI:
    """The FastAPI app; loads plugins and rules once, now (the check workers load them again,
    each once, when they start: with the first check, or when :func:`make_server` starts).

    ``rule_paths``: rule pack files or folders (like ``hegui check --rules``); ``None`` uses
    every registered pack (built-in and installed plugins, subject to ``HEGUI_PLUGINS``).
    Raises :class:`~hegui.plugins.manager.PluginError` or
    :class:`~hegui.engine.rules.RuleLoadError` when plugins or rules are invalid: the
    service must not start with a rule pack missing.

    ``db_url``: the review workbench's database (SQLAlchemy URL); ``None`` is a SQLite file
    ``hegui-review.db`` in the current directory, created when the workbench is first used;
    ``preload``: filing files to add to the workbench now (``hegui serve FILE...``).

    ``workers``: check worker processes (default: one per core, :func:`os.cpu_count`);
    ``max_queue``: requests that may wait for a worker before new ones are answered 503
    (default :data:`QUEUE_PER_WORKER` per worker); ``timeout_seconds``: a check's time in its
    worker, after which the worker is killed (504); ``worker_memory_bytes``: each worker's
    address space (``None``: only what the process inherits). Call
    ``app.state.hegui.close()`` to stop the workers (they also end with this process).
    """
    if max_upload_bytes <= 0 or timeout_seconds <= 0:
        raise ValueError("max_upload_bytes and timeout_seconds must be positive")
    workers = workers if workers is not None else (os.cpu_count() or 1)
    max_queue = max_queue if max_queue is not None else QUEUE_PER_WORKER * workers
    if workers < 1 or max_queue < 0:
        raise ValueError("workers must be at least 1 and max_queue not negative")
    checker = Checker.load(rule_paths or ())
    registry, ruleset = checker.registry, checker.ruleset
    service = Service(
        checker,
        rule_paths=rule_paths or (),
        max_upload_bytes=max_upload_bytes,
        timeout_seconds=timeout_seconds,
        workers=workers,
        max_queue=max_queue,
        worker_memory_bytes=worker_memory_bytes,
    )

    # docs_url/redoc_url None: FastAPI's own pages load Swagger UI from a CDN; the workbench
    # serves /docs with local copies (hegui.web), so it works offline.
    app = FastAPI(
        title="hegui 合规检查服务 / hegui compliance checks",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.hegui = service
    mount_workbench(app, service, db_url=db_url, preload=preload)  # the reviewer's workbench at / (issue 15)

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            error = ServiceError(404, NOT_FOUND, f"没有这个地址：{request.url.path}", request.url.path)
        elif exc.status_code == 405:
            error = ServiceError(
                405, METHOD_NOT_ALLOWED, f"{request.url.path} 不支持 {request.method} 请求", request.url.path
            )
        else:
            error = ServiceError(exc.status_code, INVALID_REQUEST, f"请求有误：{exc.detail}")
        response = _error_response(error)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        where = ".".join(str(p) for p in problems[0]["loc"]) if problems else ""
        text = "；".join(f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in problems)
        return _error_response(ServiceError(422, INVALID_PARAMETER, f"请求参数有误：{text}", where))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _error_response(_internal_error(exc, f"{request.method} {request.url.path}"))

    @app.post(
        "/v1/check",
        summary="检查一份申报 / Check one filing",
        description=(
            "上传申报文件（multipart/form-data，字段 `file`，扩展名 .txt、.xlsx、.xlsm、.docx 决定读取方式），"
            "或以 `application/json` 提交内联申报。返回与 `hegui check --format json` 相同的报告（一份申报），"
            "有无发现都是 200；无法读取为申报时 422（input_error）。\n\n"
            "Upload a filing (multipart field `file`; its suffix picks the reader) or post it inline as JSON. "
            "The answer is the report `hegui check --format json` writes for that one filing, "
            f"status 200 with or without findings (schema `{SCHEMA_ID}`, see `GET /v1/schema/report`)."
        ),
        responses={
            200: {
                "description": "检查报告 / the check report",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            **_ERRORS,
        },
        openapi_extra=_CHECK_BODY,
    )
    async def check(
        request: Request,
        explain: bool = Query(
            False, description="附上每个发现的推导过程 / add each finding's derivation (explanation)"
        ),
        district: str | None = Query(
            None,
            description="申报所属地区（默认从部门名称识别），如 石峰区 / the filing's jurisdiction, default: from the department name",
        ),
    ) -> Response:
        if district == "":
            district = None
        if district is not None and district not in registry.jurisdictions:
            names = list(registry.jurisdictions)
            close = difflib.get_close_matches(district, names, n=3, cutoff=0.3)
            hint = f"；您是不是想找：{'、'.join(close)}" if close else f"；已注册的地区：{'、'.join(names)}"
            raise ServiceError(
                422, INVALID_PARAMETER, f"未知的地区“{district}”{hint}", "query.district", suggestions=close
            )
        kind = _media_type(request)
        if kind == "multipart/form-data":
            job = await _receive_upload(request, service)
        elif kind == "application/json" or kind.endswith("+json"):
            job = await _receive_inline(request, service)
        else:
            raise ServiceError(
                415,
                UNSUPPORTED_MEDIA_TYPE,
                f"不支持的 Content-Type“{kind or '（未给出）'}”：请用 multipart/form-data 上传申报文件（字段 file），"
                "或以 application/json 提交内联申报",
            )
        work = CheckRequest(job.display, job.temp_path, job.body, explain, district)
        try:
            return Response(await service.check(work), media_type="application/json")
        finally:
            job.cleanup()  # whatever happened: answered, timed out, worker died, client gone

    @app.get(
        "/v1/rules",
        response_model=RuleList,
        summary="列出规则 / List the rules",
        description="已加载的全部规则：编号、标题、严重程度、规则包、适用地区、政策依据。\n\n"
        "Every loaded rule: id, title, severity, pack, jurisdiction, citation.",
    )
    async def rules() -> dict[str, Any]:
        return {
            "count": len(ruleset.rules),
            "packs": list(ruleset.packs),
            "rules": [_rule_summary(r) for r in ruleset.rules],
        }

    @app.get(
        "/v1/rules/{rule_id}",
        response_model=RuleDetail,
        response_model_by_alias=True,
        summary="一条规则的全部说明 / One rule in full",
        description="检查什么、为什么、政策依据及原文、参数及有效期、不合规示例、如何改正（与 `hegui rule ID` 相同）。"
        "找不到时 404（not_found），并给出相近的编号。\n\n"
        "What the rule checks, why, its citation with the quoted text, parameters with their periods, "
        "an example and the fix (as `hegui rule ID`). 404 with did-you-mean suggestions when unknown.",
        responses={404: {"model": ErrorBody, "description": "没有此规则 / no such rule (not_found)"}},
    )
    async def rule(rule_id: str) -> dict[str, Any]:
        found = ruleset.by_id(rule_id) or ruleset.by_id(rule_id.strip().upper())
        if found is None:
            ids = [r.id for r in ruleset.rules]
            close = difflib.get_close_matches(rule_id.strip().upper(), ids, n=3)
            hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
            raise ServiceError(404, NOT_FOUND, f"没有编号为“{rule_id}”的规则{hint}", "path.rule_id", suggestions=close)
        return rule_detail(found)

    @app.get(
        "/v1/schema/report",
        summary="检查报告的 JSON Schema / JSON Schema of the check report",
        description="`POST /v1/check` 与 `hegui check --format json` 的报告格式（draft 2020-12）。\n\n"
        "The report format of `POST /v1/check` and `hegui check --format json` (draft 2020-12).",
    )
    async def schema() -> dict[str, Any]:
        return report_schema()

    @app.get(
        "/healthz",
        response_model=Health,
        summary="健康检查 / Health check",
        description="服务在运行时返回 status ok、规则数与版本，以及检查进程的状态（不等候任何检查进程）；"
        "busy 表示所有检查进程都在工作。\n\n"
        "status ok, the number of rules loaded, the version and the check workers' state (answered without waiting "
        "for any worker); busy tells whether every worker is checking.",
    )
    async def healthz() -> dict[str, Any]:
        pool = service.pool.status()
        workers = {
            "size": pool.size,
            "alive": pool.alive,
            "ready": pool.ready,
            "busy": pool.busy,
            "queued": pool.queued,
            "replaced": pool.replaced,
            "problem": pool.problem,
        }
        busy = pool.busy >= pool.size
        return {"status": "ok", "rules": len(ruleset.rules), "version": __version__, "busy": busy, "workers": workers}

    return app


async def _receive_upload(request: Request, service: Service) -> _Job:
    """Stream a multipart upload into a private temp file, enforcing the size limit."""
    limit = service.max_upload_bytes
    too_large = ServiceError(413, PAYLOAD_TOO_LARGE, f"上传的文件超过大小上限（{_size_text(limit)}）")
    limited = _limited(request, limit + MULTIPART_OVERHEAD_BYTES, too_large)
    try:
        form = await limited.form(max_files=1, max_fields=8)
    except _PayloadTooLarge:
        raise too_large from None
    except StarletteHTTPException as exc:  # Starlette's words for a malformed multipart body
        raise ServiceError(400, INVALID_REQUEST, f"multipart 请求格式有误：{exc.detail}") from None
    except ClientDisconnect:
        raise ServiceError(400, INVALID_REQUEST, "上传未完成：连接已断开") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ServiceError(
                400, INVALID_REQUEST, "缺少上传的申报文件：请用 multipart/form-data 的 file 字段上传", "file"
            )
        suffix = Path(upload.filename or "").suffix.lower()
        display = _display_name(upload.filename, suffix)
        if suffix not in service.suffixes:
            advice = LEGACY_REFUSED.get(suffix, "")  # the readers' own advice for old formats
            raise ServiceError(
                415,
                UNSUPPORTED_MEDIA_TYPE,
                advice or f"不支持的文件类型“{suffix or '（无扩展名）'}”：请上传 {'、'.join(service.suffixes)} 文件",
                "file",
            )
        # A private directory (mode 0700) holding one file under a fixed name: nothing the
        # client sent becomes part of a path on this machine.
        temp_dir = tempfile.mkdtemp(prefix="hegui-upload-")
        temp_path = os.path.join(temp_dir, f"upload{suffix}")
        job = _Job(display=display, temp_path=temp_path, temp_dir=temp_dir)
        try:
            size = 0
            fd = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := await upload.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    out.write(chunk)
        except BaseException:
            job.cleanup()
            raise
        return job
    finally:
        await form.close()


async def _receive_inline(request: Request, service: Service) -> _Job:
    """Read a JSON body (an inline filing) up to its limit."""
    # The model parser refuses text over MAX_RULE_FILE_BYTES anyway; say so as 413.
    limit = min(service.max_upload_bytes, MAX_RULE_FILE_BYTES)
    too_large = ServiceError(413, PAYLOAD_TOO_LARGE, f"内联申报超过大小上限（{_size_text(limit)}）")
    limited = _limited(request, limit, too_large)
    body = bytearray()
    try:
        async for chunk in limited.stream():
            body += chunk
    except _PayloadTooLarge:
        raise too_large from None
    except ClientDisconnect:
        raise ServiceError(400, INVALID_REQUEST, "请求未完成：连接已断开") from None
    return _Job(display=INLINE_NAME, body=bytes(body))


def make_server(
    app: FastAPI | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    **app_options: Any,
):
    """A ``uvicorn.Server`` for ``app`` (created from ``app_options`` when not given); call ``.run()``."""
    # Imported only to serve: uvicorn adds ~65 ms (measured after FastAPI is loaded) to every
    # program that merely builds the app, such as the tests.
    import uvicorn

    if app is None:
        app = create_app(**app_options)  # fail closed before the port is bound
    # The workers load while the server starts, not with the first request.
    app.state.hegui.pool.start()
    # One server process: the checks run in its pool of worker processes.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        workers=1,
        server_header=False,
        proxy_headers=False,
        access_log=log_level in ("debug", "trace", "info"),
        # Connections cost memory whatever they carry: idle ones are closed after a few
        # seconds, a request whose headers or body do not arrive in time is cut (slow
        # clients), headers are bounded, and past LIMIT_CONNECTIONS new ones are answered 503.
        http=_header_deadline_protocol(),
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=LIMIT_CONNECTIONS,
    )
    return uvicorn.Server(config)


#: Seconds an idle connection is kept open after a response.
KEEP_ALIVE_SECONDS = 5
#: Seconds a client has to send a request's headers (from connecting, or from the last response).
HEADER_SECONDS = 10.0
#: Seconds a client has to send a request's body once its headers are in: a 20 MB upload needs
#: 2.7 Mbit/s; a client that dribbles its body would otherwise hold a connection for ever.
BODY_SECONDS = 60.0
#: Bytes of a request's headers.
MAX_HEADER_BYTES = 64 * 1024
#: Open connections (and requests) at once.
LIMIT_CONNECTIONS = 64


def _header_deadline_protocol():
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete
    :data:`HEADER_SECONDS` after it opened or after its last response, or whose request body is
    not complete :data:`BODY_SECONDS` after its headers: uvicorn itself starts its keep-alive
    timer only after a response and restarts nothing for a client that sends a byte now and
    then, so a slow client would hold its connection for ever."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderDeadline(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            cycle = self.cycle
            if cycle is not None and cycle is not before and cycle.more_body:  # a request's headers just came
                self.loop.call_later(BODY_SECONDS, self._body_due, cycle)

        def _body_due(self, cycle) -> None:
            # Still the same request and its body still not complete: cut it off (the
            # application sees the client disconnect).
            if self.cycle is cycle and cycle.more_body and not self.transport.is_closing():
                self.transport.close()

        def _arm(self) -> None:
            waiting_for = self.cycle
            self.loop.call_later(HEADER_SECONDS, self._due, waiting_for)

        def _due(self, waiting_for) -> None:
            # Still the cycle the deadline was armed in: no new request's headers arrived.
            busy = self.cycle is not None and not self.cycle.response_complete
            if self.cycle is waiting_for and not busy and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline


def serve(host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info", **app_options: Any) -> None:
    """Run the service with uvicorn until interrupted (for ``hegui serve``).

    ``app_options`` go to :func:`create_app` (``rule_paths``, ``max_upload_bytes``,
    ``timeout_seconds``, ``workers``, ``max_queue``, ``worker_memory_bytes``, ...); invalid rules
    or plugins raise before the port is bound. The worker processes stop with the server.
    """
    server = make_server(host=host, port=port, log_level=log_level, **app_options)
    try:
        server.run()
    finally:
        server.config.app.state.hegui.close()
