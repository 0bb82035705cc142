"""The ``hegui`` command.

Exit codes (stable, documented in the README): 0 nothing at or above ``--fail-on``;
1 findings at or above it; 2 an input file could not be read, rules are invalid, or the
command was used wrongly.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from hegui import __version__
from hegui.engine.problems import RuleLoadError
from hegui.facts.errors import InputError
from hegui.facts.limits import DEFAULT_SECONDS, limit_memory

if TYPE_CHECKING:
    from hegui.app.batch import BatchError, BatchOptions, format_summary, run_batch
    from hegui.app.checker import Checker, CheckOptions, read_input
    from hegui.engine.cases import case_files, load_case_file, run_case
    from hegui.engine.catalogue import describe_rule, render_rule_docs
    from hegui.engine.evaluate import Evaluator
    from hegui.engine.explain import Explainer, render_text
    from hegui.engine.lint import lint
    from hegui.engine.packfiles import files_under
    from hegui.engine.registry import Registry
    from hegui.engine.rules import RuleSet
    from hegui.engine.select import SelectionError, select
    from hegui.engine.waivers import load_waivers
    from hegui.facts.read import FOLDER_SUFFIXES
    from hegui.facts.show import fact_rows, render_json, render_table
    from hegui.facts.vocabulary import filing_facts
    from hegui.plugins.manager import PluginError, build_registry, load_ruleset
    from hegui.reports import ReportContext, Reporters, exit_code, reporters_for

# What the commands use is imported when a command runs (main's callback), not when the
# module is: `hegui --help` took ~450 ms importing the engine, the readers, the reports and
# pyDatalog it never uses, and takes ~50 ms without them.
_COMMAND_IMPORTS = {
    "hegui.app.batch": ("BatchError", "BatchOptions", "format_summary", "run_batch"),
    "hegui.app.checker": ("Checker", "CheckOptions", "read_input"),
    "hegui.engine.cases": ("case_files", "load_case_file", "run_case"),
    "hegui.engine.catalogue": ("describe_rule", "render_rule_docs"),
    "hegui.engine.evaluate": ("Evaluator",),
    "hegui.engine.explain": ("Explainer", "render_text"),
    "hegui.engine.lint": ("lint",),
    "hegui.engine.packfiles": ("files_under",),
    "hegui.engine.registry": ("Registry",),
    "hegui.engine.rules": ("RuleSet",),
    "hegui.engine.select": ("SelectionError", "select"),
    "hegui.engine.waivers": ("load_waivers",),
    "hegui.facts.read": ("FOLDER_SUFFIXES",),
    "hegui.facts.show": ("fact_rows", "render_json", "render_table"),
    "hegui.facts.vocabulary": ("filing_facts",),
    "hegui.plugins.manager": ("PluginError", "build_registry", "load_ruleset"),
    "hegui.reports": ("ReportContext", "Reporters", "exit_code", "reporters_for"),
}


def _import_commands() -> None:
    """Bind the names of ``_COMMAND_IMPORTS`` in this module (once; a test's patch stays)."""
    import importlib

    names = globals()
    for module_name, attributes in _COMMAND_IMPORTS.items():
        module = importlib.import_module(module_name)
        for attribute in attributes:
            names.setdefault(attribute, getattr(module, attribute))


EXIT_USAGE = 2


def console() -> None:
    """The ``hegui`` command: :func:`main` in a process whose memory is capped
    (:data:`hegui.facts.limits.MEMORY_BYTES`), so that one hostile input fails with its own
    error instead of taking the machine. Not applied when :func:`main` is called in-process
    (tests, programs that embed the CLI): the cap is the process's, not the command's."""
    limit_memory()
    main()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hegui")
def main() -> None:
    """hegui（合规）：按政策规则检查预算绩效目标表。"""
    _import_commands()


_REGISTRY: Registry | None = None


def render_report(fmt: str, outcomes, ruleset, registry) -> str | bytes:
    """The report in ``fmt``: any format of the report registry, built-in or a plugin's."""
    _import_commands()
    return reporters_for(registry).render(fmt, outcomes, ReportContext(ruleset, registry))


def _emit(output: str | bytes, output_path: Path | None) -> None:
    if output_path is not None:
        output_path.write_bytes(output if isinstance(output, bytes) else output.encode("utf-8"))
    elif isinstance(output, bytes):
        sys.stdout.buffer.write(output)
    else:
        click.echo(output, nl=False)


def _emit_pieces(pieces: Iterable[str | bytes], output_path: Path | None) -> None:
    """Write a report that comes in pieces as they come; the file is created at the first piece,
    so a format that fails before producing anything leaves no file behind."""
    handle = None
    try:
        for piece in pieces:
            if output_path is None:
                _emit(piece, None)
                continue
            if handle is None:
                handle = output_path.open("wb")
            handle.write(piece if isinstance(piece, bytes) else piece.encode("utf-8"))
    finally:
        if handle is not None:
            handle.close()


def _registry() -> Registry:
    """The plugin registry, built once; a broken plugin stops the run (exit 2) with its name."""
    global _REGISTRY
    if _REGISTRY is None:
        _import_commands()
        try:
            registry = build_registry()
            reporters_for(registry)  # a plugin format whose name is taken stops every command, as a broken plugin does
            _REGISTRY = registry
        except PluginError as exc:
            click.echo(f"✗ {exc}", err=True)
            sys.exit(EXIT_USAGE)
    return _REGISTRY


def _stop(exc: Exception, what: str = "规则") -> NoReturn:
    """Print why the run cannot go on (every breadcrumb of a load error) and exit with 2."""
    problems = getattr(exc, "problems", None)
    if problems is not None:
        click.echo(f"{what}有误，已停止（共{len(problems)}处）：", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
    else:
        click.echo(f"✗ {exc}", err=True)
    sys.exit(EXIT_USAGE)


#: Rule sets loaded, and compiled, in this process, by what they were loaded from. A process
#: that runs several commands (the test suite, a program that embeds the CLI) then loads and
#: compiles each rule set once; a changed, added or removed rule file is a different key.
_RULESETS: dict[tuple, tuple[Registry, RuleSet]] = {}
_EVALUATORS: dict[tuple, Evaluator] = {}
_CACHED_RULE_SETS = 8


def _rules_key(registry: Registry, rule_paths: tuple[str, ...] | list[Path]) -> tuple | None:
    """What a rule set is loaded from: the registry and every file's path and content digest
    (not its mtime, which two quick edits can share); ``None`` when a file cannot be read (then
    nothing is cached)."""
    paths = [Path(p) for p in rule_paths] or registry.pack_paths()
    try:
        files = [f for p in paths for f in (files_under(p, ".yaml") if p.is_dir() else [p])]
        digests = tuple((str(f.resolve()), hashlib.sha256(f.read_bytes()).hexdigest()) for f in files)
    except OSError:
        return None
    return (id(registry), bool(rule_paths), digests)


def _remember(cache: dict, key: tuple, value) -> None:
    if len(cache) >= _CACHED_RULE_SETS:
        cache.pop(next(iter(cache)))
    cache[key] = value


def _load(rule_paths: tuple[str, ...] | list[Path]) -> RuleSet:
    """Rules from ``rule_paths`` only, or from every registered plugin; a load error stops the run."""
    registry = _registry()
    key = _rules_key(registry, rule_paths)
    cached = _RULESETS.get(key) if key is not None else None
    if cached is not None and cached[0] is registry:
        return cached[1]
    try:
        ruleset = load_ruleset(registry, rule_paths)
    except (PluginError, RuleLoadError) as exc:
        _stop(exc)
    if key is not None:
        _remember(_RULESETS, key, (registry, ruleset))
    return ruleset


def _checker(rule_paths: tuple[str, ...] | list[Path], options: CheckOptions | None = None) -> Checker:
    """The end-to-end checker for ``rule_paths`` (see :func:`_load`); rules compiled once per process."""
    registry = _registry()
    ruleset = _load(rule_paths)
    key = _rules_key(registry, rule_paths)
    evaluator = _EVALUATORS.get(key) if key is not None else None
    if evaluator is None or evaluator.ruleset is not ruleset:
        evaluator = None
    try:
        checker = Checker(registry, ruleset, options, evaluator=evaluator)
    except RuleLoadError as exc:  # rules of a jurisdiction no plugin registered
        _stop(exc)
    if key is not None:
        _remember(_EVALUATORS, key, checker.evaluator)
    return checker


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
    registry = _registry()
    if _reporters().get(fmt).binary and output_path is None:
        raise click.BadParameter(f"{fmt} 报告是二进制文件，请用 --output 指定文件名", param_hint="--output")
    # The reviewer's reports carry each finding's derivation, asked for or not.
    explain = explain or fmt in ("html", "xlsx")
    try:
        waivers = load_waivers(waiver_file) if waiver_file else []
    except RuleLoadError as exc:
        _stop(exc, "豁免文件")
    on = today.date() if today else dt.date.today()
    if resume and results_path is None:
        raise click.UsageError("--resume 需要与 --results 一起使用")
    batch_mode = jobs > 1 or timeout is not None or results_path is not None or any(Path(f).is_dir() for f in files)
    if batch_mode:
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
        # The report is written as it is read back from the batch's spool, one filing at a
        # time: memory stays flat however many filings the batch had.
        with batch:
            try:
                _emit_pieces(batch.report(fmt, registry), output_path)
            except PluginError as exc:  # a plugin format that raised (or exited): no half report, exit 2
                _stop(exc)
            click.echo(format_summary(batch.summary), err=True)
            if fmt == "json":
                for outcome in batch.errors():
                    click.echo(f"✗ {outcome.error}", err=True)
            sys.exit(batch.exit_code(fail_on))
    # In this process, one file after another: each under the watchdog's time limit (the
    # process's memory is capped by ``console``), as the batch workers are.
    checker = _checker(
        rule_paths,
        CheckOptions(district=district, explain=explain, waivers=tuple(waivers), today=on, seconds=DEFAULT_SECONDS),
    )
    outcomes = checker.check_all(files)  # a file that cannot be checked is its own error record
    try:
        report = render_report(fmt, outcomes, checker.ruleset, registry)
    except PluginError as exc:  # a plugin format that raised (or exited): no half report, exit 2
        _stop(exc)
    _emit(report, output_path)
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
    try:
        filing = read_input(file, _registry())
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
    registry = _registry()
    if paths:
        # A folder under test replaces any installed copy of itself: built-in packs + PATHs.
        rule_paths = registry.builtin_pack_paths() + [Path(p) for p in paths]
        checker = _checker(rule_paths)
    else:
        rule_paths = registry.pack_paths()
        checker = _checker(())
    ruleset = checker.ruleset
    problems: list = []
    cases = [
        c for f in case_files([Path(p) for p in paths] or rule_paths) for c in load_case_file(f, ruleset, problems)
    ]
    if problems:
        _stop(RuleLoadError(problems), "用例文件")
    failed = 0
    for case in cases:
        result = run_case(case, checker.evaluator)
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
    ruleset = _load(rule_paths)
    rule = ruleset.by_id(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, [r.id for r in ruleset.rules], n=3)
        hint = f"；您是不是想找：{'、'.join(close)}" if close else ""
        click.echo(f"没有编号为“{rule_id}”的规则{hint}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(describe_rule(rule))


@rules.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
def rules_lint(paths: tuple[str, ...]) -> None:
    """检查规则集的隐患：未用或无量纲的参数、有效期重叠或空档、缺少文档字段、条件重复的规则。"""
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
    checker = _checker(rule_paths, CheckOptions(district=district, explain=True))
    try:
        result = checker.evaluate(checker.read(file))
    except InputError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(EXIT_USAGE)
    explainer = Explainer(checker.evaluator, result)
    try:
        target = select(result, selector)
    except SelectionError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_USAGE)
    document: dict[str, Any]
    if target.finding is not None:
        trees = [target.finding.explanation]
        document = {"file": file, "selector": selector, "finding": target.finding.id, "explanations": trees}
    elif target.findings:  # a rule id or a location several findings share: each one's derivation
        trees = [f.explanation for f in target.findings]
        document = {
            "file": file,
            "selector": selector,
            "findings": [f.id for f in target.findings],
            "explanations": trees,
        }
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
    if "subject" in document:
        subject = document["subject"]
        click.echo(f"{subject['table']} {subject['item']}（{subject['location']}）：{len(trees)}条规则")
    for tree in trees:
        click.echo(render_text(tree))
        click.echo("")
    if "note" in document:
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
@click.argument("filings", nargs=-1, type=click.Path(exists=True, dir_okay=False))
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
    "--timeout",
    "timeout_seconds",
    default=30.0,
    show_default=True,
    type=float,
    help="每个请求的检查时限（秒）；超时的检查进程被终止并更换",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="检查进程数（默认：CPU 核数）",
)
@click.option(
    "--queue",
    "max_queue",
    type=click.IntRange(min=0),
    help="所有检查进程都在工作时可排队的请求数，超出则答 503（默认：每个检查进程 4 个）",
)
@click.option(
    "--worker-memory-mb",
    default=1536,
    show_default=True,
    type=click.IntRange(min=64),
    help="每个检查进程的内存（地址空间）上限（MB），超出的检查答 out_of_memory；只能低于 hegui 进程本身的 1536 MB 上限",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--db",
    "db_url",
    help="审核结论数据库的 SQLAlchemy 地址（默认当前目录下的 hegui-review.db），如 postgresql+psycopg://…",
)
def serve(
    filings: tuple[str, ...],
    host: str,
    port: int,
    rule_paths: tuple[str, ...],
    max_upload_mb: int,
    timeout_seconds: float,
    workers: int | None,
    max_queue: int | None,
    worker_memory_mb: int,
    log_level: str,
    db_url: str | None,
) -> None:
    """启动 HTTP 服务：审核工作台在 /（上传申报、看表、问为什么、记审核结论），
    API 为 POST /v1/check、GET /v1/rules、/v1/why、GET /healthz；OpenAPI 在 /docs。

    FILINGS：启动时就放进工作台的申报文件（如 examples/shifeng-zzb-2023.txt）。"""
    try:
        # Imported here, not at the top: the service needs the optional dependencies of
        # hegui[service] (FastAPI, uvicorn), which every other command does without.
        from hegui.app.service import serve as run
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
            workers=workers,
            max_queue=max_queue,
            worker_memory_bytes=worker_memory_mb * 1024 * 1024,
            db_url=db_url,
            preload=filings,
        )
    except (PluginError, RuleLoadError) as exc:
        _stop(exc)


