def test_printf_formats_and_reuses_the_format(sh):
    assert sh.run("printf '%s=%d\\n' a 1 b 2").out == "a=1\nb=2\n"


def test_printf_widths_precision_and_bases(sh):
    assert sh.run("printf '%5s|%-3s|%03d|%.2f|%x|%o\\n' ab c 7 2.345 255 8").out == \
        "   ab|c  |007|2.35|ff|10\n"


def test_printf_invalid_number_warns_and_fails(sh):
    r = sh.run("printf '%d\\n' abc")
    assert r.out == "0\n" and r.code == 1 and "invalid number" in r.err


def test_printf_b_and_q(sh):
    assert sh.run("printf '%b|%q\\n' 'a\\tb' 'x y'").out == "a\tb|x\\ y\n"
