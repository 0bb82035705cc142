"""The layers point one way: facts ← engine ← plugins ← applications.

facts (readers, model, vocabulary) import nothing of hegui above them; the engine core
(rules, compiler, datalog, evaluate, explain, …) receives a plugin registry and never builds
one; plugins know the engine but no application; applications (app/, cli.py, reports/) may
use everything. Only engine/datalog.py talks to pyDatalog. Every module of the package is
parsed (not imported), imports inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Folders of the repository that are not part of the installed package.
NOT_PACKAGE = {"tests", "bench", "examples", "docs", "tools", "build", "dist", ".venv", ".git", ".ci"}
APPLICATIONS = ("app", "cli", "reports", "__main__")
#: layer → the top-level parts of ``hegui`` it must not import
FORBIDDEN = {
    "facts": ("engine", "plugins", *APPLICATIONS),
    "engine": ("plugins", *APPLICATIONS),
    "plugins": APPLICATIONS,
}
DATALOG_MODULE = "engine/datalog.py"


def package_modules() -> list[Path]:
    out = []
    for path in sorted(REPO.rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[0] in NOT_PACKAGE or any(p.startswith(".") or p.endswith(".egg-info") for p in rel.parts):
            continue
        out.append(rel)
    return out


def imported_names(source: str, module: Path) -> list[str]:
    """Every module name ``source`` imports, relative imports resolved against ``module``."""
    names = []
    for node in ast.walk(ast.parse(source, str(module))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = ["hegui", *module.parts[:-1]][: len(module.parts) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base == "hegui":  # `from hegui import cli`: the names are the modules
                names += [f"hegui.{alias.name}" for alias in node.names]
            else:
                names.append(base)
    return names


def violations(module: Path, source: str) -> list[str]:
    """What ``module`` (a path relative to the package root) imports against the layering."""
    layer = module.parts[0] if len(module.parts) > 1 else module.stem
    forbidden = FORBIDDEN.get(layer, ())
    out = []
    for name in imported_names(source, module):
        parts = name.split(".")
        if parts[0] == "pyDatalog" and module.as_posix() != DATALOG_MODULE:
            out.append(f"{module}: imports {name} (only {DATALOG_MODULE} may talk to pyDatalog)")
        if parts[0] == "hegui" and len(parts) > 1 and parts[1] in forbidden:
            out.append(f"{module}: {layer} imports {name}")
    return sorted(set(out))


def test_the_package_is_found():
    modules = {m.as_posix() for m in package_modules()}
    assert {"cli.py", "facts/read.py", "engine/evaluate.py", "engine/datalog.py", "plugins/manager.py"} <= modules
    assert "app/checker.py" in modules
    assert not any(m.startswith(("tests/", "bench/", "examples/")) for m in modules)


def test_layers_point_one_way():
    found = [v for m in package_modules() for v in violations(m, (REPO / m).read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize(
    "module, source, words",
    [
        ("facts/read.py", "from hegui.engine.rules import RuleSet\n", "facts imports hegui.engine.rules"),
        ("engine/evaluate.py", "def f():\n    from hegui.plugins.manager import build_registry\n", "engine imports"),
        ("engine/report.py", "import hegui.app.checker\n", "engine imports hegui.app.checker"),
        ("engine/x.py", "from hegui import cli\n", "engine imports hegui.cli"),
        ("engine/x.py", "from ..plugins import manager\n", "engine imports hegui.plugins"),
        ("plugins/manager.py", "from hegui.reports import html\n", "plugins imports hegui.reports"),
        ("engine/compiler.py", "from pyDatalog import pyEngine\n", "only engine/datalog.py"),
        ("app/checker.py", "import pyDatalog.pyParser\n", "only engine/datalog.py"),
    ],
)
def test_each_kind_of_violation_is_caught(module, source, words):
    found = violations(Path(module), source)
    assert len(found) == 1 and words in found[0]


def test_allowed_imports_pass():
    assert violations(Path("engine/datalog.py"), "from pyDatalog import pyEngine\n") == []
    assert violations(Path("plugins/manager.py"), "from hegui.engine.registry import Registry\n") == []
    assert violations(Path("app/batch.py"), "from hegui.plugins.manager import build_registry\n") == []
    assert violations(Path("engine/evaluate.py"), "from hegui import __version__\n") == []
