"""One live workspace: its config, owner, filesystem, sessions and durable state."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mirage.workspace.config import WorkspaceConfig
from mirage.workspace.fs import WorkspaceFS
from mirage.workspace.session import Session, new_sessions
from mirage.workspace.state.store import WorkspaceState
from mirage.workspace.vfs.base import Mount

log = logging.getLogger("mirage.workspace")

CloseHook = Callable[["Workspace"], Awaitable[None]]


def is_journaled(mount: Mount) -> bool:
    """A mount whose contents the state store keeps: it reports mutations to
    ``journal`` and can ``dump`` and ``apply`` records (the ram backend)."""
    return all(hasattr(mount, name) for name in ("journal", "dump", "apply"))


class Workspace:
    def __init__(self, workspace_id: str, owner: str, config: WorkspaceConfig, created_at: float,
                 mounts: Mapping[str, Mount]):
        self.id = workspace_id
        self.owner = owner
        self.config = config
        self.created_at = created_at
        self.mounts = dict(mounts)
        self.state: WorkspaceState | None = None
        self.fs = WorkspaceFS(self.mounts, read_only=config.read_only, committer=self.commit)
        self.sessions: dict[str, Session] = new_sessions()
        # awaited (in order) when the workspace is deleted or the daemon stops — e.g. the
        # shell's job table kills its processes here. A failing hook is logged, not raised.
        self.close_hooks: list[CloseHook] = []

    @property
    def mode(self) -> str:
        return self.config.mode

    def journaled_mounts(self) -> dict[str, Any]:
        return {prefix: m for prefix, m in self.mounts.items() if is_journaled(m)}

    async def run_close_hooks(self) -> None:
        for hook in list(self.close_hooks):
            try:
                await hook(self)
            except Exception as exc:
                log.error("workspace close hook failed workspace=%s error=%s", self.id, exc)

    def attach_state(self, state: WorkspaceState) -> None:
        """Start journaling RAM mutations into ``state`` (after any restore)."""
        self.state = state
        for prefix, mount in self.journaled_mounts().items():
            mount.journal = (lambda p: lambda header, data: state.journal(p, header, data))(prefix)

    def dump(self) -> Iterator[tuple[str, dict[str, Any], bytes]]:
        for prefix, mount in sorted(self.journaled_mounts().items()):
            for header, data in mount.dump():
                yield prefix, header, data

    def apply(self, prefix: str, header: dict[str, Any], data: bytes) -> None:
        mount = self.journaled_mounts().get(prefix)
        if mount is None:
            raise KeyError(f"no ram mount at {prefix}")
        mount.apply(header, data)

    async def commit(self) -> None:
        """Make every mutation so far durable (no-op without a state store)."""
        if self.state is not None:
            await self.state.commit()

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "mode": self.mode, "mount_count": len(self.config.mounts),
                "session_count": len(self.sessions), "created_at": self.created_at}

    def detail(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "mode": self.mode,
            "created_at": self.created_at,
            "mounts": [{"prefix": m.prefix, "vfs": m.vfs, "mode": m.mode} for m in self.config.mounts],
            "sessions": [{"session_id": s.id, "cwd": s.cwd, "created_at": s.created_at}
                         for s in self.sessions.values()],
        }


@dataclass
class UnavailableWorkspace:
    """A workspace whose stored state could not be restored; kept out of service."""

    id: str
    owner: str | None
    created_at: float
    reason: str

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "mode": None, "mount_count": 0, "session_count": 0,
                "created_at": self.created_at, "status": "unavailable"}
