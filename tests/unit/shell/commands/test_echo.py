def test_echo_joins_arguments_and_ends_the_line(sh):
    assert sh.run("echo a  b").out == "a b\n"


def test_echo_flags_n_and_e(sh):
    assert sh.run("echo -n x; echo -e 'a\\tb\\nc'").out == "xa\tb\nc\n"
    assert sh.run("echo -e 'stop\\cgone'").out == "stop"


def test_echo_prints_unknown_dash_words(sh):
    assert sh.run("echo -x --").out == "-x --\n"
