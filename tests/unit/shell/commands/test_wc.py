def test_wc_counts_lines_words_bytes(sh):
    assert sh.run("wc /a.txt").out == " 3  4 20 /a.txt\n"
    assert sh.run("wc -l /a.txt").out == "3 /a.txt\n"


def test_wc_stdin_and_total_row(sh):
    assert sh.run("cat /a.txt | wc -w").out == "4\n"
    assert sh.run("wc -l /a.txt /nums.txt").out == " 3 /a.txt\n 3 /nums.txt\n 6 total\n"


def test_wc_missing_file(sh):
    r = sh.run("wc /nope")
    assert r.code == 1 and "No such file" in r.err
