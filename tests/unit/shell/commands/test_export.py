def test_export_marks_variables_for_the_environment(sh):
    assert sh.run("A=1; export A; printenv A").out == "1\n"
    assert sh.run("export B=2; printenv B").out == "2\n"


def test_export_lists_and_unset_removes(sh):
    assert 'declare -x C="3"' in sh.run("export C=3; export").out
    assert sh.run("export D=4; unset D; printenv D; echo $?").out == "1\n"


def test_export_rejects_bad_names(sh):
    r = sh.run("export 1x")
    assert r.code == 1 and "not a valid identifier" in r.err


def test_exported_variables_persist_in_the_session():
    from tests.unit.shell.conftest import Shell
    from mirage.workspace.session import Session
    shell = Shell()
    session = Session("s1")
    shell.run("export KEEP=yes; cd /log", session=session)
    assert session.env.get("KEEP") == "yes" and session.cwd == "/log"
    assert shell.run("echo $KEEP; pwd", session=session).out == "yes\n/log\n"
