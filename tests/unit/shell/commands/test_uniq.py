def test_uniq_collapses_adjacent_lines(sh):
    assert sh.run("printf 'a\\na\\nb\\na\\n' | uniq").out == "a\nb\na\n"


def test_uniq_count_duplicates_unique(sh):
    data = "printf 'a\\na\\nb\\n' | uniq"
    assert sh.run(data + " -c").out == "      2 a\n      1 b\n"
    assert sh.run(data + " -d").out == "a\n"
    assert sh.run(data + " -u").out == "b\n"
