"""Control-flow signals and failures raised while a shell line runs."""

from __future__ import annotations


class ShellSyntaxError(Exception):
    """The line does not parse, or uses a construct Mirage does not run (exit 2)."""


class LineAborted(Exception):
    """Ends the whole line, whatever is running (limits, cancellation)."""

    exit_code = 1


class OutputLimitExceeded(LineAborted):
    exit_code = 1


class InputLimitExceeded(LineAborted):
    exit_code = 1


class LineTimedOut(LineAborted):
    exit_code = 124


class PipeClosed(Exception):
    """The reading end of a pipe went away (the SIGPIPE of a real shell)."""


class ExitSignal(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class ReturnSignal(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class LoopSignal(Exception):
    """break / continue, with how many enclosing loops it applies to."""

    def __init__(self, kind: str, levels: int):
        super().__init__(kind, levels)
        self.kind = kind
        self.levels = levels


class CommandError(Exception):
    """A command-level failure with a message for stderr and an exit status."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.message = message
        self.status = status
