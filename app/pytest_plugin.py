"""pytest plugin (entry point ``pytest11``): collect ``*.cases.yaml`` rule tests.

District packages test their rule packs exactly as hegui tests its own: every named
pass_/fail_ case in a ``*.cases.yaml`` becomes a pytest item. The rules checked are the
built-in packs plus the packs in the case file's folder, so a district case sees the same
national, provincial and city rules a real check would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hegui.app.checker import Checker

# hegui itself is imported only when a *.cases.yaml is collected: pytest loads this plugin in
# every run of every project installed beside hegui, and importing the checker costs ~150 ms
# there (measured with ``python -X importtime -c "import hegui.app.checker"``).

#: One registry and one checker per folder under test, for the whole pytest session: loading
#: and compiling the rules is the expensive part, and every case of a folder shares them.
_CHECKERS: dict[tuple[str, ...], Checker] = {}
_REGISTRY: list[Any] = []


def _checker_for(folder: Path) -> Checker:
    """Built-in packs plus the folder under test, with every installed plugin's jurisdictions."""
    from hegui.app.checker import Checker
    from hegui.plugins import builtin_rule_paths
    from hegui.plugins.manager import build_registry

    builtin = [p.resolve() for p in builtin_rule_paths()]
    paths = list(builtin)
    if not any(folder == b or b in folder.parents for b in builtin):
        paths.append(folder)
    key = tuple(str(p) for p in paths)
    if key not in _CHECKERS:
        if not _REGISTRY:
            _REGISTRY.append(build_registry())
        _CHECKERS[key] = Checker.load(paths, registry=_REGISTRY[0])
    return _CHECKERS[key]


def pytest_collect_file(parent, file_path: Path):
    if file_path.name.endswith(".cases.yaml") and not _in_build_output(file_path, parent.config.rootpath):
        return RuleCaseFile.from_parent(parent, path=file_path)
    return None


def _in_build_output(file_path: Path, root: Path) -> bool:
    """Whether ``file_path`` lies in build output, an environment or a hidden folder below ``root``.

    pytest itself skips build/, dist/, venv and hidden folders, but not ``*.egg-info``; a copy
    of a pack there would run its cases a second time, against stale rules.
    """
    from hegui.engine.packfiles import skipped_folder

    try:
        parts = file_path.relative_to(root).parts[:-1]
    except ValueError:  # outside the rootdir: nothing of it to judge
        return False
    return any(skipped_folder(part) for part in parts)


class RuleCaseFile(pytest.File):
    def collect(self):
        from hegui.engine.cases import load_case_file
        from hegui.engine.rules import RuleLoadError

        try:
            checker = _checker_for(self.path.parent.resolve())
        except RuleLoadError as exc:
            raise self.CollectError("规则有误：\n" + "\n".join(str(p) for p in exc.problems)) from None
        problems: list = []
        cases = load_case_file(self.path, checker.ruleset, problems)
        if problems:
            raise self.CollectError("用例文件有误：\n" + "\n".join(str(p) for p in problems))
        for case in cases:
            yield RuleCaseItem.from_parent(self, name=f"{case.rule_id}::{case.name}", case=case, checker=checker)


class RuleCaseItem(pytest.Item):
    def __init__(self, *, case, checker, **kwargs) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.checker = checker

    def runtest(self) -> None:
        from hegui.engine.cases import run_case

        result = run_case(self.case, self.checker.evaluator)
        if not result.ok:
            raise RuleCaseFailure(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, RuleCaseFailure):
            result = excinfo.value.result
            return "\n".join(
                [f"{self.case.file}:{self.case.line}: {self.case.rule_id} {self.case.name}"]
                + [f"  {p}" for p in result.problems]
            )
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.case.line - 1, f"{self.case.rule_id} {self.case.name}"


class RuleCaseFailure(Exception):
    def __init__(self, result) -> None:
        super().__init__(result.problems)
        self.result = result
