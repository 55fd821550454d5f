"""The state store: one folder per workspace under ``state_dir/workspaces``.

    <id>/meta.json     {"format", "id", "owner", "created_at", "config"} (written once, atomically)
    <id>/snapshot      framed records: header {gen}, the RAM mounts' trees, {"op": "end"}
    <id>/log.<gen>     framed RAM mutations made after snapshot <gen>

Restore = snapshot (generation G, or empty when there is none) + every log with
generation >= G, in order. Compaction opens log.<G+1>, captures the trees and
swaps the log in one step without awaiting, fsyncs what log.<G> still lacked,
writes snapshot <G+1> atomically, then deletes older logs — a crash at any
point leaves a consistent pair to restore from.

A log's torn or corrupt tail is dropped with a warning (and cut off the file,
so new records never follow garbage). A snapshot that fails its checks makes
that one workspace *unavailable* (logged; its owner sees it listed with
``status: unavailable`` and gets 503 for it); its folder is left untouched for
an operator, and every other workspace is served normally.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirage.workspace.state import records
from mirage.workspace.state.files import fsync_dir, write_atomic
from mirage.workspace.state.log import LogWriter, append_to_file

log = logging.getLogger("mirage.state")

META_FORMAT = 1
SNAPSHOT_KIND = "mirage-snapshot"
LOG_NAME = re.compile(r"log\.(\d{1,18})")
COMPACT_MIN_BYTES = 4 << 20

# dump() of every journaled mount: yields (prefix, header, data)
Dumper = Callable[[], Iterator[tuple[str, dict[str, Any], bytes]]]


class SnapshotCorrupt(Exception):
    def __init__(self, detail: str, meta: dict[str, Any] | None = None):
        super().__init__(detail)
        self.meta = meta


class MetaUnreadable(Exception):
    pass


@dataclass
class StoredWorkspace:
    """What restore found in one folder."""

    folder: Path
    meta: dict[str, Any]
    snapshot_gen: int
    snapshot_records: list[tuple[dict[str, Any], bytes]]
    log_records: list[tuple[dict[str, Any], bytes]]
    last_log_gen: int
    snapshot_size: int


class WorkspaceState:
    """The durable side of one live workspace."""

    def __init__(self, folder: Path, gen: int, policy: str, dumper: Dumper, *, snapshot_size: int = 0,
                 compact_min_bytes: int = COMPACT_MIN_BYTES):
        self.folder = folder
        self.gen = gen
        self.writer = LogWriter(folder / f"log.{gen}", policy)
        self._dumper = dumper
        self._compact_lock = asyncio.Lock()
        self._compact_task: asyncio.Task | None = None
        self.snapshot_size = snapshot_size
        self.compact_min_bytes = compact_min_bytes
        self.closed = False

    def journal(self, prefix: str, header: dict[str, Any], data: bytes) -> None:
        if self.closed:
            return
        self.writer.append(records.encode({**header, "m": prefix}, data))

    async def commit(self) -> None:
        if self.closed:
            return
        await self.writer.commit()
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        if self._compact_task is not None or self.closed:
            return
        if self.writer.size < max(self.compact_min_bytes, self.snapshot_size):
            return
        self._compact_task = asyncio.get_running_loop().create_task(self._background_compact())

    async def _background_compact(self) -> None:
        try:
            await self.compact()
        except Exception as exc:   # logged; the log keeps everything, a later try may work
            log.error("compaction failed folder=%s error=%s", self.folder.name, exc)
        finally:
            self._compact_task = None

    async def compact(self) -> None:
        async with self._compact_lock:
            if self.closed:
                return
            new_gen = self.gen + 1
            new_path = self.folder / f"log.{new_gen}"
            await asyncio.to_thread(append_to_file, new_path, b"", sync=False)
            writer = self.writer
            async with writer.io_lock:
                # ---- no await from here: the capture and the swap are one step
                old_path = writer.path
                old_pending, upto = writer.take_pending()
                captured = [(prefix, header, data) for prefix, header, data in self._dumper()]
                writer.switch_to(new_path)
                # from here on the writer appends to log.<new_gen>: that is the generation now,
                # even if the snapshot below fails (a retry must not reuse log.<new_gen>, whose
                # records would then be in its snapshot *and* replayed after it)
                self.gen = new_gen

                # ---- log.<gen> gets what it still lacked, durably, before log.<gen+1> is written
                def finish_old() -> None:
                    append_to_file(old_path, old_pending, sync=True)
                    fsync_dir(self.folder)

                try:
                    await asyncio.to_thread(finish_old)
                except OSError:
                    writer.requeue(old_pending)     # they go first into log.<new_gen>: order kept
                    raise
                writer.mark_durable(upto)

            def chunks() -> Iterator[bytes]:
                yield records.encode({"kind": SNAPSHOT_KIND, "version": 1, "gen": new_gen})
                for prefix, header, data in captured:
                    yield records.encode({**header, "m": prefix}, data)
                yield records.encode({"op": "end", "count": len(captured)})

            def write_snapshot() -> int:
                write_atomic(self.folder / "snapshot", chunks())
                for old in self.folder.iterdir():
                    match = LOG_NAME.fullmatch(old.name)
                    if match and int(match.group(1)) < new_gen:
                        old.unlink()
                fsync_dir(self.folder)
                return (self.folder / "snapshot").stat().st_size

            self.snapshot_size = await asyncio.to_thread(write_snapshot)
            log.info("compacted workspace=%s gen=%d snapshot_bytes=%d", self.folder.name, new_gen,
                     self.snapshot_size)

    async def close(self, *, compact: bool = True) -> None:
        if self.closed:
            return
        if self._compact_task is not None:
            await asyncio.shield(self._compact_task)
        await self.writer.sync()
        if compact and self.writer.size > 0:
            try:
                await self.compact()
            except Exception as exc:
                log.error("compaction at shutdown failed folder=%s error=%s", self.folder.name, exc)
        self.closed = True


class StateStore:
    """The state_dir: creates, lists, restores and removes workspace folders."""

    def __init__(self, state_dir: Path, policy: str = "always", *, compact_min_bytes: int = COMPACT_MIN_BYTES):
        self.root = Path(state_dir)
        self.workspaces_dir = self.root / "workspaces"
        self.tmp_dir = self.root / "tmp"
        self.trash_dir = self.root / "trash"
        self.policy = policy
        self.compact_min_bytes = compact_min_bytes

    def prepare(self) -> None:
        for folder in (self.root, self.workspaces_dir, self.tmp_dir, self.trash_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in list(self.tmp_dir.iterdir()) + list(self.trash_dir.iterdir()):
            shutil.rmtree(leftover, ignore_errors=True)

    # ------------------------------------------------------------ create / delete

    def create_folder(self, workspace_id: str, meta: dict[str, Any]) -> Path:
        """Write meta.json and an empty log.0 into a temp folder, then rename it into place."""
        tmp = self.tmp_dir / f"{secrets.token_hex(8)}"
        tmp.mkdir(mode=0o700)
        try:
            # the folder's rename is the atomic step: inside the private temp folder a
            # plain write + fsync is enough
            fd = os.open(tmp / "meta.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(json.dumps({"format": META_FORMAT, **meta}, indent=1).encode())
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.close(os.open(tmp / "log.0", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
            fsync_dir(tmp)
            final = self.workspaces_dir / workspace_id
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(self.workspaces_dir)
        return final

    def remove_folder(self, workspace_id: str) -> None:
        folder = self.workspaces_dir / workspace_id
        if not folder.exists():
            return
        target = self.trash_dir / f"{secrets.token_hex(8)}"
        os.rename(folder, target)
        fsync_dir(self.workspaces_dir)
        shutil.rmtree(target, ignore_errors=True)

    def open_state(self, folder: Path, gen: int, dumper: Dumper, snapshot_size: int = 0) -> WorkspaceState:
        return WorkspaceState(folder, gen, self.policy, dumper, snapshot_size=snapshot_size,
                              compact_min_bytes=self.compact_min_bytes)

    # ------------------------------------------------------------ restore

    def folders(self) -> list[Path]:
        if not self.workspaces_dir.is_dir():
            return []
        return sorted(p for p in self.workspaces_dir.iterdir() if p.is_dir())

    @staticmethod
    def read_meta(folder: Path) -> dict[str, Any]:
        try:
            meta = json.loads((folder / "meta.json").read_bytes())
        except (OSError, ValueError) as exc:
            raise MetaUnreadable(f"meta.json unreadable: {exc}") from None
        if not isinstance(meta, dict) or meta.get("format") != META_FORMAT or \
                not isinstance(meta.get("owner"), str) or not isinstance(meta.get("config"), dict):
            raise MetaUnreadable("meta.json is not a workspace description")
        return meta

    def load(self, folder: Path) -> StoredWorkspace:
        """Read one folder. Raises MetaUnreadable / SnapshotCorrupt."""
        meta = self.read_meta(folder)
        snapshot_gen, snapshot_records, snapshot_size = 0, [], 0
        snapshot_path = folder / "snapshot"
        if snapshot_path.exists():
            data = snapshot_path.read_bytes()
            snapshot_size = len(data)
            snapshot_gen, snapshot_records = _parse_snapshot(data)
        gens = sorted(int(m.group(1)) for p in folder.iterdir() if (m := LOG_NAME.fullmatch(p.name)))
        live = [g for g in gens if g >= snapshot_gen]
        if live and live[0] != snapshot_gen:
            raise SnapshotCorrupt(f"log.{snapshot_gen} is missing (found log.{live[0]})")
        if any(b != a + 1 for a, b in zip(live, live[1:], strict=False)):
            raise SnapshotCorrupt(f"log generations are not contiguous: {live}")
        log_records: list[tuple[dict[str, Any], bytes]] = []
        for gen in live:
            path = folder / f"log.{gen}"
            raw = path.read_bytes()
            decoded = records.decode_all(raw)
            if decoded.problem is not None:
                dropped = len(raw) - decoded.good_end
                log.warning("dropped torn log tail workspace=%s file=%s bytes=%d reason=%r", folder.name,
                            path.name, dropped, decoded.problem)
                with open(path, "r+b") as handle:
                    handle.truncate(decoded.good_end)
                    handle.flush()
                    os.fsync(handle.fileno())
            log_records.extend(decoded.records)
        for gen in gens:
            if gen < snapshot_gen:
                (folder / f"log.{gen}").unlink(missing_ok=True)
        last = live[-1] if live else snapshot_gen
        if not live:
            fd = os.open(folder / f"log.{last}", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
            os.close(fd)
        return StoredWorkspace(folder, meta, snapshot_gen, snapshot_records, log_records, last, snapshot_size)


def _parse_snapshot(data: bytes) -> tuple[int, list[tuple[dict[str, Any], bytes]]]:
    decoded = records.decode_all(data)
    if decoded.problem is not None:
        raise SnapshotCorrupt(f"snapshot damaged: {decoded.problem}")
    items = decoded.records
    if len(items) < 2:
        raise SnapshotCorrupt("snapshot is incomplete")
    head, body, tail = items[0][0], items[1:-1], items[-1][0]
    if head.get("kind") != SNAPSHOT_KIND or not isinstance(head.get("gen"), int):
        raise SnapshotCorrupt("snapshot has no valid header")
    if tail.get("op") != "end" or tail.get("count") != len(body):
        raise SnapshotCorrupt("snapshot is incomplete (no end record)")
    return head["gen"], body


def replay(items: Iterable[tuple[dict[str, Any], bytes]], apply: Callable[[str, dict[str, Any], bytes], None],
           name: str) -> int:
    """Apply records; one that does not apply is logged and skipped. Returns the count applied."""
    applied = 0
    for header, data in items:
        try:
            apply(header.get("m", "/"), header, data)
            applied += 1
        except Exception as exc:
            log.warning("skipped a state record workspace=%s op=%s error=%s", name, header.get("op"), exc)
    return applied
