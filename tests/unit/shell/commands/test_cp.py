def test_cp_file_and_into_directory(sh):
    sh.run("cp /a.txt /b.txt; cp /nums.txt /log")
    assert sh.read("/b.txt") == sh.read("/a.txt")
    assert sh.read("/log/nums.txt") == b"3\n1\n2\n"


def test_cp_directory_needs_r(sh):
    r = sh.run("cp /log /copy")
    assert r.code == 1 and "omitting directory" in r.err
    assert sh.run("cp -r /log /copy").code == 0 and sh.read("/copy/app.log").startswith(b"INFO")


def test_mv_renames_and_moves(sh):
    sh.run("mv /a.txt /moved.txt; mv /nums.txt /log/")
    assert not sh.exists("/a.txt") and sh.exists("/moved.txt") and sh.exists("/log/nums.txt")


def test_mv_missing_source(sh):
    r = sh.run("mv /nope /x")
    assert r.code == 1 and "No such file" in r.err


def test_mv_replaces_an_existing_file(sh):
    assert sh.run("echo new > /src; echo old > /dst; mv /src /dst").code == 0
    assert sh.read("/dst") == b"new\n" and not sh.exists("/src")


def test_a_failed_mv_leaves_the_existing_target_untouched():
    import asyncio

    from mirage.workspace.testing import ram_mount, ram_workspace_fs
    from tests.unit.shell.conftest import Shell

    readonly = ram_mount()
    asyncio.run(readonly.write("/src", b"from a read-only mount\n"))
    readonly.read_only = True
    sh = Shell(files={"/dst": b"precious\n"}, fs=ram_workspace_fs(extra={"/ro": readonly}))
    result = sh.run("mv /ro/src /dst")
    assert result.code == 1 and "cannot move" in result.err
    assert sh.read("/dst") == b"precious\n"
