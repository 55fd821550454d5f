import pytest
from sanic import Sanic

Sanic.test_mode = True


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """An environment with no MIRAGE_* variables and HOME in a temp folder."""
    import os

    for name in list(os.environ):
        if name.startswith("MIRAGE_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home
