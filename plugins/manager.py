"""The plugin manager: built-in packs and installed district plugins, loaded fail-closed.

Installed plugins are found through the ``hegui`` entry-point group. ``HEGUI_PLUGINS``
selects them: unset loads every installed plugin, an empty value loads none (built-ins
only), ``a,b`` loads exactly those and names one that is missing as an error. A plugin that
cannot be imported, implements a misspelt or mis-signed hook, raises while registering or
registers an invalid rule pack stops the run with its name, version, hook and the error:
a missing rule pack must never look like a compliant filing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy

from hegui import __version__
from hegui.engine.registry import NATION, Jurisdiction, PluginInfo, Registry
from hegui.engine.rules import RuleLoadError, RuleSet, load_rules
from hegui.plugins import hookspecs
from hegui.plugins.builtin import BUILTIN_PLUGINS

ENTRY_POINT_GROUP = "hegui"
HOOKS = (
    "hegui_register_rule_packs",
    "hegui_register_jurisdictions",
    "hegui_register_readers",
    "hegui_register_reporters",
)


class PluginError(Exception):
    """A plugin that cannot be used; the run stops (fail closed)."""

    def __init__(self, plugin: str, version: str, hook: str, error: str) -> None:
        super().__init__(plugin, version, hook, error)
        self.plugin, self.version, self.hook, self.error = plugin, version, hook, error

    def __str__(self) -> str:
        return f"插件“{self.plugin}”（版本 {self.version or '未知'}）在 {self.hook} 出错，已停止运行：{self.error}"


def _version(distribution: metadata.Distribution | None) -> tuple[str, str]:
    if distribution is None:
        return "", ""
    return distribution.metadata["Name"] or "", distribution.version or ""


def _selected(names: list[str]) -> set[str] | None:
    raw = os.environ.get("HEGUI_PLUGINS")
    if raw is None:
        return None
    chosen = {n.strip() for n in raw.split(",") if n.strip()}
    missing = sorted(chosen - set(names))
    if missing:
        raise PluginError(
            missing[0],
            "",
            "HEGUI_PLUGINS",
            f"没有安装名为“{missing[0]}”的插件（已安装：{'、'.join(sorted(names)) or '无'}）",
        )
    return chosen


#: What plugin code may raise that must stop the run naming the plugin: every exception, and
#: the exits (``sys.exit(0)`` in a plugin would otherwise end hegui with 0 and no output, which
#: a pipeline reads as "compliant").
PLUGIN_FAILURES: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)


def build_registry(*, entry_points: bool = True) -> Registry:
    """Register the built-in packs and the selected installed plugins, and collect what they register."""
    pm = pluggy.PluginManager("hegui")
    pm.add_hookspecs(hookspecs)
    registry = Registry()
    infos: dict[str, PluginInfo] = {}
    for name, plugin in BUILTIN_PLUGINS:
        pm.register(plugin, name=name)
        infos[name] = PluginInfo(name, "hegui", __version__, True)
    if entry_points:
        found = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        chosen = _selected([ep.name for ep in found])
        for ep in sorted(found, key=lambda e: e.name):
            if chosen is not None and ep.name not in chosen:
                continue
            distribution, version = _version(getattr(ep, "dist", None))
            try:
                plugin = ep.load()
            except PLUGIN_FAILURES as exc:  # any import failure of third-party code stops the run
                raise PluginError(ep.name, version, "导入", f"{type(exc).__name__}: {exc}") from exc
            try:
                pm.register(plugin, name=ep.name)
            except (pluggy.PluginValidationError, ValueError) as exc:
                raise PluginError(ep.name, version, "注册", f"钩子签名不对：{exc}") from exc
            infos[ep.name] = PluginInfo(ep.name, distribution, version, False)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or str(exc.plugin)
        info = infos.get(name)
        raise PluginError(
            name, info.version if info else "", "注册", f"实现了未定义的钩子（可能拼错了名字）：{exc}"
        ) from exc
    for hook in HOOKS:
        for impl in getattr(pm.hook, hook).get_hookimpls():
            info = infos[impl.plugin_name]
            try:
                impl.function(register=_registrar(registry, info, hook))
            except PluginError:
                raise
            except PLUGIN_FAILURES as exc:
                raise PluginError(info.name, info.version, hook, f"{type(exc).__name__}: {exc}") from exc
    registry.plugins = list(infos.values())
    for jurisdiction in registry.jurisdictions.values():
        if jurisdiction.name != NATION and jurisdiction.parent not in registry.jurisdictions:
            info = infos.get(jurisdiction.plugin)
            raise PluginError(
                jurisdiction.plugin,
                info.version if info else "",
                "hegui_register_jurisdictions",
                f"地区“{jurisdiction.name}”的上级“{jurisdiction.parent}”没有注册",
            )
    return registry


def _registrar(registry: Registry, info: PluginInfo, hook: str) -> Callable[..., None]:
    def fail(message: str) -> None:
        raise PluginError(info.name, info.version, hook, message)

    def rule_packs(path: Any, jurisdiction: str) -> None:
        path = Path(path)
        if not path.exists():
            fail(f"规则包路径不存在：{path}")
        if path.is_dir() and not any(
            p.suffix == ".yaml" and not p.name.endswith(".cases.yaml") for p in path.rglob("*")
        ):
            fail(f"规则包文件夹中没有任何规则文件（*.yaml）：{path}")
        info.packs.append((path, str(jurisdiction)))

    def jurisdictions(
        name: str, parent: str, aliases: tuple[str, ...] = (), facts: dict | None = None, source: str = ""
    ) -> None:
        existing = registry.jurisdictions.get(name)
        if existing is not None and existing.parent != parent:
            fail(f"地区“{name}”已由插件“{existing.plugin}”注册，上级为“{existing.parent}”，与“{parent}”矛盾")
        data: dict[str, tuple[Decimal, str]] = {}
        for key, (value, unit) in (facts or {}).items():
            if isinstance(value, float):
                fail(f"参考数据“{key}”的数值请写成文字或整数（不能用浮点数）")
            try:
                data[str(key)] = (Decimal(str(value)), str(unit))
            except InvalidOperation:
                fail(f"参考数据“{key}”的数值“{value}”不是数字")
        merged = existing or Jurisdiction(name, parent, plugin=info.name)
        merged.aliases = tuple(dict.fromkeys(merged.aliases + tuple(aliases)))
        merged.facts.update(data)
        merged.source = source or merged.source
        registry.jurisdictions[name] = merged
        info.jurisdictions.append(name)

    def readers(suffixes: tuple[str, ...], read: Callable) -> None:
        for suffix in suffixes:
            registry.readers[suffix.lower()] = (read, info.name)
        info.readers.extend(suffixes)

    def reporters(name: str, render: Callable) -> None:
        # Names of built-in formats are refused where the formats live (hegui.reports.reporters_for);
        # here, where every plugin's registrations meet, a name another plugin took.
        taken = registry.reporters.get(name)
        if taken is not None:
            fail(f"报告格式名“{name}”已由插件“{taken[1]}”注册")
        registry.reporters[name] = (render, info.name)
        info.reporters.append(name)

    registrars: dict[str, Callable[..., None]] = {
        "hegui_register_rule_packs": rule_packs,
        "hegui_register_jurisdictions": jurisdictions,
        "hegui_register_readers": readers,
        "hegui_register_reporters": reporters,
    }
    return registrars[hook]


def load_registered_rules(registry: Registry, extra: list[Path] | None = None) -> RuleSet:
    """Load the registered packs (and ``extra`` ones) into one rule set, fail closed.

    An invalid rule in a plugin's pack is reported with the plugin's name and version; a
    pack whose file states another jurisdiction than its plugin registered is an error.
    """
    paths = registry.pack_paths() + list(extra or [])
    try:
        ruleset = load_rules(paths, known_jurisdictions=list(registry.jurisdictions))
    except RuleLoadError as exc:
        blamed = [registry.plugin_of_file(p.file) for p in exc.problems]
        plugin = next((b for b in blamed if b is not None and not b.builtin), None)
        if plugin is not None:
            first = exc.problems[blamed.index(plugin)]
            raise PluginError(plugin.name, plugin.version, "hegui_register_rule_packs", f"规则包无效：{first}") from exc
        raise
    for info in registry.plugins:
        for path, jurisdiction in info.packs:
            root = path.resolve()
            if not info.builtin and not any(
                Path(rule.file).resolve() == root or root in Path(rule.file).resolve().parents for rule in ruleset.rules
            ):
                # An empty pack would check nothing and report every filing as compliant.
                raise PluginError(info.name, info.version, "hegui_register_rule_packs", f"规则包中没有任何规则：{path}")
            for file, stated in ruleset.file_jurisdiction.items():
                target = Path(file).resolve()
                if (target == path.resolve() or path.resolve() in target.parents) and stated != jurisdiction:
                    raise PluginError(
                        info.name,
                        info.version,
                        "hegui_register_rule_packs",
                        f"{file} 写明适用地区“{stated}”，但插件注册为“{jurisdiction}”",
                    )
    return ruleset


def load_ruleset(
    registry: Registry, rule_paths: Iterable[str | os.PathLike] = (), extra: Iterable[str | os.PathLike] = ()
) -> RuleSet:
    """The rule set a run checks with: the one place every command, worker and service loads rules.

    ``rule_paths`` given: exactly those pack files or folders (``hegui check --rules``), with the
    registry's jurisdictions known. Empty: every registered pack plus the ``extra`` folders,
    with a broken plugin pack blamed on its plugin. Raises :class:`RuleLoadError` or
    :class:`PluginError`; nothing is half-loaded.
    """
    paths = [Path(p) for p in rule_paths]
    if paths:
        return load_rules(paths, known_jurisdictions=list(registry.jurisdictions))
    return load_registered_rules(registry, [Path(p) for p in extra])
