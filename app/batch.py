"""Batch checking for intake pipelines: many filings, supervised worker processes, streamed results.

``hegui check`` reads and checks filings one after another in its own process. An intake
pipeline checks hundreds of files, some of them hostile or broken in ways no reader foresaw:
a plugin reader that crashes the interpreter, calls ``os._exit`` or never returns would stop
the whole run. This module runs the same check in worker processes under a supervisor:

* each worker makes one :class:`~hegui.app.checker.Checker` (plugin registry, rules compiled
  **once**), then checks one filing at a time as the supervisor hands them out, with the
  error policy ``hegui check`` has: a filing that cannot be read or checked is an error entry;
* a worker that dies (crash, SIGKILL, ``os._exit``, out of memory: each worker's address space is
  capped) has its filing retried once, alone; a filing that kills it again, or exceeds the
  per-filing timeout, loses
  only the filing it was checking: that filing is recorded as an error, the worker is
  replaced and the batch goes on; never more than ``jobs`` workers are alive;
* each filing's result is the per-filing entry of the JSON report (exactly what
  :func:`hegui.reports.to_json` writes for it), which the worker sends as JSON
  text; it is streamed to a results file as soon as it is known (completion order), so an
  interrupted batch can be resumed;
* the supervisor keeps no entry in memory: each line goes to a spool file on disk, and only
  the totals the report states are added up as lines arrive; the report is then written by
  reading the spool back in input order, one filing at a time (every built-in format but
  ``xlsx`` streams, see :class:`hegui.reports.Reporter`), so its memory is flat in the number
  of filings and the same input gives byte-identical JSON whatever the number of workers.

The CLI-facing pieces: :class:`BatchOptions`, :func:`expand_inputs`, :func:`run_batch`
(returning a :class:`BatchResult`), :func:`outcomes_from_entries`, :func:`format_summary`
and :class:`BatchError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
import weakref
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import IO, Any, NamedTuple, TextIO

from hegui.app.checker import Checker, CheckOptions
from hegui.app.workers import (
    CRASH_MESSAGE,
    MAX_STARTUP_FAILURES,
    STARTUP_TIMEOUT,
    Retire,
    Worker,
    WorkerEntry,
    exit_message,
    memory_error_in,
    stop_all,
    wait_any,
)
from hegui.engine.findings import Evidence, Finding
from hegui.engine.registry import Registry
from hegui.engine.rules import Citation
from hegui.engine.waivers import WaiverNote
from hegui.facts.errors import InputError
from hegui.facts.limits import MEMORY_BYTES
from hegui.facts.model import Filing
from hegui.facts.read import FOLDER_SUFFIXES, LEGACY_REFUSED
from hegui.plugins.manager import build_registry
from hegui.reports import FilingOutcome, ReportContext, Totals, filing_entry, reporters_for, to_json
from hegui.reports.jsonstream import compact

#: Suffixes a directory is searched for, besides those plugin readers register. The legacy
#: formats (.xls, .doc, .et, .wps) are included on purpose: such a file in an intake folder is
#: a filing someone handed in, and it must come out as an error telling them to re-save it,
#: not be skipped silently.
FILING_SUFFIXES = (*FOLDER_SUFFIXES, *sorted(LEGACY_REFUSED))

#: Address space one worker may use (see :data:`hegui.facts.limits.MEMORY_BYTES`): one
#: hostile filing cannot take the machine, nor make the OOM killer choose another process.
WORKER_MEMORY_BYTES = MEMORY_BYTES

TIMEOUT_MESSAGE = "检查超时（超过{seconds}秒）"
#: Added to a crash message when the filing's worker died again on its retry alone.
RETRIED_NOTE = "；已单独重试一次，仍然失败"
# How the summary tells timeouts and dead workers from other errors.
_TIMEOUT_HEAD = TIMEOUT_MESSAGE.split("（", 1)[0]
_CRASH_HEAD = CRASH_MESSAGE.split("（", 1)[0]


class BatchError(Exception):
    """The batch cannot go on (workers cannot start or load the rules); nothing is reported."""


@dataclass(frozen=True)
class BatchOptions:
    """How every filing of a batch is checked; sent as-is to each worker process.

    ``rule_paths``: pack files or folders (``hegui check --rules``); empty means the packs of
    every registered plugin. ``waivers``: :class:`~hegui.engine.waivers.Waiver` objects as
    :func:`~hegui.engine.waivers.load_waivers` returns them. ``today``: the date waivers are
    judged on; ``None`` means today, fixed once when the batch starts so that every worker
    uses the same date.
    """

    rule_paths: tuple[str, ...] = ()
    district: str | None = None
    explain: bool = False
    waivers: tuple = ()
    today: dt.date | None = None

    def check_options(self) -> CheckOptions:
        """How each filing is checked (everything but the rules)."""
        return CheckOptions(district=self.district, explain=self.explain, waivers=tuple(self.waivers), today=self.today)


class BatchResult:
    """A finished batch: one entry per input filing, in input order, and the rule set used.

    The entries are not in memory: they are read back from the batch's spool file (a
    temporary file, gone when the result is closed or collected) each time they are asked
    for, one at a time. ``summary`` and :attr:`totals` were added up as the entries arrived.
    Use it as a context manager, or :meth:`close` it, to free the spool at once.
    """

    def __init__(self, paths: list[str], spool: _Spool, ruleset: Any, tally: _Tally, resumed: int) -> None:
        self.paths = paths
        self.ruleset = ruleset
        self.summary = tally.summary(resumed)
        self.totals = tally.totals()
        self._spool = spool
        self._errors = tally.error_indexes

    @property
    def entries(self) -> _SpooledEntries:
        """The entries (``to_json``'s per-filing objects), in input order: a sequence read from the spool."""
        return _SpooledEntries(self._spool, len(self.paths))

    def outcomes(self) -> SpooledOutcomes:
        """The entries as :class:`FilingOutcome` objects, one at a time: the
        :class:`~hegui.reports.Outcomes` source the report formats read."""
        return SpooledOutcomes(self.paths, self._spool, self.totals)

    def errors(self) -> Iterator[FilingOutcome]:
        """The outcomes of the filings that could not be checked, in input order."""
        for index in self._errors:
            yield _outcome(_decode(self._spool.get(index)))

    def exit_code(self, fail_on: str) -> int:
        """What :func:`hegui.reports.exit_code` gives for the batch's outcomes."""
        return self.totals.exit_code(fail_on)

    def report(self, fmt: str, registry: Registry | None = None) -> Iterator[str | bytes]:
        """The report in format ``fmt`` in pieces, read from the spool as they are taken
        (see :meth:`hegui.reports.Reporters.stream`)."""
        reporters = reporters_for(registry)
        return reporters.stream(fmt, self.outcomes(), ReportContext(self.ruleset, registry))

    def to_json(self) -> str:
        """The JSON report (the same text ``to_json`` gives for a sequential run)."""
        return "".join(str(piece) for piece in self.report("json"))

    def to_text(self) -> str:
        """The text report (the same text ``to_text`` gives for a sequential run)."""
        return "".join(str(piece) for piece in self.report("text"))

    def close(self) -> None:
        """Delete the spool; the entries cannot be read afterwards."""
        self._spool.close()

    def __enter__(self) -> BatchResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- inputs ------------------------------------------------------------------------------------


def expand_inputs(paths: Iterable[str | os.PathLike], registry: Registry | None = None) -> list[str]:
    """The filings named by ``paths``: files as given, directories searched recursively.

    A directory contributes its files (at any depth) whose suffix is one of
    :data:`FILING_SUFFIXES` or one a plugin reader registered, sorted by their path
    components, so the order never depends on the file system. Hidden entries (``.name``)
    and Office lock files (``~$name.xlsx``) are not filings and are skipped; symbolic links
    to directories are not followed (no cycles). Files named explicitly are kept whatever
    their suffix, in the order given; a name given twice is checked once. A path that does not
    exist is kept: reading it reports the error for that filing.

    ``registry`` is the plugin registry whose reader suffixes count; ``None`` builds one
    (which raises :class:`~hegui.plugins.manager.PluginError` for a broken plugin).
    """
    if registry is None:
        registry = build_registry()
    suffixes = {s.lower() for s in FILING_SUFFIXES} | {s.lower() for s in registry.readers}
    out: list[str] = []
    seen: set[str] = set()
    for given in paths:
        given = os.fspath(given)
        found = _walk(given, suffixes) if os.path.isdir(given) else [given]
        for path in found:
            if path not in seen:
                seen.add(path)
                out.append(path)
    return out


def _walk(top: str, suffixes: set[str]) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith((".", "~$")) or os.path.splitext(name)[1].lower() not in suffixes:
                continue
            path = os.path.join(root, name)
            found.append((Path(os.path.relpath(path, top)).parts, path))
    return [path for _, path in sorted(found)]


# --- checking one filing (in a worker or in-process) ---------------------------------------------


def _session(options: BatchOptions, registry: Registry | None = None, *, compile_now: bool = True) -> Checker:
    """The checker of one process (the supervisor's or a worker's): rules compiled once, or at the
    first check with ``compile_now=False`` (a supervisor whose workers check everything).

    Raises :class:`~hegui.engine.rules.RuleLoadError` or
    :class:`~hegui.plugins.manager.PluginError`, as ``hegui check`` would report them.
    """
    return Checker.load(options.rule_paths, registry=registry, options=options.check_options(), compile_now=compile_now)


class _Line(NamedTuple):
    """One filing's entry as a worker sends it: its JSON text, and what the supervisor adds up.

    The entry travels as text, not as a dict: the supervisor writes it to the spool (and the
    results file) without parsing or serialising it, and the JSON report copies it from the
    spool, so at two workers the supervisor is not the bottleneck; ``status``, ``counts`` and
    ``message`` are all of it the totals need. The text is indented as the JSON report indents
    an entry (:class:`~hegui.reports.jsonstream.Encoded`); a results file gets its one-line
    form (:func:`~hegui.reports.jsonstream.compact`).
    """

    text: str  # json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=2)
    status: str
    counts: dict[str, int] | None  # checked: the entry's counts
    message: str  # error: the message


def _check(checker: Checker, path: str) -> _Line:
    """The report entry for ``path``: read, check, apply waivers, as ``hegui check`` does."""
    entry = filing_entry(checker.check(path))
    return _line(entry)


def _line(entry: dict[str, Any]) -> _Line:
    """``entry`` as a :class:`_Line`."""
    return _brief(entry, json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=2))


