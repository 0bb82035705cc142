"""The HTTP service's side of a check that runs in a worker process (see :mod:`hegui.app.workers`).

The service (:mod:`hegui.app.service`) receives a request, turns it into a
:class:`CheckRequest` — plain data: where the upload was written, or the inline JSON body, and
the options — and hands it to a worker of its pool. The worker, which built one
:class:`~hegui.app.checker.Checker` when it started, answers with plain data too: the JSON
report exactly as ``hegui check --format json`` writes it, or a structured error. Nothing of
FastAPI is imported here, so a worker starts with only what a check needs.

Answers (dicts):

* ``{"report": text}`` — the report document, serialised;
* ``{"error": "input_error", "message", "location"}`` — the input cannot be read as a filing;
* ``{"error": "out_of_memory", "message", "location"}`` — the check needed more memory than
  the worker's cap (the worker then retires: its state may be damaged);
* ``{"error": "internal_error", "message", "location", "detail"}`` — a bug; ``detail`` is the
  traceback, for the service's log only.

The reviewer's workbench (:mod:`hegui.web`) sends the same workers other tasks: :class:`Job`
objects (:mod:`hegui.web.jobs`), which run with the worker's :class:`WorkerState` and answer
``{"value": ...}`` (plain data) or one of the errors above.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hegui.app.checker import Checker, CheckOptions, UnexpectedError, read_input
from hegui.app.workers import Retire, memory_error_in
from hegui.engine.cases import inline_filing_from_text
from hegui.facts.errors import InputError
from hegui.facts.model import Filing
from hegui.reports import ReportContext, reporters_for

#: Name of an inline (JSON) filing in the report and in its locations.
INLINE_NAME = "filing.json"

INPUT_ERROR = "input_error"
OUT_OF_MEMORY = "out_of_memory"
INTERNAL_ERROR = "internal_error"

OUT_OF_MEMORY_MESSAGE = "检查所需内存超过上限（每项检查 {limit}），已放弃；请检查文件是否异常庞大"


@dataclass(frozen=True)
class CheckRequest:
    """One ``POST /v1/check`` as plain data.

    ``path``: the upload, written by the service to a private file (its suffix picks the
    reader); the report names it ``display``. ``body``: an inline filing (JSON) instead.
    Files, not bytes, carry uploads: the service never holds a whole upload in memory, and
    the readers read from a path anyway.
    """

    display: str
    path: str | None = None
    body: bytes | None = None
    explain: bool = False
    district: str | None = None


@dataclass(frozen=True)
class WorkerOptions:
    """What a service worker loads: the rule packs (as ``hegui check --rules``) and its memory cap."""

    rule_paths: tuple[str, ...] = ()
    memory_bytes: int | None = None


@dataclass
class WorkerState:
    """What a service worker keeps between tasks: its checker (plugins, rules compiled), the
    report formats, and its memory cap (for the out-of-memory message)."""

    checker: Checker
    reporters: Any
    memory_bytes: int | None


class Job(Protocol):
    """A task other than a check request (the workbench's, :mod:`hegui.web.jobs`): sent to the
    worker as is (so: a picklable object of a module-level class) and run there.

    ``run`` answers ``{"value": ...}`` or an error answer; a MemoryError it raises (or lets
    through) retires the worker with an ``out_of_memory`` answer, any other exception is an
    ``internal_error``.
    """

    def run(self, state: WorkerState) -> dict[str, Any]: ...


def load(options: WorkerOptions) -> WorkerState:
    """A worker's setup: plugins and rules loaded and compiled once."""
    checker = Checker.load(options.rule_paths)
    return WorkerState(checker, reporters_for(checker.registry), options.memory_bytes)


def answer(state: WorkerState, request: CheckRequest | Job) -> dict[str, Any] | Retire:
    """Read, check and report one request, or run one job; never raises."""
    try:
        if isinstance(request, CheckRequest):
            return _answer(state, request)
        return request.run(state)
    except MemoryError:
        return Retire(_out_of_memory(state))
    except Exception as exc:  # a bug outside the checker's own error policy (the reporter, say)
        return internal_error(exc)


def _answer(state: WorkerState, request: CheckRequest) -> dict[str, Any] | Retire:
    checker = state.checker
    path = request.path
    if path is not None:
        read: Callable[[], Filing] = lambda: read_input(path, checker.registry)  # noqa: E731
    else:
        read = _inline_reader(request.body or b"")
    options = CheckOptions(district=request.district, explain=request.explain)
    outcome = checker.check(request.display, read=read, options=options)
    error = outcome.error
    if error is not None and memory_error_in(error):
        return Retire(_out_of_memory(state))
    if isinstance(error, UnexpectedError):
        return internal_error(error.cause)
    if error is not None:
        message = error.message.replace(path, request.display) if path else error.message
        return {"error": INPUT_ERROR, "message": message, "location": error.location}
    report = state.reporters.render("json", [outcome], ReportContext(checker.ruleset, checker.registry))
    document = json.loads(report)
    if path:
        document = _replace_text(document, path, request.display)
    return {"report": render(document)}


def _out_of_memory(state: WorkerState) -> dict[str, Any]:
    limit = f"{state.memory_bytes / 1024**3:g} GiB" if state.memory_bytes else "—"
    return {"error": OUT_OF_MEMORY, "message": OUT_OF_MEMORY_MESSAGE.format(limit=limit), "location": ""}


def internal_error(exc: BaseException) -> dict[str, Any]:
    """The answer for a bug: its traceback goes to the service's log, not to the client."""
    detail = "".join(traceback.format_exception(exc))
    return {"error": INTERNAL_ERROR, "message": f"{type(exc).__name__}: {exc}", "location": "", "detail": detail}


def render(document: dict[str, Any]) -> str:
    """The report text exactly as ``hegui check --format json`` writes it (sorted keys, indent 2,
    trailing newline), so equal inputs give byte-identical answers."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2) + "\n"


def _replace_text(value: Any, old: str, new: str) -> Any:
    """``value`` with ``old`` replaced by ``new`` in every string (the report cites the temp path)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace_text(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_text(v, old, new) for k, v in value.items()}
    return value


def _inline_reader(body: bytes) -> Callable[[], Filing]:
    """Parse an inline filing (JSON) — in the worker, under the time limit."""

    def read() -> Filing:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(INLINE_NAME, f"内联申报必须是 UTF-8 编码的 JSON（第{exc.start}字节处无法解码）") from None
        try:
            json.loads(text)  # a JSON body must be JSON, even though the model parser reads YAML too
        except json.JSONDecodeError as exc:
            raise InputError(INLINE_NAME, f"不是有效的 JSON：{exc.msg}", f"第{exc.lineno}行第{exc.colno}列") from None
        except RecursionError:
            raise InputError(INLINE_NAME, "JSON 嵌套过深") from None
        return inline_filing_from_text(text, INLINE_NAME)

    return read


__all__ = [
    "INLINE_NAME",
    "CheckRequest",
    "Job",
    "WorkerOptions",
    "WorkerState",
    "answer",
    "internal_error",
    "load",
    "render",
]
