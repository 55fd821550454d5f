"""The workspace registry: create, find (per account), list, delete, restore, persist.

Visibility: a workspace belongs to the account that created it; any other
account gets NotFound for it, never sees it listed, and gets Conflict when it
tries to create the same id (ids are global). Accounts are opaque strings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any

from mirage.workspace.config import WorkspaceConfig, from_stored, parse_config
from mirage.workspace.errors import Conflict, InvalidConfig, InvalidRequest, NotFound, StateDirError, Unavailable
from mirage.workspace.state.store import MetaUnreadable, SnapshotCorrupt, StateStore, StoredWorkspace, replay
from mirage.workspace.vfs.base import Mount
from mirage.workspace.vfs.registry import BackendRegistry, default_backends, disk_backend_for
from mirage.workspace.workspace import UnavailableWorkspace, Workspace

log = logging.getLogger("mirage.workspace")

STOP_PARALLELISM = 8
WORKSPACE_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def check_workspace_id(value: Any) -> str:
    if not isinstance(value, str) or not WORKSPACE_ID_RE.fullmatch(value) or value in (".", ".."):
        raise InvalidRequest("id must be 1-128 characters of A-Z a-z 0-9 . _ - (and not '.' or '..')")
    return value


def new_workspace_id() -> str:
    return "ws-" + secrets.token_hex(8)


class WorkspaceEngine:
    def __init__(self, *, state_dir: Path | None = None, fsync: str = "always",
                 backends: BackendRegistry | None = None, compact_min_bytes: int | None = None):
        self.backends = backends or default_backends()
        self.store: StateStore | None = None
        if state_dir is not None:
            kwargs = {} if compact_min_bytes is None else {"compact_min_bytes": compact_min_bytes}
            self.store = StateStore(state_dir, fsync, **kwargs)
        self._workspaces: dict[str, Workspace | UnavailableWorkspace] = {}
        self._creating: dict[str, asyncio.Event] = {}     # ids being created right now
        self._ticker: asyncio.Task | None = None
        self.started = False

    # ------------------------------------------------------------ life

    async def start(self) -> None:
        """Prepare state_dir and bring every stored workspace back (once; a second call
        before stop() is a no-op, so two listeners can never open one log twice)."""
        if self.started:
            return
        self._workspaces.clear()
        if self.store is not None:
            try:
                await asyncio.to_thread(self.store.prepare)
            except OSError as exc:
                raise StateDirError(f"{self.store.root}: cannot use it as the state folder: "
                                    f"{exc.strerror or exc}") from None
            loaded = await asyncio.to_thread(self._load_all)
            for folder, result in loaded:
                self._install(folder, result)
            if self.store.policy == "everysec":
                self._ticker = asyncio.get_running_loop().create_task(self._everysec())
        self.started = True
        live = sum(isinstance(w, Workspace) for w in self._workspaces.values())
        log.info("workspaces restored count=%d unavailable=%d", live, len(self._workspaces) - live)

    async def stop(self) -> None:
        """Persist everything: fsync logs, compact into snapshots, close files."""
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None
        live = [ws for ws in self._workspaces.values() if isinstance(ws, Workspace)]
        for ws in live:
            await ws.run_close_hooks()
        parallel = asyncio.Semaphore(STOP_PARALLELISM)      # overlap the fsyncs of many workspaces

        async def close(ws: Workspace) -> None:
            async with parallel:
                try:
                    await ws.state.close()
                except Exception as exc:
                    log.error("closing workspace state failed workspace=%s error=%s", ws.id, exc)

        await asyncio.gather(*(close(ws) for ws in live if ws.state is not None))
        self.started = False

    async def _everysec(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for ws in list(self._workspaces.values()):
                if isinstance(ws, Workspace) and ws.state is not None and not ws.state.closed:
                    try:
                        await ws.state.writer.sync()
                    except Exception as exc:
                        log.error("background fsync failed workspace=%s error=%s", ws.id, exc)

    def _load_all(self) -> list[tuple[Path, StoredWorkspace | Exception]]:
        """Read every workspace folder (in a worker thread: all the blocking I/O of a restore)."""
        assert self.store is not None
        loaded: list[tuple[Path, StoredWorkspace | Exception]] = []
        for folder in self.store.folders():
            try:
                loaded.append((folder, self.store.load(folder)))
            except SnapshotCorrupt as exc:
                try:
                    meta = self.store.read_meta(folder)
                except MetaUnreadable as meta_exc:
                    loaded.append((folder, meta_exc))
                else:
                    loaded.append((folder, SnapshotCorrupt(str(exc), meta)))
            except (MetaUnreadable, OSError) as exc:
                loaded.append((folder, exc))
        return loaded

    def _install(self, folder: Path, stored: StoredWorkspace | Exception) -> None:
        name = folder.name
        if isinstance(stored, SnapshotCorrupt):
            meta = stored.meta
            log.error("workspace unavailable: corrupted snapshot workspace=%s reason=%r", name, str(stored))
            self._workspaces[name] = UnavailableWorkspace(name, meta["owner"], meta.get("created_at", 0.0),
                                                          str(stored))
            return
        if isinstance(stored, Exception):
            reason = stored.strerror if isinstance(stored, OSError) and stored.strerror else str(stored)
            log.error("workspace not restored workspace=%s reason=%r", name, reason)
            self._workspaces[name] = UnavailableWorkspace(name, None, 0.0, reason)
            return
        meta = stored.meta
        try:
            config = from_stored(meta["config"])
            # today's policy, not the one in force when it was created: a narrowed
            # workspace.disk_roots (or a root that is gone) must not be restored
            for m in config.mounts:
                self.backends.get(m.vfs).validate(m.config, f"config.mounts.{m.prefix}.config")
            ws = Workspace(meta["id"], meta["owner"], config, float(meta["created_at"]), self._mounts(config))
        except InvalidConfig as exc:
            log.error("workspace not restored workspace=%s reason=%r", name, str(exc))
            self._workspaces[name] = UnavailableWorkspace(name, meta.get("owner"), 0.0, str(exc))
            return
        except Exception as exc:
            log.error("workspace not restored workspace=%s reason=%r", name, f"bad config: {exc}")
            self._workspaces[name] = UnavailableWorkspace(name, meta.get("owner"), 0.0, "bad stored config")
            return
        replay(stored.snapshot_records, ws.apply, name)
        replay(stored.log_records, ws.apply, name)
        state = self.store.open_state(folder, stored.last_log_gen, ws.dump, stored.snapshot_size)
        ws.attach_state(state)
        self._workspaces[ws.id] = ws

    def _mounts(self, config: WorkspaceConfig) -> dict[str, Mount]:
        return {m.prefix: self.backends.get(m.vfs).create(m.config, read_only=m.read_only) for m in config.mounts}

    # ------------------------------------------------------------ queries

    def count(self) -> int:
        return sum(isinstance(w, Workspace) for w in self._workspaces.values())

    def _lookup(self, account: str, workspace_id: str) -> Workspace | UnavailableWorkspace:
        ws = self._workspaces.get(workspace_id) if isinstance(workspace_id, str) else None
        if ws is None or ws.owner != account:
            raise NotFound(f"no workspace {workspace_id!r}")
        return ws

    def get(self, account: str, workspace_id: str) -> Workspace:
        ws = self._lookup(account, workspace_id)
        if isinstance(ws, UnavailableWorkspace):
            raise Unavailable(f"workspace {workspace_id!r} could not be restored: {ws.reason}")
        return ws

    def list(self, account: str) -> list[dict[str, Any]]:
        items = [w for w in self._workspaces.values() if w.owner == account]
        return [w.summary() for w in sorted(items, key=lambda w: (w.created_at, w.id))]

    def all_workspaces(self) -> list[Workspace]:
        return [w for w in self._workspaces.values() if isinstance(w, Workspace)]

    # ------------------------------------------------------------ changes

    async def create(self, account: str, raw_config: Any, workspace_id: str | None = None
                     ) -> tuple[Workspace, bool]:
        """Returns (workspace, created). Same id + same config → the existing one."""
        config = parse_config(raw_config, self.backends)
        if workspace_id is None:
            workspace_id = new_workspace_id()
            while workspace_id in self._workspaces:
                workspace_id = new_workspace_id()
        check_workspace_id(workspace_id)
        while workspace_id in self._creating:          # the same id being created: wait, then compare
            await self._creating[workspace_id].wait()
        existing = self._workspaces.get(workspace_id)
        if existing is not None:
            return self._existing(account, workspace_id, existing, config), False
        done = self._creating[workspace_id] = asyncio.Event()
        try:
            created_at = time.time()
            ws = Workspace(workspace_id, account, config, created_at, self._mounts(config))
            if self.store is not None:
                meta = {"id": workspace_id, "owner": account, "created_at": created_at,
                        "config": config.to_dict()}
                folder = await asyncio.to_thread(self.store.create_folder, workspace_id, meta)
                ws.attach_state(self.store.open_state(folder, 0, ws.dump))
            self._workspaces[workspace_id] = ws
        finally:
            del self._creating[workspace_id]
            done.set()
        log.info("workspace created workspace=%s mounts=%d", workspace_id, len(config.mounts))
        return ws, True

    def _existing(self, account: str, workspace_id: str, existing, config: WorkspaceConfig) -> Workspace:
        if existing.owner != account or isinstance(existing, UnavailableWorkspace):
            raise Conflict(f"workspace id {workspace_id!r} is already in use")
        if existing.config.to_dict() != config.to_dict():
            raise Conflict(f"workspace {workspace_id!r} exists with a different config")
        return existing

    async def delete(self, account: str, workspace_id: str) -> float:
        ws = self._lookup(account, workspace_id)
        del self._workspaces[workspace_id]
        if isinstance(ws, Workspace):
            await ws.run_close_hooks()
        if isinstance(ws, Workspace) and ws.state is not None:
            await ws.state.close(compact=False)
        if self.store is not None:
            await asyncio.to_thread(self.store.remove_folder, workspace_id)
        log.info("workspace deleted workspace=%s", workspace_id)
        return time.time()


def engine_from_settings(settings: Any, *, multi_tenant: bool) -> WorkspaceEngine:
    """``multi_tenant``: accounts are remote subjects (the server knows which auth mode
    means that; the engine only knows accounts)."""
    disk = disk_backend_for(multi_tenant, settings.workspace_disk_roots, str(settings.state_dir))
    return WorkspaceEngine(state_dir=Path(settings.state_dir), fsync=settings.state_fsync,
                           backends=default_backends(disk))

