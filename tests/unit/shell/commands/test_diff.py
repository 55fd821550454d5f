def test_diff_identical_files(sh):
    r = sh.run("diff /a.txt /a.txt")
    assert (r.code, r.out) == (0, "")


def test_diff_normal_format(sh):
    r = sh.run("printf 'a\\nb\\n' > /x; printf 'a\\nc\\n' > /y; diff /x /y")
    assert (r.code, r.out) == (1, "2c2\n< b\n---\n> c\n")


def test_diff_unified_and_brief(sh):
    r = sh.run("printf 'a\\nb\\n' > /x; printf 'a\\nc\\n' > /y; diff -u /x /y")
    assert r.out.splitlines()[2:] == ["@@ -1,2 +1,2 @@", " a", "-b", "+c"]
    assert sh.run("diff -q /x /y").out == "Files /x and /y differ\n"


def test_diff_missing_file_is_status_2(sh):
    assert sh.run("diff /a.txt /nope").code == 2
