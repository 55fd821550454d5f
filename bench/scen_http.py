"""Scenarios 1–3: the framework ceiling, health / token / jwt request paths, and the reference.

Each of our request paths is run alternately with the baseline (plain Sanic, one JSON
route) at the same concurrency, sending the same headers, and reported as a ratio
to it. With --reference the same paths are run alternately against mirage-ai.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from context import Context
from loadgen import Load, LoadError, paired_runs, run_wrk, with_errors
from report import Table, ms, num, ratio, section
from servers import (BENCH_TOKEN, RAM_CONFIG, REPO, Server, StartError, install_reference, reference_installed,
                     reference_version, start_baseline, start_ours, start_reference)
from tokens import JwtMaterial, make_jwt_material

JWT_ALGS = ("RS256", "ES256")


@dataclass
class Target:
    name: str
    server: Server | None
    path: str
    auth: str | None
    goal: float | None
    skipped: str | None = None

    def load(self) -> Load:
        return Load(path=self.path, auth=self.auth)


def _verdict(value: float, goal: float | None) -> str:
    if goal is None or value != value:
        return ""
    if value >= goal:
        return "meets"
    if value >= 0.8 * goal:
        return "below goal"
    return "below goal by >20%"


def _check_route(server: Server, path: str, auth: str | None) -> str | None:
    """None when ``path`` answers 200 with ``auth``; else why it cannot be measured."""
    client = server.client(timeout=10)
    client.auth = auth
    try:
        reply = client.get(path)
    finally:
        client.close()
    if reply.status == 200:
        return None
    if reply.status == 404:
        return f"GET {path} answers 404 (route not landed yet)"
    return f"GET {path} answers {reply.status}: {reply.detail()}"


def _jwt_material(ctx: Context) -> dict[str, JwtMaterial]:
    folder = ctx.temp_home("jwt-keys")
    return {alg: make_jwt_material(alg, folder) for alg in JWT_ALGS}


def build_targets(ctx: Context, keys: dict[str, JwtMaterial]) -> list[Target]:
    token_auth = f"Bearer {BENCH_TOKEN}"
    targets: list[Target] = []
    try:
        token_server = ctx.keep(start_ours(ctx.log_dir, ctx.temp_home("ours-token"), ctx.server_cpu,
                                           label="mirage-token", mode="token", fsync="everysec"))
    except StartError as exc:
        token_server = None
        why = str(exc)
    targets.append(Target("GET /v1/health (open)", token_server, "/v1/health", None, 0.85,
                          skipped=None if token_server else why))
    targets.append(Target("GET /v1/workspaces, token", token_server, "/v1/workspaces", token_auth, 0.80,
                          skipped=None if token_server else why))
    for alg in JWT_ALGS:
        material = keys[alg]
        try:
            server = ctx.keep(start_ours(ctx.log_dir, ctx.temp_home(f"ours-{alg}"), ctx.server_cpu,
                                         label=f"mirage-jwt-{alg}", mode="jwt", jwt_alg=alg,
                                         jwt_pubkey_file=material.pubkey_file,
                                         auth=f"Bearer {material.token}", fsync="everysec"))
            skipped = None
        except StartError as exc:
            server, skipped = None, f"jwt mode does not start yet: {exc}"
        targets.append(Target(f"GET /v1/workspaces, jwt {alg}", server, "/v1/workspaces",
                              f"Bearer {material.token}", 0.50, skipped=skipped))
    for target in targets:
        if target.skipped is None and target.server is not None:
            target.skipped = _check_route(target.server, target.path, target.auth)
    # the reference keeps one idle workspace to stay up; hold one too, so lists compare like for like
    for server in {id(t.server): t.server for t in targets if t.server is not None and not t.skipped}.values():
        if server.auth:
            keep_one_workspace(server)
    return targets


def keep_one_workspace(server: Server) -> None:
    client = server.client(timeout=10)
    try:
        client.post("/v1/workspaces", {"id": "bench-keepalive", "config": RAM_CONFIG})
    finally:
        client.close()


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-").replace("--", "-")


def profile_target(ctx: Context, table: Table, target: Target, baseline: Server, conns: int) -> None:
    """py-spy on the server while wrk drives it (and once on the baseline, for comparison)."""
    from profiler import profile_while

    seconds = max(4, round(ctx.duration))
    folder = ctx.run_dir / "profiles"
    jobs = [(target.server, target.load(), f"{_slug(target.name)}-c{conns}")]
    if not (folder / f"baseline-c{conns}.summary.txt").exists():
        jobs.append((baseline, Load(path=target.path, auth=target.auth), f"baseline-c{conns}"))
    for server, load, name in jobs:
        def drive(server=server, load=load) -> None:
            try:
                run_wrk(server.url, load, connections=conns, duration_s=seconds + 1, cpu=ctx.client_cpu,
                        scratch=ctx.run_dir)
            except LoadError:
                pass
        try:
            summary = profile_while(server.proc.pid, drive, folder / name, seconds, ctx.client_cpu)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"  profiling {name} failed: {exc}", flush=True)
            continue
        print(f"  profile: {summary}", flush=True)
        table.note(f"{name}: py-spy profile in {summary.relative_to(REPO)}")


def run(ctx: Context) -> None:
    section("framework ceiling, health, token and jwt request paths")
    table = ctx.table(
        "Request paths against the framework ceiling (plain Sanic, same settings, same run)",
        ["scenario", "conns", "req/s", "baseline req/s", "p50 ms", "p99 ms", "req/s ×base", "p50 ×base",
         "p99 ×base", "goal", "verdict"])
    try:
        baseline = ctx.keep(start_baseline(ctx.log_dir, ctx.temp_home("baseline"), ctx.server_cpu))
    except StartError as exc:
        table.skip("baseline", str(exc))
        return
    keys = _jwt_material(ctx)
    targets = build_targets(ctx, keys)
    for conns in ctx.args.connections:
        for target in targets:
            if target.skipped:
                continue
            try:
                pair = paired_runs((target.server.url, target.load()),
                                   (baseline.url, Load(path=target.path, auth=target.auth)),
                                   rounds=ctx.rounds, connections=conns, duration_s=ctx.duration,
                                   cpu=ctx.client_cpu, scratch=ctx.run_dir)
            except LoadError as exc:
                table.note(f"{target.name} @{conns}: {exc}")
                continue
            verdict = _verdict(pair.rps_ratio, target.goal)
            table.add(with_errors(target.name, pair.a, pair.b), conns, num(pair.a.rps), num(pair.b.rps),
                      ms(pair.a.p50_ms), ms(pair.a.p99_ms), ratio(pair.rps_ratio), ratio(pair.p50_ratio),
                      ratio(pair.p99_ratio), f"≥ {target.goal:.2f}×", verdict)
            if (verdict == "below goal by >20%" and ctx.args.profile) or ctx.args.profile_all:
                profile_target(ctx, table, target, baseline, conns)
    for target in targets:
        if target.skipped:
            table.skip(target.name, target.skipped)
    table.note("baseline: the plain Sanic app (bench/baseline_app.py) answering the same path with the same "
               "headers, run alternately with each row (A B, B A, ...); req/s ×base: ours / baseline (higher "
               "is better); p50/p99 ×base: ours / baseline (lower is better). Each ratio is the median of the "
               f"per-round ratios ({ctx.rounds} rounds × {ctx.duration:g} s each, after a 1 s warm-up of each); "
               "req/s and latencies are medians of each side's runs.")

    if ctx.args.reference:
        run_reference(ctx, targets, keys)


def run_reference(ctx: Context, ours: list[Target], keys: dict[str, JwtMaterial]) -> None:
    section("reference daemon (mirage-ai under uvicorn)")
    table = ctx.table("Ours against the reference daemon (mirage-ai, uvicorn + uvloop + httptools), same run",
                      ["scenario", "conns", "ours req/s", "theirs req/s", "req/s ours/theirs",
                       "p50 ours/theirs", "p99 ours/theirs"])
    if not reference_installed():
        print("  installing mirage-ai into bench/.scratch/ref-venv ...", flush=True)
        try:
            install_reference(ctx.run_dir / "ref-install.log")
        except StartError as exc:
            table.skip("reference", str(exc))
            return
    table.note(f"mirage-ai {reference_version()} from PyPI, in bench/.scratch/ref-venv, started with "
               "`python -m uvicorn mirage.server.daemon:app --no-access-log --loop uvloop --http httptools` "
               "(one process), MIRAGE_AUTH_MODE=token|jwt as its docs describe")
    theirs: dict[str, Server | None] = {}
    why: dict[str, str] = {}
    try:
        theirs["token"] = ctx.keep(start_reference(ctx.log_dir, ctx.temp_home("ref-token"), ctx.server_cpu,
                                                   mode="token"))
    except StartError as exc:
        theirs["token"], why["token"] = None, str(exc)
    for alg in JWT_ALGS:
        try:
            theirs[alg] = ctx.keep(start_reference(ctx.log_dir, ctx.temp_home(f"ref-{alg}"), ctx.server_cpu,
                                                   mode="jwt", jwt_alg=alg,
                                                   jwt_pubkey_file=keys[alg].pubkey_file,
                                                   auth=f"Bearer {keys[alg].token}", label=f"mirage-ai-{alg}"))
        except StartError as exc:
            theirs[alg], why[alg] = None, str(exc)

    def partner(target: Target) -> tuple[Server | None, str]:
        key = next((alg for alg in JWT_ALGS if alg in target.name), "token")
        return theirs.get(key), why.get(key, "")

    for conns in ctx.args.connections:
        for target in ours:
            if target.skipped:
                continue
            server, reason = partner(target)
            if server is None:
                if conns == ctx.args.connections[0]:
                    table.skip(target.name, f"reference did not start: {reason}")
                continue
            problem = _check_route(server, target.path, target.auth)
            if problem:
                if conns == ctx.args.connections[0]:
                    table.skip(target.name, f"reference: {problem}")
                continue
            try:
                pair = paired_runs((target.server.url, target.load()), (server.url, target.load()),
                                   rounds=ctx.rounds, connections=conns, duration_s=ctx.duration,
                                   cpu=ctx.client_cpu, scratch=ctx.run_dir)
            except LoadError as exc:
                table.note(f"{target.name} @{conns}: {exc}")
                continue
            table.add(with_errors(target.name, pair.a, pair.b), conns, num(pair.a.rps), num(pair.b.rps), ratio(pair.rps_ratio),
                      ratio(pair.p50_ratio), ratio(pair.p99_ratio))
    table.note("ours/theirs: req/s above 1 means we serve more; latency above 1 means we are slower")
