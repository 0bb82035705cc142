"""Finding rule-pack files (``*.yaml``) and their test cases (``*.cases.yaml``) in a folder.

A pack folder may sit inside a source checkout, where packaging tools leave copies of the
same files (``build/lib/…/rules/*.yaml``, ``*.egg-info``) and virtual environments hold
installed ones: reading those as well would load every rule twice (a duplicate-id error) or
run cases against stale copies. The walk therefore never enters build output, virtual
environments, caches or hidden folders.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Folder names never walked into (besides hidden ones and ``*.egg-info`` / ``*.dist-info``).
SKIPPED_FOLDERS = frozenset({"build", "dist", "venv", "__pycache__", "node_modules", "site-packages"})


def skipped_folder(name: str) -> bool:
    """Whether a folder called ``name`` is build output, an environment, a cache or hidden."""
    return name.startswith(".") or name in SKIPPED_FOLDERS or name.endswith((".egg-info", ".dist-info"))


def files_under(folder: str | os.PathLike, suffix: str) -> list[Path]:
    """The files below ``folder`` whose names end with ``suffix``, sorted by path.

    Symbolic links to folders are not followed (no cycles); see :func:`skipped_folder` for the
    folders left out.
    """
    found: list[Path] = []
    for root, dirs, names in os.walk(os.fspath(folder)):
        dirs[:] = [d for d in dirs if not skipped_folder(d)]
        found.extend(Path(root) / name for name in names if name.endswith(suffix))
    return sorted(found)


def pack_files(folder: str | os.PathLike) -> list[Path]:
    """The rule-pack files of ``folder``: ``*.yaml`` that are not ``*.cases.yaml``."""
    return [p for p in files_under(folder, ".yaml") if not p.name.endswith(".cases.yaml")]


def case_files_under(folder: str | os.PathLike) -> list[Path]:
    """The rule test-case files (``*.cases.yaml``) of ``folder``."""
    return files_under(folder, ".cases.yaml")
