def test_tee_copies_to_stdout_and_files(sh):
    assert sh.run("echo hi | tee /t1 /t2").out == "hi\n"
    assert sh.read("/t1") == b"hi\n" and sh.read("/t2") == b"hi\n"


def test_tee_append(sh):
    sh.run("echo more | tee -a /a.txt >/dev/null")
    assert sh.read("/a.txt").endswith(b"foo bar\nmore\n")
