"""bench/run: start each server as a real subprocess and measure it against a baseline in the same run.

Groups (pick with --only / --skip):
  http     framework ceiling, GET /v1/health, GET /v1/workspaces in token and jwt (RS256, ES256) mode
  engine   shell (echo hi, cat 1 MiB, grep over 10,000 files, 16 sessions) and VFS write/read
           (4 KiB, 1 MiB) with state.fsync always and everysec
  scaling  list/get with 10, 1,000, 10,000 workspaces; RSS idle and at 1,000 workspaces
  startup  start-up to READY with 0 and 1,000 persisted workspaces; socket-activated cold start
--reference adds mirage-ai (PyPI, own venv under bench/.scratch/) to the http and engine groups.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

from context import Context
from servers import SCRATCH

GROUPS = ("http", "engine", "scaling", "startup")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help=f"comma list of groups to run ({', '.join(GROUPS)})")
    parser.add_argument("--skip", default="", help="comma list of groups to leave out")
    parser.add_argument("--duration", type=float, default=None, help="seconds per measured wrk run (default 2)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating A/B rounds per scenario (default 5)")
    parser.add_argument("--connections", default=None, help="comma list of wrk connection counts (default 16,256)")
    parser.add_argument("--workspaces", default=None, help="comma list of workspace counts for scaling "
                                                           "(default 10,1000,10000)")
    parser.add_argument("--grep-files", type=int, default=None, help="files in the grep scenario (default 10000)")
    parser.add_argument("--quick", action="store_true",
                        help="a fast smoke run: 2 s × 1 round, 16 connections, smaller workspace and file counts")
    parser.add_argument("--reference", action="store_true", help="also run mirage-ai (installed on first use)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="do not pin servers and wrk to different cores with taskset")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="do not py-spy a request path that is more than 20%% below its goal")
    parser.add_argument("--profile-all", action="store_true",
                        help="py-spy every request path of the http group, whatever its ratio")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables to this file")
    parser.add_argument("--readme", action="store_true",
                        help="also put the tables into bench/README.md (between its figures markers)")
    args = parser.parse_args(argv)

    def pick(value, quick, full):
        return value if value is not None else (quick if args.quick else full)

    args.duration = pick(args.duration, 2.0, 2.0)
    args.rounds = pick(args.rounds, 1, 5)
    args.connections = [int(x) for x in pick(args.connections, "16", "16,256").split(",") if x]
    args.workspaces = [int(x) for x in pick(args.workspaces, "10,1000,2000", "10,1000,10000").split(",") if x]
    args.grep_files = pick(args.grep_files, 1000, 10000)
    only = {g for g in args.only.split(",") if g}
    skip = {g for g in args.skip.split(",") if g}
    unknown = (only | skip) - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))} (groups: {', '.join(GROUPS)})")
    args.groups = [g for g in GROUPS if (not only or g in only) and g not in skip]
    return args


def machine_description(pinned: bool) -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[:1]
    try:
        from importlib.metadata import version
        sanic = version("sanic")
    except Exception:                                  # pragma: no cover
        sanic = "?"
    pin = ("servers pinned to CPU 0, wrk to CPU 1 (taskset)" if pinned else "not pinned")
    return (f"{os.cpu_count()} × {cpu}, {mem_gib:.0f} GiB RAM, Linux {platform.release()}, "
            f"Python {platform.python_version()}, Sanic {sanic}, {wrk[0].strip() if wrk else 'wrk ?'}; "
            f"{pin}; machine shared with other engineers' test runs")


README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def update_readme(markdown: str) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        print(f"bench: {README} has no figures markers; not updated", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    # the tables' own headings go one level below the README's section heading
    body = markdown.replace("\n### ", "\n#### ")
    README.write_text(f"{head}{START}\n{body.strip()}\n{END}{tail}")
    print(f"bench: figures written into {README}")


def run_group(ctx: Context, group: str) -> None:
    if group == "http":
        import scen_http
        scen_http.run(ctx)
    elif group == "engine":
        import scen_engine
        scen_engine.run(ctx)
    elif group == "scaling":
        import scen_scaling
        scen_scaling.run_scaling(ctx)
    elif group == "startup":
        import scen_scaling
        scen_scaling.run_startup(ctx)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print("bench: wrk not found (apt-get install -y wrk)", file=sys.stderr)
        return 2
    pinned = args.pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = SCRATCH / "runs" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(args=args, run_dir=run_dir, server_cpu=0 if pinned else None,
                  client_cpu=1 if pinned else None)
    command = "bench/run " + shlex.join(argv if argv is not None else sys.argv[1:])
    machine = machine_description(pinned)
    print(f"bench: {command.strip()}\nmachine: {machine}\nlogs: {run_dir}", flush=True)
    started = time.monotonic()
    try:
        for group in args.groups:
            try:
                run_group(ctx, group)
            except Exception as exc:                  # one broken group must not lose the others
                traceback.print_exc()
                ctx.table(f"{group}: failed", ["group", "error"]).add(group, f"{type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping servers", file=sys.stderr)
    finally:
        ctx.close()
    elapsed = time.monotonic() - started
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except OSError:
        head = "?"
    header = (f"Run {when} at commit {head or '?'}, {elapsed / 60:.1f} min.\n\n"
              f"Command: `{command.strip()}`\n\nMachine: {machine}\n")
    markdown = header + "\n" + "\n".join(table.markdown() for table in ctx.tables)
    (run_dir / "tables.md").write_text(markdown)
    (run_dir / "results.json").write_text(json.dumps(
        {"command": command, "machine": machine, "when": when, "commit": head,
         "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows, "notes": t.notes}
                    for t in ctx.tables]}, indent=2))
    if args.markdown:
        args.markdown.write_text(markdown)
    if args.readme:
        update_readme(markdown)
    print("\n" + markdown)
    print(f"bench: tables written to {run_dir / 'tables.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
