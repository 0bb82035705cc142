"""The built-in rule packs and jurisdictions, registered through the same hooks as any plugin.

They are registered in code (not through entry points) so a packaging mistake cannot drop
them: a missing pack folder is an error, never an empty rule set.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hegui.plugins.hookspecs import hookimpl

#: pack folder → jurisdiction, nearest last; the plugins below register exactly these
PACKS = (("national", "全国"), ("hunan", "湖南省"), ("zhuzhou", "株洲市"), ("shifeng", "石峰区"))
_JURISDICTION_OF = dict(PACKS)


def _root() -> Path:
    return Path(str(resources.files("hegui.rules")))


class NationalPack:
    """全国：表内表间勾稽关系、绩效指标框架。"""

    @hookimpl
    def hegui_register_rule_packs(self, register):
        register(_root() / "national", _JURISDICTION_OF["national"])


class HunanPack:
    """湖南省：村党组织书记、村委会主任养老保险补贴（湘组〔2019〕55号）。"""

    @hookimpl
    def hegui_register_jurisdictions(self, register):
        register("湖南省", "全国", aliases=("湖南",))

    @hookimpl
    def hegui_register_rule_packs(self, register):
        register(_root() / "hunan", _JURISDICTION_OF["hunan"])


class ZhuzhouPack:
    """株洲市：村级服务群众专项经费、驻村工作队、城市基层党建（株组〔2018〕32号、93号）。"""

    @hookimpl
    def hegui_register_jurisdictions(self, register):
        register("株洲市", "湖南省", aliases=("株洲",))
        # The other districts and counties of the city, so that their filings get the city's
        # rules (and not 石峰区's).
        for name in ("荷塘区", "芦淞区", "天元区", "渌口区", "醴陵市", "攸县", "茶陵县", "炎陵县"):
            register(name, "株洲市")

    @hookimpl
    def hegui_register_rule_packs(self, register):
        register(_root() / "zhuzhou", _JURISDICTION_OF["zhuzhou"])


class ShifengPack:
    """石峰区：离任村干部生活补助（株石组发〔2017〕8号）与测算说明自述的定额。"""

    @hookimpl
    def hegui_register_jurisdictions(self, register):
        register(
            "石峰区",
            "株洲市",
            aliases=("石峰",),
            facts={"行政村": ("9", "村")},
            source="石峰区委组织部2023年预算测算说明",
        )

    @hookimpl
    def hegui_register_rule_packs(self, register):
        register(_root() / "shifeng", _JURISDICTION_OF["shifeng"])


BUILTIN_PLUGINS = (
    ("hegui.national", NationalPack()),
    ("hegui.hunan", HunanPack()),
    ("hegui.zhuzhou", ZhuzhouPack()),
    ("hegui.shifeng", ShifengPack()),
)
