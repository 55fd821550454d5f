"""Backends by name: ``vfs: ram`` / ``vfs: disk`` in workspace.yaml.

A backend is a small object with a ``name``, ``validate(config, field)``
(returns the canonical config or raises InvalidConfig naming the field),
``create(config, read_only=...)`` returning a Mount, and ``journaled``: True
when the workspace state store must persist the mount's contents (RAM),
False when the backend keeps its own data (a host folder, an object store).
New backends (fsspec object stores, Redis) register here; the engine never
names a backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from mirage.workspace.errors import InvalidConfig
from mirage.workspace.vfs.base import Mount


class Backend(Protocol):
    name: str
    journaled: bool

    def validate(self, config: Mapping[str, Any], field: str) -> dict[str, Any]: ...

    def create(self, config: Mapping[str, Any], *, read_only: bool) -> Mount: ...


class BackendRegistry:
    def __init__(self, backends: Iterable[Backend] = ()):
        self._backends: dict[str, Backend] = {}
        for backend in backends:
            self.register(backend)

    def register(self, backend: Backend) -> None:
        if backend.name in self._backends:
            raise ValueError(f"backend {backend.name!r} is registered twice")
        self._backends[backend.name] = backend

    def get(self, name: str, field: str = "vfs") -> Backend:
        backend = self._backends.get(name)
        if backend is None:
            known = ", ".join(sorted(self._backends))
            raise InvalidConfig(field, f"unknown vfs {name!r} (known: {known})")
        return backend

    def names(self) -> list[str]:
        return sorted(self._backends)


def _no_keys(config: Mapping[str, Any], field: str, allowed: Iterable[str]) -> None:
    extra = sorted(set(config) - set(allowed))
    if extra:
        raise InvalidConfig(f"{field}.{extra[0]}", "unknown key")


class RamBackend:
    name = "ram"
    journaled = True

    def validate(self, config: Mapping[str, Any], field: str) -> dict[str, Any]:
        _no_keys(config, field, ())
        return {}

    def create(self, config: Mapping[str, Any], *, read_only: bool) -> Mount:
        from mirage.workspace.vfs.ram import RamMount

        return RamMount(read_only=read_only)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


class DiskBackend:
    """``allowed_roots``: None lets any host folder be mounted; otherwise a root must be
    one of them or inside one (an empty tuple refuses every disk mount). ``protected``:
    folders a root may never be, lie inside, or (when ``protect_ancestors``) contain —
    the daemon's own state."""

    name = "disk"
    journaled = False

    def __init__(self, allowed_roots: Iterable[str] | None = None, protected: Iterable[str] = (),
                 protect_ancestors: bool = False):
        import os

        self.allowed_roots = None if allowed_roots is None else tuple(os.path.realpath(r) for r in allowed_roots)
        self.protected = tuple(os.path.realpath(p) for p in protected)
        self.protect_ancestors = protect_ancestors

    def validate(self, config: Mapping[str, Any], field: str) -> dict[str, Any]:
        import os

        _no_keys(config, field, ("root",))
        root = config.get("root")
        if root is None:
            raise InvalidConfig(f"{field}.root", "is required (the host folder to mount)")
        if not isinstance(root, str) or not root.strip():
            raise InvalidConfig(f"{field}.root", "must be a non-empty string")
        if "\x00" in root:
            raise InvalidConfig(f"{field}.root", "contains a NUL byte")
        if not os.path.isabs(root):
            raise InvalidConfig(f"{field}.root", f"must be an absolute path, got {root!r}")
        resolved = os.path.realpath(root)
        if not os.path.exists(resolved):
            raise InvalidConfig(f"{field}.root", f"{root} does not exist")
        if not os.path.isdir(resolved):
            raise InvalidConfig(f"{field}.root", f"{root} is not a directory")
        for folder in self.protected:
            if _inside(resolved, folder) or (self.protect_ancestors and _inside(folder, resolved)):
                raise InvalidConfig(f"{field}.root", f"{root} overlaps the daemon's own state folder")
        if self.allowed_roots is not None and not any(_inside(resolved, a) for a in self.allowed_roots):
            if not self.allowed_roots:
                raise InvalidConfig(f"{field}.root", "disk mounts are not enabled on this daemon "
                                                     "(workspace.disk_roots is empty)")
            raise InvalidConfig(f"{field}.root", f"{root} is outside the folders this daemon allows "
                                                 "(workspace.disk_roots)")
        return {"root": resolved}

    def create(self, config: Mapping[str, Any], *, read_only: bool) -> Mount:
        from mirage.workspace.vfs.disk import DiskMount

        return DiskMount(config["root"], read_only=read_only)


def default_backends(disk: DiskBackend | None = None) -> BackendRegistry:
    return BackendRegistry([RamBackend(), disk or DiskBackend()])


def disk_backend_for(multi_tenant: bool, disk_roots: Iterable[str], state_dir: str) -> DiskBackend:
    """The disk policy of settings ``workspace.disk_roots``: '*' → any folder; a list →
    those folders; empty → any folder for a single-account daemon, none for a multi-tenant
    one (remote subjects must not reach the host unless the operator says where)."""
    roots = tuple(disk_roots)
    if "*" in roots:
        allowed = None
    elif roots:
        allowed = roots
    else:
        allowed = () if multi_tenant else None
    return DiskBackend(allowed, protected=[state_dir], protect_ancestors=multi_tenant)
