"""The ram backend: each call, its errno, and its journal/replay/dump."""

import asyncio
import errno

import pytest

from mirage.workspace.vfs.base import VfsError
from mirage.workspace.vfs.ram import RamMount


def run(coro):
    return asyncio.run(coro)


def code_of(coro) -> int:
    with pytest.raises(VfsError) as info:
        run(coro)
    return info.value.code


def test_write_then_read_returns_the_bytes_and_append_extends():
    m = RamMount()
    run(m.write("/f", b"hello"))
    run(m.write("/f", b" world", append=True))
    assert run(m.read("/f")) == b"hello world"
    assert run(m.read("/f", 6, 3)) == b"wor"
    assert run(m.stat("/f")).size == 11


def test_write_replaces_existing_content():
    m = RamMount()
    run(m.write("/f", b"long content"))
    run(m.write("/f", b"x"))
    assert run(m.read("/f")) == b"x"


def test_missing_file_and_missing_parent_are_enoent():
    m = RamMount()
    assert code_of(m.read("/nope")) == errno.ENOENT
    assert code_of(m.write("/no/dir/f", b"x")) == errno.ENOENT
    assert code_of(m.stat("/nope")) == errno.ENOENT


def test_file_used_as_directory_is_enotdir():
    m = RamMount()
    run(m.write("/f", b"x"))
    assert code_of(m.write("/f/g", b"x")) == errno.ENOTDIR
    assert code_of(m.readdir("/f")) == errno.ENOTDIR
    assert code_of(m.rmdir("/f")) == errno.ENOTDIR


def test_directory_used_as_file_is_eisdir():
    m = RamMount()
    run(m.mkdir("/d"))
    assert code_of(m.read("/d")) == errno.EISDIR
    assert code_of(m.write("/d", b"x")) == errno.EISDIR
    assert code_of(m.unlink("/d")) == errno.EISDIR
    assert code_of(m.truncate("/d", 0)) == errno.EISDIR


def test_mkdir_existing_is_eexist_unless_exist_ok_and_parents_creates_chain():
    m = RamMount()
    run(m.mkdir("/a"))
    assert code_of(m.mkdir("/a")) == errno.EEXIST
    run(m.mkdir("/a", exist_ok=True))
    assert code_of(m.mkdir("/x/y/z")) == errno.ENOENT
    run(m.mkdir("/x/y/z", parents=True))
    assert run(m.readdir("/x/y")) == ["z"]
    run(m.write("/file", b""))
    assert code_of(m.mkdir("/file", exist_ok=True)) == errno.EEXIST


def test_rmdir_nonempty_is_enotempty_and_empty_is_removed():
    m = RamMount()
    run(m.mkdir("/d"))
    run(m.write("/d/f", b"1"))
    assert code_of(m.rmdir("/d")) == errno.ENOTEMPTY
    run(m.unlink("/d/f"))
    run(m.rmdir("/d"))
    assert run(m.readdir("/")) == []


def test_rename_moves_trees_and_refuses_bad_targets():
    m = RamMount()
    run(m.mkdir("/a/b", parents=True))
    run(m.write("/a/b/f", b"data"))
    run(m.rename("/a", "/c"))
    assert run(m.read("/c/b/f")) == b"data"
    assert code_of(m.rename("/c", "/c/b/inside")) == errno.EINVAL
    run(m.write("/file", b""))
    assert code_of(m.rename("/c", "/file")) == errno.ENOTDIR
    assert code_of(m.rename("/file", "/c")) == errno.EISDIR
    assert code_of(m.rename("/missing", "/z")) == errno.ENOENT
    run(m.mkdir("/empty"))
    run(m.rename("/c", "/empty"))
    assert run(m.read("/empty/b/f")) == b"data"


def test_truncate_shrinks_and_extends_with_zeros():
    m = RamMount()
    run(m.write("/f", b"abcdef"))
    run(m.truncate("/f", 2))
    assert run(m.read("/f")) == b"ab"
    run(m.truncate("/f", 4))
    assert run(m.read("/f")) == b"ab\0\0"
    assert code_of(m.truncate("/f", -1)) == errno.EINVAL


def test_read_only_mount_refuses_every_mutation_with_erofs():
    m = RamMount(read_only=True)
    assert code_of(m.write("/f", b"x")) == errno.EROFS
    assert code_of(m.mkdir("/d")) == errno.EROFS
    assert code_of(m.unlink("/f")) == errno.EROFS
    assert code_of(m.rmdir("/d")) == errno.EROFS
    assert code_of(m.rename("/a", "/b")) == errno.EROFS
    assert code_of(m.truncate("/f", 0)) == errno.EROFS
    assert run(m.readdir("/")) == []


def test_dot_dot_components_are_refused_by_the_backend():
    m = RamMount()
    assert code_of(m.read("/a/../b")) == errno.EINVAL


def test_journal_replay_rebuilds_identical_tree():
    records = []
    m = RamMount(journal=lambda h, d: records.append((h, d)))
    run(m.mkdir("/a/b", parents=True))
    run(m.write("/a/b/f", b"one"))
    run(m.write("/a/b/f", b"two", append=True))
    run(m.write("/g", b"gone"))
    run(m.unlink("/g"))
    run(m.rename("/a/b", "/a/c"))
    run(m.truncate("/a/c/f", 4))
    run(m.mkdir("/tmp"))
    run(m.rmdir("/tmp"))
    copy = RamMount(read_only=True)
    for header, data in records:
        copy.apply(header, data)
    assert list(copy.dump()) == list(m.dump())
    assert run(copy.read("/a/c/f")) == b"onet"


def test_failed_calls_are_not_journaled():
    records = []
    m = RamMount(journal=lambda h, d: records.append(h))
    with pytest.raises(VfsError):
        run(m.read("/missing"))
    with pytest.raises(VfsError):
        run(m.unlink("/missing"))
    assert records == []


def test_dump_then_apply_restores_content_and_mtimes():
    m = RamMount()
    run(m.mkdir("/d"))
    run(m.write("/d/f", b"\x00\xffbinary"))
    copy = RamMount()
    for header, data in m.dump():
        copy.apply(header, data)
    assert run(copy.read("/d/f")) == b"\x00\xffbinary"
    assert run(copy.stat("/d")).mtime == run(m.stat("/d")).mtime
    assert run(copy.stat("/d/f")).mtime == run(m.stat("/d/f")).mtime


def test_truncate_beyond_the_ram_file_cap_is_efbig_without_allocating():
    from mirage.workspace.vfs.ram import MAX_FILE_BYTES

    m = RamMount()
    run(m.write("/f", b"x"))
    assert code_of(m.truncate("/f", MAX_FILE_BYTES + 1)) == errno.EFBIG
    assert code_of(m.truncate("/f", 10 ** 15)) == errno.EFBIG
    assert run(m.read("/f")) == b"x"
