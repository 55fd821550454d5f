def test_head_and_tail_line_counts(sh):
    assert sh.run("head -n 2 /a.txt").out == "hello\nworld\n"
    assert sh.run("head -1 /a.txt").out == "hello\n"
    assert sh.run("tail -n 1 /a.txt").out == "foo bar\n"
    assert sh.run("tail -n +2 /a.txt").out == "world\nfoo bar\n"


def test_head_negative_count_drops_the_end(sh):
    assert sh.run("head -n -1 /a.txt").out == "hello\nworld\n"


def test_byte_counts(sh):
    assert sh.run("head -c 3 /a.txt; echo; tail -c 4 /a.txt").out == "hel\nbar\n"


def test_multiple_files_get_headers(sh):
    assert sh.run("head -n 1 /a.txt /nums.txt").out == "==> /a.txt <==\nhello\n\n==> /nums.txt <==\n3\n"


def test_head_stops_reading_an_endless_stream(sh):
    assert sh.run("yes x | head -c 4").out == "x\nx\n"
