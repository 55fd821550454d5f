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


class DiskBackend:
    name = "disk"
    journaled = False

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
        return {"root": resolved}

    def create(self, config: Mapping[str, Any], *, read_only: bool) -> Mount:
        from mirage.workspace.vfs.disk import DiskMount

        return DiskMount(config["root"], read_only=read_only)


def default_backends() -> BackendRegistry:
    return BackendRegistry([RamBackend(), DiskBackend()])
