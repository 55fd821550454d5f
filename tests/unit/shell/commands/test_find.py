def test_find_lists_everything_preorder(sh):
    assert sh.run("find /log").out == "/log\n/log/app.log\n"


def test_find_name_type_and_depth(sh):
    assert sh.run("cd / && find . -maxdepth 1 -type f -name '*.txt'").out == "./a.txt\n./nums.txt\n"
    assert sh.run("find / -type d").out == "/\n/log\n"
    assert sh.run("find / -path '*log/*'").out == "/log/app.log\n"


def test_find_boolean_operators(sh):
    assert sh.run("find / -name '*.log' -o -name 'a.*'").out == "/a.txt\n/log/app.log\n"
    assert sh.run("find / -type f ! -name '*.txt' ! -name '.*'").out == "/log/app.log\n"


def test_find_missing_start_and_bad_predicate(sh):
    assert sh.run("find /nope").code == 1
    assert sh.run("find / -bogus").code == 2


def test_find_exec_runs_workspace_commands(sh):
    assert sh.run("find /log -name '*.log' -exec wc -l {} \\;").out == "3 /log/app.log\n"
    assert sh.run("find / -maxdepth 1 -name '*.txt' -exec cat {} +").out == \
        "hello\nworld\nfoo bar\n3\n1\n2\n"
