import pytest


@pytest.mark.parametrize("expr, status", [
    ("-f /a.txt", 0), ("-d /a.txt", 1), ("-d /log", 0), ("-e /nope", 1), ("-s /a.txt", 0),
    ("-z ''", 0), ("-n ''", 1), ("abc = abc", 0), ("abc != abc", 1), ("2 -lt 10", 0),
    ("2 -ge 10", 1), ("! -e /nope", 0), ("-f /a.txt -a -d /log", 0), ("1 -eq 2 -o 3 -eq 3", 0),
    ("x", 0), ("''", 1),
])
def test_test_and_bracket_primaries(sh, expr, status):
    assert sh.run(f"test {expr}").code == status
    assert sh.run(f"[ {expr} ]").code == status


def test_integer_expected_is_status_2(sh):
    r = sh.run("[ a -eq 1 ]")
    assert r.code == 2 and "integer expression expected" in r.err


def test_missing_bracket(sh):
    assert sh.run("[ -f /a.txt").code == 2
