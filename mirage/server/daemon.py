"""The daemon process: ``run(settings)``, and ``app`` for ``sanic mirage.server.daemon:app``.

``run`` drives the Sanic app on its own event loop (uvloop when installed) so that it
can serve several listening sockets at once (the sockets systemd passes, e.g.
127.0.0.1 and [::1], or a unix socket) and own the process's life:

start    sockets: LISTEN_FDS when LISTEN_PID is ours, else bind server.host:server.port
         → Sanic startup → ``before_server_start`` listeners (the workspace engine
         restores state there) → accept on the sockets → ``after_server_start``
         listeners → READY=1 + STATUS
run      WATCHDOG=1 at half WATCHDOG_USEC from an event-loop task; STATUS on change
         (at most once a second)
SIGHUP   RELOADING=1 → load settings from the same sources → ``apply_settings`` →
         log level → READY=1; a config that fails is logged (error) and the old one
         keeps serving
SIGTERM  STOPPING=1 → ``before_server_stop`` → stop accepting (close, never shutdown,
/idle    the listening sockets) → drain in-flight requests for at most
         server.drain_seconds → ``after_server_stop`` (``app.ctx.stop_hooks``: persist)
         → exit 0. Idle exit (socket-activated only): nothing in flight for
         idle_grace_seconds → the same path; systemd starts us again on the next
         connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from functools import partial

from sanic import Sanic
from sanic.http.constants import Stage
from sanic.models.server_types import Signal as ServerSignal
from sanic.server.async_server import AsyncioServer
from sanic.server.protocols.http_protocol import HttpProtocol

from mirage import logs, systemd
from mirage.server.app import apply_settings, create_app
from mirage.settings import ConfigError, Settings, load_settings

log = logging.getLogger("mirage.daemon")

# uvloop listen()s again on an inherited socket: ask for the most, which the kernel caps at
# net.core.somaxconn exactly as it does for systemd's own default Backlog=, so the socket
# unit's queue is never shrunk by a daemon run.
LISTEN_BACKLOG = 2**31 - 1
STATUS_MIN_INTERVAL = 1.0      # seconds between STATUS= updates
DRAIN_POLL = 0.05

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


# ---------------------------------------------------------------- entry points

def run(settings: Settings, *, reload_settings: Callable[[], Settings] | None = None) -> int:
    """Run the daemon in the foreground until SIGTERM/SIGINT (or idle exit); returns the exit code.

    ``reload_settings`` builds the settings again on SIGHUP; by default from the same
    config file and the same command-line overrides as ``settings``.
    """
    signal.signal(signal.SIGHUP, signal.SIG_IGN)    # the loop handles it once running
    try:
        sd = systemd.take_environment()
    except systemd.ActivationError as exc:
        logs.setup(settings.log_level)
        logs.event(log, logging.ERROR, "socket activation failed", problem=str(exc))
        return EXIT_FAILURE
    logs.setup(settings.log_level, journal=sd.journal)
    try:
        app = create_app(settings, name="mirage")
    except ConfigError as exc:
        logs.event(log, logging.ERROR, "config refused", problem=str(exc))
        return EXIT_CONFIG
    logs.adopt_sanic_loggers()      # Sanic() installed its own handlers
    daemon = Daemon(app, sd, reload_settings or reloader_for(settings))
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(daemon.serve())


def reloader_for(settings: Settings) -> Callable[[], Settings]:
    """Settings from the same sources as ``settings``: its config file (or the default
    lookup when none was used), the environment, and the same command-line flags."""
    overrides = {key: settings.get(key) for key, source in settings.sources.items() if source.startswith("--")}
    config_path = settings.config_path

    def reload() -> Settings:
        return load_settings(config_path=config_path, overrides=overrides)

    return reload


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop
    except ImportError:   # pragma: no cover - uvloop comes with sanic on Linux
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def _app_from_environment() -> Sanic:
    try:
        settings = load_settings()
        logs.setup(settings.log_level, journal=systemd.journal_from_environment())
        app = create_app(settings, name="mirage")
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    logs.adopt_sanic_loggers()
    return app


def __getattr__(name: str):
    # built lazily so that importing the module (tests, the CLI) never reads /etc
    if name == "app":
        value = _app_from_environment()
        globals()["app"] = value
        return value
    raise AttributeError(name)


# ---------------------------------------------------------------- the process's life

class StartError(Exception):
    pass


class Daemon:
    """One run of the server: sockets, signals, notifications, reload, drain."""

    def __init__(self, app: Sanic, sd: systemd.SystemdContext, reload_settings: Callable[[], Settings]):
        self.app = app
        self.sd = sd
        self.notifier = sd.notifier
        self._reload_settings = reload_settings
        self.connections: set = set()
        self.server_signal = ServerSignal()
        self.servers: list[asyncio.AbstractServer] = []
        self.listening: list[str] = []
        self.stop_reason: str | None = None
        self._stop_requested: asyncio.Event | None = None
        self._ready = False
        self._reload_pending = False
        self._reload_lock: asyncio.Lock | None = None
        self._drain_cut = False
        self._status_note = ""                   # e.g. a refused reload, shown until the next good one
        self._tasks: list[asyncio.Task] = []
        self._last_status = ""

    # ------------------------------------------------------------ run

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        self._reload_lock = asyncio.Lock()
        self._install_signal_handlers(loop)
        if self.sd.watchdog_interval:
            self._spawn(self._watchdog(self.sd.watchdog_interval), "watchdog")
        lifecycle = AsyncioServer(self.app, loop, None, self.connections)
        logs.notice(log, "starting", pid=os.getpid(), auth=self.settings.auth_mode,
                    activated=self.sd.socket_activated, journal=self.sd.journal)
        try:
            await lifecycle.startup()
            await lifecycle.before_start()
            await self._open_listeners(loop)
            self.app.state.is_running = True
            await lifecycle.after_start()
        except StartError as exc:
            logs.event(log, logging.ERROR, "start failed", problem=str(exc))
            await self._close_listeners()
            return EXIT_FAILURE
        except ConfigError as exc:               # e.g. an unusable state_dir found while restoring
            logs.event(log, logging.ERROR, "config refused", problem=str(exc))
            await self._close_listeners()
            return EXIT_CONFIG
        except Exception as exc:
            log.exception("start failed problem=%s", logs.value_text(f"{type(exc).__name__}: {exc}"))
            await self._close_listeners()
            return EXIT_FAILURE

        if self.stop_reason is not None:        # SIGTERM arrived while starting
            return await self._stop(lifecycle)
        self._ready = True
        status = self.status_line()
        self._last_status = status
        logs.notice(log, "ready", listen=",".join(self.listening), auth=self.settings.auth_mode,
                    workspaces=self._workspace_count())
        self.notifier.ready(status)
        self._spawn(self._status_updates(), "status")
        if self.sd.socket_activated:
            self._spawn(self._idle_watch(), "idle")
        if self._reload_pending:
            self._start_reload()

        await self._stop_requested.wait()
        return await self._stop(lifecycle)

    def request_stop(self, reason: str) -> None:
        """Begin the stop path; a second SIGTERM/SIGINT while draining cuts the drain short."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.notifier.stopping(f"stopping ({reason}), draining requests")
            self._stop_requested.set()
        elif reason.startswith("SIG") and not self._drain_cut:
            self._drain_cut = True
            logs.notice(log, "second stop signal, cutting the drain short", signal=reason)

    async def _stop(self, lifecycle: AsyncioServer) -> int:
        reason = self.stop_reason or "stop"
        logs.notice(log, "stopping", reason=reason, in_flight=self._busy_connections(),
                    drain_seconds=self.settings.server_drain_seconds)
        try:
            await lifecycle.before_stop()
        except Exception:
            log.exception("before_server_stop listener failed")
        await self._close_listeners()
        await self._drain(self.settings.server_drain_seconds)
        self.app.state.is_running = False
        self.app.shutdown_tasks(timeout=0)
        await self._cancel_tasks(list(self.app.tasks))
        try:
            await lifecycle.after_stop()        # stop hooks: persist before exit
        except Exception:
            log.exception("after_server_stop listener failed")
        await self._cancel_tasks(self._tasks)
        logs.notice(log, "stopped", reason=reason, requests=self.app.ctx.activity.requests_served)
        return EXIT_OK

    # ------------------------------------------------------------ sockets

    def _protocol_factory(self, loop: asyncio.AbstractEventLoop):
        return partial(HttpProtocol, loop=loop, app=self.app, signal=self.server_signal,
                       connections=self.connections, state=None)

    async def _open_listeners(self, loop: asyncio.AbstractEventLoop) -> None:
        factory = self._protocol_factory(loop)
        if self.sd.socket_activated:
            for inherited in self.sd.sockets:
                server = await loop.create_server(factory, sock=inherited.sock, backlog=LISTEN_BACKLOG)
                self.servers.append(server)
                self.listening.append(f"{inherited.address}[fd{inherited.fd}:{inherited.name}]")
            return
        host, port = self.settings.server_host, self.settings.server_port
        bind_host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            server = await loop.create_server(factory, bind_host, port, backlog=LISTEN_BACKLOG,
                                              reuse_address=True)
        except OSError as exc:
            raise StartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.servers.append(server)
        for sock in server.sockets:
            address = sock.getsockname()
            self.listening.append(f"[{address[0]}]:{address[1]}" if sock.family == socket.AF_INET6
                                  else f"{address[0]}:{address[1]}")

    async def _close_listeners(self) -> None:
        """Stop accepting. Only close(): an inherited socket stays open in systemd
        (which queues new connections for the next start); shutdown() is never called."""
        for server in self.servers:
            server.close()
        self.servers = []
        for inherited in self.sd.sockets:
            inherited.sock.close()     # no-op when the loop already closed (uvloop detaches) it
        await asyncio.sleep(0)

    async def _drain(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self.server_signal.stopped = True
        deadline = loop.time() + seconds
        while True:
            for connection in list(self.connections):
                connection.close_if_idle()
            if not self.connections or loop.time() >= deadline or self._drain_cut:
                break
            await asyncio.sleep(DRAIN_POLL)
        if self.connections:
            logs.event(log, logging.WARNING, "drain cut short" if self._drain_cut else "drain timed out",
                       aborted=len(self.connections), drain_seconds=seconds)
            for connection in list(self.connections):
                connection.abort()
        await asyncio.sleep(0)

    def _busy_connections(self) -> int:
        busy = 0
        for connection in self.connections:
            http = getattr(connection, "http", None)
            if http is not None and http.stage is not Stage.IDLE:
                busy += 1
        return busy

    # ------------------------------------------------------------ signals and reload

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        loop.add_signal_handler(signal.SIGHUP, self._on_sighup)

    def _on_sighup(self) -> None:
        if self.stop_reason is not None:
            return
        if not self._ready:
            self._reload_pending = True      # reloaded as soon as we are serving
            return
        self._start_reload()

    def _start_reload(self) -> None:
        self._reload_pending = False
        self._spawn(self.reload(), "reload")

    async def reload(self) -> bool:
        """Re-read the settings and swap them in; on any problem keep the old ones."""
        async with self._reload_lock:
            if self.stop_reason is not None:
                return False
            self.notifier.reloading()
            logs.notice(log, "reloading")
            old = self.settings
            try:
                new = self._reload_settings()
                apply_settings(self.app, new)
            except Exception as exc:
                problem = str(exc) if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {exc}"
                logs.event(log, logging.ERROR, "reload refused, keeping the running config", problem=problem)
                self._status_note = "last reload refused (see the log)"
                self._last_status = self.status_line()
                self.notifier.ready(self._last_status)
                return False
            logs.set_level(new.log_level)
            changed = [name for name, _, _ in new.describe() if new.get(name) != old.get(name)]
            restart_only = [name for name in ("server.host", "server.port") if name in changed]
            if restart_only and not self.sd.socket_activated:
                logs.event(log, logging.WARNING, "reload: listening address changes need a restart",
                           keys=",".join(restart_only))
            logs.notice(log, "reloaded", changed=",".join(changed) or None, auth=new.auth_mode,
                        log_level=new.log_level)
            self._status_note = ""
            self._last_status = self.status_line()
            self.notifier.ready(self._last_status)
            return True

    # ------------------------------------------------------------ background tasks

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"mirage-{name}")
        self._tasks.append(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("background task failed task=%s problem=%s", task.get_name(),
                      logs.value_text(f"{type(exc).__name__}: {exc}"))

    @staticmethod
    async def _cancel_tasks(tasks: list[asyncio.Task]) -> None:
        current = asyncio.current_task()
        tasks = [task for task in tasks if task is not current and not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    async def _watchdog(self, interval: float) -> None:
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    async def _status_updates(self) -> None:
        while self.stop_reason is None:
            await asyncio.sleep(STATUS_MIN_INTERVAL)
            status = self.status_line()
            if status != self._last_status and self.stop_reason is None:
                self._last_status = status
                self.notifier.status(status)

    async def _idle_watch(self) -> None:
        activity = self.app.ctx.activity
        activity.touch()
        while self.stop_reason is None:
            grace = self.settings.idle_grace_seconds
            await asyncio.sleep(max(0.2, min(grace / 4, 5.0)) if grace > 0 else 5.0)
            grace = self.settings.idle_grace_seconds
            if grace <= 0:
                continue
            if self._busy_connections() or self._engine_busy():
                activity.touch()
                continue
            if activity.idle_for() >= grace:
                logs.notice(log, "idle, exiting", idle_seconds=round(activity.idle_for(), 1),
                            idle_grace_seconds=grace)
                self.request_stop("idle")
                return

    def _engine_busy(self) -> bool:
        for check in self.app.ctx.busy_checks:
            try:
                if check():
                    return True
            except Exception:
                log.exception("busy check failed")
                return True
        return False

    # ------------------------------------------------------------ status

    @property
    def settings(self) -> Settings:
        return self.app.ctx.settings

    def _workspace_count(self) -> int | str:
        try:
            return self.app.ctx.workspace_count()
        except Exception:
            return "?"

    def status_line(self) -> str:
        workspaces = self._workspace_count()
        served = self.app.ctx.activity.requests_served
        line = (f"serving {workspaces} workspace{'' if workspaces == 1 else 's'}, "
                f"{served} request{'' if served == 1 else 's'} served (auth={self.settings.auth_mode})")
        return f"{line}; {self._status_note}" if self._status_note else line


__all__ = ["Daemon", "reloader_for", "run"]
