def test_stat_format(sh):
    lines = sh.run("stat -c '%n %s %F' /a.txt /log").out.splitlines()
    assert lines[0] == "/a.txt 20 regular file"
    assert lines[1].startswith("/log ") and lines[1].endswith(" directory")


def test_stat_missing(sh):
    r = sh.run("stat /nope")
    assert r.code == 1 and "No such file" in r.err


def test_du_apparent_bytes_and_summary(sh):
    assert sh.run("du -b /a.txt").out == "20\t/a.txt\n"
    out = sh.run("du -s /log").out
    assert out.endswith("\t/log\n")
