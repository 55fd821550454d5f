"""Many requests on one workspace never lose or interleave writes; a slow call on one
workspace does not stall another."""

from __future__ import annotations

import asyncio
import base64
import signal
import threading
from collections.abc import Mapping
from typing import Any

from test_state_crash import daemons  # noqa: F401  (fixture)

from mirage.workspace.engine import WorkspaceEngine
from mirage.workspace.vfs.registry import BackendRegistry, RamBackend
from mirage.workspace.vfs.ram import RamMount

WRITERS = 64
ROUNDS = 6


def test_64_concurrent_writers_on_one_workspace_lose_nothing(daemons):  # noqa: F811
    daemon = daemons()
    assert daemon.request("POST", "/v1/workspaces", {"config": {}, "id": "busy"})[0] == 201
    assert daemon.vfs("busy", "mkdir", path="/own")[0] == 200
    failures: list[str] = []
    barrier = threading.Barrier(WRITERS)

    def writer(n: int) -> None:
        barrier.wait(timeout=60)
        for i in range(ROUNDS):
            line = f"writer-{n:02d}-round-{i}-" + "p" * (n * 7) + "\n"
            for call, args in (("append", {"path": "/shared.log", "data": line}),
                               ("write", {"path": f"/own/{n}", "data": f"{n}:{i}:" + "q" * (1000 * n)})):
                try:
                    status, body = daemon.vfs("busy", call, **args)
                except OSError as exc:
                    failures.append(f"{n}: {exc}")
                    return
                if status != 200:
                    failures.append(f"{n}: {status} {body}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures[:5]

    def check(d) -> None:
        status, body = d.vfs("busy", "read", path="/shared.log")
        assert status == 200
        lines = base64.b64decode(body["data_base64"]).decode().splitlines()
        expected = sorted(f"writer-{n:02d}-round-{i}-" + "p" * (n * 7) for n in range(WRITERS) for i in range(ROUNDS))
        assert sorted(lines) == expected                      # every append, whole, once
        for n in range(WRITERS):                               # per writer, in its own order
            mine = [line for line in lines if line.startswith(f"writer-{n:02d}-")]
            assert mine == [f"writer-{n:02d}-round-{i}-" + "p" * (n * 7) for i in range(ROUNDS)]
        assert d.vfs("busy", "readdir", path="/own")[1]["entries"] == sorted(str(n) for n in range(WRITERS))
        for n in (0, 1, 31, 63):
            content = base64.b64decode(d.vfs("busy", "read", path=f"/own/{n}")[1]["data_base64"]).decode()
            assert content == f"{n}:{ROUNDS - 1}:" + "q" * (1000 * n)

    check(daemon)
    daemon.kill(signal.SIGKILL)
    check(daemons())          # and all of it was durable


class GatedRamMount(RamMount):
    """A ram mount whose reads wait until the test opens the gate: a deliberately slow call."""

    def __init__(self, gate: asyncio.Event, entered: asyncio.Event, **kwargs):
        super().__init__(**kwargs)
        self.gate, self.entered = gate, entered

    async def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        self.entered.set()
        await self.gate.wait()
        return await super().read(path, offset, length)


def test_a_slow_call_on_one_workspace_does_not_stall_another(tmp_path):
    async def main() -> None:
        gate, entered = asyncio.Event(), asyncio.Event()

        class GatedBackend(RamBackend):
            name = "gated"

            def create(self, config: Mapping[str, Any], *, read_only: bool):
                return GatedRamMount(gate, entered, read_only=read_only)

        engine = WorkspaceEngine(state_dir=tmp_path, backends=BackendRegistry([RamBackend(), GatedBackend()]))
        await engine.start()
        slow, _ = await engine.create("acct", {"mounts": {"/": {"vfs": "gated"}}}, "slow")
        fast, _ = await engine.create("acct", {}, "fast")
        await slow.fs.write("/f", b"slow data")
        await slow.commit()

        slow_read = asyncio.create_task(slow.fs.read("/f"))
        await asyncio.wait_for(entered.wait(), 60)
        # while the slow call is parked, the other workspace writes, commits and reads
        for i in range(20):
            await asyncio.wait_for(fast.fs.write(f"/n{i}", b"x" * i), 60)
            await asyncio.wait_for(fast.commit(), 60)
        assert await asyncio.wait_for(fast.fs.readdir("/"), 60) == sorted(f"n{i}" for i in range(20))
        # and on the slow workspace itself, writes are not blocked by its parked read
        await asyncio.wait_for(slow.fs.write("/g", b"meanwhile"), 60)
        await asyncio.wait_for(slow.commit(), 60)
        assert not slow_read.done()
        gate.set()
        assert await asyncio.wait_for(slow_read, 60) == b"slow data"
        await engine.stop()

    asyncio.run(main())


def test_concurrent_replaces_of_one_ram_file_leave_exactly_one_whole_version(tmp_path):
    async def main() -> tuple[bytes, list[bytes]]:
        engine = WorkspaceEngine(state_dir=tmp_path)
        await engine.start()
        ws, _ = await engine.create("acct", {}, "w")
        payloads = [bytes([65 + n % 26]) * (1000 + n) for n in range(WRITERS)]

        async def replace(data: bytes) -> None:
            await ws.fs.write("/one", data)
            await ws.commit()

        await asyncio.gather(*(replace(p) for p in payloads))
        live = await ws.fs.read("/one")
        restored_engine = WorkspaceEngine(state_dir=tmp_path)
        await restored_engine.start()
        restored = await restored_engine.get("acct", "w").fs.read("/one")
        assert restored == live
        return live, payloads

    live, payloads = asyncio.run(main())
    assert live in payloads
