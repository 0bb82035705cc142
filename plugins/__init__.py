"""Where rule packs come from.

The built-in packs (全国, 湖南省, 株洲市, 石峰区) ship inside ``hegui.rules``; they are located
here, in code, so that a packaging mistake cannot silently drop one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUILTIN_PACK_DIRS = ("national", "hunan", "zhuzhou", "shifeng")


def builtin_rule_paths() -> list[Path]:
    """Folders of the built-in rule packs; raises if one is missing from the installation."""
    root = Path(str(resources.files("hegui.rules")))
    paths = [root / name for name in BUILTIN_PACK_DIRS]
    missing = [str(p) for p in paths if not any(p.glob("*.yaml"))]
    if missing:
        raise FileNotFoundError(f"内置规则包缺失（安装不完整）：{', '.join(missing)}")
    return paths
