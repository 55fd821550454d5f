"""The engine's errors (besides VfsError). The HTTP layer maps them to statuses in one place."""

from __future__ import annotations


class WorkspaceError(Exception):
    code = "error"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidConfig(WorkspaceError):
    """A workspace.yaml problem; ``field`` is the dotted path of the offending key."""

    code = "invalid_config"

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class InvalidRequest(WorkspaceError):
    code = "bad_request"


class NotFound(WorkspaceError):
    code = "not_found"


class Conflict(WorkspaceError):
    code = "conflict"


class Unavailable(WorkspaceError):
    """The workspace exists but its stored state could not be restored."""

    code = "unavailable"


class StateDirError(WorkspaceError):
    """The state folder cannot be used (not a folder, no permission, ...): the daemon cannot start."""

    code = "state_dir"
