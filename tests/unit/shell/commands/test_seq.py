def test_seq_forms(sh):
    assert sh.run("seq 3").out == "1\n2\n3\n"
    assert sh.run("seq 2 2 6").out == "2\n4\n6\n"
    assert sh.run("seq 3 -1 1").out == "3\n2\n1\n"
    assert sh.run("seq -s, 3").out == "1,2,3\n"
    assert sh.run("seq -w 9 10").out == "09\n10\n"


def test_seq_rejects_bad_numbers(sh):
    r = sh.run("seq x")
    assert r.code == 1 and "invalid floating point" in r.err
