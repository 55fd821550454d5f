"""mirage token [--show]: where the local token file is and whether it is usable."""

from __future__ import annotations

import argparse
import sys

from mirage.cli.commands import add_common_options
from mirage.cli.context import Context
from mirage.cli.environment import TOKEN_ENV
from mirage.cli.errors import EXIT_AUTH, EXIT_OK
from mirage.cli.output import details, emit


def configure(token_p: argparse.ArgumentParser) -> None:
    add_common_options(token_p)
    token_p.add_argument("--show", action="store_true", help="print the token itself")
    token_p.set_defaults(func=token, needs_context=True)


def token(ctx: Context, args: argparse.Namespace) -> int:
    from mirage.auth.token_file import TokenFileError, load

    path = ctx.env.token_file
    secret: str | None = None
    try:
        secret = load(path)
        state, problem = "valid", None
    except TokenFileError as exc:
        state = "missing" if exc.problem == "does not exist" else "refused"
        problem = exc.problem
    record = {"path": str(path), "home_from": ctx.env.home_source, "status": state, "problem": problem}
    if ctx.env.token or getattr(args, "token", None):
        record["note"] = (f"{'--token' if getattr(args, 'token', None) else TOKEN_ENV} is set: client "
                          "commands send it instead of this file's token")
    code = EXIT_OK if secret is not None else EXIT_AUTH
    if args.show:
        if secret is None:
            print(f"mirage: no usable token at {path}: {problem}", file=sys.stderr)
            return code
        if getattr(args, "json", False):
            emit({**record, "token": secret}, True, details)
        else:
            sys.stdout.write(secret + "\n")
        return code
    emit(record, ctx.as_json, lambda data: details({k: v for k, v in data.items() if v is not None}))
    return code
