"""One input, end to end: read → facts → evaluate → waivers → findings, with one error policy.

Every way of running hegui (the ``hegui`` command, batch workers, the HTTP service, the pytest
plugin) checks an input through a :class:`Checker`: plugins and rules are loaded once, when
it is made, and :meth:`Checker.check` never raises for a problem with one input. A file that
cannot be read (:class:`~hegui.facts.errors.InputError`) or anything else that goes wrong
while one input is read or checked (a plugin reader's crash, a bug met on a strange table)
becomes that input's error record, so the other inputs are still reported and the run exits
with 2 instead of losing every result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from hegui.engine.evaluate import CheckResult, Evaluator
from hegui.engine.registry import Registry
from hegui.engine.rules import RuleSet
from hegui.engine.waivers import Waiver, apply_waivers
from hegui.facts.errors import InputError
from hegui.facts.limits import time_limit
from hegui.facts.model import Filing
from hegui.facts.read import read_filing
from hegui.plugins.manager import build_registry, load_ruleset
from hegui.reports.outcome import FilingOutcome

#: The error record of an input whose check failed for a reason no reader foresaw.
INTERNAL_MESSAGE = "检查时程序出错：{kind}: {error}"


class UnexpectedError(InputError):
    """An input's error record for a failure that is not an :class:`InputError`.

    The message names the kind of failure for the person who submitted the file; ``cause``
    keeps the original exception (and its traceback) for a log.
    """

    def __init__(self, path: str, cause: BaseException) -> None:
        super().__init__(path, INTERNAL_MESSAGE.format(kind=type(cause).__name__, error=cause))
        self.cause = cause


@contextlib.contextmanager
def contained(path: str) -> Iterator[None]:
    """Turn any failure inside the block into an :class:`InputError` about ``path``."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:  # one input's failure must never stop the other inputs
        raise UnexpectedError(path, exc) from exc


def read_input(path: str | os.PathLike, registry: Registry | None = None) -> Filing:
    """Read ``path`` into a :class:`Filing`; every failure is an :class:`InputError` about it."""
    name = os.fspath(path)
    with contained(name):
        return read_filing(name, registry)


@dataclass(frozen=True)
class CheckOptions:
    """How each input is checked.

    ``district``: the filings' jurisdiction (default: from the department name).
    ``explain``: attach a derivation to every finding. ``waivers``: as
    :func:`~hegui.engine.waivers.load_waivers` returns them. ``today``: the date waivers are
    judged on; ``None`` means the day the :class:`Checker` is made.
    """

    district: str | None = None
    explain: bool = False
    waivers: tuple[Waiver, ...] = ()
    today: dt.date | None = None
    #: Seconds one input may take (a watchdog in the main thread, see
    #: :func:`hegui.facts.limits.time_limit`); ``None``: no limit of its own.
    seconds: float | None = None


class Checker:
    """Plugins and rules loaded and compiled once; :meth:`check` takes one input end to end.

    Making one raises :class:`~hegui.engine.rules.RuleLoadError` for invalid rules (or rules
    of a jurisdiction nobody registered) and, through :meth:`load`,
    :class:`~hegui.plugins.manager.PluginError` for a broken plugin: a run must not start
    with a rule pack missing.
    """

    def __init__(
        self,
        registry: Registry,
        ruleset: RuleSet,
        options: CheckOptions | None = None,
        *,
        evaluator: Evaluator | None = None,
    ) -> None:
        self.registry = registry
        self.ruleset = ruleset
        self.options = options or CheckOptions()
        # Fixed once, so that every input of a run is judged on the same day.
        self.today = self.options.today or dt.date.today()
        #: ``ruleset`` compiled; pass one already compiled for it to save the compilation.
        self.evaluator = evaluator if evaluator is not None else Evaluator(ruleset, registry)

    @classmethod
    def load(
        cls,
        rule_paths: Iterable[str | os.PathLike] = (),
        *,
        extra: Iterable[str | os.PathLike] = (),
        registry: Registry | None = None,
        options: CheckOptions | None = None,
        compile_now: bool = True,
    ) -> Checker:
        """A checker for the rules ``hegui check --rules`` would load (see
        :func:`~hegui.plugins.manager.load_ruleset`); the registry is built when not given.
        ``compile_now=False`` leaves compiling the rules to the first check."""
        if registry is None:
            registry = build_registry()
        ruleset = load_ruleset(registry, rule_paths, extra)
        return cls(registry, ruleset, options, evaluator=Evaluator(ruleset, registry, compile_now=compile_now))

    def read(self, path: str | os.PathLike) -> Filing:
        """The filing in ``path``, read with the registered readers; raises :class:`InputError` only."""
        return read_input(path, self.registry)

    def evaluate(self, filing: Filing, options: CheckOptions | None = None) -> CheckResult:
        """The rules' verdict on ``filing`` (waivers not applied); raises :class:`InputError` only."""
        options = options or self.options
        with contained(filing.path):
            return self.evaluator.check(filing, explain=options.explain, district=options.district)

    def check(
        self,
        path: str | os.PathLike,
        *,
        read: Callable[[], Filing] | None = None,
        options: CheckOptions | None = None,
    ) -> FilingOutcome:
        """One input's outcome: its findings (waivers applied), or its error record; never raises
        for a problem with the input.

        ``read`` replaces reading ``path`` (an inline filing, an upload under a temporary
        name); ``path`` is then only the name the outcome reports. ``options`` replace the
        checker's own for this input (the service's per-request ``explain`` and ``district``).
        """
        name = os.fspath(path)
        options = options or self.options
        today = options.today or self.today
        try:
            with time_limit(options.seconds, name), contained(name):
                filing = read() if read is not None else read_filing(name, self.registry)
                result = self.evaluate(filing, options)
                findings = result.findings
                if options.waivers:
                    findings = apply_waivers(findings, name, filing.department, list(options.waivers), today)
        except InputError as exc:
            return FilingOutcome(name, error=exc)
        return FilingOutcome(name, filing, findings, jurisdiction=result.jurisdiction)

    def check_all(self, paths: Iterable[str | os.PathLike]) -> list[FilingOutcome]:
        """:meth:`check` for each of ``paths``, in order."""
        return [self.check(path) for path in paths]


__all__ = ["INTERNAL_MESSAGE", "CheckOptions", "Checker", "UnexpectedError", "contained", "read_input"]
