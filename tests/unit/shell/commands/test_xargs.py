def test_xargs_appends_arguments(sh):
    assert sh.run("echo a b | xargs echo x").out == "x a b\n"
    assert sh.run("echo a b c | xargs -n 2 echo").out == "a b\nc\n"


def test_xargs_replace_string(sh):
    assert sh.run("printf '/a.txt\\n/nums.txt\\n' | xargs -I{} wc -l {}").out == "3 /a.txt\n3 /nums.txt\n"


def test_xargs_runs_workspace_commands_only(sh):
    r = sh.run("echo -c id | xargs /bin/sh")
    assert r.code == 127 and "command not found" in r.err
