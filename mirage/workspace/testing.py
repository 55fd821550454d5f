"""Helpers for tests (of this package and of others, e.g. the shell)."""

from __future__ import annotations

from collections.abc import Mapping

from mirage.workspace.fs import WorkspaceFS
from mirage.workspace.vfs.base import Mount
from mirage.workspace.vfs.ram import RamMount


def ram_workspace_fs(*, read_only: bool = False, extra: Mapping[str, Mount] | None = None) -> WorkspaceFS:
    """A RAM-only WorkspaceFS (ram at ``/``, plus ``extra`` mounts), without persistence."""
    return WorkspaceFS.for_testing(read_only=read_only, extra=extra)


def ram_mount(*, read_only: bool = False) -> RamMount:
    return RamMount(read_only=read_only)
