"""The state store in-process: framing, group commit, restore, torn tails, snapshots, compaction."""

import asyncio
import errno
import logging
import os

import pytest

from mirage.workspace.engine import WorkspaceEngine
from mirage.workspace.errors import NotFound, Unavailable
from mirage.workspace.state import records
from mirage.workspace.vfs.base import VfsError

ACCOUNT = "alice"


def run(coro):
    return asyncio.run(coro)


async def make(state_dir, **kwargs) -> WorkspaceEngine:
    engine = WorkspaceEngine(state_dir=state_dir, **kwargs)
    await engine.start()
    return engine


# ------------------------------------------------------------ framing

def test_records_round_trip_with_binary_data():
    blob = records.encode({"op": "write", "p": "/ü"}, b"\x00\xff") + records.encode({"op": "mkdir"})
    decoded = records.decode_all(blob)
    assert decoded.problem is None
    assert decoded.records == [({"op": "write", "p": "/ü"}, b"\x00\xff"), ({"op": "mkdir"}, b"")]


@pytest.mark.parametrize("cut", [1, 5, 9, 20])
def test_a_truncated_last_record_is_reported_and_the_rest_kept(cut):
    first = records.encode({"n": 1}, b"a" * 10)
    blob = first + records.encode({"n": 2}, b"b" * 10)
    decoded = records.decode_all(blob[:-cut])
    assert decoded.records == [({"n": 1}, b"a" * 10)]
    assert decoded.good_end == len(first)
    assert decoded.problem


def test_a_flipped_byte_fails_the_checksum():
    first = records.encode({"n": 1})
    second = bytearray(records.encode({"n": 2}, b"payload"))
    second[-1] ^= 0xFF
    decoded = records.decode_all(first + bytes(second))
    assert len(decoded.records) == 1 and "checksum" in decoded.problem


# ------------------------------------------------------------ restore

def test_committed_writes_come_back_without_a_clean_stop(tmp_path):
    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.mkdir("/d")
        await ws.fs.write("/d/f", b"one")
        await ws.fs.write("/d/f", b"two", append=True)
        await ws.fs.write("/gone", b"x")
        await ws.fs.unlink("/gone")
        await ws.fs.rename("/d", "/e")
        await ws.commit()
        # no engine.stop(): a crash

    async def second():
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        assert await ws.fs.read("/e/f") == b"onetwo"
        assert await ws.fs.readdir("/") == ["e"]
        assert ws.owner == ACCOUNT
        await engine.stop()

    run(first())
    run(second())


def test_graceful_stop_compacts_into_a_snapshot_and_restores_the_same_tree(tmp_path):
    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.write("/a", b"A" * 1000)
        await ws.fs.mkdir("/x/y", parents=True)
        await ws.commit()
        await engine.stop()
        return list(ws.dump())

    async def second():
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        dumped = list(ws.dump())
        await engine.stop()
        return dumped

    before = run(first())
    folder = tmp_path / "workspaces" / "w1"
    assert (folder / "snapshot").exists()
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("log.")) == ["log.1"]
    assert run(second()) == before


def test_torn_log_tail_is_dropped_with_a_warning_and_later_writes_survive(tmp_path, caplog):
    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.write("/kept", b"kept")
        await ws.commit()

    run(first())
    log_path = tmp_path / "workspaces" / "w1" / "log.0"
    with open(log_path, "ab") as handle:
        handle.write(records.encode({"op": "write", "p": "/torn", "m": "/"}, b"x" * 100)[:-7])

    async def second():
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        assert await ws.fs.read("/kept") == b"kept"
        assert not await ws.fs.exists("/torn")
        await ws.fs.write("/after", b"after")
        await ws.commit()

    with caplog.at_level(logging.WARNING, logger="mirage.state"):
        run(second())
    assert any("torn" in r.getMessage() for r in caplog.records)

    async def third():
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        assert await ws.fs.read("/after") == b"after"
        assert await ws.fs.read("/kept") == b"kept"

    run(third())


