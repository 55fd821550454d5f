def test_cd_relative_absolute_and_dotdot(sh):
    assert sh.run("cd log; pwd; cd ..; pwd; cd /log/../log; pwd").out == "/log\n/\n/log\n"


def test_cd_dash_and_home(sh):
    assert sh.run("cd /log; cd -; cd").out == "/\n"


def test_cd_errors(sh):
    assert "Not a directory" in sh.run("cd /a.txt").err
    assert sh.run("cd /a /b").code == 1


def test_dotdot_never_climbs_above_the_workspace_root(sh):
    assert sh.run("cd /../../..; pwd").out == "/\n"
