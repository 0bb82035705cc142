"""The hooks a hegui plugin may implement.

Few hooks, each receiving a ``register`` callback (in the style of datasette and llm): a
plugin calls ``register(...)`` once per thing it contributes and returns nothing. Hooks run
once, when the plugin manager is built, before any filing is read. A test fails when a hook
or one of its arguments is not documented here.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("hegui")
hookimpl = pluggy.HookimplMarker("hegui")


@hookspec
def hegui_register_rule_packs(register):
    """Register rule packs: folders (or files) of YAML rules, with their ``*.cases.yaml``.

    Call ``register(path, jurisdiction)``: ``path`` is a :class:`pathlib.Path` to a folder of
    pack files or to one pack file; ``jurisdiction`` is the jurisdiction whose filings the
    rules apply to (``"全国"`` for every filing, else a name registered through
    :func:`hegui_register_jurisdictions`, such as ``"株洲市"``). Each pack file's own
    ``pack.jurisdiction`` must match. Invalid rules stop the run with the plugin's name.
    """


@hookspec
def hegui_register_jurisdictions(register):
    """Register jurisdictions and reference data about them.

    Call ``register(name, parent, aliases=(), facts=None, source="")``:

    * ``name``: e.g. ``"石峰区"``; ``parent``: the enclosing jurisdiction (``"株洲市"``;
      ``"全国"`` for a province). A filing's chain is found from its 部门名称/填报单位
      (the longest registered name or alias it contains) and walked up through parents.
    * ``aliases``: other spellings found in department names (``"石峰"``).
    * ``facts``: reference data as ``{名称: (数值, 单位)}``, e.g. ``{"行政村": (9, "村")}``;
      values are turned into Decimal from their text, never float.
    * ``source``: where the reference data comes from (document or statistics yearbook).

    Registering the same name twice with different parents stops the run.
    """


@hookspec
def hegui_register_readers(register):
    """Register readers for new input formats.

    Call ``register(suffixes, read)``: ``suffixes`` is a tuple such as ``(".csv",)``;
    ``read(path) -> hegui.facts.model.Grid`` must raise
    :class:`hegui.facts.errors.InputError` for bad input. Any other exception raised while
    reading a filing is reported as that filing's error, with the plugin's name; the other
    filings are still checked.
    """


@hookspec
def hegui_register_reporters(register):
    """Register report formats for ``hegui check --format NAME``.

    Call ``register(name, render)``: ``render(outcomes, ruleset) -> str`` receives the list
    of :class:`hegui.reports.FilingOutcome` and the loaded rule set and returns the whole
    report text; its docstring describes the output. The format joins the one report
    registry (:func:`hegui.reports.reporters_for`) beside the built-in ones: a name a
    built-in format (text, json, jsonl, sarif, junit, html, xlsx) or another plugin already
    has stops the run with the plugin's name.
    """
