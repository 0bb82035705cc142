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
from hegui.engine.rules import RuleLoadError, load_rules
from hegui.facts.errors import InputError
from hegui.facts.read import read_filing
from hegui.reports import FilingOutcome, ReportContext, Reporters, exit_code, reporters_for

EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hegui")
def main() -> None:
    """hegui（合规）：按政策规则检查预算绩效目标表。"""


_REGISTRY = None


def render_report(fmt: str, outcomes, ruleset, registry) -> str | bytes:
    """The report in ``fmt``: any format of the report registry, built-in or a plugin's."""
    return reporters_for(registry).render(fmt, outcomes, ReportContext(ruleset, registry))


def _emit(output: str | bytes, output_path: Path | None) -> None:
    if output_path is not None:
        output_path.write_bytes(output if isinstance(output, bytes) else output.encode("utf-8"))
    elif isinstance(output, bytes):
        sys.stdout.buffer.write(output)
    else:
        click.echo(output, nl=False)


def _registry():
    """The plugin registry, built once; a broken plugin stops the run (exit 2) with its name."""
    global _REGISTRY
    from hegui.plugins.manager import PluginError, build_registry

    if _REGISTRY is None:
        try:
            registry = build_registry()
            reporters_for(registry)  # a plugin format whose name is taken stops every command, as a broken plugin does
            _REGISTRY = registry
        except PluginError as exc:
            click.echo(f"✗ {exc}", err=True)
            sys.exit(EXIT_USAGE)
    return _REGISTRY


def _stop(exc: Exception, what: str = "规则") -> None:
    """Print why the run cannot go on (every breadcrumb of a load error) and exit with 2."""
    problems = getattr(exc, "problems", None)
    if problems is not None:
        click.echo(f"{what}有误，已停止（共{len(problems)}处）：", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"✗ {exc}", err=True)
    sys.exit(EXIT_USAGE)


def _load(rule_paths: tuple[str, ...], extra: tuple[str, ...] = ()):
    """Rules from ``rule_paths`` only, or from every registered plugin (plus ``extra`` folders)."""
    from hegui.plugins.manager import PluginError, load_registered_rules

    registry = _registry()
    try:
        if rule_paths:
            return load_rules([Path(p) for p in rule_paths], known_jurisdictions=list(registry.jurisdictions))
        return load_registered_rules(registry, [Path(p) for p in extra])
    except (PluginError, RuleLoadError) as exc:
        _stop(exc)


def _checker(ruleset):
    return Checker(ruleset, _registry())


def _reporters() -> Reporters:
    """The report formats of this run: built-in ones and the plugins' (checked by ``_registry``)."""
    return reporters_for(_registry())


