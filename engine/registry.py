"""What the engine needs to know about registered plugins: jurisdictions, readers, reporters.

The plugin manager (:mod:`hegui.plugins.manager`) *builds* a :class:`Registry` from the
built-in packs and the installed plugins; the engine only *receives* one. The types live here,
below the plugins layer, so the engine never imports pluggy or the manager.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

#: The root of every jurisdiction chain: rules of this jurisdiction apply to every filing.
NATION = "全国"


@dataclass
class Jurisdiction:
    """A registered jurisdiction, its parent, the spellings found in department names and its reference data."""

    name: str
    parent: str
    aliases: tuple[str, ...] = ()
    facts: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    source: str = ""
    plugin: str = ""


@dataclass
class PluginInfo:
    """One plugin (built-in pack or installed distribution) and what it registered."""

    name: str
    distribution: str
    version: str
    builtin: bool
    packs: list[tuple[Path, str]] = field(default_factory=list)
    jurisdictions: list[str] = field(default_factory=list)
    readers: list[str] = field(default_factory=list)
    reporters: list[str] = field(default_factory=list)


@dataclass
class Registry:
    """Everything the plugins registered."""

    plugins: list[PluginInfo] = field(default_factory=list)
    jurisdictions: dict[str, Jurisdiction] = field(default_factory=lambda: {NATION: Jurisdiction(NATION, "")})
    readers: dict[str, tuple[Callable, str]] = field(default_factory=dict)
    reporters: dict[str, tuple[Callable, str]] = field(default_factory=dict)

    def pack_paths(self) -> list[Path]:
        """Every registered rule pack path, in registration order."""
        return [path for info in self.plugins for path, _ in info.packs]

    def builtin_pack_paths(self) -> list[Path]:
        """The rule pack paths the built-in plugins registered."""
        return [path for info in self.plugins if info.builtin for path, _ in info.packs]

    def plugin_of_file(self, file: str) -> PluginInfo | None:
        """The plugin whose registered pack holds ``file``, if any."""
        target = Path(file).resolve()
        for info in self.plugins:
            for path, _ in info.packs:
                root = path.resolve()
                if target == root or root in target.parents:
                    return info
        return None

    def chain(self, name: str) -> list[str]:
        """``name`` and its ancestors, nearest first, ending with 全国."""
        out: list[str] = []
        while name and name not in out and name in self.jurisdictions:
            out.append(name)
            name = self.jurisdictions[name].parent
        if NATION not in out:
            out.append(NATION)
        return out

    def chain_for(self, department: str, district: str | None = None) -> list[str]:
        """The jurisdiction chain of a filing: ``district`` if given, else from its department name."""
        if district:
            return self.chain(district)
        best, length = "", 0
        for jurisdiction in self.jurisdictions.values():
            for spelling in (jurisdiction.name, *jurisdiction.aliases):
                if spelling and spelling in department and len(spelling) > length and jurisdiction.name != NATION:
                    best, length = jurisdiction.name, len(spelling)
        return self.chain(best) if best else [NATION]
