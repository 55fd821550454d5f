def test_basename_and_suffix(sh):
    assert sh.run("basename /a/b/c.txt; basename /a/b/c.txt .txt; basename /").out == "c.txt\nc\n/\n"


def test_dirname(sh):
    assert sh.run("dirname /a/b/c; dirname file; dirname /file").out == "/a/b\n.\n/\n"
