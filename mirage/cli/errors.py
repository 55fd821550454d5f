"""The CLI's one error type and its exit codes (stable: scripts rely on them)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNREACHABLE = 1     # no daemon answered (or a spawned one did not come up)
EXIT_REQUEST = 2         # usage error, bad input, or the daemon refused the request
EXIT_AUTH = 3            # the daemon refused our credentials (or we have none to offer)


class CliError(Exception):
    """An error the CLI reports as ``mirage: <message>`` on stderr, then exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_REQUEST):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
