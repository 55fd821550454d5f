def test_yes_repeats_until_the_reader_stops(sh):
    assert sh.run("yes ok | head -n 2").out == "ok\nok\n"
