"""The disk backend: confinement to its root (.., absolute, symlinks, NUL, long names), each call, EROFS."""

import asyncio
import errno
import os

import pytest

from mirage.workspace.fs import WorkspaceFS
from mirage.workspace.vfs.base import VfsError
from mirage.workspace.vfs.disk import DiskMount
from mirage.workspace.vfs.ram import RamMount


def run(coro):
    return asyncio.run(coro)


def code_of(coro) -> int:
    with pytest.raises(VfsError) as info:
        run(coro)
    return info.value.code


@pytest.fixture
def host(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    return root, outside


def test_write_read_append_stat_readdir_on_the_host_folder(host):
    root, _ = host
    m = DiskMount(str(root))
    run(m.mkdir("/d"))
    run(m.write("/d/f.txt", b"hello"))
    run(m.write("/d/f.txt", b" world", append=True))
    assert (root / "d" / "f.txt").read_bytes() == b"hello world"
    assert run(m.read("/d/f.txt", 6, 5)) == b"world"
    assert run(m.stat("/d/f.txt")).size == 11
    assert run(m.stat("/d")).is_dir
    assert run(m.readdir("/")) == ["d"]
    run(m.truncate("/d/f.txt", 5))
    assert run(m.read("/d/f.txt")) == b"hello"
    run(m.rename("/d/f.txt", "/g.txt"))
    run(m.unlink("/g.txt"))
    run(m.rmdir("/d"))
    assert run(m.readdir("/")) == []


def test_errno_of_each_failure_matches_linux(host):
    root, _ = host
    m = DiskMount(str(root))
    run(m.mkdir("/d"))
    run(m.write("/d/f", b"x"))
    assert code_of(m.read("/missing")) == errno.ENOENT
    assert code_of(m.mkdir("/d")) == errno.EEXIST
    assert code_of(m.rmdir("/d")) == errno.ENOTEMPTY
    assert code_of(m.unlink("/d")) == errno.EISDIR
    assert code_of(m.read("/d")) == errno.EISDIR
    assert code_of(m.readdir("/d/f")) == errno.ENOTDIR
    assert code_of(m.write("/d/f/x", b"")) == errno.ENOTDIR
    run(m.mkdir("/d", exist_ok=True))
    run(m.mkdir("/p/q/r", parents=True))
    assert run(m.stat("/p/q/r")).is_dir


def test_dot_dot_and_dot_components_are_refused_before_any_io(host):
    root, _ = host
    m = DiskMount(str(root))
    assert code_of(m.read("/../outside/secret.txt")) == errno.EINVAL
    assert code_of(m.write("/a/../../x", b"")) == errno.EINVAL
    assert code_of(m.read("relative")) == errno.EINVAL
    assert code_of(m.read("/a\x00b")) == errno.EINVAL


def test_workspace_paths_with_dot_dot_stay_inside_the_mount(host):
    root, outside = host
    fs = WorkspaceFS({"/": RamMount(), "/data": DiskMount(str(root))})
    # normalised to /outside/secret.txt on the ram mount, never the host
    assert code_of(fs.read("/data/../../outside/secret.txt")) == errno.ENOENT
    assert code_of(fs.read("/data/../../../../../" + str(outside / "secret.txt"))) == errno.ENOENT


def test_absolute_host_paths_are_resolved_inside_the_root(host):
    root, outside = host
    m = DiskMount(str(root))
    assert code_of(m.read(str(outside / "secret.txt"))) == errno.ENOENT


def test_a_symlink_to_outside_is_never_followed(host):
    root, outside = host
    os.symlink(outside / "secret.txt", root / "link")
    os.symlink(outside, root / "dirlink")
    m = DiskMount(str(root))
    assert code_of(m.read("/link")) == errno.ELOOP
    assert code_of(m.read("/dirlink/secret.txt")) in (errno.ELOOP, errno.ENOTDIR)
    assert code_of(m.write("/link", b"overwrite")) == errno.ELOOP
    assert code_of(m.write("/dirlink/new", b"x")) in (errno.ELOOP, errno.ENOTDIR)
    assert code_of(m.readdir("/dirlink")) in (errno.ELOOP, errno.ENOTDIR)
    assert code_of(m.truncate("/link", 0)) == errno.ELOOP
    assert (outside / "secret.txt").read_text() == "top secret"
    assert not (outside / "new").exists()
    assert run(m.stat("/link")).type == "symlink"


def test_relative_symlink_climbing_out_is_not_followed(host):
    root, outside = host
    os.symlink("../outside/secret.txt", root / "rel")
    m = DiskMount(str(root))
    assert code_of(m.read("/rel")) == errno.ELOOP


def test_unlinking_a_symlink_removes_the_link_not_its_target(host):
    root, outside = host
    os.symlink(outside / "secret.txt", root / "link")
    m = DiskMount(str(root))
    run(m.unlink("/link"))
    assert (outside / "secret.txt").exists()


def test_fifo_is_refused_without_blocking(host):
    root, _ = host
    os.mkfifo(root / "pipe")
    m = DiskMount(str(root))
    assert code_of(m.read("/pipe")) == errno.EINVAL
    assert code_of(m.write("/pipe", b"x")) in (errno.EINVAL, errno.ENXIO)


def test_very_long_names_are_enametoolong(host):
    root, _ = host
    fs = WorkspaceFS({"/": DiskMount(str(root))})
    assert code_of(fs.write("/" + "x" * 256, b"")) == errno.ENAMETOOLONG


def test_read_only_disk_mount_refuses_writes_with_erofs(host):
    root, _ = host
    (root / "f").write_text("keep")
    m = DiskMount(str(root), read_only=True)
    assert code_of(m.write("/f", b"x")) == errno.EROFS
    assert code_of(m.unlink("/f")) == errno.EROFS
    assert code_of(m.mkdir("/d")) == errno.EROFS
    assert code_of(m.rename("/f", "/g")) == errno.EROFS
    assert code_of(m.truncate("/f", 0)) == errno.EROFS
    assert code_of(m.rmdir("/x")) == errno.EROFS
    assert run(m.read("/f")) == b"keep"


def test_mount_root_cannot_be_removed(host):
    root, _ = host
    m = DiskMount(str(root))
    assert code_of(m.rmdir("/")) == errno.EBUSY


def test_missing_root_answers_enoent_not_a_crash(tmp_path):
    m = DiskMount(str(tmp_path / "gone"))
    assert code_of(m.readdir("/")) == errno.ENOENT


def test_concurrent_replaces_of_one_file_never_interleave(host):
    root, _ = host
    m = DiskMount(str(root))
    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]

    async def main():
        await asyncio.gather(*(m.write("/f", p) for p in payloads))

    run(main())
    content = (root / "f").read_bytes()
    assert content in payloads


def test_concurrent_appends_all_land_whole(host):
    root, _ = host
    m = DiskMount(str(root))

    async def main():
        await asyncio.gather(*(m.write("/log", f"line-{i:03d}\n".encode(), append=True) for i in range(64)))

    run(main())
    lines = (root / "log").read_text().splitlines()
    assert sorted(lines) == [f"line-{i:03d}" for i in range(64)]
