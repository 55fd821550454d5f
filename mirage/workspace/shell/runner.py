"""Run one shell line over a workspace filesystem, within the line's limits.

``run_line`` is what the API calls: it parses the line, runs it with a time limit
and an output cap, makes its writes durable (``fs.commit()``), and carries the
session's cwd and exported variables across lines.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from mirage.workspace.shell.errors import (
    CommandError, ExitSignal, LineAborted, LineTimedOut, LoopSignal, ReturnSignal, ShellSyntaxError,
)
from mirage.workspace.shell.interp import Interpreter
from mirage.workspace.shell.io import IO
from mirage.workspace.shell.state import ShellState, normalize
from mirage.workspace.shell.streams import BytesIn, Capture, OutputBudget
from mirage.workspace.shell.ticker import Ticker

log = logging.getLogger("mirage.shell")

FILE_WRITE_FACTOR = 16        # a line may write this many times its output cap into files


@dataclass
class LineResult:
    exit_code: int
    stdout: bytes
    stderr: bytes

    def to_json(self) -> dict:
        return {
            "kind": "io",
            "exit_code": self.exit_code,
            "stdout": self.stdout.decode("utf-8", "replace"),
            "stderr": self.stderr.decode("utf-8", "replace"),
        }


async def _is_dir(fs, path: str) -> bool:
    try:
        return (await fs.stat(path)).is_dir
    except OSError:
        return False


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 60.0
    output_limit_bytes: int = 8 << 20


def initial_state(session=None, cwd: str | None = None) -> ShellState:
    state = ShellState()
    env = dict(getattr(session, "env", {}) or {})
    state.vars.update({"HOME": "/", "PATH": "/usr/bin:/bin", "SHELL": "/bin/bash", "USER": "mirage"})
    state.exported.update(state.vars)
    state.vars.update(env)
    state.exported.update(env)
    state.cwd = normalize(cwd or getattr(session, "cwd", None) or "/")
    state.vars["PWD"] = state.cwd
    state.exported.add("PWD")
    return state


class _ReadBoundedFS:
    """The workspace FS as a line sees it: every whole-file read is bounded (EFBIG beyond),
    so ``cat`` of a multi-GB host file in a disk mount cannot exhaust the daemon's memory."""

    def __init__(self, fs, max_bytes: int) -> None:
        self._fs, self._max_bytes = fs, max_bytes

    def __getattr__(self, name: str):
        return getattr(self._fs, name)

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        return await self._fs.read(path, offset, length, max_bytes=self._max_bytes)


async def run_line(fs, command: str, *, session=None, cwd: str | None = None,
                   limits: Limits = Limits(), state: ShellState | None = None,
                   stdin: bytes = b"") -> LineResult:
    """Run ``command`` with ``stdin`` as its standard input; never raises for anything the
    line does (cancellation aside)."""
    budget = OutputBudget(limits.output_limit_bytes)
    stdout, stderr = Capture(budget), Capture(budget)
    state = state or initial_state(session, cwd)
    start_cwd = state.cwd
    ticker = Ticker(limits.timeout_seconds)
    file_limit = limits.output_limit_bytes * FILE_WRITE_FACTOR
    interp = Interpreter(_ReadBoundedFS(fs, file_limit), ticker, budget, OutputBudget(file_limit))
    interp._line_stdout, interp._line_stderr = stdout, stderr
    io = IO(BytesIn(stdin), stdout, stderr)
    if not await _is_dir(fs, state.cwd):
        if cwd is not None:
            return LineResult(1, b"", f"mirage: cwd {state.cwd}: no such directory in the "
                                      f"workspace\n".encode("utf-8", "surrogateescape"))
        stderr.data += (f"mirage: warning: the session's directory {state.cwd} no longer exists; "
                        f"starting in /\n").encode("utf-8", "surrogateescape")
        state.cwd = start_cwd = "/"
        state.vars["PWD"] = "/"
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            status = await interp.run_source(command, state, io)
    except ShellSyntaxError as exc:
        stderr.data += f"mirage: {exc}\n".encode()
        status = 2
    except ExitSignal as exc:
        status = exc.status
    except ReturnSignal as exc:
        status = exc.status
    except LoopSignal:
        status = state.last_status
    except CommandError as exc:
        stderr.data += f"mirage: {exc.message}\n".encode("utf-8", "surrogateescape")
        status = exc.status
    except (TimeoutError, LineTimedOut):
        stderr.data += (f"mirage: the line exceeded the time limit of {limits.timeout_seconds:g} s "
                        f"and was stopped\n").encode()
        status = 124
    except LineAborted as exc:
        stderr.data += f"mirage: {exc}; the line was stopped\n".encode()
        status = exc.exit_code
    except RecursionError:
        stderr.data += b"mirage: maximum nesting depth exceeded\n"
        status = 1
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, ArithmeticError,
            UnicodeError) as exc:
        log.warning("shell line failed error=%s", type(exc).__name__, exc_info=exc)
        stderr.data += f"mirage: internal error ({type(exc).__name__}); the line was stopped\n".encode()
        status = 70
    await fs.commit()
    if session is not None:
        if cwd is None or state.cwd != start_cwd:
            session.cwd = state.cwd
        session.env = {k: v for k, v in state.environ().items() if k != "PWD"}
    return LineResult(status & 0xFF, bytes(stdout.data[:limits.output_limit_bytes]),
                      bytes(stderr.data))
