"""WorkspaceFS: normalisation, routing by longest prefix, mount points, EXDEV, EROFS."""

import asyncio
import errno

import pytest

from mirage.workspace.fs import WorkspaceFS
from mirage.workspace.paths import normalize
from mirage.workspace.testing import ram_mount, ram_workspace_fs
from mirage.workspace.vfs.base import VfsError


def run(coro):
    return asyncio.run(coro)


def code_of(coro) -> int:
    with pytest.raises(VfsError) as info:
        run(coro)
    return info.value.code


@pytest.mark.parametrize("raw, expected", [
    ("/", "/"), ("//a//b/", "/a/b"), ("/a/./b", "/a/b"), ("/a/../b", "/b"),
    ("/../../etc/passwd", "/etc/passwd"), ("/a/b/../../..", "/"),
])
def test_normalize_resolves_dots_and_clamps_at_root(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize("raw, code", [
    ("relative/path", errno.EINVAL),
    ("/a\x00b", errno.EINVAL),
    ("/" + "n" * 256, errno.ENAMETOOLONG),
    ("/" + "/".join(["d" * 200] * 25), errno.ENAMETOOLONG),
])
def test_normalize_refuses_bad_paths_with_linux_errno(raw, code):
    with pytest.raises(VfsError) as info:
        normalize(raw)
    assert info.value.code == code


def test_name_of_exactly_255_bytes_is_accepted():
    fs = ram_workspace_fs()
    run(fs.write("/" + "n" * 255, b"ok"))
    assert run(fs.read("/" + "n" * 255)) == b"ok"


def test_longest_prefix_wins_and_paths_reach_the_right_mount():
    inner = ram_mount()
    fs = ram_workspace_fs(extra={"/data": ram_mount(), "/data/inner": inner})
    run(fs.write("/data/inner/f", b"deep"))
    assert run(inner.read("/f")) == b"deep"
    assert run(fs.readdir("/data")) == ["inner"]


def test_mount_points_appear_as_directories_in_parents():
    fs = ram_workspace_fs(extra={"/a/b/c": ram_mount()})
    assert "a" in run(fs.readdir("/"))
    assert run(fs.readdir("/a")) == ["b"]
    assert run(fs.stat("/a/b")).is_dir
    assert run(fs.stat("/a/b/c")).is_dir
    assert run(fs.exists("/a/b/c"))


def test_without_a_root_mount_only_mount_ancestors_exist():
    fs = WorkspaceFS({"/work": ram_mount()})
    assert run(fs.readdir("/")) == ["work"]
    assert code_of(fs.stat("/other")) == errno.ENOENT
    assert code_of(fs.write("/other", b"x")) == errno.EROFS
    assert not run(fs.exists("/other"))


def test_rename_across_mounts_is_exdev():
    fs = ram_workspace_fs(extra={"/other": ram_mount()})
    run(fs.write("/f", b"x"))
    assert code_of(fs.rename("/f", "/other/f")) == errno.EXDEV


def test_mount_points_cannot_be_removed_or_renamed():
    fs = ram_workspace_fs(extra={"/m": ram_mount()})
    assert code_of(fs.rmdir("/m")) == errno.EBUSY
    assert code_of(fs.rename("/m", "/n")) == errno.EBUSY
    assert code_of(fs.unlink("/m")) == errno.EISDIR
    assert code_of(fs.write("/m", b"x")) == errno.EISDIR
    assert code_of(fs.mkdir("/m")) == errno.EEXIST
    run(fs.mkdir("/m", exist_ok=True))


def test_read_only_mount_is_erofs_and_read_only_workspace_refuses_all_writes():
    fs = ram_workspace_fs(extra={"/ro": ram_mount(read_only=True)})
    assert code_of(fs.write("/ro/f", b"x")) == errno.EROFS
    assert code_of(fs.mkdir("/ro/d")) == errno.EROFS
    run(fs.write("/rw", b"x"))
    locked = ram_workspace_fs(read_only=True)
    for call in (locked.write("/f", b"x"), locked.mkdir("/d"), locked.unlink("/f"),
                 locked.rmdir("/d"), locked.rename("/a", "/b"), locked.truncate("/f", 0)):
        assert code_of(call) == errno.EROFS
    assert run(locked.readdir("/")) == []


def test_errors_carry_the_workspace_path_not_the_mount_path():
    fs = ram_workspace_fs(extra={"/data": ram_mount()})
    with pytest.raises(VfsError) as info:
        run(fs.read("/data/missing"))
    assert info.value.path == "/data/missing"


def test_dot_dot_cannot_climb_out_of_a_mount_into_another():
    fs = ram_workspace_fs(extra={"/data": ram_mount()})
    run(fs.write("/secret", b"root-mount"))
    # /data/../secret is the workspace path /secret, served by the / mount
    assert run(fs.read("/data/../secret")) == b"root-mount"
    assert run(fs.read("/data/../../../../secret")) == b"root-mount"


def test_commit_calls_the_committer():
    calls = []

    async def committer():
        calls.append(1)

    fs = WorkspaceFS({"/": ram_mount()}, committer=committer)
    run(fs.commit())
    assert calls == [1]
