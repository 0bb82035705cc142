"""The ``hegui`` command.

Exit codes (stable, documented in the README): 0 nothing at or above ``--fail-on``;
1 findings at or above it; 2 an input file could not be read, rules are invalid, or the
command was used wrongly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hegui import __version__
from hegui.engine.evaluate import Checker
from hegui.engine.report import FilingOutcome, exit_code, to_json, to_text
from hegui.engine.rules import RuleLoadError, load_rules
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.plugins import builtin_rule_paths

EXIT_USAGE = 2


class _Group(click.Group):
    def main(self, *args, **kwargs):  # type: ignore[override]
        # click exits with 2 on usage errors already; keep that and nothing else.
        return super().main(*args, **kwargs)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hegui")
def main() -> None:
    """hegui（合规）：按政策规则检查预算绩效目标表。"""


def _load(rule_paths: tuple[str, ...]):
    paths = [Path(p) for p in rule_paths] if rule_paths else builtin_rule_paths()
    try:
        return load_rules(paths)
    except RuleLoadError as exc:
        click.echo(f"规则有误，已停止（共{len(exc.problems)}处）：", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EXIT_USAGE)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式")
@click.option(
    "--fail-on", type=click.Choice(["error", "warning", "info", "never"]), default="error", show_default=True,
    help="达到此严重程度的发现使退出码为1",
)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True), help="规则包文件或目录（可重复；不给则用内置规则包）")
def check(files: tuple[str, ...], fmt: str, fail_on: str, rule_paths: tuple[str, ...]) -> None:
    """检查一个或多个申报文件。"""
    ruleset = _load(rule_paths)
    checker = Checker(ruleset)
    outcomes: list[FilingOutcome] = []
    for path in files:
        try:
            filing = read_filing(path)
        except InputError as exc:
            outcomes.append(FilingOutcome(path, error=exc))
            continue
        result = checker.check(filing)
        outcomes.append(FilingOutcome(path, filing, result.findings))
    output = to_json(outcomes, ruleset) if fmt == "json" else to_text(outcomes, ruleset)
    click.echo(output, nl=False)
    for outcome in outcomes:
        if outcome.error is not None and fmt == "json":
            click.echo(f"✗ {outcome.error}", err=True)
    sys.exit(exit_code(outcomes, fail_on))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="输出格式")
def facts(file: str, fmt: str) -> None:
    """列出从申报文件读到的每个值及其来源（行号或单元格），供核对读取是否正确。"""
    from hegui.facts.show import fact_rows, render_json, render_table
    from hegui.facts.vocabulary import filing_facts

    try:
        filing = read_filing(file)
    except InputError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(EXIT_USAGE)
    unit = filing.overview.unit if filing.overview else "万元"
    rows = fact_rows(filing_facts(filing), unit)
    click.echo(render_json(file, rows) if fmt == "json" else render_table(file, rows), nl=False)