def test_corrupted_snapshot_makes_only_that_workspace_unavailable(tmp_path, caplog):
    async def first():
        engine = await make(tmp_path)
        for name in ("bad", "good"):
            ws, _ = await engine.create(ACCOUNT, {}, name)
            await ws.fs.write("/f", name.encode())
            await ws.commit()
        await engine.stop()

    run(first())
    snap = tmp_path / "workspaces" / "bad" / "snapshot"
    data = bytearray(snap.read_bytes())
    data[len(data) // 2] ^= 0x55
    snap.write_bytes(bytes(data))

    async def second():
        engine = await make(tmp_path)
        assert await engine.get(ACCOUNT, "good").fs.read("/f") == b"good"
        with pytest.raises(Unavailable):
            engine.get(ACCOUNT, "bad")
        listed = {w["id"]: w for w in engine.list(ACCOUNT)}
        assert listed["bad"]["status"] == "unavailable"
        assert engine.count() == 1
        await engine.stop()

    with caplog.at_level(logging.ERROR, logger="mirage.workspace"):
        run(second())
    assert any("bad" in r.getMessage() and "snapshot" in r.getMessage() for r in caplog.records)
    assert snap.exists()      # left for an operator


def test_unreadable_meta_is_skipped_and_others_restore(tmp_path):
    async def first():
        engine = await make(tmp_path)
        await engine.create(ACCOUNT, {}, "fine")
        await engine.create(ACCOUNT, {}, "broken")

    run(first())
    (tmp_path / "workspaces" / "broken" / "meta.json").write_text("{not json")

    async def second():
        engine = await make(tmp_path)
        assert engine.get(ACCOUNT, "fine")
        with pytest.raises(NotFound):
            engine.get(ACCOUNT, "broken")
        assert [w["id"] for w in engine.list(ACCOUNT)] == ["fine"]

    run(second())


def test_compaction_in_the_background_keeps_every_write(tmp_path):
    async def first():
        engine = await make(tmp_path, compact_min_bytes=4096)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        for i in range(120):
            await ws.fs.write(f"/f{i % 10}", os.urandom(50) + str(i).encode(), append=True)
            await ws.commit()
        if ws.state._compact_task is not None:
            await ws.state._compact_task
        assert ws.state.gen > 0
        return list(ws.dump())

    expected = run(first())

    async def second():
        engine = await make(tmp_path)
        return list(engine.get(ACCOUNT, "w1").dump())

    assert run(second()) == expected


def test_crash_between_new_log_and_snapshot_rename_restores_from_both_logs(tmp_path):
    """Simulate the compaction window: snapshot N, log.N and log.N+1 both present."""
    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.write("/early", b"1")
        await ws.commit()
        await engine.stop()            # snapshot gen 1, log.1 empty
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        await ws.fs.write("/middle", b"2")
        await ws.commit()

    run(first())
    folder = tmp_path / "workspaces" / "w1"
    (folder / "log.2").write_bytes(records.encode({"op": "write", "p": "/late", "m": "/", "t": 1.0}, b"3"))

    async def second():
        engine = await make(tmp_path)
        ws = engine.get(ACCOUNT, "w1")
        return [await ws.fs.read(p) for p in ("/early", "/middle", "/late")]

    assert run(second()) == [b"1", b"2", b"3"]


def test_group_commit_shares_fsyncs_between_concurrent_writers(tmp_path, monkeypatch):
    calls = []
    real = os.fdatasync

    def counting(fd):
        calls.append(fd)
        return real(fd)

    async def main():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        monkeypatch.setattr(os, "fdatasync", counting)

        async def writer(i):
            await ws.fs.write(f"/f{i}", b"x")
            await ws.commit()

        await asyncio.gather(*(writer(i) for i in range(64)))
        return ws

    run(main())
    assert 1 <= len(calls) < 64


def test_everysec_commit_reaches_the_file_without_fsync(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "fdatasync", lambda fd: calls.append(fd))

    async def main():
        engine = await make(tmp_path, fsync="everysec")
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.write("/f", b"data")
        await ws.commit()
        size = (tmp_path / "workspaces" / "w1" / "log.0").stat().st_size
        fsyncs_at_commit = len(calls)
        await engine.stop()
        return size, fsyncs_at_commit

    size, fsyncs = run(main())
    assert size > 0
    assert fsyncs == 0
    assert calls     # the stop synced


def test_deleted_workspace_state_is_removed_and_does_not_come_back(tmp_path):
    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w1")
        await ws.fs.write("/f", b"x")
        await ws.commit()
        await engine.delete(ACCOUNT, "w1")

    run(first())
    assert not (tmp_path / "workspaces" / "w1").exists()

    async def second():
        engine = await make(tmp_path)
        assert engine.list(ACCOUNT) == []

    run(second())


def test_read_only_workspace_restores_its_ram_content(tmp_path):
    async def main():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {"mode": "read"}, "ro")
        with pytest.raises(VfsError) as info:
            await ws.fs.write("/f", b"x")
        assert info.value.code == errno.EROFS
        await engine.stop()
        engine = await make(tmp_path)
        assert engine.get(ACCOUNT, "ro").mode == "read"

    run(main())



def test_close_hooks_run_on_delete_and_on_stop(tmp_path):
    closed = []

    async def hook(ws):
        closed.append(ws.id)

    async def failing(ws):
        raise RuntimeError("boom")

    async def main():
        engine = await make(tmp_path)
        a, _ = await engine.create(ACCOUNT, {}, "a")
        b, _ = await engine.create(ACCOUNT, {}, "b")
        a.close_hooks += [failing, hook]
        b.close_hooks.append(hook)
        await engine.delete(ACCOUNT, "a")
        assert closed == ["a"]
        await engine.stop()
        assert closed == ["a", "b"]

    run(main())


