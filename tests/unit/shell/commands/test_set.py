def test_set_positional_parameters(sh):
    assert sh.run("set -- x 'y z'; echo $# $2").out == "2 y z\n"


def test_set_u_fails_on_unset_variables(sh):
    r = sh.run("set -u; echo $nope; echo after")
    assert "nope: unbound variable" in r.err


def test_set_rejects_unknown_options(sh):
    assert sh.run("set -Z").code == 2
