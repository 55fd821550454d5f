"""Bearer header parsing (mirage.auth.credentials) and authenticate() (mirage.auth.guard)."""

from __future__ import annotations

import pytest

from mirage.auth.credentials import MAX_TOKEN_BYTES, bearer_token
from mirage.auth.guard import authenticate
from mirage.auth.principal import AuthError, BadCredentials, Principal
from mirage.auth.static import StaticTokenVerifier


def test_bearer_token_is_returned_as_ascii_bytes():
    assert bearer_token(["Bearer abc.DEF-123_~+/=="]) == b"abc.DEF-123_~+/=="


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "BeArEr"])
def test_scheme_is_case_insensitive(scheme):
    assert bearer_token([f"{scheme} tok"]) == b"tok"


def test_several_spaces_after_the_scheme_are_accepted():
    assert bearer_token(["Bearer    tok  "]) == b"tok"


def test_no_authorization_header_is_missing_token_without_error_code():
    with pytest.raises(AuthError) as caught:
        bearer_token([])
    assert caught.value.reason == "missing bearer token"
    assert caught.value.token_presented is False


def test_two_authorization_headers_are_bad_credentials():
    with pytest.raises(BadCredentials):
        bearer_token(["Bearer a", "Bearer a"])


def test_two_authorization_headers_are_refused_before_any_verification():
    class Exploding:
        mode = "test"

        def verify(self, token):
            raise AssertionError("verifier must not run")

    with pytest.raises(BadCredentials):
        authenticate(["Bearer a", "Bearer b"], Exploding())


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Token abc", "Bearerabc", "", "   ", "Bearer", "Bearer   "])
def test_non_bearer_or_empty_credentials_count_as_no_token(value):
    with pytest.raises(AuthError) as caught:
        bearer_token([value])
    assert caught.value.token_presented is False


@pytest.mark.parametrize("token", [
    "a b", "a,b", '"abc"', "=abc", "a=b", "ab=c=", "tok\u00e9n", "tok\x00en", "tok\ten", "a;b", "a\\b",
    "a:b", "a@b", "a%20b", "\u2028",
])
def test_token_outside_rfc6750_b64token_is_refused_as_invalid_token(token):
    with pytest.raises(AuthError) as caught:
        bearer_token([f"Bearer {token}"])
    assert caught.value.token_presented is True
    assert token not in caught.value.reason


def test_token_of_exactly_8_kib_is_accepted():
    assert len(bearer_token(["Bearer " + "a" * MAX_TOKEN_BYTES])) == MAX_TOKEN_BYTES


def test_token_over_8_kib_is_refused():
    with pytest.raises(AuthError):
        bearer_token(["Bearer " + "a" * (MAX_TOKEN_BYTES + 1)])


def test_one_megabyte_header_is_refused_before_parsing():
    with pytest.raises(AuthError) as caught:
        bearer_token(["Bearer " + "a" * (1 << 20)])
    assert "longer" in caught.value.why


def test_authenticate_passes_the_token_bytes_to_the_verifier():
    principal = authenticate(["bearer s3cret"], StaticTokenVerifier(b"s3cret", "token"))
    assert principal == Principal("local", "token")


def test_authenticate_turns_an_unexpected_verifier_exception_into_401():
    class Broken:
        mode = "test"

        def verify(self, token):
            raise KeyError("library detail that must not leak")

    with pytest.raises(AuthError) as caught:
        authenticate(["Bearer abc"], Broken())
    assert caught.value.reason == "invalid token"
    assert "library detail" not in caught.value.reason


def test_authenticate_refuses_a_verifier_result_without_account():
    class Empty:
        mode = "test"

        def verify(self, token):
            return Principal("", "test")

    with pytest.raises(AuthError):
        authenticate(["Bearer abc"], Empty())
