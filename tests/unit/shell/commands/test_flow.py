def test_exit_status_and_default(sh):
    assert sh.run("exit 5").code == 5
    assert sh.run("false; exit").code == 1


def test_return_outside_and_inside_functions(sh):
    assert sh.run("f() { return 2; echo no; }; f; echo $?").out == "2\n"


def test_shift(sh):
    assert sh.run("set -- a b c; shift; echo $@; shift 5; echo $?").out == "b c\n1\n"


def test_non_numeric_exit(sh):
    r = sh.run("exit abc")
    assert r.code == 2 and "numeric argument required" in r.err
