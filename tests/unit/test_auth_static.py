"""The static-token verifier and build_verifier() for the local and token modes."""

from __future__ import annotations

import dataclasses
import os
import stat

import pytest

from mirage.auth.build import build_verifier
from mirage.auth.principal import AuthError, Principal
from mirage.auth.static import STATIC_ACCOUNT, StaticTokenVerifier
from mirage.settings import ConfigError, load_settings


def settings_for(tmp_path, **env):
    return load_settings(env={"HOME": str(tmp_path), **env}, config_path=os.devnull)


# ---------------------------------------------------------------- StaticTokenVerifier

def test_static_verifier_accepts_the_exact_token():
    assert StaticTokenVerifier(b"s3cret", "token").verify(b"s3cret") == Principal(STATIC_ACCOUNT, "token")


@pytest.mark.parametrize("presented", [b"s3cre", b"s3cret2", b"S3CRET", b"", b"s3cret ", b"\x00s3cret"])
def test_static_verifier_refuses_anything_else(presented):
    with pytest.raises(AuthError):
        StaticTokenVerifier(b"s3cret", "token").verify(presented)


def test_empty_expected_token_never_authenticates():
    verifier = StaticTokenVerifier(b"", "token")
    for presented in (b"", b"x"):
        with pytest.raises(AuthError):
            verifier.verify(presented)


def test_static_verifier_compares_with_hmac_compare_digest(monkeypatch):
    import hmac

    from mirage.auth import static

    calls = []
    real_compare = hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real_compare(a, b)

    monkeypatch.setattr(static.hmac, "compare_digest", spy)
    StaticTokenVerifier(b"s3cret", "token").verify(b"s3cret")
    assert calls == [(bytes, bytes)]


def test_static_verifier_repr_does_not_show_the_token():
    assert "s3cret" not in repr(StaticTokenVerifier(b"s3cret", "token"))


# ---------------------------------------------------------------- token mode

def test_token_mode_accepts_exactly_MIRAGE_AUTH_TOKEN(tmp_path):
    verifier = build_verifier(settings_for(tmp_path, MIRAGE_AUTH_MODE="token", MIRAGE_AUTH_TOKEN="tok-123"))
    assert verifier.verify(b"tok-123") == Principal("local", "token")
    with pytest.raises(AuthError):
        verifier.verify(b"tok-12")


def test_token_mode_without_token_refuses_to_start_naming_MIRAGE_AUTH_TOKEN(tmp_path):
    with pytest.raises(ConfigError) as caught:
        settings_for(tmp_path, MIRAGE_AUTH_MODE="token")
    assert "MIRAGE_AUTH_TOKEN" in str(caught.value)


def test_build_verifier_refuses_token_mode_without_token_even_if_settings_let_it_through(tmp_path):
    settings = dataclasses.replace(settings_for(tmp_path, MIRAGE_AUTH_MODE="token", MIRAGE_AUTH_TOKEN="x"), auth_token=None)
    with pytest.raises(ConfigError) as caught:
        build_verifier(settings)
    assert "MIRAGE_AUTH_TOKEN" in str(caught.value)


def test_token_mode_never_reads_or_creates_the_token_file(tmp_path):
    build_verifier(settings_for(tmp_path, MIRAGE_AUTH_MODE="token", MIRAGE_AUTH_TOKEN="tok"))
    assert not (tmp_path / ".mirage").exists()


@pytest.mark.parametrize("token", ["has space", "t\u00f6ken", "quote\"d", "x" * 8193])
def test_configured_token_a_bearer_header_cannot_carry_is_refused_at_start(tmp_path, token):
    with pytest.raises(ConfigError) as caught:
        build_verifier(settings_for(tmp_path, MIRAGE_AUTH_MODE="token", MIRAGE_AUTH_TOKEN=token))
    assert caught.value.key == "auth.token"
    assert caught.value.source == "MIRAGE_AUTH_TOKEN"
    assert token not in str(caught.value)


# ---------------------------------------------------------------- local mode

def test_local_mode_prefers_MIRAGE_AUTH_TOKEN_and_leaves_the_file_alone(tmp_path):
    verifier = build_verifier(settings_for(tmp_path, MIRAGE_AUTH_TOKEN="env-token"))
    assert verifier.verify(b"env-token") == Principal("local", "local")
    assert not (tmp_path / ".mirage" / "auth_token").exists()


def test_local_mode_mints_the_token_file_when_absent(tmp_path):
    verifier = build_verifier(settings_for(tmp_path))
    path = tmp_path / ".mirage" / "auth_token"
    token = path.read_text().strip()
    assert len(token) >= 43
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert verifier.verify(token.encode()) == Principal("local", "local")


def test_local_mode_reuses_an_existing_token_file(tmp_path):
    first = build_verifier(settings_for(tmp_path))
    token = (tmp_path / ".mirage" / "auth_token").read_text().strip()
    second = build_verifier(settings_for(tmp_path))
    assert first.verify(token.encode()) == second.verify(token.encode())


def test_local_mode_honours_MIRAGE_HOME_and_MIRAGE_AUTH_TOKEN_FILE(tmp_path):
    build_verifier(settings_for(tmp_path, MIRAGE_HOME=str(tmp_path / "h")))
    assert (tmp_path / "h" / "auth_token").is_file()
    build_verifier(settings_for(tmp_path, MIRAGE_AUTH_TOKEN_FILE=str(tmp_path / "elsewhere" / "tok")))
    assert (tmp_path / "elsewhere" / "tok").is_file()


def test_local_mode_refuses_an_unsafe_token_file_naming_the_setting_and_path(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir(mode=0o700)
    path = folder / "tok"
    path.write_text("abcdef\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as caught:
        build_verifier(settings_for(tmp_path, MIRAGE_AUTH_TOKEN_FILE=str(path)))
    message = str(caught.value)
    assert caught.value.key == "auth.token_file"
    assert caught.value.source == "MIRAGE_AUTH_TOKEN_FILE"
    assert str(path) in message and "0644" in message
    assert "abcdef" not in message


def test_static_modes_never_import_jwt_or_cryptography(tmp_path):
    import subprocess
    import sys

    code = (
        "import os, sys\n"
        "from mirage.settings import load_settings\n"
        "from mirage.auth.build import build_verifier\n"
        f"build_verifier(load_settings(env={{'HOME': {str(tmp_path)!r}, 'MIRAGE_AUTH_MODE': 'token', "
        "'MIRAGE_AUTH_TOKEN': 'tok'}, config_path=os.devnull))\n"
        f"build_verifier(load_settings(env={{'HOME': {str(tmp_path)!r}}}, config_path=os.devnull))\n"
        "import mirage.auth\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'jwt', 'cryptography'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
