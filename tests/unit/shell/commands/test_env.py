def test_env_lists_exported_variables_only(sh):
    out = sh.run("x=hidden; export Y=shown; env").out
    assert "Y=shown\n" in out and "x=hidden" not in out


def test_env_runs_a_command_with_extra_variables(sh):
    assert sh.run("env A=1 printenv A").out == "1\n"
    assert sh.run("env -i B=2 env").out == "B=2\n"


def test_env_never_shows_the_daemon_environment(sh):
    import os
    os.environ["MIRAGE_SHELL_TEST_SECRET_NOT_A_SETTING"] = "leak"
    try:
        assert "leak" not in sh.run("env; printenv").out
    finally:
        del os.environ["MIRAGE_SHELL_TEST_SECRET_NOT_A_SETTING"]
