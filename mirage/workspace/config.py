"""workspace.yaml (or the same as JSON) → a validated WorkspaceConfig.

Compatible with the public Mirage format::

    mode: WRITE            # read | write, case-insensitive; default write
    mounts:
      /:      {vfs: ram, mode: WRITE}
      /data:  {vfs: disk, mode: READ, config: {root: /srv/corpus}}

Without ``mounts`` a workspace gets one ram mount at ``/``. A mount's mode
defaults to the workspace's. Every problem raises InvalidConfig naming the
field (``mounts./data.config.root``). ``${VAR}`` expansion is the CLI's job
(it sends the expanded text); the daemon never reads its own environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from mirage.workspace import paths
from mirage.workspace.errors import InvalidConfig
from mirage.workspace.vfs.base import VfsError
from mirage.workspace.vfs.registry import BackendRegistry

MODES = ("read", "write")
TOP_KEYS = ("mode", "mounts")
MOUNT_KEYS = ("vfs", "mode", "config")
MAX_MOUNTS = 64


@dataclass(frozen=True)
class MountConfig:
    prefix: str
    vfs: str
    mode: str
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def read_only(self) -> bool:
        return self.mode == "read"

    def to_dict(self) -> dict[str, Any]:
        return {"vfs": self.vfs, "mode": self.mode, "config": dict(self.config)}


@dataclass(frozen=True)
class WorkspaceConfig:
    mode: str
    mounts: tuple[MountConfig, ...]

    @property
    def read_only(self) -> bool:
        return self.mode == "read"

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: stored, and compared for idempotent creates."""
        return {"mode": self.mode, "mounts": {m.prefix: m.to_dict() for m in self.mounts}}


def _mode(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip().lower() not in MODES:
        raise InvalidConfig(where, f"must be one of read, write (any case), got {value!r}")
    return value.strip().lower()


def parse_text(text: str | bytes) -> Any:
    """YAML (a superset of JSON) text → plain data; InvalidConfig on a syntax error."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidConfig("config", f"invalid YAML{where}: {problem}") from None


def parse_config(raw: Any, backends: BackendRegistry) -> WorkspaceConfig:
    """Validate a workspace.yaml document (already parsed, or its text)."""
    if isinstance(raw, (str, bytes)):
        raw = parse_text(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidConfig("config", "must be a mapping (mode, mounts)")
    for key in raw:
        if key not in TOP_KEYS:
            raise InvalidConfig(f"config.{key}", "unknown key (allowed: mode, mounts)")
    mode = _mode(raw["mode"], "config.mode") if "mode" in raw and raw["mode"] is not None else "write"

    mounts_raw = raw.get("mounts")
    if mounts_raw is None:
        mounts_raw = {"/": {"vfs": "ram"}}
    if not isinstance(mounts_raw, Mapping):
        raise InvalidConfig("config.mounts", "must be a mapping of prefix → {vfs, mode, config}")
    if not mounts_raw:
        raise InvalidConfig("config.mounts", "needs at least one mount")
    if len(mounts_raw) > MAX_MOUNTS:
        raise InvalidConfig("config.mounts", f"at most {MAX_MOUNTS} mounts")

    mounts: dict[str, MountConfig] = {}
    for prefix_raw, block in mounts_raw.items():
        where = f"config.mounts.{prefix_raw}"
        if not isinstance(prefix_raw, str):
            raise InvalidConfig(where, "a mount prefix must be a string")
        try:
            prefix = paths.normalize(prefix_raw)
        except VfsError as exc:
            raise InvalidConfig(where, f"bad mount prefix: {exc.detail}") from None
        if ".." in prefix_raw.split("/"):
            raise InvalidConfig(where, "a mount prefix must not contain '..'")
        if prefix in mounts:
            raise InvalidConfig(where, f"the same prefix as another mount ({prefix})")
        if not isinstance(block, Mapping):
            raise InvalidConfig(where, "must be a mapping {vfs, mode, config}")
        for key in block:
            if key not in MOUNT_KEYS:
                raise InvalidConfig(f"{where}.{key}", "unknown key (allowed: vfs, mode, config)")
        vfs = block.get("vfs")
        if not isinstance(vfs, str) or not vfs:
            raise InvalidConfig(f"{where}.vfs", "is required (e.g. ram, disk)")
        backend = backends.get(vfs.strip().lower(), f"{where}.vfs")
        mount_mode = _mode(block["mode"], f"{where}.mode") if block.get("mode") is not None else mode
        options = block.get("config")
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise InvalidConfig(f"{where}.config", "must be a mapping")
        canonical = backend.validate(options, f"{where}.config")
        mounts[prefix] = MountConfig(prefix, backend.name, mount_mode, canonical)

    ordered = tuple(mounts[p] for p in sorted(mounts))
    return WorkspaceConfig(mode, ordered)


def from_stored(stored: Mapping[str, Any]) -> WorkspaceConfig:
    """Rebuild a config saved by ``to_dict`` without re-validating against the host
    (a disk root that vanished must not stop a restore)."""
    mounts = tuple(
        MountConfig(prefix, block["vfs"], block["mode"], dict(block.get("config") or {}))
        for prefix, block in sorted(stored["mounts"].items())
    )
    return WorkspaceConfig(stored["mode"], mounts)
