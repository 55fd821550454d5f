import time


def test_sleep_waits_and_rejects_bad_intervals(sh):
    start = time.monotonic()
    assert sh.run("sleep 0.05").code == 0
    assert time.monotonic() - start >= 0.04
    assert sh.run("sleep soon").code == 1
