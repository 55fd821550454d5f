def test_read_splits_into_variables(sh):
    assert sh.run("echo 'a b c' | { read x y; echo \"$y|$x\"; }").out == "b c|a\n"


def test_read_returns_1_at_eof(sh):
    assert sh.run("read x < /dev/null; echo $?").out == "1\n"


def test_read_raw_keeps_backslashes(sh):
    assert sh.run("read -r x <<< 'a\\b'; echo \"$x\"").out == "a\\b\n"