class _FormatChoice(click.Choice):
    """``--format``: the names in the report registry, read when first needed.

    The registry includes plugin formats, so it is built from the plugins on first use rather
    than when the command is defined: importing the CLI must not load plugins.
    """

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return _reporters().names()

    @choices.setter
    def choices(self, value) -> None:
        pass  # click.Choice.__init__ assigns the choices; ours come from the registry

    def get_invalid_choice_message(self, value, ctx) -> str:
        return f"未知的输出格式“{value}”；可用：{'、'.join(self.choices)}"


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--format",
    "fmt",
    type=_FormatChoice(),
    default="text",
    show_default=True,
    help="输出格式（内置格式及插件注册的格式）",
)
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(min=1), help="并行检查的工作进程数")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), help="每份申报的检查时限（秒）；超时的申报单独报错，其余照常"
)
@click.option(
    "--results",
    "results_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="把每份申报的结果逐行写入 JSON Lines 文件",
)
@click.option("--resume", is_flag=True, help="续跑：跳过 --results 文件中已完成的申报")
@click.option(
    "--output",
    "-o",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写入文件而不是标准输出（xlsx 必须指定）",
)
@click.option("--district", help="申报所属地区（默认从部门名称识别），如 石峰区")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="达到此严重程度的发现使退出码为1",
)
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="规则包文件或目录（可重复；不给则用内置规则包）",
)
@click.option(
    "--waivers", "waiver_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="豁免文件（YAML）"
)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="判断豁免是否过期所用的日期（默认今天）")
@click.option("--explain", is_flag=True, help="每个发现附上推导过程（文字输出内联显示，JSON 放在 explanation 中）")
def check(
    files: tuple[str, ...],
    fmt: str,
    jobs: int,
    timeout: float | None,
    results_path: Path | None,
    resume: bool,
    output_path: Path | None,
    district: str | None,
    fail_on: str,
    rule_paths: tuple[str, ...],
    waiver_file: Path | None,
    today,
    explain: bool,
) -> None:
    """检查一个或多个申报文件。"""
    import datetime as dt

    from hegui.engine.waivers import apply_waivers, load_waivers

    ruleset = _load(rule_paths)
    registry = _registry()
    if _reporters().get(fmt).binary and output_path is None:
        raise click.BadParameter(f"{fmt} 报告是二进制文件，请用 --output 指定文件名", param_hint="--output")
    try:
        waivers = load_waivers(waiver_file) if waiver_file else []
    except RuleLoadError as exc:
        _stop(exc, "豁免文件")
    on = today.date() if today else dt.date.today()
    if resume and results_path is None:
        raise click.UsageError("--resume 需要与 --results 一起使用")
    batch_mode = jobs > 1 or timeout is not None or results_path is not None or any(Path(f).is_dir() for f in files)
    summary = None
    if batch_mode:
        from hegui.engine.batch import BatchError, BatchOptions, format_summary, run_batch
        from hegui.plugins.manager import PluginError

        options = BatchOptions(
            rule_paths=tuple(rule_paths), district=district, explain=explain, waivers=tuple(waivers), today=on
        )
        try:
            batch = run_batch(
                list(files),
                jobs=jobs,
                timeout=timeout,
                options=options,
                results_path=results_path,
                resume=resume,
                registry=registry,
            )
        except (PluginError, RuleLoadError, BatchError) as exc:
            _stop(exc)
        outcomes = batch.outcomes()
        summary = format_summary(batch.summary)
    else:
        checker = _checker(ruleset)
        outcomes = []
        for path in files:
            try:
                filing = read_filing(path, registry)
            except InputError as exc:
                outcomes.append(FilingOutcome(path, error=exc))
                continue
            result = checker.check(filing, explain=explain, district=district)
            findings = (
                apply_waivers(result.findings, path, filing.department, waivers, on) if waivers else result.findings
            )
            outcomes.append(FilingOutcome(path, filing, findings, jurisdiction=result.jurisdiction))
    _emit(render_report(fmt, outcomes, ruleset, registry), output_path)
    if summary is not None:
        click.echo(summary, err=True)
    for outcome in outcomes:
        if outcome.error is not None and fmt == "json":
            click.echo(f"✗ {outcome.error}", err=True)
    sys.exit(exit_code(outcomes, fail_on))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True, help="输出格式"
)
def facts(file: str, fmt: str) -> None:
    """列出从申报文件读到的每个值及其来源（行号或单元格），供核对读取是否正确。"""
    from hegui.facts.show import fact_rows, render_json, render_table
    from hegui.facts.vocabulary import filing_facts

    try:
        filing = read_filing(file, _registry())
    except InputError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(EXIT_USAGE)
    unit = filing.overview.unit if filing.overview else "万元"
    rows = fact_rows(filing_facts(filing), unit)
    click.echo(render_json(file, rows) if fmt == "json" else render_table(file, rows), nl=False)


