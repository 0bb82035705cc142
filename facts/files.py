"""Reading an input file's bytes, with the Chinese errors every reader gives."""

from __future__ import annotations

import os

from hegui.facts.errors import InputError


def read_bytes(name: str, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``name``: one byte more than allowed tells the
    caller the file is too large without reading all of it. OS errors become InputError."""
    try:
        with open(name, "rb") as handle:
            return handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(name, "找不到文件，请检查路径是否正确。") from None
    except IsADirectoryError:
        raise InputError(name, "这是一个文件夹，不是文件。") from None
    except PermissionError:
        raise InputError(name, "没有读取这个文件的权限。") from None
    except OSError as exc:
        raise InputError(name, f"无法读取文件：{exc.strerror or exc}。") from None
    except ValueError as exc:  # e.g. a NUL character inside the path
        raise InputError(name, f"文件路径无效：{exc}。") from None


def file_size(name: str, fallback: int) -> int:
    """The size on disk, for "too large" messages; ``fallback`` when it cannot be known."""
    try:
        return os.stat(name).st_size
    except (OSError, ValueError):
        return fallback
