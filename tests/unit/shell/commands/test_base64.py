def test_base64_round_trip(sh):
    assert sh.run("echo hello | base64").out == "aGVsbG8K\n"
    assert sh.run("echo aGVsbG8K | base64 -d").out == "hello\n"


def test_base64_wraps_at_76(sh):
    out = sh.run("head -c 100 /dev/null; seq 100 | base64").out
    assert all(len(line) <= 76 for line in out.splitlines())


def test_base64_invalid_input(sh):
    r = sh.run("echo '!!!' | base64 -d")
    assert r.code == 1 and "invalid input" in r.err
