"""Packaging hygiene: build output in a checkout is never read as a second copy of a rule pack.

``pip install .`` with setuptools used to leave ``build/lib/…`` and ``*.egg-info`` in the
source folder, and ``hegui rules test examples/hegui-hetang-example`` then loaded every rule
twice (a duplicate-id error). The build backend no longer writes there (.ci/run checks), and
rule discovery never walks into build output, environments or hidden folders anyway.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from hegui.cli import main
from hegui.engine.cases import case_files
from hegui.engine.packfiles import pack_files, skipped_folder
from hegui.engine.rules import load_rules

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN = REPO / "examples" / "hegui-hetang-example"
LEFTOVERS = ("build/lib/pkg", "dist/pkg", "pkg.egg-info", ".venv/lib/site-packages/pkg", ".hidden", "venv/pkg")


@pytest.fixture
def checkout_with_leftovers(tmp_path):
    """A copy of the example plugin with a copy of its package in every kind of build leftover."""
    root = tmp_path / "hegui-hetang-example"
    shutil.copytree(EXAMPLE_PLUGIN, root, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    package = root / "hegui_hetang_example"
    for leftover in LEFTOVERS:
        shutil.copytree(package, root / leftover / "hegui_hetang_example")
    return root


def test_pack_discovery_skips_build_output_and_hidden_folders(checkout_with_leftovers):
    root = checkout_with_leftovers
    rules = root / "hegui_hetang_example" / "rules"
    assert pack_files(root) == [rules / "hetang.yaml"]
    assert case_files([root]) == [rules / "hetang.cases.yaml"]
    # The copies are there: a plain recursive glob finds one per leftover folder.
    assert len(list(root.rglob("hetang.yaml"))) == 1 + len(LEFTOVERS)


def test_loading_a_checkout_with_a_build_copy_has_no_duplicate_ids(checkout_with_leftovers):
    ruleset = load_rules([checkout_with_leftovers], known_jurisdictions=None)
    ids = [r.id for r in ruleset.rules]
    assert ids and len(ids) == len(set(ids))
    assert {r.file for r in ruleset.rules} == {
        str(checkout_with_leftovers / "hegui_hetang_example" / "rules" / "hetang.yaml")
    }


def test_rules_test_on_a_checkout_with_a_build_copy(checkout_with_leftovers):
    result = CliRunner().invoke(main, ["rules", "test", str(checkout_with_leftovers)])
    assert result.exit_code == 0, result.output
    assert "重复" not in result.output and " 0 failed" in result.output


@pytest.mark.parametrize(
    "name, skipped",
    [
        ("build", True),
        ("dist", True),
        ("hegui.egg-info", True),
        ("hegui-0.1.dist-info", True),
        (".venv", True),
        (".git", True),
        ("__pycache__", True),
        ("rules", False),
        ("national", False),
        ("building", False),
    ],
)
def test_skipped_folders(name, skipped):
    assert skipped_folder(name) is skipped


def test_pytest_collects_no_case_from_build_output(pytester, checkout_with_leftovers):
    target = pytester.path / "hegui-hetang-example"
    shutil.copytree(checkout_with_leftovers, target)
    result = pytester.runpytest_subprocess(str(target), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)  # the two cases of hetang.cases.yaml, once
    result.stdout.no_fnmatch_line("*egg-info*")
