def test_pwd_prints_the_workspace_cwd(sh):
    assert sh.run("pwd").out == "/\n"
    assert sh.run("pwd", cwd="/log").out == "/log\n"
