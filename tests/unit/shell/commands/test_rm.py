def test_rm_file_and_missing_file(sh):
    assert sh.run("rm /a.txt").code == 0 and not sh.exists("/a.txt")
    r = sh.run("rm /a.txt")
    assert r.code == 1 and "No such file" in r.err
    assert sh.run("rm -f /a.txt").code == 0


def test_rm_directory_needs_r(sh):
    r = sh.run("rm /log")
    assert r.code == 1 and "Is a directory" in r.err
    assert sh.run("rm -r /log").code == 0 and not sh.exists("/log")


def test_rm_refuses_the_root(sh):
    r = sh.run("rm -rf /")
    assert r.code == 1 and sh.exists("/a.txt")
