"""mirage daemon run|status|stop"""

from __future__ import annotations

import argparse
import sys

from mirage.cli import http
from mirage.cli.commands import add_common_options
from mirage.cli.context import Context
from mirage.cli.errors import EXIT_REQUEST, CliError
from mirage.cli.output import details, emit


def configure(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")

    run_p = sub.add_parser("run", help="run the daemon in the foreground",
                           description="Run the daemon in the foreground (single process). Settings come "
                                       "from the config file, MIRAGE_* variables and these flags.")
    run_p.add_argument("--host", help="address to bind (server.host)")
    run_p.add_argument("--port", help="port to bind (server.port)")
    run_p.add_argument("--config", help="config file (default /etc/mirage/mirage.yaml)")
    run_p.set_defaults(func=run, needs_context=False)

    status_p = sub.add_parser("status", help="is a daemon answering, and does it accept our token",
                              description="Ask the daemon for its health; say whether the CLI's token is "
                                          "accepted and whether this CLI started it. Exit 1 if none answers.")
    add_common_options(status_p)
    status_p.set_defaults(func=status, needs_context=True)

    stop_p = sub.add_parser("stop", help="stop a daemon this CLI started",
                            description="Stop the local daemon a mirage command started (SIGTERM: it "
                                        "finishes in-flight requests and saves state first). A daemon run "
                                        "by systemd is stopped with systemctl instead.")
    add_common_options(stop_p)
    stop_p.set_defaults(func=stop, needs_context=True)


def run(args: argparse.Namespace) -> int:
    from mirage.settings import ConfigError, load_settings

    overrides = {"server.host": args.host, "server.port": args.port}
    try:
        settings = load_settings(config_path=args.config, overrides=overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from mirage.server.daemon import run as run_daemon

    return run_daemon(settings)


def _token_state(ctx: Context) -> str:
    try:
        choice = ctx.token()
    except CliError as exc:
        return f"refused locally: {exc.message}"
    if choice.token is None:
        return "no token found (" + choice.where_looked() + ")"
    try:
        reply = http.request(ctx.endpoint, "GET", "/v1/workspaces", token=choice.token, read_timeout=5.0)
    except http.Unreachable as exc:
        return f"not checked: {exc.reason}"
    if reply.status == 401:
        return f"refused (token from {choice.source})"
    if 200 <= reply.status < 300:
        return f"accepted (token from {choice.source})"
    return f"not checked: HTTP {reply.status} on /v1/workspaces"


def status(ctx: Context, args: argparse.Namespace) -> int:
    from mirage.cli.spawn import probe_health, running_spawned_daemon

    try:
        health = ctx.ensure_daemon() if ctx.allow_spawn else probe_health(ctx.endpoint)
    except http.Unreachable as exc:
        raise ctx.unreachable(exc) from None
    if health is None:
        raise ctx.unreachable(http.Unreachable("nothing is listening", nothing_listening=True))
    spawned = running_spawned_daemon(ctx.env)
    ours = spawned is not None and ctx.endpoint.is_loopback and spawned.port == ctx.endpoint.port
    record = {
        "url": ctx.endpoint.url,
        **health,
        "started_by_cli": ours,
        "pid": spawned.pid if ours else None,
        "token": _token_state(ctx),
    }
    emit(record, ctx.as_json, details)
    return 0


def stop(ctx: Context, args: argparse.Namespace) -> int:
    from mirage.cli.spawn import probe_health, running_spawned_daemon, stop_spawned

    spawned = running_spawned_daemon(ctx.env)
    endpoint = ctx.endpoint
    if spawned is not None and endpoint.is_loopback and spawned.port in (endpoint.port, None):
        seconds = stop_spawned(ctx.env, spawned)
        emit({"stopped": True, "pid": spawned.pid, "seconds": round(seconds, 3)}, ctx.as_json,
             lambda data: f"stopped the local daemon (pid {spawned.pid})")
        return 0
    try:
        health = probe_health(endpoint)
    except http.Unreachable as exc:
        raise ctx.unreachable(exc) from None
    if health is None:
        emit({"stopped": False, "running": False}, ctx.as_json,
             lambda data: f"no daemon is running at {endpoint.url}")
        return 0
    other = ""
    if spawned is not None and spawned.port:
        other = (f" (the daemon this CLI started for {ctx.env.home} runs on port {spawned.port}: "
                 f"`mirage daemon stop --url http://127.0.0.1:{spawned.port}`)")
    raise CliError(f"the daemon at {endpoint.url} was not started by the mirage CLI{other}. If systemd "
                   "runs it: `sudo systemctl stop mirage.service mirage.socket` (stopping only the service "
                   "lets the socket start it again on the next request); otherwise stop the process that "
                   "runs `mirage daemon run`", EXIT_REQUEST)
