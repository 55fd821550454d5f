"""Parsing: syntax errors and unsupported constructs end the line with exit 2, naming the problem."""

import pytest


def test_syntax_error_is_exit_2_with_a_message(sh):
    r = sh.run("echo ${x")
    assert r.code == 2 and "syntax error" in r.err and r.out == ""


def test_unclosed_quote_is_a_syntax_error(sh):
    r = sh.run("echo 'abc")
    assert r.code == 2 and "syntax error" in r.err


@pytest.mark.parametrize("line, construct", [
    ("cat <(echo a)", "process substitution"),
    ("a=(1 2 3)", "arrays"),
    ("echo ${a[1]}; x[1]=2", "array"),
    ("sleep 1 & echo hi", "background"),
    ("echo a |& cat", "|&"),
    ("select x in a b; do echo $x; done", "select"),
])
def test_unsupported_construct_is_exit_2_naming_it(sh, line, construct):
    r = sh.run(line)
    assert r.code == 2
    assert construct in r.err


def test_nothing_runs_when_the_line_does_not_parse(sh):
    r = sh.run("echo first > /made.txt; echo ${broken")
    assert r.code == 2 and not sh.exists("/made.txt")


def test_empty_line_succeeds(sh):
    assert sh.run("").code == 0
    assert sh.run("   # just a comment").code == 0
