"""Sessions: a named shell context inside a workspace (its cwd and environment).

The data model only; running commands and jobs belongs to ``mirage.workspace.shell``.
Every workspace starts with the ``default`` session.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SESSION_ID = "default"
SESSION_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def valid_session_id(value: object) -> bool:
    return isinstance(value, str) and bool(SESSION_ID_RE.fullmatch(value)) and value not in (".", "..")


@dataclass
class Session:
    id: str
    cwd: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "cwd": self.cwd, "env": dict(self.env), "created_at": self.created_at}


def new_sessions() -> dict[str, Session]:
    return {DEFAULT_SESSION_ID: Session(DEFAULT_SESSION_ID)}
