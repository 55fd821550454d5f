"""Workspace path rules: one normaliser used by every entry point (API, shell).

A workspace path is absolute POSIX text. ``.`` and empty components are dropped,
``..`` is resolved lexically and clamped at ``/`` (so it can never leave the
workspace: the host is not reachable through a path, whatever its shape).
NUL bytes, relative paths, names longer than NAME_MAX and paths longer than
PATH_MAX are refused with the errno Linux would give.
"""

from __future__ import annotations

import errno

from mirage.workspace.vfs.base import VfsError

NAME_MAX = 255      # bytes in one component (UTF-8)
PATH_MAX = 4096     # bytes in a whole path (UTF-8)


def collapse(path: str) -> str:
    """Lexically normalise an absolute path: drop empty and "." parts, resolve ".." without
    ever climbing above "/". No validation (see :func:`normalize`)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def normalize(path: str) -> str:
    """Return the canonical form of an absolute workspace path, or raise VfsError."""
    if not isinstance(path, str):
        raise VfsError(errno.EINVAL, repr(path)[:80], "path must be a string")
    shown = path[:200]
    if "\x00" in path:
        raise VfsError(errno.EINVAL, shown.replace("\x00", "\\0"), "path contains a NUL byte")
    if not path:
        raise VfsError(errno.ENOENT, path, "empty path")
    if not path.startswith("/"):
        raise VfsError(errno.EINVAL, shown, "path must be absolute (start with /)")
    try:
        encoded_length = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise VfsError(errno.EINVAL, shown.encode("utf-8", "replace").decode(), "path is not valid UTF-8") from None
    if encoded_length >= PATH_MAX:
        raise VfsError(errno.ENAMETOOLONG, shown, f"path longer than {PATH_MAX - 1} bytes")
    canonical = collapse(path)
    if any(len(part.encode("utf-8")) > NAME_MAX for part in canonical.split("/")):
        raise VfsError(errno.ENAMETOOLONG, shown, f"a name is longer than {NAME_MAX} bytes")
    return canonical


def split(path: str) -> tuple[str, str]:
    """'/a/b/c' -> ('/a/b', 'c'); '/' -> ('/', '')."""
    if path == "/":
        return "/", ""
    head, _, name = path.rpartition("/")
    return head or "/", name


def is_within(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or below it (both normalised)."""
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix + "/")


def relative_to(path: str, prefix: str) -> str:
    """The mount-relative path of ``path`` under ``prefix`` ('/data/x', '/data' -> '/x')."""
    if prefix == "/":
        return path
    rest = path[len(prefix):]
    return rest or "/"


def join(prefix: str, rel: str) -> str:
    if prefix == "/":
        return rel
    return prefix if rel == "/" else prefix + rel
