"""The one registry of report formats: name → :class:`Reporter`, built-in and plugin alike.

A reporter is a name (what ``hegui check --format NAME`` takes), a media type and file suffix
(what the service and a caller writing files need), whether its output is bytes or text,
``render(outcomes, context)`` returning the whole report and, for a format that can be written
as it is read, ``stream(outcomes, context)`` yielding it in pieces (see :meth:`Reporters.stream`). The built-in formats
(:mod:`hegui.reports.text`, :mod:`~hegui.reports.json`, …, each in a module of its own) and
the formats plugins register through ``hegui_register_reporters`` are added with the same
:meth:`Reporters.register`, so one name can only ever mean one format: a second format of
the same name is refused, never silently ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hegui.engine.rules import RuleSet
from hegui.plugins.manager import PluginError, Registry
from hegui.reports.outcome import FilingOutcome

if TYPE_CHECKING:
    from hegui.reports.source import Outcomes

#: The ``origin`` of the formats hegui itself ships.
BUILTIN = "hegui"
#: The hook through which plugins register formats (named in their errors).
PLUGIN_HOOK = "hegui_register_reporters"


@dataclass(frozen=True)
class ReportContext:
    """What a reporter is given besides the outcomes.

    ``ruleset``: the rules the filings were checked against (for rule lists and counts).
    ``registry``: the plugin registry of the run, whose readers a format that reads a filing
    again (the annotated workbook) must use; ``None`` means the built-in readers only.
    """

    ruleset: RuleSet
    registry: Registry | None = None


RenderFunction = Callable[[Sequence[FilingOutcome], ReportContext], str | bytes]
#: ``stream(outcomes, context)``: the report's text in pieces, reading ``outcomes`` (an
#: :class:`~hegui.reports.source.Outcomes` source, possibly more than once) one at a time.
StreamFunction = Callable[["Outcomes", ReportContext], Iterable[str]]


@dataclass(frozen=True)
class Reporter:
    """One report format.

    ``name``: the ``--format`` value. ``media_type`` and ``suffix``: the output's media type
    (``application/json``) and the usual file-name suffix (``.json``). ``binary``: the output
    is ``bytes`` and must go to a file (``--output``), else it is ``str`` (UTF-8 when
    written). ``render(outcomes, context)``: the whole report of ``outcomes`` (one
    :class:`~hegui.reports.outcome.FilingOutcome` per input, in input order); its docstring
    says what the output is. ``origin``: ``"hegui"`` for a built-in format, else the name of
    the plugin that registered it.

    ``stream``: for a format that can be written while its outcomes are read one at a time
    (a batch of thousands of filings then never has them all in memory), the function that
    yields its text in pieces; the pieces joined are exactly what ``render`` returns for the
    same outcomes. ``None`` for a format that needs every outcome at once (the workbook,
    plugin formats): it is given them as a list.
    """

    name: str
    media_type: str
    suffix: str
    binary: bool
    render: RenderFunction
    origin: str = BUILTIN
    stream: StreamFunction | None = None

    @property
    def streams(self) -> bool:
        """Whether the format is written while its outcomes are read (memory flat in their number)."""
        return self.stream is not None

    @property
    def builtin(self) -> bool:
        """Whether hegui ships this format (else a plugin registered it)."""
        return self.origin == BUILTIN

    @property
    def description(self) -> str:
        """The first paragraph of the render function's docstring: what the output is."""
        doc = inspect.getdoc(self.render) or ""
        return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


class FormatNameTaken(ValueError):
    """A second format was registered under a name that already has one."""

    def __init__(self, reporter: Reporter, holder: Reporter) -> None:
        self.reporter, self.holder = reporter, holder
        if holder.builtin:
            message = f"报告格式名“{reporter.name}”已被内置格式占用"
        else:
            message = f"报告格式名“{reporter.name}”已由插件“{holder.origin}”注册"
        super().__init__(message)


class Reporters:
    """Report formats by name, in the order they were registered (built-in ones first)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Reporter] = {}

    def register(self, reporter: Reporter) -> None:
        """Add ``reporter``; raises :class:`FormatNameTaken` if its name already has a format."""
        holder = self._by_name.get(reporter.name)
        if holder is not None:
            raise FormatNameTaken(reporter, holder)
        self._by_name[reporter.name] = reporter

    def get(self, name: str) -> Reporter:
        """The format called ``name``; raises :class:`KeyError` for an unknown one."""
        return self._by_name[name]

    def names(self) -> tuple[str, ...]:
        """Every format's name, built-in ones first."""
        return tuple(self._by_name)

    def render(self, name: str, outcomes: Sequence[FilingOutcome], context: ReportContext) -> str | bytes:
        """The report of ``outcomes`` in the format called ``name``."""
        return self.get(name).render(outcomes, context)

    def stream(self, name: str, outcomes: Outcomes, context: ReportContext) -> Iterator[str | bytes]:
        """The report of ``outcomes`` in the format called ``name``, in pieces to write one after another.

        A format that streams reads ``outcomes`` one at a time as the pieces are taken; any
        other format is given them all as a list and yields its whole report as one piece
        (so an error while rendering it comes before anything is written).
        """
        reporter = self.get(name)
        if reporter.stream is not None:
            yield from reporter.stream(outcomes, context)
        else:
            yield reporter.render(list(outcomes), context)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Reporter]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)


def plugin_reporter(name: str, render: Callable[..., str | bytes], plugin: str) -> Reporter:
    """A format a plugin registered with ``register(name, render)``.

    Plugins keep the documented call ``render(outcomes, ruleset) -> str``; the reporter passes
    them the context's rule set. Their output is text (``text/plain``, ``.txt``).
    """

    def render_plugin(outcomes: Sequence[FilingOutcome], context: ReportContext) -> str | bytes:
        try:
            output = render(outcomes, context.ruleset)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # fail closed, naming the plugin
            raise PluginError(plugin, "", PLUGIN_HOOK, f"生成报告时出错：{type(exc).__name__}: {exc}") from exc
        if not isinstance(output, (str, bytes)):
            raise PluginError(plugin, "", PLUGIN_HOOK, f"生成报告时返回了{type(output).__name__}，应为文本")
        return output

    render_plugin.__doc__ = inspect.getdoc(render) or ""
    render_plugin.__name__ = getattr(render, "__name__", "render")
    return Reporter(name, "text/plain", ".txt", False, render_plugin, origin=plugin)


def register_plugin_reporters(reporters: Reporters, registry: Registry) -> None:
    """Add every format the plugins of ``registry`` registered, fail closed.

    A plugin format whose name a built-in format or another plugin's format already has
    stops the run: :class:`~hegui.plugins.manager.PluginError` naming the plugin.
    """
    versions = {info.name: info.version for info in registry.plugins}
    for name, (render, plugin) in registry.reporters.items():
        try:
            reporters.register(plugin_reporter(name, render, plugin))
        except FormatNameTaken as exc:
            raise PluginError(plugin, versions.get(plugin, ""), PLUGIN_HOOK, str(exc)) from exc
