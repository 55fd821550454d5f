def test_expr_arithmetic_and_precedence(sh):
    assert sh.run("expr 2 + 3 \\* 4; expr \\( 2 + 3 \\) \\* 4; expr -7 / 2").out == "14\n20\n-3\n"


def test_expr_strings_and_matching(sh):
    assert sh.run("expr length abc; expr abc : 'a\\(.\\)'; expr substr hello 2 3").out == "3\nb\nell\n"


def test_expr_status_follows_the_value(sh):
    assert sh.run("expr 1 - 1; echo $?").out == "0\n1\n"
    r = sh.run("expr 1 / 0")
    assert r.code == 2 and "division by zero" in r.err
