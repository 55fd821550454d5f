import hashlib


def test_sha256sum_of_files_and_stdin(sh):
    digest = hashlib.sha256(b"hello\nworld\nfoo bar\n").hexdigest()
    assert sh.run("sha256sum /a.txt").out == f"{digest}  /a.txt\n"
    assert sh.run("printf abc | sha256sum").out == hashlib.sha256(b"abc").hexdigest() + "  -\n"


def test_md5sum_and_missing_file(sh):
    assert sh.run("printf abc | md5sum").out == hashlib.md5(b"abc").hexdigest() + "  -\n"
    assert sh.run("sha256sum /nope").code == 1