def _brief(entry: dict[str, Any], text: str = "") -> _Line:
    if entry["status"] == "error":
        return _Line(text, "error", None, entry["error"]["message"])
    return _Line(text, entry["status"], entry["counts"], "")


def entry_of(outcome: FilingOutcome, ruleset) -> dict[str, Any]:
    """The per-filing entry ``to_json`` writes for ``outcome``, as plain JSON data.

    Taken from ``to_json`` itself rather than rebuilt here, so it cannot drift from the report.
    """
    return json.loads(to_json([outcome], ruleset))["filings"][0]


def error_entry(path: str, message: str, location: str = "") -> dict[str, Any]:
    """The entry of a filing that could not be checked (same shape as an unreadable file's)."""
    return {"file": path, "status": "error", "error": {"message": message, "location": location}}


# --- entries back into outcomes ------------------------------------------------------------------

_PRIVATE_FINDING_FIELDS = ("subject", "leg", "witness", "raw_actual", "raw_expected")


def outcomes_from_entries(entries: Iterable[dict[str, Any]]) -> list[FilingOutcome]:
    """:class:`FilingOutcome` objects that render (``to_json``, ``to_text``, ``exit_code``) as the
    original outcomes did.

    The filing of a checked entry is a stub carrying only what the report shows (path,
    department, year, encoding): its tables stay in the worker. A plugin reporter that needs
    more than the report's fields should be given a sequential run.
    """
    return [_outcome(entry) for entry in entries]


