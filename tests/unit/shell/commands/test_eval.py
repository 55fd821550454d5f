def test_eval_runs_in_the_current_shell(sh):
    assert sh.run("eval 'a=1; b=2'; echo $a$b").out == "12\n"


def test_source_runs_a_workspace_file_with_arguments(sh):
    assert sh.run("echo 'echo $1' > /s.sh; source /s.sh arg").out == "arg\n"
    assert sh.run("source /nope").code == 1
