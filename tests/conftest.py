"""Shared fixtures: the example filing, the built-in rules compiled once, a filing runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from hegui.engine.evaluate import Evaluator
from hegui.engine.registry import Registry
from hegui.engine.rules import load_rules
from hegui.facts.read import read_filing
from hegui.plugins import builtin_rule_paths
from hegui.plugins.manager import build_registry

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"


@pytest.fixture(scope="session")
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture(scope="session")
def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def ruleset():
    return load_rules(builtin_rule_paths())


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The built-in packs' registry (no installed plugin): what a library user starts from."""
    return build_registry(entry_points=False)


@pytest.fixture(scope="session")
def evaluator(ruleset, registry) -> Evaluator:
    """The built-in rules compiled once for the whole session."""
    return Evaluator(ruleset, registry)


@pytest.fixture(scope="session")
def mutate(example_text):
    """The example with whole lines (1-based) replaced: ``mutate({21: "\\t资金总额：939.28"})``."""

    def _mutate(changes: dict[int, str], text: str | None = None) -> str:
        lines = (example_text if text is None else text).split("\n")
        for number, new in changes.items():
            assert 1 <= number <= len(lines), number
            lines[number - 1] = new
        return "\n".join(lines)

    return _mutate


@pytest.fixture
def run(evaluator, tmp_path):
    """Check a filing given as text; returns its findings."""

    def _run(text: str, name: str = "filing.txt"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return evaluator.check(read_filing(path)).findings

    return _run
