def test_mkdir_and_parents(sh):
    assert sh.run("mkdir /d && mkdir -p /x/y/z").code == 0
    assert sh.exists("/d") and sh.exists("/x/y/z")


def test_mkdir_existing_fails_without_p(sh):
    r = sh.run("mkdir /log")
    assert r.code == 1 and "File exists" in r.err
    assert sh.run("mkdir -p /log").code == 0


def test_rmdir_removes_only_empty_directories(sh):
    assert sh.run("mkdir /e && rmdir /e").code == 0 and not sh.exists("/e")
    r = sh.run("rmdir /log")
    assert r.code == 1 and "not empty" in r.err.lower()
