"""mirage config show"""

from __future__ import annotations

import argparse
import sys


def configure(group: argparse.ArgumentParser) -> None:
    sub = group.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    show_p = sub.add_parser("show", help="print resolved settings with their sources",
                            description="Print every setting the daemon would use here, where its value "
                                        "came from (default, file:line, MIRAGE_* variable), secrets redacted.")
    show_p.add_argument("--config", help="config file (default /etc/mirage/mirage.yaml)")
    show_p.add_argument("--json", action="store_true", help="print JSON instead of the aligned text")
    show_p.set_defaults(func=show, needs_context=False)


def show(args: argparse.Namespace) -> int:
    from mirage.cli.output import print_json
    from mirage.settings import ConfigError, load_settings

    try:
        settings = load_settings(config_path=args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    rows = settings.describe()
    if args.json:
        print_json({"config_path": str(settings.config_path) if settings.config_path else None,
                    "settings": [{"key": k, "value": v, "source": s} for k, v, s in rows]})
        return 0
    width = max(len(k) for k, _, _ in rows)
    vwidth = min(50, max(len(v) for _, v, _ in rows))
    print(f"# config file: {settings.config_path or '(none)'}")
    for key, value, source in rows:
        print(f"{key:<{width}}  {value:<{vwidth}}  {source}")
    return 0