def _outcome(entry: dict[str, Any]) -> FilingOutcome:
    path = entry["file"]
    if entry["status"] == "error":
        error = entry["error"]
        return FilingOutcome(path, error=InputError(path, error["message"], error.get("location", "")))
    filing = Filing(
        path=path, year=entry["year"], year_source=None, department=entry["department"], encoding=entry["encoding"]
    )
    findings = [_finding(data) for data in entry["findings"]]
    return FilingOutcome(path, filing, findings, jurisdiction=list(entry["jurisdiction"]))


def _finding(data: dict[str, Any]) -> Finding:
    """A :class:`Finding` from its ``to_json`` form; fields ``to_json`` drops when empty come back empty."""
    values: dict[str, Any] = {}
    for f in fields(Finding):
        if f.name in _PRIVATE_FINDING_FIELDS or f.name not in data:
            continue
        values[f.name] = data[f.name]
    values["citation"] = Citation(**{f.name: data["citation"].get(f.name, "") for f in fields(Citation)})
    values["evidence"] = tuple(
        Evidence(**{f.name: e.get(f.name, "") for f in fields(Evidence)}) for e in data.get("evidence", ())
    )
    if data.get("waiver") is not None:
        values["waiver"] = WaiverNote(**data["waiver"])
    return Finding(**values)


