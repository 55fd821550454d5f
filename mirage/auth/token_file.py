"""The local-mode token file (``~/.mirage/auth_token``): mint it once, load it safely.

STDLIB ONLY: the CLI imports this module to find the token of a local daemon, and
must not pull in sanic, jwt or cryptography.

* :func:`mint_or_load` — used by the daemon in local mode: returns the token in the
  file, creating the file first (32 random bytes as URL-safe text) if it does not
  exist. Creation is atomic and exclusive: the token is written to a private temp
  file in the same folder, fsynced, then hard-linked to the final name, so the final
  name only ever appears complete; when two processes race, the link of the second
  fails with EEXIST and it reads the winner's file, so both end with the same token.
* :func:`load` — used by clients: returns the token, never creates anything.

Both refuse, with :class:`TokenFileError` (the message names the path and the problem,
never the token), a file that is a symlink, not a regular file, accessible by group or
others, owned by another user, empty, or not valid token text; and a folder that is a
symlink, not a directory, owned by another user, or writable by group or others.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

TOKEN_BYTES = 32                 # random bytes in a minted token
MAX_TOKEN_CHARS = 8192           # the same cap the HTTP layer puts on a bearer token
_MAX_FILE_BYTES = MAX_TOKEN_CHARS + 2      # the token plus "\r\n"
# RFC 6750 b64token: what a "Bearer <token>" header can carry.
_TOKEN_TEXT = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

__all__ = ["TokenFileError", "mint_or_load", "load", "is_token_text", "TOKEN_BYTES"]


class TokenFileError(Exception):
    """The token file (or its folder) cannot be used safely. ``str()`` is one line
    naming the path and the problem; it never contains the token."""

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class _Missing(Exception):
    """The token file does not exist (internal: mint_or_load creates it)."""


def is_token_text(text: str) -> bool:
    """True if ``text`` can be sent as ``Authorization: Bearer <text>``."""
    return 0 < len(text) <= MAX_TOKEN_CHARS and _TOKEN_TEXT.fullmatch(text) is not None


def load(path: str | os.PathLike[str]) -> str:
    """Return the token stored at ``path``; raise TokenFileError if it is missing or unsafe."""
    try:
        return _read_checked(Path(path))
    except _Missing:
        raise TokenFileError(path, "does not exist") from None


def mint_or_load(path: str | os.PathLike[str]) -> str:
    """Return the token at ``path``, minting it first if the file does not exist.

    The folder is created with mode 0700 if missing. Raises TokenFileError."""
    path = Path(path)
    _ensure_private_folder(path.parent)
    try:
        return _read_checked(path)
    except _Missing:
        pass
    import secrets  # only when minting: keeps it off every CLI call's start-up path

    token = secrets.token_urlsafe(TOKEN_BYTES)
    if _create_exclusive(path, token):
        return token
    # Another process created the file between our read and our link: use theirs.
    try:
        return _read_checked(path)
    except _Missing:
        raise TokenFileError(path, "vanished while it was being created; try again") from None


# ---------------------------------------------------------------- reading

def _read_checked(path: Path) -> str:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # NONBLOCK: a FIFO must not hang us
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _Missing() from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise TokenFileError(path, "is a symlink; refusing to follow it (the token file must be a "
                                       "regular file)") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise TokenFileError(path, "permission denied") from None
        if exc.errno == errno.ENOTDIR:
            raise TokenFileError(path, "a parent of this path is not a directory") from None
        raise TokenFileError(path, f"cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        _check_file_status(path, info)
        data = _read_at_most(fd, _MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokenFileError(path, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > _MAX_FILE_BYTES:
        raise TokenFileError(path, f"is larger than {_MAX_FILE_BYTES} bytes; it does not hold a token")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise TokenFileError(path, "does not hold valid token text (non-ASCII bytes)") from None
    if text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    if not text.strip():
        raise TokenFileError(path, "is empty; delete it to have a new token minted, or write a token into it")
    if not is_token_text(text):
        raise TokenFileError(path, "does not hold valid token text (expected one line of "
                                   "A-Z a-z 0-9 - . _ ~ + / characters)")
    return text


def _check_file_status(path: Path, info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise TokenFileError(path, "is a directory, not a regular file")
    if not stat.S_ISREG(info.st_mode):
        raise TokenFileError(path, "is not a regular file")
    uid = os.geteuid()
    if info.st_uid != uid:
        raise TokenFileError(path, f"is owned by uid {info.st_uid}, not by this user (uid {uid}); refusing it")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        raise TokenFileError(path, f"has mode {mode:04o}: group or others can access it; "
                                   f"run `chmod 600 {path}` (and consider replacing the token)")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------- the folder

def _ensure_private_folder(folder: Path) -> None:
    """Create ``folder`` (0700) if missing; refuse one that others could tamper with."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except FileExistsError:
        pass  # exists as a non-directory (or a dangling symlink): reported below
    except OSError as exc:
        raise TokenFileError(folder, f"cannot create the token folder: {exc.strerror or exc}") from None
    try:
        info = os.lstat(folder)
    except OSError as exc:
        raise TokenFileError(folder, f"cannot inspect the token folder: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise TokenFileError(folder, "the token folder is a symlink; refusing to follow it")
    if not stat.S_ISDIR(info.st_mode):
        raise TokenFileError(folder, "the token folder is not a directory")
    uid = os.geteuid()
    if info.st_uid != uid:
        raise TokenFileError(folder, f"the token folder is owned by uid {info.st_uid}, not by this user "
                                     f"(uid {uid})")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        raise TokenFileError(folder, f"the token folder has mode {mode:04o}: group or others can write "
                                     f"to it; run `chmod 700 {folder}`")


# ---------------------------------------------------------------- creating

def _create_exclusive(path: Path, token: str) -> bool:
    """Write ``token`` to ``path`` so that the name only ever appears complete.
    Returns False if another process created ``path`` first."""
    import secrets

    folder = path.parent
    temp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(temp, flags, 0o600)
    except OSError as exc:
        raise TokenFileError(temp, f"cannot create a temp file for the token: {exc.strerror or exc}") from None
    try:
        try:
            os.fchmod(fd, 0o600)            # whatever the umask
            data = (token + "\n").encode("ascii")
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except OSError as exc:              # e.g. a full disk: never a half-written token file
            raise TokenFileError(path, f"cannot write the token: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
        try:
            os.link(temp, path, follow_symlinks=False)
        except FileExistsError:
            return False
        except OSError as exc:
            raise TokenFileError(path, f"cannot create the token file: {exc.strerror or exc}") from None
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
    _fsync_folder(folder)
    return True


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
