"""Entry point of the `mirage` command."""

from __future__ import annotations

import argparse
import sys


def _daemon_run(args: argparse.Namespace) -> int:
    from mirage.settings import ConfigError, load_settings

    overrides = {"server.host": args.host, "server.port": args.port}
    try:
        settings = load_settings(config_path=args.config, overrides=overrides)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    from mirage.server.daemon import run

    return run(settings)


def _config_show(args: argparse.Namespace) -> int:
    from mirage.settings import ConfigError, load_settings

    try:
        settings = load_settings(config_path=args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows = settings.describe()
    width = max(len(k) for k, _, _ in rows)
    vwidth = min(50, max(len(v) for _, v, _ in rows))
    print(f"# config file: {settings.config_path or '(none)'}")
    for key, value, source in rows:
        print(f"{key:<{width}}  {value:<{vwidth}}  {source}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mirage", description="Mirage workspace daemon and client")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    daemon = groups.add_parser("daemon", help="run or control the daemon")
    daemon_cmds = daemon.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    run = daemon_cmds.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--host", help="address to bind (server.host)")
    run.add_argument("--port", help="port to bind (server.port)")
    run.add_argument("--config", help="config file (default /etc/mirage/mirage.yaml)")
    run.set_defaults(func=_daemon_run)

    config = groups.add_parser("config", help="inspect the configuration")
    config_cmds = config.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    show = config_cmds.add_parser("show", help="print resolved settings with their sources")
    show.add_argument("--config", help="config file (default /etc/mirage/mirage.yaml)")
    show.set_defaults(func=_config_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
