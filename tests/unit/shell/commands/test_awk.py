def test_awk_fields_and_separators(sh):
    assert sh.run("echo 'a b c' | awk '{print $2, $NF, NF}'").out == "b c 3\n"
    assert sh.run("echo 'a,b' | awk -F, '{print $2}'").out == "b\n"


def test_awk_patterns_begin_end_and_aggregates(sh):
    assert sh.run("awk '$1 > 1 {s += $1} END {print s, NR}' /nums.txt").out == "5 3\n"
    assert sh.run("awk '/ERROR/' /log/app.log").out == "ERROR disk\n"
    assert sh.run("awk 'BEGIN {print 7/2, 2^3}'").out == "3.5 8\n"


def test_awk_arrays_functions_and_printf(sh):
    prog = "awk '{c[$1]++} END {for (k in c) printf \"%s=%d\\n\", k, c[k]}'"
    assert sh.run("printf 'x\\ny\\nx\\n' | " + prog + " | sort").out == "x=2\ny=1\n"
    assert sh.run("awk 'function d(n) {return n*2} BEGIN {print d(4), toupper(\"a\"), substr(\"hello\", 2, 3)}'").out == "8 A ell\n"


def test_awk_variables_and_field_assignment(sh):
    assert sh.run("echo 'a b' | awk -v x=1 '{$2 = x; print}'").out == "a 1\n"


def test_awk_syntax_error_and_no_system(sh):
    assert sh.run("awk '{print '").code == 2
    r = sh.run("awk 'BEGIN {system(\"id\")}'")
    assert r.code == 2 and "system" in r.err
