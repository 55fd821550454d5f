def test_sh_c_runs_text_in_a_subshell_with_arguments(sh):
    assert sh.run("sh -c 'echo $0:$1:$#' name one two").out == "name:one:2\n"
    assert sh.run("x=1; bash -c 'x=2; echo in'; echo $x").out == "in\n1\n"


def test_sh_sees_only_exported_variables_and_returns_the_exit_status(sh):
    assert sh.run("a=1; export b=2; sh -c 'echo [$a][$b]'").out == "[][2]\n"
    assert sh.run("sh -c 'exit 7'; echo $?").out == "7\n"


def test_sh_runs_a_workspace_script(sh):
    assert sh.run("printf 'echo script $1\\n' > /s.sh; bash /s.sh arg").out == "script arg\n"
    assert sh.run("sh /nope.sh").code == 127


def test_sh_refuses_other_modes(sh):
    assert sh.run("bash --login").code == 1
