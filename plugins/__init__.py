"""Where rule packs come from.

The built-in packs (全国, 湖南省, 株洲市, 石峰区) ship inside ``hegui.rules``; they are located
here, in code, so that a packaging mistake cannot silently drop one.
"""

from __future__ import annotations

from pathlib import Path

from hegui.plugins.builtin import PACKS, _root

BUILTIN_PACK_DIRS = tuple(folder for folder, _ in PACKS)


def builtin_rule_paths() -> list[Path]:
    """Folders of the built-in rule packs; raises if one is missing from the installation."""
    paths = [_root() / folder for folder in BUILTIN_PACK_DIRS]
    missing = [str(p) for p in paths if not any(p.glob("*.yaml"))]
    if missing:
        raise FileNotFoundError(f"内置规则包缺失（安装不完整）：{', '.join(missing)}")
    return paths
