def test_true_false_colon(sh):
    assert sh.run("true").code == 0
    assert sh.run("false").code == 1
    assert sh.run(":").code == 0
