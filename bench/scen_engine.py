"""Scenario 4: the shell and the VFS, over HTTP, on a RAM workspace.

Shell: `echo hi` round trip (1 connection), `echo hi` from 16 sessions at once
(16 connections, one session each), `cat` of a 1 MiB file, `grep -rl` over 10,000 files.
VFS: write then read of 4 KiB and 1 MiB files (16 connections, one file each) on two
daemons run alternately, one with state.fsync=always and one with everysec.
With --reference, each shell/VFS scenario also runs alternately against mirage-ai.

Every scenario first sends one request by hand and checks the answer (exit code 0, the
expected output or bytes), so a figure is never the speed of an error. A route that
answers 404 skips its scenarios with a message (routes land while this is written).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field

from context import Context
from loadgen import Load, LoadError, Summary, paired_runs, repeated_runs, with_errors
from report import Table, ms, num, ratio, section
from servers import Server, StartError, reference_installed, start_ours, start_reference
from workspaces import (RouteMissing, SetupFailed, create_sessions, ensure_workspace, read_back, shell,
                        vfs_body, vfs_call, write_file, write_many)

WORKSPACE = "bench"
MIB = 1 << 20
SESSIONS = 16
GREP_NEEDLE = "needle"
REF_GREP_MAX = 1000          # the reference's grep corpus is set up only up to this many files


def text_of_size(size: int) -> bytes:
    line = b"the quick brown fox jumps over the lazy dog 0123456789\n"
    return (line * (size // len(line) + 1))[:size]


def corpus(files: int) -> dict[str, bytes]:
    """``files`` small text files; every 100th holds the needle."""
    out = {}
    for index in range(files):
        body = f"file {index}\nsome log line level=info\nanother line level=debug\n"
        if index % 100 == 0:
            body += f"error: {GREP_NEEDLE} found here\n"
        out[f"/corpus/f{index:05d}.txt"] = body.encode()
    return out


@dataclass
class Prepared:
    """One daemon with the bench workspace set up; ``problems`` says what cannot run."""

    server: Server
    sessions: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)   # "shell", "sessions", "vfs", "big", "grep"


def prepare(ctx: Context, server: Server, *, grep_files: int, vfs_only: bool = False) -> Prepared:
    prep = Prepared(server)
    try:
        ensure_workspace(server, WORKSPACE)
    except (RouteMissing, SetupFailed) as exc:
        for key in ("shell", "sessions", "vfs", "big", "grep"):
            prep.problems[key] = str(exc)
        return prep
    client = server.client()
    try:
        probe = write_file(client, WORKSPACE, "/probe.txt", b"probe\n")
        if probe.status == 404 and "errno" not in (probe.json() or {}):
            prep.problems["vfs"] = "POST /v1/workspaces/{id}/vfs/write answers 404 (route not landed yet)"
        elif probe.status not in (200, 201):
            prep.problems["vfs"] = f"vfs/write answered {probe.status}: {probe.detail()}"
        if vfs_only:
            return prep
        first = shell(server, WORKSPACE, "echo hi", client=client)
        if first.status == 404:
            prep.problems["shell"] = "POST /v1/workspaces/{id}/shell answers 404 (route not landed yet)"
        elif first.status != 200 or first.exit_code != 0 or first.stdout != "hi\n":
            prep.problems["shell"] = (f"`echo hi` gave status {first.status}, exit {first.exit_code}, "
                                      f"stdout {first.stdout[:40]!r} {first.detail}")
    finally:
        client.close()
    if "shell" in prep.problems:
        for key in ("sessions", "big", "grep"):
            prep.problems.setdefault(key, prep.problems["shell"])
    else:
        sessions, why = create_sessions(server, WORKSPACE, SESSIONS)
        if why:
            prep.problems["sessions"] = why
        prep.sessions = sessions
    if "vfs" in prep.problems:
        prep.problems["big"] = prep.problems["grep"] = "needs vfs/write to set up: " + prep.problems["vfs"]
        return prep
    if "shell" in prep.problems:
        return prep
    client = server.client()
    try:
        big = write_file(client, WORKSPACE, "/big.txt", text_of_size(MIB))
        if big.status not in (200, 201):
            prep.problems["big"] = f"writing /big.txt answered {big.status}: {big.detail()}"
    finally:
        client.close()
    try:
        setup_client = server.client()
        try:
            vfs_call(setup_client, WORKSPACE, "mkdir", {"path": "/corpus"})
        finally:
            setup_client.close()
        started = time.monotonic()
        write_many(server, WORKSPACE, corpus(grep_files))
        print(f"  {server.label}: wrote {grep_files:,} files for grep in {time.monotonic() - started:.1f} s",
              flush=True)
    except (SetupFailed, OSError) as exc:
        prep.problems["grep"] = f"setting up {grep_files:,} files failed: {exc}"
    return prep


# ---------------------------------------------------------------- shell scenarios

@dataclass
class ShellCase:
    name: str
    command: str
    connections: int
    needs: str                       # key in Prepared.problems
    expect: callable                 # stdout -> bool
    per_session: bool = False

    def load(self, prep: Prepared) -> Load:
        session = "{{VAR}}" if self.per_session else None
        path, body = prep.server.dialect.shell(WORKSPACE, self.command, session)
        return Load(path=path, method="POST", body=json.dumps(body).encode(), auth=prep.server.auth,
                    thread_vars=tuple(prep.sessions) if self.per_session else (), timeout_s=30)

    def check(self, prep: Prepared) -> str | None:
        if self.needs in prep.problems:
            return prep.problems[self.needs]
        session = prep.sessions[0] if self.per_session else None
        result = shell(prep.server, WORKSPACE, self.command, session)
        if result.status != 200 or result.exit_code != 0 or not self.expect(result.stdout):
            return (f"`{self.command}` gave status {result.status}, exit {result.exit_code}, "
                    f"stdout {result.stdout[:60]!r}, stderr {result.stderr[:80]!r} {result.detail}")
        return None


SHELL_CASES = [
    ShellCase("shell: `echo hi` round trip", "echo hi", 1, "shell", lambda out: out == "hi\n"),
    ShellCase("shell: `echo hi`, 16 sessions at once", "echo hi", SESSIONS, "sessions",
              lambda out: out == "hi\n", per_session=True),
    ShellCase("shell: `cat` of a 1 MiB file", "cat /big.txt", 1, "big", lambda out: len(out) == MIB),
]


def grep_command() -> str:
    return f"grep -rl {GREP_NEEDLE} /corpus | wc -l"


def time_grep(prep: Prepared, iterations: int) -> list[float]:
    client = prep.server.client(timeout=300)
    try:
        return [shell(prep.server, WORKSPACE, grep_command(), client=client).seconds * 1000
                for _ in range(iterations)]
    finally:
        client.close()


def check_grep(prep: Prepared, files: int) -> str | None:
    if "grep" in prep.problems:
        return prep.problems["grep"]
    result = shell(prep.server, WORKSPACE, grep_command())
    expected = str(len(range(0, files, 100)))
    if result.status != 200 or result.exit_code != 0 or result.stdout.strip() != expected:
        return (f"`{grep_command()}` gave status {result.status}, exit {result.exit_code}, stdout "
                f"{result.stdout.strip()[:40]!r} (expected {expected}), stderr {result.stderr[:80]!r} {result.detail}")
    return None


# ---------------------------------------------------------------- VFS scenarios

def vfs_loads(prep: Prepared, size: int) -> tuple[Load, Load]:
    data = text_of_size(size)
    path = f"/v1/workspaces/{WORKSPACE}/vfs/"
    files = tuple(f"t{i:02d}" for i in range(16))
    write = Load(path=path + "write", method="POST", auth=prep.server.auth, thread_vars=files, timeout_s=30,
                 body=json.dumps(vfs_body("/vfs-{{VAR}}.bin", data)).encode())
    read = Load(path=path + "read", method="POST", auth=prep.server.auth, thread_vars=files, timeout_s=30,
                body=json.dumps({"path": "/vfs-{{VAR}}.bin"}).encode())
    return write, read


def check_vfs(prep: Prepared, size: int) -> str | None:
    if "vfs" in prep.problems:
        return prep.problems["vfs"]
    data = text_of_size(size)
    client = prep.server.client()
    try:
        for i in range(16):
            reply = write_file(client, WORKSPACE, f"/vfs-t{i:02d}.bin", data)
            if reply.status not in (200, 201):
                return f"vfs/write of {size} bytes answered {reply.status}: {reply.detail()}"
        reply = vfs_call(client, WORKSPACE, "read", {"path": "/vfs-t00.bin"})
        if reply.status != 200 or read_back(reply) != data:
            return f"vfs/read answered {reply.status} and {'other bytes' if reply.status == 200 else reply.detail()}"
    finally:
        client.close()
    return None


# ---------------------------------------------------------------- the group

def _start(ctx: Context, label: str, fsync: str) -> Server | str:
    try:
        return ctx.keep(start_ours(ctx.log_dir, ctx.temp_home(label), ctx.server_cpu, label=label,
                                   mode="token", fsync=fsync))
    except StartError as exc:
        return str(exc)


def run(ctx: Context) -> None:
    section("shell and VFS")
    shell_table = ctx.table("Shell over HTTP (RAM workspace; daemon with state.fsync=everysec)",
                            ["scenario", "conns", "req/s", "p50 ms", "p99 ms"])
    vfs_table = ctx.table("VFS write and read over HTTP, state.fsync always against everysec (same run)",
                          ["scenario", "conns", "always req/s", "always p50 ms", "always p99 ms",
                           "everysec req/s", "everysec p50 ms", "everysec p99 ms", "req/s always/everysec"])
    ref_table: Table | None = None
    if ctx.args.reference:
        ref_table = ctx.table("Shell and VFS, ours against mirage-ai (same run)",
                              ["scenario", "conns", "ours req/s", "theirs req/s", "req/s ours/theirs",
                               "p50 ours/theirs", "p99 ours/theirs"])

    everysec = _start(ctx, "mirage-everysec", "everysec")
    always = _start(ctx, "mirage-always", "always")
    if isinstance(everysec, str):
        shell_table.skip("all shell scenarios", everysec)
        vfs_table.skip("all VFS scenarios", everysec)
        return
    files = ctx.args.grep_files
    ours = prepare(ctx, everysec, grep_files=files)
    ours_always = prepare(ctx, always, grep_files=0, vfs_only=True) if not isinstance(always, str) else None

    theirs: Prepared | None = None
    if ref_table is not None:
        if not reference_installed():
            ref_table.skip("reference", "mirage-ai is not installed (run the http group with --reference first)")
        else:
            try:
                ref = ctx.keep(start_reference(ctx.log_dir, ctx.temp_home("ref-engine"), ctx.server_cpu))
                theirs = prepare(ctx, ref, grep_files=files if files <= REF_GREP_MAX else 0)
                if files > REF_GREP_MAX:
                    theirs.problems["grep"] = (
                        f"not set up: its vfs/write runs at a few dozen per second, so {files:,} files would "
                        f"take minutes; compare with --grep-files {REF_GREP_MAX} or fewer")
            except StartError as exc:
                ref_table.skip("reference", str(exc))

    def measure(ours_load: Load, theirs_load: Load | None, conns: int, name: str) -> Summary | None:
        threads = conns if ours_load.thread_vars else 1
        try:
            if theirs_load is not None and ref_table is not None:
                pair = paired_runs((ours.server.url, ours_load), (theirs.server.url, theirs_load),
                                   rounds=ctx.rounds, connections=conns, duration_s=ctx.duration,
                                   threads=threads, cpu=ctx.client_cpu, scratch=ctx.run_dir)
                ref_table.add(with_errors(name, pair.a, pair.b), conns, num(pair.a.rps, 1), num(pair.b.rps, 1), ratio(pair.rps_ratio),
                              ratio(pair.p50_ratio), ratio(pair.p99_ratio))
                return pair.a
            return repeated_runs((ours.server.url, ours_load), rounds=ctx.rounds, connections=conns,
                                 duration_s=ctx.duration, threads=threads, cpu=ctx.client_cpu,
                                 scratch=ctx.run_dir)
        except LoadError as exc:
            shell_table.note(f"{name}: {exc}")
            return None

    for case in SHELL_CASES:
        problem = case.check(ours)
        if problem:
            shell_table.skip(case.name, problem)
            continue
        theirs_load = None
        if theirs is not None:
            their_problem = case.check(theirs)
            if their_problem:
                ref_table.skip(case.name, f"reference: {their_problem}")
            else:
                theirs_load = case.load(theirs)
        summary = measure(case.load(ours), theirs_load, case.connections, case.name)
        if summary:
            shell_table.add(with_errors(case.name, summary), case.connections, num(summary.rps, 1), ms(summary.p50_ms),
                            ms(summary.p99_ms))

    grep_name = f"shell: `grep -rl` over {files:,} files"
    problem = check_grep(ours, files)
    if problem:
        shell_table.skip(grep_name, problem)
    else:
        iterations = 2 if ctx.quick else 5
        their_ok = theirs is not None and check_grep(theirs, files) is None
        ours_ms: list[float] = []
        theirs_ms: list[float] = []
        for _ in range(iterations):       # alternate when there is a partner
            ours_ms += time_grep(ours, 1)
            if their_ok:
                theirs_ms += time_grep(theirs, 1)
        p50 = statistics.median(ours_ms)
        shell_table.add(grep_name, 1, num(1000 / p50, 2), ms(p50), f"{ms(max(ours_ms))} (max of {iterations})")
        if ref_table is not None:
            if their_ok:
                t50 = statistics.median(theirs_ms)
                ref_table.add(grep_name, 1, num(1000 / p50, 2), num(1000 / t50, 2), ratio(t50 / p50),
                              ratio(p50 / t50), "")
            elif theirs is not None:
                ref_table.skip(grep_name, f"reference: {check_grep(theirs, files)}")
    shell_table.note("req/s and latency are medians over rounds; the grep line is timed by hand "
                     "(sequential requests), its req/s is 1 / median latency")

    # VFS: always vs everysec, alternating
    for size, label in ((4096, "4 KiB"), (MIB, "1 MiB")):
        problem = check_vfs(ours, size)
        if problem is None:
            problem = (check_vfs(ours_always, size) if ours_always is not None
                       else f"the fsync=always daemon did not start: {always}")
        their_problem = check_vfs(theirs, size) if theirs is not None else None
        if problem:
            vfs_table.skip(f"VFS write+read {label}", problem)
            continue
        e_write, e_read = vfs_loads(ours, size)
        a_write, a_read = vfs_loads(ours_always, size)
        for op, a_load, e_load in (("write", a_write, e_write), ("read", a_read, e_read)):
            name = f"VFS {op} {label}"
            try:
                pair = paired_runs((ours_always.server.url, a_load), (ours.server.url, e_load),
                                   rounds=ctx.rounds, connections=16, duration_s=ctx.duration,
                                   threads=16, cpu=ctx.client_cpu, scratch=ctx.run_dir)
            except LoadError as exc:
                vfs_table.note(f"{name}: {exc}")
                continue
            vfs_table.add(with_errors(name, pair.a, pair.b), 16, num(pair.a.rps), ms(pair.a.p50_ms), ms(pair.a.p99_ms),
                          num(pair.b.rps), ms(pair.b.p50_ms), ms(pair.b.p99_ms), ratio(pair.rps_ratio))
            if theirs is not None and ref_table is not None:
                if their_problem:
                    ref_table.skip(name, f"reference: {their_problem}")
                    continue
                t_write, t_read = vfs_loads(theirs, size)
                try:
                    rpair = paired_runs((ours_always.server.url, a_load),
                                        (theirs.server.url, t_write if op == "write" else t_read),
                                        rounds=ctx.rounds, connections=16, duration_s=ctx.duration,
                                        threads=16, cpu=ctx.client_cpu, scratch=ctx.run_dir)
                except LoadError as exc:
                    ref_table.note(f"{name}: {exc}")
                    continue
                ref_table.add(with_errors(name + " (ours fsync=always)", rpair.a, rpair.b), 16, num(rpair.a.rps), num(rpair.b.rps),
                              ratio(rpair.rps_ratio), ratio(rpair.p50_ratio), ratio(rpair.p99_ratio))
    vfs_table.note("16 connections, each writing/reading its own file (one wrk thread per connection); "
                   "bytes travel as data_base64")
