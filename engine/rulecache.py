"""A per-user cache of loaded rule sets, so a start-up does not parse and validate YAML again.

Loading the built-in packs (parse, validate, build the rules) is a fifth of a cold
``hegui check``; unpickling the result takes under a millisecond. The compiled program is
not cached: it lives in pyDatalog's engine objects, which cannot be pickled, and compiling
is mostly building those objects.

An entry is keyed by everything that decides what loading produces: hegui's version, the
Python version, each rule file's path and bytes, the known jurisdictions, the registered
check and input kinds and the entity lexicon. Editing a rule file or upgrading hegui
therefore misses the cache; nothing has to be cleared by hand, and deleting the folder is
always safe.

A cache file is never trusted blindly. It is read only from a folder that is the user's own
and that nobody else can write to, only if the user owns it and nobody else can write it,
only if its header names this exact key and the SHA-256 of the payload matches, and only
then unpickled; anything else (a corrupt, truncated, foreign or stale file) is ignored and
the rules are loaded from the YAML as if there were no cache. Writing is best effort and
atomic (a temporary file renamed into place).

The folder is ``$HEGUI_CACHE_DIR``, else ``$XDG_CACHE_HOME/hegui``, else ``~/.cache/hegui``.
``HEGUI_CACHE_DIR=""`` (empty) turns the cache off.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hegui import __version__
from hegui.engine.checks import check_kinds
from hegui.engine.checks.inputs import INPUT_KINDS

_MAGIC = b"HEGUI-RULESET-CACHE 1\n"
_DIGEST = 32  # bytes of a SHA-256

#: What the cache did in this process (tests and ``bench/`` read it).
stats = {"hits": 0, "misses": 0, "rejected": 0, "writes": 0}


def cache_dir() -> Path | None:
    """The cache folder for this user, or None when the cache is turned off."""
    configured = os.environ.get("HEGUI_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "hegui"


def _version() -> str:
    return __version__


def cache_key(files: Iterable[Path], known_jurisdictions: Iterable[str] | None) -> str:
    """The hex key of loading ``files`` with ``known_jurisdictions`` under this hegui."""
    h = hashlib.sha256()

    def part(value: str | bytes) -> None:
        data = value.encode("utf-8") if isinstance(value, str) else value
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)

    part(_version())
    part(sys.version)
    for cls in check_kinds():
        part(f"{cls.keyword}={cls.__module__}.{cls.__qualname__}")
    for keyword, kind in INPUT_KINDS.items():
        part(f"{keyword}={type(kind).__module__}.{type(kind).__qualname__}")
    lexicon = Path(__file__).resolve().parent.parent / "facts" / "entities.yaml"
    part(lexicon.read_bytes() if lexicon.is_file() else b"")
    part("known:" + ("\0".join(sorted(known_jurisdictions)) if known_jurisdictions is not None else "<any>"))
    for file in files:
        part(str(file))
        part(Path(file).read_bytes())
    return h.hexdigest()


def _private_dir(folder: Path, create: bool) -> bool:
    """Whether ``folder`` is a directory of this user that no one else can write to."""
    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _read(path: Path, key: str) -> Any | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            return _reject()
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or not stat.S_ISREG(info.st_mode):
            return _reject()
        data = handle.read()
    header = _MAGIC + bytes.fromhex(key)
    if not data.startswith(header) or len(data) < len(header) + _DIGEST:
        return _reject()
    digest, payload = data[len(header) : len(header) + _DIGEST], data[len(header) + _DIGEST :]
    if hashlib.sha256(payload).digest() != digest:
        return _reject()
    try:
        return pickle.loads(payload)
    except Exception:  # a file that passed the checks but still does not load: load the YAML
        return _reject()


def _reject() -> Any:
    """Count an untrusted file; its value is None, which the caller treats as a miss."""
    stats["rejected"] += 1
    return None


def _write(folder: Path, path: Path, key: str, value: Any) -> None:
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # e.g. a check kind defined inside a function: just do not cache it
        return
    data = _MAGIC + bytes.fromhex(key) + hashlib.sha256(payload).digest() + payload
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rules-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
            stats["writes"] += 1
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def cached_load(
    files: list[Path], known_jurisdictions: list[str] | None, load: Callable[[], Any], folder: Path | None = None
) -> Any:
    """``load()``'s rule set for ``files``, from the cache when a trusted entry exists.

    ``load`` is only called on a miss; what it raises propagates and nothing is cached.
    """
    folder = folder if folder is not None else cache_dir()
    if folder is None:
        return load()
    try:
        key = cache_key(files, known_jurisdictions)
    except OSError:
        return load()  # a file that cannot be read: let the loader report it
    path = folder / f"rules-{key[:40]}.pickle"
    if _private_dir(folder, create=False):
        value = _read(path, key)
        if value is not None:
            stats["hits"] += 1
            return value
    stats["misses"] += 1
    value = load()
    if _private_dir(folder, create=True):
        _write(folder, path, key, value)
    return value