# --- the results file ----------------------------------------------------------------------------


def read_results(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """Entries of a results file (JSON Lines) by filing path; a missing file gives none.

    A line that is not a complete entry (the last line of a batch that was killed while
    writing it) is ignored: that filing is simply checked again. A filing listed twice keeps
    its last entry.
    """
    return {entry["file"]: entry for entry in _scan_results(path)}


def _scan_results(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The complete entries of a results file, one at a time, in file order."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if (
                    isinstance(entry, dict)
                    and isinstance(entry.get("file"), str)
                    and entry.get("status") in ("checked", "error")
                ):
                    yield entry
    except FileNotFoundError:
        return


class _ResultsFile:
    """One JSON object per line, flushed as soon as written, so a crash loses at most one line."""

    def __init__(self, path: str | os.PathLike, resume: bool) -> None:
        if resume:
            _drop_partial_last_line(path)
            # The handle lives as long as the batch (closed in close()), not a with-block.
            self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            self.handle = open(path, "w", encoding="utf-8")  # noqa: SIM115  # a fresh batch: only its own results

    def write(self, line: str) -> None:
        # json.dumps escapes newlines inside strings: the entry stays on one line.
        self.handle.write(line + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def _drop_partial_last_line(path: str | os.PathLike) -> None:
    """Cut a last line without its newline: appending after it would corrupt the next entry."""
    try:
        with open(path, "rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                handle.truncate(data.rfind(b"\n") + 1)
    except FileNotFoundError:
        pass


# --- the spool: entries on disk, read back in input order ----------------------------------------


class _Spool:
    """Each filing's entry line, appended in completion order to an anonymous temporary file.

    Only where each entry starts and how long it is stay in memory (16 bytes a filing), so
    the supervisor's memory does not grow with the batch; the operating system's page cache,
    not the process, holds what was recently written. The file has no name (it is deleted
    as soon as it is created), so nothing is left behind whatever ends the process.
    """

    def __init__(self, size: int) -> None:
        # Lives as long as the batch result (closed by close() or the finalizer), not a with-block.
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="hegui-batch-")  # noqa: SIM115
        self.offsets = array("q", [-1]) * size
        self.lengths = array("q", [0]) * size
        self.end = 0
        # A result dropped without close() still gives its file back, without a ResourceWarning.
        self._closer = weakref.finalize(self, self.file.close)

    def put(self, index: int, text: str) -> None:
        data = text.encode("utf-8")
        self.file.seek(self.end)
        self.file.write(data)
        self.offsets[index], self.lengths[index] = self.end, len(data)
        self.end += len(data)

    def has(self, index: int) -> bool:
        return self.offsets[index] >= 0

    def get(self, index: int) -> bytes:
        if self.file.closed:
            raise ValueError("the batch result was closed: its entries are gone")
        self.file.seek(self.offsets[index])
        return self.file.read(self.lengths[index])

    def close(self) -> None:
        self._closer()


class _SpooledEntries:
    """The entries of a batch as a read-only sequence, each read from the spool when asked for."""

    def __init__(self, spool: _Spool, size: int) -> None:
        self._spool, self._size = spool, size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -self._size <= index < self._size:
            raise IndexError(index)
        return _decode(self._spool.get(index % self._size))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (_decode(self._spool.get(i)) for i in range(self._size))

    def texts(self) -> Iterator[str]:
        """The entries as the JSON text they were spooled as, not decoded."""
        return (self._spool.get(i).decode("utf-8") for i in range(self._size))


def _decode(data: bytes) -> dict[str, Any]:
    """An entry read back from the spool (one place, so a test can count what is alive)."""
    return json.loads(data)


class SpooledOutcomes:
    """A finished batch's outcomes as an :class:`~hegui.reports.Outcomes` source: each pass reads
    the spool in input order and yields one :class:`FilingOutcome` at a time."""

    def __init__(self, paths: list[str], spool: _Spool, totals: Totals) -> None:
        self.paths = paths
        self.totals = totals
        self._entries = _SpooledEntries(spool, len(paths))

    def __len__(self) -> int:
        return len(self.paths)

    def entries(self) -> Iterator[dict[str, Any]]:
        return iter(self._entries)

    def encoded_entries(self) -> Iterator[str]:
        return self._entries.texts()

    def __iter__(self) -> Iterator[FilingOutcome]:
        for entry in self._entries:
            yield _outcome(entry)


class _Tally:
    """What the summary and the report's totals need, added up as entries arrive (no entry kept)."""

    def __init__(self) -> None:
        self.filings = 0
        self.findings = {"error": 0, "warning": 0, "info": 0, "cannot_verify": 0, "waived": 0, "total": 0}
        self.error_indexes = array("q")
        self.timeouts = 0
        self.crashes = 0

    def add(self, index: int, line: _Line) -> None:
        """Count the entry of filing ``index``."""
        self.filings += 1
        if line.status == "error":
            self.error_indexes.append(index)
            self.timeouts += line.message.startswith(_TIMEOUT_HEAD)
            self.crashes += line.message.startswith(_CRASH_HEAD)
        elif line.counts is not None:
            for key in self.findings:
                self.findings[key] += line.counts.get(key, 0)

    def summary(self, resumed: int) -> dict[str, Any]:
        errors = len(self.error_indexes)
        return {
            "filings": self.filings,
            "checked": self.filings - errors,
            "errors": errors,
            "timeouts": self.timeouts,
            "crashes": self.crashes,
            "resumed": resumed,
            "findings": dict(self.findings),
        }

    def totals(self) -> Totals:
        return Totals(dict(self.findings), files=self.filings, input_errors=len(self.error_indexes))


# --- progress and summary ------------------------------------------------------------------------


class _Progress:
    """``\\r[#####     ] 12/300`` on a terminal; nothing at all when the stream is piped."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO | None, enabled: bool | None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and total > 0
        self.total = total
        self.shown = False

    def update(self, done: int, errors: int) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // self.total
        tail = f"  无法检查{errors}个" if errors else ""
        self.stream.write(f"\r[{'#' * filled}{' ' * (self.WIDTH - filled)}] {done}/{self.total}{tail}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def summarize(entries: Iterable[dict[str, Any]], resumed: int = 0) -> dict[str, Any]:
    """Totals of a batch: filings, checked, errors (of which timeouts and crashed workers),
    filings taken from an earlier run (``resumed``) and findings by severity."""
    tally = _Tally()
    for index, entry in enumerate(entries):
        tally.add(index, _brief(entry))
    return tally.summary(resumed)


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as one Chinese line for the terminal (no trailing newline)."""
    f = summary["findings"]
    problems = [f"超时{summary['timeouts']}个"] if summary["timeouts"] else []
    problems += [f"进程异常退出{summary['crashes']}个"] if summary["crashes"] else []
    detail = f"（其中{'，'.join(problems)}）" if problems else ""
    resumed = f"，沿用上次结果{summary['resumed']}个" if summary["resumed"] else ""
    return (
        f"批量检查：文件{summary['filings']}个，已检查{summary['checked']}个，无法检查{summary['errors']}个{detail}{resumed}；"
        f"发现{f['total']}项：错误{f['error']}，警告{f['warning']}，提示{f['info']}（其中无法核实{f['cannot_verify']}），另有已豁免{f['waived']}项"
    )


# --- the batch -----------------------------------------------------------------------------------


def run_batch(
    paths: Iterable[str | os.PathLike],
    *,
    jobs: int = 1,
    timeout: float | None = None,
    options: BatchOptions | None = None,
    results_path: str | os.PathLike | None = None,
    resume: bool = False,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    progress: bool | None = None,
    registry: Registry | None = None,
    isolate: bool | None = None,
    stream: TextIO | None = None,
) -> BatchResult:
    """Check every filing of ``paths`` (expanded by :func:`expand_inputs`) and return the batch.

    * ``jobs``: worker processes (at most that many alive at any time).
    * ``timeout``: seconds one filing may take in a worker; ``None`` or ``0`` for no limit.
    * ``isolate``: run filings in worker processes. ``None`` (default) isolates when
      ``jobs >= 2`` or a ``timeout`` is given; ``jobs == 1`` without a timeout checks in this
      process, as ``hegui check`` always did (a filing that kills the interpreter then kills
      the batch, and nothing enforces a time limit).
    * ``results_path``: JSON Lines file that receives each filing's entry as soon as it is
      known (completion order). Truncated when the batch starts, unless ``resume``.
    * ``resume``: keep the entries ``results_path`` already holds for filings of this batch
      and check only the others. The file is trusted to come from the same rules and
      options; an entry is reused as it is, errors included.
    * ``on_result(entry)``: called after each new entry is written (not for resumed ones).
      An exception it raises stops the batch (workers are killed) and propagates.
    * ``progress``: draw a progress bar on ``stream`` (default stderr); ``None`` draws it only
      when the stream is a terminal.
    * ``registry``: the plugin registry to use in this process (built when ``None``); workers
      always build their own, from the same entry points and ``HEGUI_PLUGINS``.

    The rules are loaded (and compiled) in this process before any filing is touched: a
    :class:`~hegui.engine.rules.RuleLoadError` or :class:`~hegui.plugins.manager.PluginError`
    stops the batch before it starts. :class:`BatchError` means workers could not be started.
    """
    options = options or BatchOptions()
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    if resume and results_path is None:
        raise ValueError("resume needs a results file")
    timeout = timeout or None
    if isolate is None:
        isolate = jobs >= 2 or timeout is not None
    # One date for the whole batch, whatever the clock says when a worker starts.
    options = replace(options, today=options.today or dt.date.today(), waivers=tuple(options.waivers))
    # Workers start loading the rules while this process loads them too (a worker takes about as
    # long to start as a tenth of a 200-filing batch takes to check); they are stopped if the
    # rules or plugins fail here. A resumed batch may have nothing left to check: its workers
    # start only when a filing needs one.
    supervisor = _Supervisor(options, jobs, timeout) if isolate else None
    if supervisor is not None and not resume:
        supervisor.prestart()
    try:
        # Fails early on bad rules or plugins. With workers, this process only loads the rules (for
        # the report): compiling them here as well kept the workers waiting.
        checker = _session(options, registry, compile_now=not isolate)
    except BaseException:
        if supervisor is not None:
            supervisor.discard()
        raise
    filings = expand_inputs(paths, checker.registry)
    index_of = {path: i for i, path in enumerate(filings)}

    spool = _Spool(len(filings))
    tally = _Tally()
    try:
        resumed = 0
        if resume:
            assert results_path is not None  # run_batch refuses resume without a results file
            # A filing listed twice keeps its last entry: spool them all, count the survivors.
            for entry in _scan_results(results_path):
                if entry["file"] in index_of:
                    spool.put(index_of[entry["file"]], _line(entry).text)
            for index in range(len(filings)):
                if spool.has(index):
                    tally.add(index, _brief(json.loads(spool.get(index))))
                    resumed += 1
        todo = [(i, path) for i, path in enumerate(filings) if not spool.has(i)]

        results = _ResultsFile(results_path, resume) if results_path is not None else None
        bar = _Progress(len(filings), stream, progress)
        bar.update(tally.filings, len(tally.error_indexes))

        def record(index: int, entry: _Line | dict[str, Any]) -> None:
            # Workers send a _Line; the supervisor's own errors (timeouts, dead workers) are dicts.
            line = entry if isinstance(entry, _Line) else _line(entry)
            spool.put(index, line.text)
            tally.add(index, line)
            if results is not None:
                results.write(compact(line.text))
            bar.update(tally.filings, len(tally.error_indexes))
            if on_result is not None:
                on_result(json.loads(line.text))

        try:
            if supervisor is None:
                for index, path in todo:
                    record(index, _check(checker, path))
            else:
                supervisor.run(todo, record)
        finally:
            bar.close()
            if results is not None:
                results.close()
    except BaseException:
        spool.close()
        if supervisor is not None:
            supervisor.discard()
        raise
    assert tally.filings == len(filings)
    return BatchResult(filings, spool, checker.ruleset, tally, resumed)


# --- the supervisor and its workers --------------------------------------------------------------
# The worker processes themselves (start, pipe protocol, memory cap, parent watch, kill) are
# hegui.app.workers, shared with the HTTP service; what is batch-only is the policy below.


def _seconds(timeout: float) -> str:
    return f"{timeout:g}"


def _check_in_worker(checker: Checker, path: str) -> _Line | Retire:
    """A worker's answer for ``path``: the line :func:`_check` gives it; after a MemoryError
    the worker retires with it (the supervisor starts a fresh one), since whatever the
    allocation interrupted — the evaluation's tables, a reader's state — may be damaged and
    would otherwise be inherited by the next filings. The line itself is the one a run
    without workers gives, so the report stays the same whatever ``--jobs``."""
    outcome = checker.check(path)
    line = _line(filing_entry(outcome))
    if outcome.error is not None and memory_error_in(outcome.error):
        return Retire(line)
    return line


@dataclass
class _Supervisor:
    """Hands filings one at a time to at most ``jobs`` worker processes and watches them.

    A worker gets a filing only when it is idle, so the supervisor always knows which filing a
    worker holds and since when: a worker that dies or passes its deadline loses that filing
    and nothing else. Workers talk over their own pipe; :func:`~hegui.app.workers.wait_any`
    watches every pipe and every process sentinel at once, with the nearest deadline as its
    timeout.
    """

    options: BatchOptions
    jobs: int
    timeout: float | None
    workers: list[Worker] = field(default_factory=list)
    startup_failures: int = 0
    #: Filings whose worker died (SIGKILL, out of memory, a crash): each is retried once,
    #: alone — no other filing in progress — since the death may have been caused by the
    #: machine's load rather than by the filing.
    alone: deque = field(default_factory=deque)
    retried: set = field(default_factory=set)

    def __post_init__(self) -> None:
        # Each worker makes its own Checker (_session) and answers a filing's path with its
        # report entry (_check_in_worker): rules compiled once per worker, never per filing.
        self.entry = WorkerEntry(_session, _check_in_worker, self.options, WORKER_MEMORY_BYTES, "hegui-batch-worker")

    def prestart(self) -> None:
        """Start the workers before there is a filing for them: they load the rules meanwhile."""
        while len(self.workers) < self.jobs:
            self.workers.append(Worker.spawn(self.entry))

    def discard(self) -> None:
        """Stop every worker at once (the batch will not run)."""
        self._kill_all()

    def run(self, todo: list[tuple[int, str]], record: Callable[[int, dict[str, Any]], None]) -> None:
        pending = deque(todo)
        try:
            while pending or self.alone or any(w.task is not None for w in self.workers):
                busy = sum(1 for w in self.workers if w.task is not None)
                while len(self.workers) < min(self.jobs, busy + len(pending) + len(self.alone)):
                    self.workers.append(Worker.spawn(self.entry))
                self._dispatch(pending)
                wait_any(self.workers)
                for worker in list(self.workers):
                    self._collect(worker, pending, record)
        except BaseException:
            self._kill_all()
            raise
        stop_all(self.workers)
        self.workers.clear()

    def _dispatch(self, pending: deque) -> None:
        if self.alone:
            # A retry waits until no other filing is in progress, and nothing starts beside it.
            if any(w.task is not None for w in self.workers):
                return
            pending = self.alone
        for worker in self.workers:
            if worker.idle and pending:
                task = pending.popleft()
                if not worker.send(task[0], task[1], task, self.timeout):
                    pending.appendleft(task)  # died while idle: the filing goes back, the worker is replaced
                    continue
                if pending is self.alone:
                    return

    def _collect(self, worker: Worker, pending: deque, record: Callable[[int, dict[str, Any]], None]) -> None:
        # Whether it is alive is asked *before* reading its pipe: everything a dead worker ever
        # sent is then already in the pipe, so a result sent just before dying is not lost.
        alive = worker.process.is_alive()
        for message in worker.receive():
            self._handle(worker, message, record)
        if worker.dead or not alive:
            self._bury(worker, pending, record)
            return
        now = time.monotonic()
        if worker.overdue(now):
            index, path = worker.task
            worker.task = None
            self._remove(worker)
            record(index, error_entry(path, TIMEOUT_MESSAGE.format(seconds=_seconds(self.timeout or 0))))
        elif worker.startup_overdue(now):
            self._remove(worker)
            raise BatchError(f"检查进程启动超时（超过{_seconds(STARTUP_TIMEOUT)}秒仍未载入规则）")

    def _handle(self, worker: Worker, message: tuple, record: Callable[[int, dict[str, Any]], None]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            self.startup_failures = 0
        elif kind == "load_error":
            raise BatchError(f"检查进程无法载入规则：{message[1]}")
        elif kind in ("result", "retire"):
            _, index, entry = message
            if worker.task is None or worker.task[0] != index:
                raise BatchError(f"检查进程返回了未分派的结果（第{index}个文件）")
            worker.task, worker.deadline = None, None
            record(index, entry)
            if kind == "retire":  # it ends on its own; _bury replaces it, with no filing lost
                worker.dead = True

    def _bury(self, worker: Worker, pending: deque, record: Callable[[int, dict[str, Any]], None]) -> None:
        """A worker that is gone: its filing (if any) is an error; it will be replaced."""
        worker.process.join(5)
        task, ready = worker.task, worker.ready
        worker.task = None
        code = self._remove(worker)
        if task is not None and task[0] not in self.retried:
            self.retried.add(task[0])
            self.alone.append(task)
        elif task is not None:
            record(task[0], error_entry(task[1], exit_message(code) + RETRIED_NOTE))
        elif not ready:
            self.startup_failures += 1
            if self.startup_failures >= MAX_STARTUP_FAILURES:
                # The usual cause: a main script without ``if __name__ == "__main__":``, which
                # every spawned worker runs again (see the multiprocessing documentation).
                raise BatchError(
                    f"检查进程启动后立即退出（{exit_message(code)}），已连续{self.startup_failures}次；"
                    '若从脚本调用，请把调用放在 if __name__ == "__main__": 之下'
                )

    def _remove(self, worker: Worker) -> int | None:
        """Kill (if need be) and reap ``worker`` before anything replaces it: never more than ``jobs`` alive."""
        code = worker.kill()
        self.workers.remove(worker)
        return code

    def _kill_all(self) -> None:
        for worker in list(self.workers):
            # Cleaning up after an error: keep going, the first error matters.
            with contextlib.suppress(Exception):
                self._remove(worker)
        self.workers.clear()


__all__ = [
    "FILING_SUFFIXES",
    "BatchError",
    "BatchOptions",
    "BatchResult",
    "entry_of",
    "error_entry",
    "expand_inputs",
    "format_summary",
    "outcomes_from_entries",
    "read_results",
    "run_batch",
    "summarize",
]
