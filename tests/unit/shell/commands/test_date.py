import time


def test_date_formats_an_epoch(sh):
    assert sh.run("date -d @0 +%Y-%m-%dT%H:%M:%S").out == "1970-01-01T00:00:00\n"


def test_date_now_is_the_current_time(sh):
    now = int(time.time())
    assert abs(int(sh.run("date +%s").out) - now) <= 5


def test_date_rejects_free_text_dates(sh):
    assert sh.run("date -d tomorrow").code == 1
