"""Promises the repository makes: README commands, CI, generated docs, packaging."""

from __future__ import annotations

import re
import sysconfig
from importlib import metadata
from pathlib import Path

import hegui
from hegui.facts.vocabulary import render_facts_doc

REPO = Path(__file__).resolve().parent.parent


def _quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start()
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert "hegui check examples/" in install_and_run
    assert "pytest" in install_and_test
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert install_and_test in ci.splitlines()


def test_example_is_the_seed_byte_for_byte():
    seed = REPO.parent / "shared" / "seeds" / "000_db591958f8222785.txt"
    example = REPO / "examples" / "shifeng-zzb-2023.txt"
    if seed.exists():
        assert example.read_bytes() == seed.read_bytes()
    assert example.read_bytes().startswith("\t附件1\n".encode())


def test_facts_doc_is_generated_from_the_vocabulary():
    assert (REPO / "docs" / "facts.md").read_text(encoding="utf-8") == render_facts_doc()


def test_only_hegui_lands_in_site_packages():
    site = Path(sysconfig.get_paths()["purelib"])
    for name in ("engine", "facts", "plugins", "reports", "rules", "tests", "cli.py"):
        assert not (site / name).exists(), f"{name} installed at the top of site-packages"
    metadata.distribution("hegui")  # installed, not merely importable from the tree
    if (site / "hegui").exists():  # a regular install: the package is a copy, not the tree
        assert Path(hegui.__file__).resolve().parent == (site / "hegui").resolve()


def test_rule_packs_are_installed_as_package_data():
    from hegui.plugins import builtin_rule_paths

    names = sorted(p.name for p in builtin_rule_paths())
    assert names == ["hunan", "national", "shifeng", "zhuzhou"]
    assert all(list(p.glob("*.yaml")) for p in builtin_rule_paths())


def test_every_source_package_is_installed():
    # An explicit package list drifts when a sub-package is added (hegui.engine.checks was once
    # missing from the wheel while an editable install hid it): every folder of modules in the
    # checkout must be importable from the installed hegui.
    import importlib

    skip = {"tests", "bench", "examples", "docs", "build", "dist"}
    for init in sorted(REPO.rglob("__init__.py")):
        parts = init.parent.relative_to(REPO).parts
        if not parts or parts[0] in skip or any(p.startswith(".") or p.endswith(".egg-info") for p in parts):
            continue
        name = ".".join(("hegui", *parts))
        module = importlib.import_module(name)
        assert module.__file__, name
