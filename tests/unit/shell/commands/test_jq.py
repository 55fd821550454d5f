def test_jq_filters_and_raw_output(sh):
    assert sh.run("echo '{\"a\":{\"b\":[1,2]}}' | jq -c .a.b").out == "[1,2]\n"
    assert sh.run("echo '{\"s\":\"x\"}' | jq -r .s").out == "x\n"
    assert sh.run("echo '[1,2,3]' | jq 'map(.*2) | add'").out == "12\n"


def test_jq_args_null_input_and_slurp(sh):
    assert sh.run("jq -n --arg v hi '{v: $v}' -c").out == '{"v":"hi"}\n'
    assert sh.run("printf '1 2 3' | jq -s -c .").out == "[1,2,3]\n"


def test_jq_env_is_the_workspace_environment_not_the_daemons(sh):
    import os
    os.environ["JQ_LEAK_CHECK_NOT_A_SETTING"] = "leak"
    try:
        out = sh.run("export W=1; jq -n -c '[env.W, $ENV.JQ_LEAK_CHECK_NOT_A_SETTING, env.JQ_LEAK_CHECK_NOT_A_SETTING]'").out
        assert out == '["1",null,null]\n'
    finally:
        del os.environ["JQ_LEAK_CHECK_NOT_A_SETTING"]


def test_jq_refuses_modules_and_input_metadata(sh):
    r = sh.run("jq -n 'include \"evil\"; 1'")
    assert r.code == 3 and "not available" in r.err


def test_jq_bad_filter_and_bad_json(sh):
    assert sh.run("jq -n '.[' ").code == 3
    assert sh.run("echo '{' | jq .").code == 2