@main.group()
def rules() -> None:
    """规则包：列出、测试。"""


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--coverage", is_flag=True, help="按政策文件和条款统计用例覆盖情况")
def rules_test(paths: tuple[str, ...], coverage: bool) -> None:
    """运行规则测试用例（*.cases.yaml）。不给 PATH 时运行内置规则包的用例。"""
    from hegui.engine.cases import case_files, load_case_file, run_case

    registry = _registry()
    if paths:
        # A folder under test replaces any installed copy of itself: built-in packs + PATHs.
        rule_paths = [path for info in registry.plugins if info.builtin for path, _ in info.packs] + [
            Path(p) for p in paths
        ]
        ruleset = _load(tuple(str(p) for p in rule_paths))
    else:
        rule_paths = registry.pack_paths()
        ruleset = _load(())
    checker = _checker(ruleset)
    problems: list = []
    cases = [
        c for f in case_files([Path(p) for p in paths] or rule_paths) for c in load_case_file(f, ruleset, problems)
    ]
    if problems:
        _stop(RuleLoadError(problems), "用例文件")
    failed = 0
    for case in cases:
        result = run_case(case, checker)
        mark = "✓" if result.ok else "✗"
        click.echo(f"{mark} {case.rule_id} {case.name}  ({case.file}:{case.line})")
        for problem in result.problems:
            click.echo(f"    {problem}")
        failed += not result.ok
    if coverage:
        click.echo("")
        click.echo(_coverage(ruleset, cases))
    click.echo(f"{len(cases) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def _coverage(ruleset, cases) -> str:
    """Cases per cited document and clause; clauses that no case exercises are listed."""
    counts: dict[tuple[str, str], list[int]] = {}
    for rule in ruleset.rules:
        key = (rule.source.document, rule.source.clause)
        counts.setdefault(key, [0, 0])
        for case in cases:
            if case.rule_id == rule.id:
                counts[key][0 if case.kind == "pass" else 1] += 1
    lines = ["政策依据覆盖（pass / fail 用例数）："]
    for (document, clause), (passing, failing) in sorted(counts.items()):
        flag = "" if passing and failing else "   ← 缺少用例"
        lines.append(f"  {document} {clause}：{passing} / {failing}{flag}")
    missing = [f"{d} {c}" for (d, c), (p, f) in sorted(counts.items()) if not p or not f]
    lines.append(f"没有完整用例的条款：{len(missing)}个")
    return "\n".join(lines)


@rules.command("list")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True), help="规则包文件或目录")
def rules_list(rule_paths: tuple[str, ...]) -> None:
    """列出已加载的规则：编号、严重程度、规则包、标题。"""
    from hegui.engine.catalogue import rule_basis

    ruleset = _load(rule_paths)
    for rule in ruleset.rules:
        basis = rule_basis(rule)
        click.echo(
            f"{rule.id:<14} {rule.severity:<8} {rule.pack:<6} {rule.title}" + (f"  〔{basis}〕" if basis else "")
        )
    click.echo(f"共{len(ruleset.rules)}条规则，规则包：{'、'.join(ruleset.packs)}")


