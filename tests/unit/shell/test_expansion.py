"""Expansions: parameters, quoting, splitting, globbing against the VFS, braces, arithmetic."""

import pytest


@pytest.mark.parametrize("line, expected", [
    ("echo ${u:-def}", "def"),
    ("x=; echo ${x:-empty} ${x-unset}", "empty"),
    ("echo ${u:=set}; echo $u", "set\nset"),
    ("x=v; echo ${x:+alt} ${u:+alt}", "alt"),
    ("x=hello; echo ${#x}", "5"),
    ("x=a/b/c.tar.gz; echo ${x#*/} ${x##*/} ${x%.*} ${x%%.*}", "b/c.tar.gz c.tar.gz a/b/c.tar a/b/c"),
    ("x=aXbXc; echo ${x/X/-} ${x//X/-}", "a-bXc a-b-c"),
    ("x=abcdef; echo ${x:2:3} ${x: -2}", "cde ef"),
    ("x=MiXed; echo ${x^^} ${x,,}", "MIXED mixed"),
    ("n=x; x=deep; echo ${!n}", "deep"),
])
def test_parameter_expansions(sh, line, expected):
    assert sh.run(line).out == expected + "\n"


def test_unset_parameter_error_form_fails_the_command(sh):
    r = sh.run("echo ${u:?is required}; echo next")
    assert "u: is required" in r.err and r.out == "next\n"


def test_quoting_preserves_spaces_and_blocks_expansion(sh):
    assert sh.run("x='a   b'; echo $x; echo \"$x\"; echo '$x'").out == "a b\na   b\n$x\n"


def test_field_splitting_and_ifs(sh):
    assert sh.run('x="1 2  3"; for v in $x; do echo $v; done').out == "1\n2\n3\n"
    assert sh.run('IFS=, read a b <<< "x,y"; echo $b$a').out == "yx\n"


def test_quoted_at_keeps_arguments_apart(sh):
    assert sh.run('set -- "a b" c; for x in "$@"; do echo "<$x>"; done').out == "<a b>\n<c>\n"
    assert sh.run('set -- "a b" c; for x in "$*"; do echo "<$x>"; done').out == "<a b c>\n"


def test_globbing_matches_workspace_files_sorted_and_skips_hidden(sh):
    assert sh.run("echo /*.txt").out == "/a.txt /nums.txt\n"
    assert sh.run("echo /log/*").out == "/log/app.log\n"
    assert sh.run("cd /; echo *").out == "a.txt log nums.txt\n"
    assert sh.run("cd /; echo .h*").out == ".hidden\n"


def test_glob_without_match_stays_literal_and_quoted_glob_is_not_expanded(sh):
    assert sh.run("echo /*.none").out == "/*.none\n"
    assert sh.run('echo "/*.txt"').out == "/*.txt\n"
    assert sh.run("echo /\\*.txt").out == "/*.txt\n"


def test_glob_character_classes(sh):
    assert sh.run("cd /; echo [an]*.txt; echo ?.txt; echo [!a]*.txt").out == \
        "a.txt nums.txt\na.txt\nnums.txt\n"


def test_brace_expansion(sh):
    assert sh.run("echo {1..3} {a,b}x f{01..02}").out == "1 2 3 ax bx f01 f02\n"


def test_arithmetic(sh):
    assert sh.run("i=4; echo $((i*2+1)) $((i**2)) $((7/2)) $((-7%3)) $((1<2 ? 5 : 6))").out == \
        "9 16 3 -1 5\n"
    assert sh.run("echo $((0x1f)) $((010)) $((2#11))").out == "31 8 3\n"


def test_tilde_and_escapes(sh):
    assert sh.run("echo ~").out == "/\n"
    assert sh.run("echo a\\ b $'t\\tx'").out == "a b t\tx\n"
