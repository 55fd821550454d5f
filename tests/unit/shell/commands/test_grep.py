def test_grep_basic_and_flags(sh):
    assert sh.run("grep o /a.txt").out == "hello\nworld\nfoo bar\n"
    assert sh.run("grep -n -i HELLO /a.txt").out == "1:hello\n"
    assert sh.run("grep -vc o /a.txt").out == "0\n"
    assert sh.run("grep -o 'o.' /a.txt").out == "or\noo\n"


def test_grep_status_codes(sh):
    assert sh.run("grep -q hello /a.txt").code == 0
    assert sh.run("grep zzz /a.txt").code == 1
    assert sh.run("grep x /nope").code == 2


def test_grep_recursive_and_file_lists(sh):
    assert sh.run("grep -r ERROR /log").out == "/log/app.log:ERROR disk\n"
    assert sh.run("grep -l INFO /log/app.log /a.txt").out == "/log/app.log\n"


def test_grep_regex_flavours(sh):
    assert sh.run("grep -E 'wor|foo' /a.txt").out == "world\nfoo bar\n"
    assert sh.run("grep 'l\\{2\\}' /a.txt").out == "hello\n"
    assert sh.run("grep -F 'o b' /a.txt").out == "foo bar\n"
    assert sh.run("grep -w foo /a.txt").out == "foo bar\n"
    assert sh.run("grep -x world /a.txt").out == "world\n"


def test_grep_context(sh):
    assert sh.run("grep -A1 start /log/app.log").out == "INFO start\nERROR disk\n"
    assert sh.run("grep -B1 done /log/app.log").out == "ERROR disk\nINFO done\n"
