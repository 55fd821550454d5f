"""What a client command works with: the endpoint, the token, the output mode, and one
``call()`` that turns every HTTP outcome into a result or a CliError with the right exit code."""

from __future__ import annotations

import argparse
from urllib.parse import quote

from mirage.cli import http
from mirage.cli.credentials import TokenChoice, resolve_token
from mirage.cli.endpoint import DEFAULT_URL, Endpoint, parse_endpoint
from mirage.cli.environment import URL_ENV, ClientEnvironment, read_environment
from mirage.cli.errors import EXIT_AUTH, EXIT_REQUEST, EXIT_UNREACHABLE, CliError
from mirage.cli.output import wants_json

_MODE_HINTS = {
    "local": "a local-mode daemon accepts the token in its token file (MIRAGE_HOME/auth_token, "
             "or auth.token_file) unless MIRAGE_AUTH_TOKEN overrides it",
    "token": "pass the daemon's MIRAGE_AUTH_TOKEN value with --token or MIRAGE_TOKEN",
    "jwt": "pass a JWT signed for this daemon with --token or MIRAGE_TOKEN",
}


def segment(value: str) -> str:
    """One URL path segment (an id), percent-encoded."""
    return quote(value, safe="")


class Context:
    def __init__(self, args: argparse.Namespace, env: ClientEnvironment | None = None):
        self.args = args
        self.env = env or read_environment()
        self.as_json = wants_json(getattr(args, "json", False))
        self.allow_spawn = bool(getattr(args, "spawn", False))
        self._endpoint: Endpoint | None = None
        self._token: TokenChoice | None = None

    # ------------------------------------------------------------ where and who

    @property
    def url_source(self) -> str:
        if getattr(self.args, "url", None):
            return "--url"
        return URL_ENV if self.env.url else "default"

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            text = getattr(self.args, "url", None) or self.env.url or DEFAULT_URL
            self._endpoint = parse_endpoint(text, self.url_source)
        return self._endpoint

    def token(self) -> TokenChoice:
        if self._token is None:
            endpoint = self.endpoint
            self._token = resolve_token(getattr(self.args, "token", None), self.env,
                                        local_url=endpoint.scheme == "unix" or endpoint.is_loopback)
        return self._token

    # ------------------------------------------------------------ calls

    def call(self, method: str, path: str, body: object = None, *, spawn: bool = False,
             read_timeout: float | None = 30.0) -> http.Reply:
        """Send an authenticated request. ``spawn``: this command may start a local daemon
        (besides any command given --spawn). Returns the reply for a 2xx status; raises CliError
        with the right exit code for anything else."""
        def send() -> http.Reply:
            return http.request(self.endpoint, method, path, token=self.token().token, body=body,
                                read_timeout=read_timeout)

        try:
            try:
                reply = send()
            except http.Unreachable as exc:
                if not ((spawn or self.allow_spawn) and exc.nothing_listening and self.endpoint.is_loopback):
                    raise
                self.ensure_daemon()
                reply = send()
            if reply.status == 401 and self.token().token is None:
                # A socket-activated local daemon mints the token file when our request starts it:
                # the file exists now though it did not a moment ago. Ask once more, with it.
                self._token = None
                if self.token().token is not None:
                    reply = send()
        except http.Unreachable as exc:
            raise self.unreachable(exc) from None
        return self.check(reply, method, path)

    def ensure_daemon(self) -> dict:
        """Spawn a local daemon if none answers (health body)."""
        from mirage.cli.spawn import ensure_local_daemon

        body = ensure_local_daemon(self.endpoint, self.env)
        self._token = None        # the token file may exist now
        return body

    def unreachable(self, exc: http.Unreachable) -> CliError:
        hint = "start it with `mirage daemon run` (or `systemctl start mirage.socket`)"
        if self.endpoint.is_loopback:
            hint += ", or add --spawn to start a local one"
        source = "" if self.url_source == "default" else f" (from {self.url_source})"
        return CliError(f"cannot reach the mirage daemon at {self.endpoint.url}{source}: {exc.reason}; {hint}",
                        EXIT_UNREACHABLE)

    def check(self, reply: http.Reply, method: str, path: str) -> http.Reply:
        if 200 <= reply.status < 300:
            if reply.raw.strip() and reply.body is None:
                raise CliError(f"{self.endpoint.url} answered {method} {path} with something that is not "
                               "JSON; is it a mirage daemon?", EXIT_REQUEST)
            return reply
        body = reply.body if isinstance(reply.body, dict) else {}
        code = str(body.get("error") or "")
        detail = str(body.get("detail") or "").strip()
        if reply.status == 401:
            raise self.auth_refused(reply, detail)
        if not body:
            raise CliError(f"{method} {path}: HTTP {reply.status} without a JSON error body from "
                           f"{self.endpoint.url}; is it a mirage daemon?", EXIT_REQUEST)
        if _is_unknown_route(reply.status, code, detail):
            raise CliError(f"the daemon at {self.endpoint.url} does not offer {method} {path} "
                           f"(HTTP {reply.status}); it may be older than this CLI — check `mirage daemon status`",
                           EXIT_REQUEST)
        message = detail or code or f"HTTP {reply.status}"
        raise CliError(f"{message} (HTTP {reply.status}{', ' + code if code else ''})", EXIT_REQUEST)

    def auth_refused(self, reply: http.Reply, detail: str) -> CliError:
        mode = _reported_mode(reply) or self._mode_if_spawned_here()
        choice = self._token
        looked = choice.where_looked() if choice else "(not resolved)"
        used = f"sent the token from {choice.source}" if choice and choice.source else "sent no token"
        parts = [f"the daemon at {self.endpoint.url} refused the request: {detail or 'unauthorized'}",
                 f"daemon auth mode: {mode or 'not reported by this daemon'}",
                 f"the CLI {used}; looked at: {looked}"]
        if mode in _MODE_HINTS:
            parts.append(_MODE_HINTS[mode])
        return CliError(". ".join(parts), EXIT_AUTH)

    def _mode_if_spawned_here(self) -> str | None:
        """A daemon this CLI spawned for MIRAGE_HOME on this port runs in local mode."""
        if not self.endpoint.is_loopback:
            return None
        from mirage.cli.spawn import running_spawned_daemon

        spawned = running_spawned_daemon(self.env)
        if spawned is not None and spawned.port == self.endpoint.port:
            return "local"
        return None


def _reported_mode(reply: http.Reply) -> str | None:
    """The daemon's 401 body names its auth mode (``auth_mode``)."""
    body = reply.body if isinstance(reply.body, dict) else {}
    mode = body.get("auth_mode")
    return mode if isinstance(mode, str) and mode else None


def _is_unknown_route(status: int, code: str, detail: str) -> bool:
    # Sanic's own routing errors (no handler matched) rather than a handler's 404
    if status == 404 and detail.startswith("Requested URL"):
        return True
    return status == 405 and code == "method_not_allowed"
