def test_command_v_finds_workspace_commands_and_functions_only(sh):
    assert sh.run("command -v grep; f() { :; }; command -v f").out == "grep\nf\n"
    assert sh.run("command -v /bin/sh; echo $?").out == "1\n"
    assert sh.run("which jq nosuch; echo $?").out == "jq\n1\n"


def test_command_runs_the_command_not_the_function(sh):
    assert sh.run("echo() { printf 'fn\\n'; }; command echo real").out == "real\n"


def test_type_describes_names(sh):
    r = sh.run("type cat nosuch")
    assert r.out == "cat is a shell builtin\n" and "nosuch: not found" in r.err and r.code == 1
