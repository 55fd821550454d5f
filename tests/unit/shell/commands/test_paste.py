def test_paste_serial_and_side_by_side(sh):
    assert sh.run("seq 3 | paste -sd+").out == "1+2+3\n"
    assert sh.run("paste /nums.txt /nums.txt").out == "3\t3\n1\t1\n2\t2\n"