def test_other_account_cannot_get_delete_or_reuse_an_id(tmp_path):
    from mirage.workspace.errors import Conflict

    async def main():
        engine = await make(tmp_path)
        await engine.create(ACCOUNT, {}, "mine")
        with pytest.raises(NotFound):
            engine.get("mallory", "mine")
        with pytest.raises(NotFound):
            await engine.delete("mallory", "mine")
        with pytest.raises(Conflict):
            await engine.create("mallory", {}, "mine")
        assert engine.list("mallory") == []
        assert engine.get(ACCOUNT, "mine")

    run(main())


def test_a_failed_snapshot_write_loses_nothing_and_a_retry_does_not_replay_twice(tmp_path, monkeypatch):
    from mirage.workspace.state import store as store_module

    real = store_module.write_atomic
    failures = {"left": 1}

    def flaky(path, chunks, mode=0o600):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(28, "No space left on device")
        return real(path, chunks, mode)

    async def first():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w")
        await ws.fs.write("/f", b"a", append=True)
        await ws.commit()
        monkeypatch.setattr(store_module, "write_atomic", flaky)
        with pytest.raises(OSError):
            await ws.state.compact()
        await ws.fs.write("/f", b"b", append=True)
        await ws.commit()
        await ws.state.compact()               # the retry succeeds
        await ws.fs.write("/f", b"c", append=True)
        await ws.commit()

    run(first())

    async def second():
        engine = await make(tmp_path)
        return await engine.get(ACCOUNT, "w").fs.read("/f")

    assert run(second()) == b"abc"


def test_concurrent_creates_of_one_id_give_one_workspace_and_a_conflict_for_another_config(tmp_path):
    from mirage.workspace.errors import Conflict

    async def main():
        engine = await make(tmp_path)
        results = await asyncio.gather(*(engine.create(ACCOUNT, {}, "same") for _ in range(8)),
                                       engine.create(ACCOUNT, {"mode": "read"}, "same"),
                                       engine.create("mallory", {}, "same"), return_exceptions=True)
        created = [r for r in results[:8] if not isinstance(r, Exception)]
        assert len(created) == 8 and sum(flag for _, flag in created) == 1
        assert len({id(ws) for ws, _ in created}) == 1
        assert all(isinstance(r, Conflict) for r in results[8:])

    run(main())


def test_start_stop_start_serves_the_same_content_and_a_double_start_is_harmless(tmp_path):
    async def main():
        engine = await make(tmp_path)
        ws, _ = await engine.create(ACCOUNT, {}, "w")
        await ws.fs.write("/f", b"1")
        await ws.commit()
        await engine.start()                  # no-op
        assert engine.get(ACCOUNT, "w") is ws
        await engine.stop()
        await engine.start()
        again = engine.get(ACCOUNT, "w")
        assert again is not ws and await again.fs.read("/f") == b"1"
        await again.fs.write("/f", b"2", append=True)
        await again.commit()
        await engine.stop()
        await engine.start()
        assert await engine.get(ACCOUNT, "w").fs.read("/f") == b"12"
        await engine.stop()

    run(main())


def test_many_workspaces_hold_no_open_files_between_requests(tmp_path):
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def main():
        engine = await make(tmp_path)
        before = open_fds()
        for i in range(120):
            ws, _ = await engine.create(ACCOUNT, {}, f"w{i}")
            await ws.fs.write("/f", b"x")
            await ws.commit()
        assert open_fds() - before < 20
        await engine.stop()
        await engine.start()
        assert engine.count() == 120
        assert open_fds() - before < 20

    run(main())


def test_a_state_dir_that_is_a_file_is_one_clear_error(tmp_path):
    from mirage.workspace.errors import StateDirError

    target = tmp_path / "not-a-folder"
    target.write_text("")
    with pytest.raises(StateDirError) as info:
        run(make(target))
    assert str(target) in info.value.detail


def test_a_disk_mount_outside_a_narrowed_disk_roots_policy_is_not_restored(tmp_path):
    from mirage.workspace.vfs.registry import DiskBackend, default_backends

    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    config = {"mounts": {"/": {"vfs": "ram"}, "/d": {"vfs": "disk", "config": {"root": str(other)}}}}

    async def first():
        engine = await make(tmp_path / "state", backends=default_backends(DiskBackend(None)))
        await engine.create(ACCOUNT, config, "host")
        ws, _ = await engine.create(ACCOUNT, {}, "plain")
        await ws.fs.write("/f", b"kept")
        await ws.commit()
        await engine.stop()

    async def after_policy_narrowed():
        engine = await make(tmp_path / "state", backends=default_backends(DiskBackend([str(allowed)])))
        with pytest.raises(Unavailable, match="outside the folders this daemon allows"):
            engine.get(ACCOUNT, "host")
        assert await engine.get(ACCOUNT, "plain").fs.read("/f") == b"kept"
        await engine.stop()

    run(first())
    run(after_policy_narrowed())
