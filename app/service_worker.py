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
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hegui.app.checker import Checker, CheckOptions, UnexpectedError, read_input
from hegui.app.workers import Retire
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
class _State:
    checker: Checker
    reporters: Any
    memory_bytes: int | None


def load(options: WorkerOptions) -> _State:
    """A worker's setup: plugins and rules loaded and compiled once."""
    checker = Checker.load(options.rule_paths)
    return _State(checker, reporters_for(checker.registry), options.memory_bytes)


def answer(state: _State, request: CheckRequest) -> dict[str, Any] | Retire:
    """Read, check and report one request; never raises."""
    try:
        return _answer(state, request)
    except MemoryError:
        return Retire(_out_of_memory(state))
    except Exception as exc:  # a bug outside the checker's own error policy (the reporter, say)
        return _internal(exc)


def _answer(state: _State, request: CheckRequest) -> dict[str, Any] | Retire:
    checker = state.checker
    path = request.path
    if path is not None:
        read: Callable[[], Filing] = lambda: read_input(path, checker.registry)  # noqa: E731
    else:
        read = _inline_reader(request.body or b"")
    options = CheckOptions(district=request.district, explain=request.explain)
    outcome = checker.check(request.display, read=read, options=options)
    error = outcome.error
    if error is not None and _out_of_memory_in(error):
        return Retire(_out_of_memory(state))
    if isinstance(error, UnexpectedError):
        return _internal(error.cause)
    if error is not None:
        message = error.message.replace(path, request.display) if path else error.message
        return {"error": INPUT_ERROR, "message": message, "location": error.location}
    report = state.reporters.render("json", [outcome], ReportContext(checker.ruleset, checker.registry))
    document = json.loads(report)
    if path:
        document = _replace_text(document, path, request.display)
    return {"report": render(document)}


def _out_of_memory_in(error: BaseException) -> bool:
    """Whether a MemoryError is behind ``error`` (the checker and the plugin-reader guard wrap
    it in an input error)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        exc = todo.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        if isinstance(exc, MemoryError):
            return True
        todo += [exc.__cause__, exc.__context__, getattr(exc, "cause", None)]
    return False


def _out_of_memory(state: _State) -> dict[str, Any]:
    limit = f"{state.memory_bytes / 1024**3:g} GiB" if state.memory_bytes else "—"
    return {"error": OUT_OF_MEMORY, "message": OUT_OF_MEMORY_MESSAGE.format(limit=limit), "location": ""}


def _internal(exc: BaseException) -> dict[str, Any]:
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


__all__ = ["INLINE_NAME", "CheckRequest", "WorkerOptions", "answer", "load", "render"]
