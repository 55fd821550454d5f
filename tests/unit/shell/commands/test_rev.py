def test_rev_reverses_each_line(sh):
    assert sh.run("printf 'abc\\nxy' | rev").out == "cba\nyx"
    assert sh.run("rev /nums.txt").out == "3\n1\n2\n"
