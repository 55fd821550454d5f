"""Settings: one immutable object, layered defaults < YAML file < MIRAGE_* env < CLI flags.

Every key has a dotted YAML name (``server.port``), exactly one environment name
(``MIRAGE_PORT``) and one attribute on :class:`Settings` (``server_port``). Any bad
value raises :class:`ConfigError`, whose message is one line naming the key and
where the value came from (``/etc/mirage/mirage.yaml:7`` or ``MIRAGE_PORT``).

This is the only module that reads ``os.environ`` for configuration.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_PATH = Path("/etc/mirage/mirage.yaml")
CONFIG_ENV = "MIRAGE_CONFIG"

# Environment names that belong to the client side (the CLI) or select the config
# file; they are not settings keys, so the daemon tolerates them.
CLIENT_ENV_NAMES = frozenset({"MIRAGE_CONFIG", "MIRAGE_DAEMON_URL", "MIRAGE_TOKEN"})

LOG_LEVELS = ("debug", "info", "notice", "warning", "error")
AUTH_MODES = ("local", "token", "jwt")
JWT_ALGS = (
    "RS256", "RS384", "RS512",
    "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512",
    "EdDSA",
)
FSYNC_POLICIES = ("always", "everysec")


class ConfigError(Exception):
    """A configuration problem: names the key and where its value came from."""

    def __init__(self, key: str, source: str, problem: str):
        self.key = key
        self.source = source
        self.problem = problem
        super().__init__(f"config error: {key}: {problem} (from {source})")


class _Invalid(ValueError):
    """Raised by a parser; turned into a ConfigError with key and source."""


# ---------------------------------------------------------------- value parsers

def _str(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(f"expected a string, got {_kind(value)}")
    text = str(value)
    if "\x00" in text:
        raise _Invalid("contains a NUL byte")
    return text


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = _str(value)
    return text or None


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(f"expected an integer, got {_kind(value)}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and value.strip().isascii():
            try:
                number = int(value.strip(), 10)
            except ValueError:
                raise _Invalid(f"expected an integer, got {_shown(value)}") from None
        else:
            raise _Invalid(f"expected an integer, got {_shown(value)}")
        if not lo <= number <= hi:
            raise _Invalid(f"{number} is out of range {lo}..{hi}")
        return number

    return parse


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise _Invalid(f"expected true or false, got {_shown(value)}")


def _choice(choices: tuple[str, ...], *, fold: bool = True) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _str(value).strip()
        for choice in choices:
            if text == choice or (fold and text.lower() == choice.lower()):
                return choice
        raise _Invalid(f"{_shown(value)} is not one of {', '.join(choices)}")

    return parse


def _str_list(value: Any) -> tuple[str, ...]:
    """A YAML list of strings, or a comma-separated string (the env form)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, list):
        items = [_str(item).strip() for item in value]
    else:
        raise _Invalid(f"expected a list or a comma-separated string, got {_kind(value)}")
    return tuple(item for item in items if item)


def _path(value: Any) -> Path:
    text = _str(value).strip()
    if not text:
        raise _Invalid("is empty")
    return Path(text).expanduser()


