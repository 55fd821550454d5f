def test_sort_default_reverse_unique(sh):
    assert sh.run("printf 'b\\na\\nb\\n' | sort").out == "a\nb\nb\n"
    assert sh.run("printf 'b\\na\\nb\\n' | sort -ru").out == "b\na\n"


def test_sort_numeric_and_keys(sh):
    assert sh.run("printf '10\\n9\\n100\\n' | sort -n").out == "9\n10\n100\n"
    assert sh.run("printf 'x,3\\ny,1\\nz,2\\n' | sort -t, -k2n").out == "y,1\nz,2\nx,3\n"
    assert sh.run("printf 'a 2\\nb 10\\n' | sort -k2,2nr").out == "b 10\na 2\n"


def test_sort_c_locale_order(sh):
    assert sh.run("printf 'b\\nB\\na\\n' | sort").out == "B\na\nb\n"


def test_sort_output_file(sh):
    sh.run("sort -o /sorted.txt /nums.txt")
    assert sh.read("/sorted.txt") == b"1\n2\n3\n"