@main.command("rule")
@click.argument("rule_id")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True), help="规则包文件或目录")
def rule_show(rule_id: str, rule_paths: tuple[str, ...]) -> None:
    """显示一条规则：检查什么、为什么、依据、参数及有效期、不合规示例、如何改正。"""
    from hegui.engine.catalogue import describe_rule

    ruleset = _load(rule_paths)
    rule = ruleset.by_id(rule_id)
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id, [r.id for r in ruleset.rules], n=3)
        hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
        click.echo(f"没有编号为“{rule_id}”的规则{hint}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(describe_rule(rule))


@rules.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def rules_lint(paths: tuple[str, ...]) -> None:
    """检查规则集的隐患：未用或无量纲的参数、有效期重叠或空档、缺少文档字段、条件重复的规则。"""
    from hegui.engine.lint import lint

    ruleset = _load(paths)
    issues = lint(ruleset)
    for issue in issues:
        click.echo(str(issue))
    click.echo(f"{len(issues)}个问题")
    sys.exit(1 if issues else 0)


@rules.command("doc")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/rules"), show_default=True
)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True), help="规则包文件或目录")
def rules_doc(out_dir: Path, rule_paths: tuple[str, ...]) -> None:
    """由规则本身生成文档：每条规则一页，另有索引。"""
    from hegui.engine.catalogue import render_rule_docs

    ruleset = _load(rule_paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = render_rule_docs(ruleset)
    for old in out_dir.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    click.echo(f"已生成 {len(pages)} 个文件到 {out_dir}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.argument("selector")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="输出格式"
)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True), help="规则包文件或目录")
@click.option("--district", help="申报所属地区（默认从部门名称识别）")
def why(file: str, selector: str, fmt: str, rule_paths: tuple[str, ...], district: str | None) -> None:
    """解释一项为什么不合规、为什么合规或为什么不适用。

    SELECTOR 可以是 hegui check 给出的发现编号（如 ZZ-ZCDY-001@1a2b3c4d）、项目名称、表（如 附件3-5）
    或位置（行号、文件:行号、单元格）。
    """
    import json

    from hegui.engine.explain import Explainer, render_text
    from hegui.engine.select import SelectionError, select

    ruleset = _load(rule_paths)
    try:
        filing = read_filing(file, _registry())
    except InputError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(EXIT_USAGE)
    checker = _checker(ruleset)
    result = checker.check(filing, explain=True, district=district)
    explainer = Explainer(checker, result)
    try:
        target = select(result, selector)
    except SelectionError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_USAGE)
    if target.finding is not None:
        trees = [target.finding.explanation]
        document = {"file": file, "selector": selector, "finding": target.finding.id, "explanations": trees}
    else:
        about = explainer.subject(target.entity)
        trees = about["rules"]
        document = {
            "file": file,
            "selector": selector,
            "subject": about["subject"],
            "explanations": trees,
            "note": about["other_rules"],
        }
    if fmt == "json":
        click.echo(json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2))
        return
    if target.finding is None:
        subject = document["subject"]
        click.echo(f"{subject['table']} {subject['item']}（{subject['location']}）：{len(trees)}条规则")
    for tree in trees:
        click.echo(render_text(tree))
        click.echo("")
    if target.finding is None:
        click.echo(document["note"])


@main.command()
def plugins() -> None:
    """列出已加载的插件：发行包、版本、地区、规则与参数数量。"""
    registry = _registry()
    ruleset = _load(())
    for info in registry.plugins:
        rules = [
            r
            for r in ruleset.rules
            if (owner := registry.plugin_of_file(r.file)) is not None and owner.name == info.name
        ]
        packs = {r.pack for r in rules}
        params = [k for k in ruleset.parameters if k.split(":", 1)[0] in packs]
        kind = "内置" if info.builtin else "已安装"
        where = "、".join(dict.fromkeys([j for _, j in info.packs] + info.jurisdictions)) or "—"
        extras = (f"；读取 {'、'.join(info.readers)}" if info.readers else "") + (
            f"；报告 {'、'.join(info.reporters)}" if info.reporters else ""
        )
        click.echo(
            f"{info.name:<18} {kind}  {info.distribution} {info.version}  地区：{where}  规则{len(rules)}条  参数{len(params)}个{extras}"
        )
    click.echo(f"共{len(registry.plugins)}个插件；HEGUI_PLUGINS 可选择要加载的已安装插件（空值表示只用内置规则包）")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="规则包文件或目录（不给则用所有已注册的规则包）",
)
@click.option("--max-upload-mb", default=20, show_default=True, type=int, help="上传文件大小上限（MB）")
@click.option(
    "--timeout", "timeout_seconds", default=30.0, show_default=True, type=float, help="每个请求的检查时限（秒）"
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    host: str, port: int, rule_paths: tuple[str, ...], max_upload_mb: int, timeout_seconds: float, log_level: str
) -> None:
    """启动 HTTP 服务（POST /v1/check、GET /v1/rules、GET /healthz；OpenAPI 在 /docs）。"""
    from hegui.plugins.manager import PluginError

    try:
        from hegui.engine.service import serve as run
    except ImportError as exc:
        click.echo(f"✗ HTTP 服务需要额外的依赖：pip install 'hegui[service]'（{exc}）", err=True)
        sys.exit(EXIT_USAGE)
    try:
        run(
            host=host,
            port=port,
            log_level=log_level,
            rule_paths=[Path(p) for p in rule_paths] or None,
            max_upload_bytes=max_upload_mb * 1024 * 1024,
            timeout_seconds=timeout_seconds,
        )
    except (PluginError, RuleLoadError) as exc:
        _stop(exc)
