def test_ls_lists_sorted_names_one_per_line(sh):
    assert sh.run("ls /").out == "a.txt\nlog\nnums.txt\n"
    assert sh.run("ls -a /log").out == ".\n..\napp.log\n"
    assert sh.run("ls -A /").out == ".hidden\na.txt\nlog\nnums.txt\n"


def test_ls_several_paths_and_directories(sh):
    assert sh.run("ls /a.txt /log").out == "/a.txt\n\n/log:\napp.log\n"
    assert sh.run("ls -d /log").out == "/log\n"


def test_ls_long_format_shows_size_and_type(sh):
    out = sh.run("ls -l /log").out
    assert out.startswith("total ") and " 32 " in out and out.rstrip().endswith("app.log")


def test_ls_missing_path_is_status_2(sh):
    r = sh.run("ls /nope")
    assert r.code == 2 and "cannot access '/nope'" in r.err