@main.command()
@click.argument("targets", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@click.option(
    "--param",
    "assignments",
    multiple=True,
    help="改动的参数及新值（按参数的单位书写；可重复），如 株洲市:驻村交通费标准=1500",
)
@click.option(
    "--rules",
    "pack_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="改动后的规则包文件或目录：替换同名的已加载规则包（没有同名的则新增）",
)
@click.option("--district", help="申报所属地区（默认从部门名称识别）")
def impact(targets: tuple[str, ...], assignments: tuple[str, ...], pack_paths: tuple[str, ...], district) -> None:
    """改动生效之前预览影响：哪些申报会新增、消失或改变哪些发现。

    TARGETS 是申报文件或目录（目录下 hegui 能读取的文件都会检查）。退出码：0 无影响，1 有影响，2 用法或规则有误。
    """
    from hegui.web.impact import ImpactError, filing_paths, parse_assignment, render_text, run_impact, with_packs
    from hegui.web.impact import with_parameters as with_params

    if not assignments and not pack_paths:
        raise click.UsageError("请用 --param 名称=数值 或 --rules 改动后的规则包 说明要预览的改动")
    registry = _registry()
    before = _load(())
    after, changes = before, []
    try:
        if pack_paths:
            after, packs = with_packs(after, [Path(p) for p in pack_paths], registry.jurisdictions)
            changes += [f"规则包“{p}”换为 {'、'.join(pack_paths)}" for p in packs]
        if assignments:
            after, changed = with_params(after, [parse_assignment(a) for a in assignments])
            changes += [str(c) for c in changed]
    except ImpactError as exc:
        raise click.BadParameter(str(exc), param_hint="--param") from None
    except RuleLoadError as exc:
        _stop(exc)
    old, new = Evaluator(before, registry), Evaluator(after, registry)
    paths = filing_paths(targets, (*FOLDER_SUFFIXES, *registry.readers))
    impacts = run_impact(
        paths,
        lambda filing: old.check(filing, district=district).findings,
        lambda filing: new.check(filing, district=district).findings,
        lambda path: read_input(path, registry),
    )
    click.echo(render_text(changes, impacts), nl=False)
    sys.exit(1 if any(i.affected for i in impacts) else 0)
