def test_cut_fields_with_delimiter(sh):
    assert sh.run("echo 'a,b,c,d' | cut -d, -f2,4").out == "b,d\n"
    assert sh.run("echo 'a,b,c,d' | cut -d, -f3-").out == "c,d\n"


def test_cut_characters(sh):
    assert sh.run("echo hello | cut -c2-4").out == "ell\n"


def test_cut_line_without_delimiter_passes_unless_s(sh):
    assert sh.run("echo plain | cut -d, -f2").out == "plain\n"
    assert sh.run("echo plain | cut -d, -s -f2").out == ""


def test_cut_needs_a_list(sh):
    r = sh.run("echo x | cut")
    assert r.code == 1 and "specify a list" in r.err
