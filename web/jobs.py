"""The workbench's work that runs in the service's worker processes: check, report, impact.

Every page that reads an uploaded file or runs the rules hands the service a job from this
module (:meth:`hegui.app.service.Service.run`); a worker of the service's pool runs it with its
own checker (:class:`hegui.app.service_worker.WorkerState`) under the pool's hard limits: past
the time limit the worker is killed, past its memory cap it retires. What comes back is plain
data the pages keep and show:

* :class:`CheckFiling` → a :class:`Checked`: the grid (the tables as read, for display), the
  filing, the check result with explanations (findings, facts and evaluations: ``why`` for an
  item and the rules that did not fire is answered from them in the server, without the
  engine), pickled in the worker so that its size is known before it is sent;
* :class:`RenderReport` → a report's bytes (the annotated workbook reads the file again, and a
  plugin's format is plugin code: neither runs in the server);
* :class:`Impact` → the parameter changes and each filing's gained, lost and changed findings.

Nothing here imports FastAPI or the database: a worker unpickling a job imports this module
and what a check needs, no more.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hegui.app.checker import UnexpectedError, contained
from hegui.app.service_worker import WorkerState, internal_error
from hegui.app.workers import memory_error_in
from hegui.engine.evaluate import CheckResult, Evaluator
from hegui.engine.findings import Finding
from hegui.engine.rules import RuleLoadError
from hegui.facts.errors import InputError
from hegui.facts.limits import check_magnitudes
from hegui.facts.model import Grid
from hegui.facts.read import read_grid
from hegui.facts.tables import build_filing
from hegui.reports import FilingOutcome, ReportContext
from hegui.reports.xlsx import annotated_workbook
from hegui.web import impact as impact_mod
from hegui.web.workbench import relabel

#: Largest checked filing (pickled) a worker sends back for display. The example is 0.27 MB
#: (about 1.2 MB once loaded); a filing 60× its size is no page a reviewer can read, and the
#: server keeps several of them: past this the workbench says so and points at ``hegui check``.
MAX_ANSWER_BYTES = 16 * 1024 * 1024

TOO_LARGE_MESSAGE = (
    "这份申报的表格过大（检查结果约 {size} MB，工作台最多显示 {limit} MB），工作台无法显示；"
    "请用 hegui check 或 POST /v1/check 检查"
)


@dataclass
class Checked:
    """One stored filing, read and checked with explanations (or the reason it could not be)."""

    sha256: str
    name: str
    path: str  # where the server wrote the bytes; the worker reads them from there
    error: str = ""
    grid: Grid | None = None
    filing: Any = None
    result: CheckResult | None = None
    findings: list[Finding] = field(default_factory=list)  # with the display name in place of ``path``
    #: Bytes of the pickled answer, what the server's cache counts.
    size: int = 0


@dataclass(frozen=True)
class CheckFiling:
    """Read and check one stored filing, as ``hegui check --explain`` would, keeping its grid."""

    sha256: str
    name: str
    path: str

    def run(self, state: WorkerState) -> dict[str, Any]:
        checker, path = state.checker, self.path
        checked = Checked(self.sha256, self.name, path)
        try:
            with contained(path):
                grid = read_grid(path, checker.registry)
                filing = build_filing(grid)
                check_magnitudes(filing)  # as read_filing does for every other way of checking
                result = checker.evaluator.check(filing, explain=True)
        except InputError as exc:
            if memory_error_in(exc):
                raise MemoryError from exc  # the worker retires: its state may be damaged
            if isinstance(exc, UnexpectedError):
                return internal_error(exc.cause)
            checked.error = exc.message.replace(path, self.name)
        else:
            checked.grid, checked.filing, checked.result = grid, filing, result
            checked.findings = relabel(result.findings, path, self.name)
        data = pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > MAX_ANSWER_BYTES:
            message = TOO_LARGE_MESSAGE.format(size=len(data) // 2**20, limit=MAX_ANSWER_BYTES // 2**20)
            data = pickle.dumps(Checked(self.sha256, self.name, path, error=message))
        return {"value": data}


def load_checked(data: bytes) -> Checked:
    """The :class:`Checked` a :class:`CheckFiling` answered (pickled by this program's own
    worker, never by a client)."""
    checked = pickle.loads(data)  # written by our own worker process, see above
    checked.size = len(data)
    return checked


def render_report(fmt: str, outcome: FilingOutcome, read_path: str, state: WorkerState) -> str | bytes:
    """One filing's report in ``fmt``, as ``hegui check --format FMT --explain`` writes it."""
    checker = state.checker
    if fmt == "xlsx":
        # The cells are read again from where the bytes were written; the report names the upload.
        return annotated_workbook(outcome, read_path, checker.registry)
    return state.reporters.render(fmt, [outcome], ReportContext(checker.ruleset, checker.registry))


@dataclass(frozen=True)
class RenderReport:
    """One filing's report in one format (decisions applied by the server), as bytes."""

    fmt: str
    outcome: FilingOutcome
    read_path: str

    def run(self, state: WorkerState) -> dict[str, Any]:
        output = render_report(self.fmt, self.outcome, self.read_path, state)
        return {"value": output if isinstance(output, bytes) else output.encode("utf-8")}


@dataclass(frozen=True)
class Impact:
    """What a parameter value or replaced rule packs would change on the given filings.

    ``paths``: where each filing was written → its display name; ``packs``: uploaded rule pack
    files → their display names. Answers ``{"value": (changes, impacts, error)}``: ``error``
    is the Chinese reason the change cannot be made (a bad value, a broken pack), else "".
    """

    paths: dict[str, str]
    key: str = ""
    value: str = ""
    packs: dict[str, str] = field(default_factory=dict)

    def run(self, state: WorkerState) -> dict[str, Any]:
        checker = state.checker
        after, changes = checker.ruleset, []
        try:
            if self.packs:
                after, names = impact_mod.with_packs(
                    after, [Path(p) for p in self.packs], checker.registry.jurisdictions
                )
                changes += [f"规则包“{n}”换为上传的版本" for n in names]
            if self.key and self.value:
                assignment = impact_mod.parse_assignment(f"{self.key}={self.value}")
                after, changed = impact_mod.with_parameters(after, [assignment])
                changes += [str(c) for c in changed]
            new = Evaluator(after, checker.registry)
        except (impact_mod.ImpactError, RuleLoadError) as exc:
            message = str(exc)
            for path, name in self.packs.items():  # the uploaded pack's own name, not a server path
                message = message.replace(path, name)
            return {"value": ([], [], message)}
        impacts = impact_mod.run_impact(
            list(self.paths),
            lambda filing: checker.evaluator.check(filing).findings,
            lambda filing: new.check(filing).findings,
            lambda path: build_filing(read_grid(path, checker.registry)),
            names=self.paths,
        )
        for item in impacts:
            read_path = next(p for p, n in self.paths.items() if n == item.path)
            item.error = item.error.replace(read_path, item.path)
            item.gained = relabel(item.gained, read_path, item.path)
            item.lost = relabel(item.lost, read_path, item.path)
            item.changed = list(
                zip(
                    relabel([a for a, _ in item.changed], read_path, item.path),
                    relabel([b for _, b in item.changed], read_path, item.path),
                    strict=True,
                )
            )
        return {"value": (changes, impacts, "")}


__all__ = ["MAX_ANSWER_BYTES", "CheckFiling", "Checked", "Impact", "RenderReport", "load_checked", "render_report"]