def _opt_path(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    return _path(value)


def _host(value: Any) -> str:
    text = _str(value).strip()
    if not text:
        raise _Invalid("is empty")
    return text


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean", type(None): "nothing"}.get(
        type(value), type(value).__name__
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- the key table

@dataclass(frozen=True)
class Key:
    name: str                 # dotted YAML name
    env: str                  # its one environment name
    parse: Callable[[Any], Any]
    default: Any
    help: str
    secret: bool = False

    @property
    def attr(self) -> str:
        return self.name.replace(".", "_")


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

KEYS: tuple[Key, ...] = (
    Key("server.host", "MIRAGE_HOST", _host, "127.0.0.1", "address to bind when not socket-activated"),
    Key("server.port", "MIRAGE_PORT", _int(0, 65535), 8765, "port to bind when not socket-activated"),
    Key("server.allowed_hosts", "MIRAGE_ALLOWED_HOSTS", _str_list, LOOPBACK_HOSTS,
        "Host header names accepted (any port); '*' turns the check off"),
    Key("server.max_body_bytes", "MIRAGE_MAX_BODY_BYTES", _int(1024, 1 << 34), 16 << 20,
        "largest request body accepted (413 beyond)"),
    Key("server.drain_seconds", "MIRAGE_DRAIN_SECONDS", _int(0, 3600), 20,
        "how long a stop waits for in-flight requests (keep below TimeoutStopSec)"),
    Key("home", "MIRAGE_HOME", _path, None, "per-user root holding auth_token and state/ (default ~/.mirage)"),
    Key("state_dir", "MIRAGE_STATE_DIR", _path, None, "where workspaces persist (default HOME/state)"),
    Key("state.fsync", "MIRAGE_STATE_FSYNC", _choice(FSYNC_POLICIES), "always",
        "always: fsync before each acknowledgement; everysec: at most one second of writes at risk"),
    Key("log.level", "MIRAGE_LOG_LEVEL", _choice(LOG_LEVELS), "info", "lowest priority logged"),
    Key("log.access", "MIRAGE_LOG_ACCESS", _bool, True, "one info line per request"),
    Key("auth.mode", "MIRAGE_AUTH_MODE", _choice(AUTH_MODES), "local", "local | token | jwt"),
    Key("auth.token", "MIRAGE_AUTH_TOKEN", _opt_str, None, "the bearer token (token mode; overrides the file in local mode)",
        secret=True),
    Key("auth.token_file", "MIRAGE_AUTH_TOKEN_FILE", _path, None, "local-mode token file (default HOME/auth_token)"),
    Key("jwt.pubkey", "MIRAGE_JWT_PUBKEY", _opt_str, None, "PEM public key text", secret=True),
    Key("jwt.pubkey_file", "MIRAGE_JWT_PUBKEY_FILE", _opt_path, None, "file holding the PEM public key"),
    Key("jwt.alg", "MIRAGE_JWT_ALG", lambda v: None if v in (None, "") else _choice(JWT_ALGS, fold=False)(v), None,
        "the one accepted algorithm (RS/PS/ES 256/384/512 or EdDSA)"),
    Key("jwt.issuer", "MIRAGE_JWT_ISSUER", _opt_str, None, "required iss, when set"),
    Key("jwt.audience", "MIRAGE_JWT_AUDIENCE", _str_list, (), "accepted aud values (list or comma string)"),
    Key("jwt.authorized_parties", "MIRAGE_JWT_AUTHORIZED_PARTIES", _str_list, (),
        "when set, azp must be one of these"),
    Key("jwt.clock_skew_seconds", "MIRAGE_JWT_CLOCK_SKEW_SECONDS", _int(0, 600), 5, "leeway for exp/nbf/iat"),
    Key("idle_grace_seconds", "MIRAGE_IDLE_GRACE_SECONDS", _int(0, 1 << 31), 300,
        "socket-activated daemon exits after this long idle; 0 disables"),
    Key("shell.timeout_seconds", "MIRAGE_SHELL_TIMEOUT_SECONDS", _int(1, 86400), 60,
        "wall-time limit for one shell line"),
    Key("shell.output_limit_bytes", "MIRAGE_SHELL_OUTPUT_LIMIT_BYTES", _int(1024, 1 << 31), 8 << 20,
        "cap on one shell line's stdout+stderr"),
    Key("workspace.disk_roots", "MIRAGE_WORKSPACE_DISK_ROOTS", _str_list, (),
        "host folders disk mounts may use (a root must be one of them or inside one); "
        "empty: any folder in local/token mode, none in jwt mode; '*': any folder"),
)

KEYS_BY_NAME: Mapping[str, Key] = {key.name: key for key in KEYS}
KEYS_BY_ENV: Mapping[str, Key] = {key.env: key for key in KEYS}
SECTIONS = frozenset(key.name.split(".")[0] for key in KEYS if "." in key.name)


@dataclass(frozen=True)
class Settings:
    """The resolved configuration. Build it with :func:`load_settings`."""

    server_host: str = "127.0.0.1"
    server_port: int = 8765
    server_allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    server_max_body_bytes: int = 16 << 20
    server_drain_seconds: int = 20
    home: Path = Path("~/.mirage")
    state_dir: Path = Path("~/.mirage/state")
    state_fsync: str = "always"
    log_level: str = "info"
    log_access: bool = True
    auth_mode: str = "local"
    auth_token: str | None = field(default=None, repr=False)   # secret: never in a repr or log
    auth_token_file: Path = Path("~/.mirage/auth_token")
    jwt_pubkey: str | None = field(default=None, repr=False)
    jwt_pubkey_file: Path | None = None
    jwt_alg: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: tuple[str, ...] = ()
    jwt_authorized_parties: tuple[str, ...] = ()
    jwt_clock_skew_seconds: int = 5
    idle_grace_seconds: int = 300
    shell_timeout_seconds: int = 60
    shell_output_limit_bytes: int = 8 << 20
    workspace_disk_roots: tuple[str, ...] = ()
    config_path: Path | None = None
    # key name -> where its value came from ("default", "file:line", "MIRAGE_X", "--flag")
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def source_of(self, key: str) -> str:
        return self.sources.get(key, "default")

    def get(self, key: str) -> Any:
        return getattr(self, KEYS_BY_NAME[key].attr)

    def describe(self) -> list[tuple[str, str, str]]:
        """(key, shown value, source) for every key, secrets redacted."""
        rows = []
        for key in KEYS:
            value = self.get(key.name)
            if key.secret and value:
                shown = "<redacted>"
            elif isinstance(value, tuple):
                shown = ",".join(value)
            elif value is None:
                shown = ""
            else:
                shown = str(value)
            rows.append((key.name, shown, self.source_of(key.name)))
        return rows


# ---------------------------------------------------------------- loading

def _read_yaml(path: Path) -> dict[str, tuple[Any, str]]:
    """Read the YAML file into {dotted key: (value, "path:line")}."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config", where, "file does not exist") from None
    except IsADirectoryError:
        raise ConfigError("config", where, "is a directory, not a file") from None
    except PermissionError:
        raise ConfigError("config", where, "permission denied") from None
    except UnicodeDecodeError:
        raise ConfigError("config", where, "is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError("config", where, exc.strerror or str(exc)) from None

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError("config", f"{where}{line}", f"invalid YAML: {problem}") from None
    finally:
        loader.dispose()
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError("config", f"{where}:{root.start_mark.line + 1}", "the top level must be a mapping")

    found: dict[str, tuple[Any, str]] = {}

    def walk(node: yaml.MappingNode, prefix: str) -> None:
        for key_node, value_node in node.value:
            line = f"{where}:{key_node.start_mark.line + 1}"
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(prefix.rstrip(".") or "config", line, "keys must be plain names")
            name = prefix + str(key_node.value)
            if name in SECTIONS and not prefix:
                if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
                    continue
                if not isinstance(value_node, yaml.MappingNode):
                    raise ConfigError(name, line, "must be a mapping of keys")
                walk(value_node, name + ".")
                continue
            if name not in KEYS_BY_NAME:
                raise ConfigError(name, line, "unknown key")
            if name in found:
                raise ConfigError(name, line, f"given twice (also at {found[name][1]})")
            try:
                value = yaml.SafeLoader("").construct_document(value_node)
            except Exception as exc:  # noqa: BLE001 — any tag's constructor may fail its own way
                # only the short problem, never the YAML snippet: the line may hold a secret
                problem = getattr(exc, "problem", None) or "not a valid value for its tag"
                raise ConfigError(name, line, f"invalid value: {problem}") from None
            if value is not None:       # `key:` or `key: null` leaves the default in place
                found[name] = (value, line)

    walk(root, "")
    return found


def load_settings(
    env: Mapping[str, str] | None = None,
    config_path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve the settings: defaults < YAML file < MIRAGE_* env < ``overrides`` (CLI flags).

    ``overrides`` maps dotted key names to (already typed or string) values.
    Raises :class:`ConfigError` on any problem.
    """
    env = dict(os.environ if env is None else env)
    layers: dict[str, tuple[Any, str]] = {}

    # 1. which file: --config > MIRAGE_CONFIG > the default (whose absence is fine)
    if config_path is not None:
        path, required = Path(config_path).expanduser(), True
    elif env.get(CONFIG_ENV):
        path, required = Path(env[CONFIG_ENV]).expanduser(), True
    else:
        path, required = DEFAULT_CONFIG_PATH, False
    # The system file is the system daemon's (root:mirage 0640 when packaged): another
    # user's local daemon or `config show` goes on without it rather than failing.
    if required or (path.exists() and os.access(path, os.R_OK)):
        layers.update(_read_yaml(path))
        used_path: Path | None = path
    else:
        used_path = None

    # 2. environment (empty counts as unset; unknown MIRAGE_* names are refused)
    for name, value in env.items():
        if not name.startswith("MIRAGE_") or name in CLIENT_ENV_NAMES:
            continue
        key = KEYS_BY_ENV.get(name)
        if key is None:
            raise ConfigError(name, name, "unknown MIRAGE_* variable (see etc/mirage/mirage.yaml for the names)")
        if value == "":
            continue
        layers[key.name] = (value, name)

    # 3. command-line flags
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        key = KEYS_BY_NAME[name]
        flag = "--" + name.split(".")[-1].replace("_", "-")
        layers[name] = (value, flag)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in KEYS:
        if key.name in layers:
            raw, source = layers[key.name]
            try:
                values[key.attr] = key.parse(raw)
            except _Invalid as exc:
                raise ConfigError(key.name, source, str(exc)) from None
            sources[key.name] = source
        else:
            values[key.attr] = key.default

    # derived defaults
    home = values["home"] or Path(env.get("HOME") or Path.home()) / ".mirage"
    values["home"] = Path(home).expanduser()
    if values["state_dir"] is None:
        values["state_dir"] = values["home"] / "state"
    if values["auth_token_file"] is None:
        values["auth_token_file"] = values["home"] / "auth_token"

    settings = Settings(**values, config_path=used_path, sources=sources)
    _check_cross_key_rules(settings)
    return settings


def _check_cross_key_rules(s: Settings) -> None:
    """Rules that involve more than one key; file contents are checked by the verifier."""
    if s.auth_mode == "token" and not s.auth_token:
        raise ConfigError("auth.token", "MIRAGE_AUTH_TOKEN",
                          "token mode needs a token: set MIRAGE_AUTH_TOKEN (or auth.token in the config file)")
    if s.auth_mode == "jwt":
        if not s.jwt_alg:
            raise ConfigError("jwt.alg", "MIRAGE_JWT_ALG",
                              "jwt mode needs MIRAGE_JWT_ALG (RS/PS/ES 256/384/512 or EdDSA; none and HS* are refused)")
        if bool(s.jwt_pubkey) == bool(s.jwt_pubkey_file):
            src = s.source_of("jwt.pubkey") if s.jwt_pubkey else "MIRAGE_JWT_PUBKEY"
            raise ConfigError("jwt.pubkey", src,
                              "jwt mode needs exactly one of MIRAGE_JWT_PUBKEY or MIRAGE_JWT_PUBKEY_FILE")
    if "*" not in s.server_allowed_hosts:
        for host in s.server_allowed_hosts:
            bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
            if any(c.isspace() for c in host) or "/" in host:
                raise ConfigError("server.allowed_hosts", s.source_of("server.allowed_hosts"),
                                  f"{host!r} is not a host name")
            if ":" in bare and not host.startswith("["):
                try:
                    ipaddress.IPv6Address(bare)
                except ValueError:
                    raise ConfigError("server.allowed_hosts", s.source_of("server.allowed_hosts"),
                                      f"{host!r}: give names without a port (any port is accepted)") from None
                raise ConfigError("server.allowed_hosts", s.source_of("server.allowed_hosts"),
                                  f"{host!r}: write IPv6 addresses in brackets, e.g. [::1]")
