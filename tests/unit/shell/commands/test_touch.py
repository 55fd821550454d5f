def test_touch_creates_empty_files_and_keeps_contents(sh):
    sh.run("touch /new.txt /a.txt")
    assert sh.read("/new.txt") == b"" and sh.read("/a.txt") == b"hello\nworld\nfoo bar\n"


def test_touch_in_missing_directory_fails(sh):
    r = sh.run("touch /no/dir/f")
    assert r.code == 1 and "cannot touch" in r.err
