"""示例插件：荷塘区（EXAMPLE ONLY — the regulation and the figures are invented for the demo).

Shows the two hooks a district usually needs: its rule pack (a folder of YAML rules and
their cases) and its jurisdiction with reference data.
"""

from pathlib import Path

from hegui.plugins.hookspecs import hookimpl

RULES = Path(__file__).parent / "rules"


@hookimpl
def hegui_register_jurisdictions(register):
    # 荷塘区 belongs to 株洲市: its filings also get the city's, the province's and the
    # national rules. The figure below is example reference data, not an official count.
    register("荷塘区", "株洲市", aliases=("荷塘",), facts={"社区": ("30", "个")}, source="示例数据")


@hookimpl
def hegui_register_rule_packs(register):
    register(RULES, "荷塘区")
