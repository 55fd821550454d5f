def test_tr_translates_ranges_and_classes(sh):
    assert sh.run("echo hello | tr a-z A-Z").out == "HELLO\n"
    assert sh.run("echo hello | tr '[:lower:]' '[:upper:]'").out == "HELLO\n"


def test_tr_delete_squeeze_complement(sh):
    assert sh.run("echo 'a1b22' | tr -d 0-9").out == "ab\n"
    assert sh.run("echo 'a   b' | tr -s ' '").out == "a b\n"
    assert sh.run("echo 'a1b2' | tr -cd 0-9").out == "12"


def test_tr_escapes(sh):
    assert sh.run("echo a,b | tr , '\\n'").out == "a\nb\n"
