def test_sed_substitute_flags(sh):
    assert sh.run("echo aaa | sed 's/a/b/'").out == "baa\n"
    assert sh.run("echo aaa | sed 's/a/b/g'").out == "bbb\n"
    assert sh.run("echo aaa | sed 's/a/b/3'").out == "aab\n"
    assert sh.run("echo abc | sed 's/\\(a\\)\\(b\\)/\\2\\1/'").out == "bac\n"
    assert sh.run("echo abc | sed -E 's/(b)(c)/[\\2\\1&]/'").out == "a[cbbc]\n"


def test_sed_print_delete_and_addresses(sh):
    assert sh.run("sed -n 2p /a.txt").out == "world\n"
    assert sh.run("sed '1d;$d' /a.txt").out == "world\n"
    assert sh.run("sed -n '/wor/,$p' /a.txt").out == "world\nfoo bar\n"
    assert sh.run("sed '/o/!d' /a.txt").out == "hello\nworld\nfoo bar\n"


def test_sed_multiple_expressions_and_text_commands(sh):
    assert sh.run("echo x | sed -e 's/x/y/' -e 's/y/z/'").out == "z\n"
    assert sh.run("echo x | sed 'i\\\nbefore'").out == "before\nx\n"
    assert sh.run("echo x | sed 'a after'").out == "x\nafter\n"


def test_sed_in_place_edits_the_workspace_file(sh):
    assert sh.run("sed -i 's/hello/HI/' /a.txt").code == 0
    assert sh.read("/a.txt").startswith(b"HI\n")


def test_sed_bad_script_is_an_error(sh):
    r = sh.run("echo x | sed 's/x/'")
    assert r.code == 1 and "sed:" in r.err
