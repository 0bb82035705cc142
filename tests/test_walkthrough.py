"""docs/rule-authoring.md's walkthrough, followed literally in a temporary folder.

Every ```yaml title=PATH block is written to PATH (a later block for the same path is the
staffer's edit), every ```sh block is run with bash, and the <!-- expect: … --> comment
after it states the exit code and what the output must (contains=) or must not (lacks=)
show. If the documentation drifts from the tool, this test fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "rule-authoring.md"
BLOCK = re.compile(r"```(yaml title=(?P<path>\S+)|sh)\n(?P<body>.*?)```(?:\n<!-- expect: (?P<expect>.*?) -->)?", re.S)


def _steps():
    section = DOC.read_text(encoding="utf-8").split("## 5.", 1)[1]
    return list(BLOCK.finditer(section))


def test_walkthrough_has_files_and_commands():
    steps = _steps()
    assert sum(1 for s in steps if s.group("path")) >= 3
    assert sum(1 for s in steps if s.group("expect")) >= 4


def test_walkthrough_runs_as_written(tmp_path):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for step in _steps():
        if step.group("path"):
            target = tmp_path / step.group("path")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.group("body"), encoding="utf-8")
            continue
        done = subprocess.run(
            ["bash", "-e", "-c", step.group("body")], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        output = done.stdout + done.stderr
        expect = shlex.split(step.group("expect") or "")
        for clause in expect:
            key, _, value = clause.partition("=")
            if key == "exit":
                assert done.returncode == int(value), f"{step.group('body')}\n{output}"
            elif key == "contains":
                assert value in output, f"{step.group('body')}\n{output}"
            elif key == "lacks":
                assert value not in output, f"{step.group('body')}\n{output}"
