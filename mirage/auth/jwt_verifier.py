"""JwtVerifier: networkless verification of asymmetric JWTs against one pinned key and alg.

Start-up (:func:`parse_public_key`, :func:`check_key_matches_alg`, ``JwtVerifier(...)``)
raises :class:`KeyProblem` for a key that cannot be used; ``build.py`` turns that into a
``ConfigError`` naming the setting and its source.

Per token, :meth:`JwtVerifier.verify` checks, in this order:

1. at most 8 KiB, exactly three non-empty base64url segments without padding
   (so opaque values, 5-segment JWEs and ``==``-suffixed tokens fail) — no key work yet;
2. the header: strict JSON object (no duplicate names, no NaN); ``alg`` equal to the
   pinned one exactly (``none`` in any case, HS*, any other alg → refused); ``typ``, if
   present, ``JWT`` or ``application/jwt`` (any case); ``crit``/``b64``/``cty``/``enc``/
   ``zip`` refused (nothing we understand); ``jku``/``x5u``/``jwk``/``x5c``/``kid`` never
   looked at — the key is the configured one;
3. the signature, with PyJWT's algorithm object and the key prepared once at start;
4. the claims, on the strictly parsed payload: ``exp`` required; ``exp``/``nbf``/``iat``
   JSON numbers (not strings, not booleans, finite) honoured with the clock skew;
   ``iss`` equal when configured; ``aud`` (string or list of strings) containing one of
   ours when configured; ``azp`` present and allowed when authorized parties are
   configured; ``sub`` a non-empty string without control characters, at most 1024
   characters (it becomes the account).

Any failure of any kind is an :class:`AuthError` with a generic reason; the precise
cause (``why``) comes from a fixed vocabulary and never from a library message.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from mirage.auth.credentials import MAX_TOKEN_BYTES
from mirage.auth.principal import AuthError, Principal

MIN_RSA_BITS = 2048
MAX_SUB_CHARS = 1024

RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGS = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
EDDSA_ALGS = frozenset({"EdDSA"})
ASYMMETRIC_ALGS = RSA_ALGS | frozenset(EC_ALGS) | EDDSA_ALGS

_SEGMENT = re.compile(rb"[A-Za-z0-9_-]+")
_ALLOWED_TYP = frozenset({"jwt", "application/jwt"})
_REFUSED_HEADERS = ("crit", "b64", "cty", "enc", "zip")
_TIME_CLAIMS = ("exp", "nbf", "iat")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class KeyProblem(ValueError):
    """The configured key (or alg) cannot be used; the message is safe to print."""


# ---------------------------------------------------------------- start-up: the key

def parse_public_key(pem_text: str):
    """PEM text (a public key, or a certificate whose public key is taken) → key object.

    Literal ``\\n`` sequences in one-line text (as environment values often carry) are
    turned into newlines."""
    text = pem_text.strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    if not text:
        raise KeyProblem("is empty")
    if "PRIVATE KEY-----" in text:
        raise KeyProblem("is a private key; give the public key only (the daemon never needs the private key)")
    if "-----BEGIN" not in text:
        raise KeyProblem("is not PEM text (expected -----BEGIN PUBLIC KEY-----)")
    data = text.encode("utf-8", "replace")
    try:
        if "-----BEGIN CERTIFICATE-----" in text:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except Exception:  # cryptography's messages are not needed: the problem is the text
        raise KeyProblem("is not a readable PEM public key") from None


def describe_key(key) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"an RSA {key.key_size}-bit key"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC {key.curve.name} key"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "an Ed25519 key"
    if isinstance(key, ed448.Ed448PublicKey):
        return "an Ed448 key"
    return f"a {type(key).__name__.removeprefix('_')}"


def check_key_matches_alg(key, alg: str) -> None:
    """Refuse a key that cannot verify ``alg`` (or is too weak for it)."""
    if alg not in ASYMMETRIC_ALGS:
        raise KeyProblem(f"algorithm {alg!r} is refused: only RS/PS/ES 256/384/512 and EdDSA are accepted "
                         f"(never none or HS*)")
    if alg in RSA_ALGS:
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyProblem(f"is {describe_key(key)}, but {alg} needs an RSA key")
        if key.key_size < MIN_RSA_BITS:
            raise KeyProblem(f"is an RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} bits are required")
    elif alg in EC_ALGS:
        wanted = EC_ALGS[alg]
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise KeyProblem(f"is {describe_key(key)}, but {alg} needs an EC {wanted} key")
        if key.curve.name != wanted:
            raise KeyProblem(f"is {describe_key(key)}, but {alg} needs an EC {wanted} key")
    else:
        if not isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            raise KeyProblem(f"is {describe_key(key)}, but {alg} needs an Ed25519 or Ed448 key")


# ---------------------------------------------------------------- per token: helpers

class _Reject(Exception):
    def __init__(self, why: str, reason: str = "invalid token"):
        super().__init__(why)
        self.why = why
        self.reason = reason


def _b64url_decode(segment: bytes) -> bytes:
    """Strict base64url without padding; the encoding must be canonical."""
    if len(segment) % 4 == 1:
        raise _Reject("segment is not base64url")
    try:
        data = base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise _Reject("segment is not base64url") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=") != segment:
        raise _Reject("segment is not canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Reject("duplicate JSON member")
        result[name] = value
    return result


def _no_constants(name: str) -> Any:
    raise _Reject("NaN/Infinity in JSON")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Reject:
        raise
    except Exception:  # UnicodeDecodeError, JSONDecodeError, RecursionError, ...
        raise _Reject(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise _Reject(f"{what} is not a JSON object")
    return value


def _is_number(value: Any) -> bool:
    """A JSON number: an int (not a bool, which is an int in Python) or a finite float."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


# ---------------------------------------------------------------- the verifier

class JwtVerifier:
    """Verifies a token against the one configured key and alg; see the module docstring."""

    mode = "jwt"

    def __init__(self, key, alg: str, *, issuer: str | None = None, audience: Iterable[str] = (),
                 authorized_parties: Iterable[str] = (), clock_skew_seconds: float = 5,
                 clock: Callable[[], float] = time.time):
        check_key_matches_alg(key, alg)
        algorithm = get_default_algorithms().get(alg)
        if algorithm is None:
            raise KeyProblem(f"algorithm {alg!r} is not available in this PyJWT build")
        try:
            # prepared once: PyJWT keeps key objects as they are, nothing is re-parsed per token
            self._key = algorithm.prepare_key(key)
        except Exception:
            raise KeyProblem(f"is {describe_key(key)}, which PyJWT cannot use for {alg}") from None
        self._algorithm = algorithm
        self._alg = alg
        self._issuer = issuer or None
        self._audience = frozenset(a for a in audience if a)
        self._authorized_parties = frozenset(p for p in authorized_parties if p)
        self._leeway = float(clock_skew_seconds)
        self._clock = clock

    def __repr__(self) -> str:
        return f"JwtVerifier(alg={self._alg!r}, key={describe_key(self._key)})"

    def verify(self, token: bytes) -> Principal:
        try:
            return self._verify(token)
        except _Reject as exc:
            raise AuthError(exc.reason, why=exc.why) from None
        except Exception as exc:  # anything at all: 401, never a 500, never the library's text
            raise AuthError("invalid token", why=f"token refused ({type(exc).__name__})") from None

    # -- the steps

    def _verify(self, token: bytes) -> Principal:
        # 1. shape, before any key work
        if not isinstance(token, bytes):
            raise _Reject("token is not bytes")
        if len(token) > MAX_TOKEN_BYTES:
            raise _Reject(f"token longer than {MAX_TOKEN_BYTES} bytes")
        segments = token.split(b".")
        if len(segments) != 3:
            raise _Reject(f"not a JWS compact token ({len(segments)} segments)")
        for segment in segments:
            if _SEGMENT.fullmatch(segment) is None:
                raise _Reject("segment is empty or not unpadded base64url")
        # 2. header
        self._check_header(_json_object(_b64url_decode(segments[0]), "header"))
        # 3. signature, with PyJWT's algorithm and the key prepared at start
        signature = _b64url_decode(segments[2])
        if not self._algorithm.verify(token.rpartition(b".")[0], self._key, signature):
            raise _Reject("bad signature")
        # 4. claims
        claims = _json_object(_b64url_decode(segments[1]), "payload")
        return Principal(self._check_claims(claims), self.mode)

    def _check_header(self, header: dict[str, Any]) -> None:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg != self._alg:
            raise _Reject("alg not allowed")
        if "typ" in header:
            typ = header["typ"]
            if not isinstance(typ, str) or typ.lower() not in _ALLOWED_TYP:
                raise _Reject("typ is not JWT")
        for name in _REFUSED_HEADERS:
            if name in header:
                raise _Reject(f"header {name!r} not supported")

    def _check_claims(self, claims: dict[str, Any]) -> str:
        for name in _TIME_CLAIMS:
            if name in claims and not _is_number(claims[name]):
                raise _Reject(f"{name} is not a JSON number")
        if "exp" not in claims:
            raise _Reject("exp missing")
        now = self._clock()
        if claims["exp"] <= now - self._leeway:
            raise _Reject("token expired (beyond clock skew)", "token expired")
        if "nbf" in claims and claims["nbf"] > now + self._leeway:
            raise _Reject("nbf in the future (beyond clock skew)", "token not yet valid")
        if "iat" in claims and claims["iat"] > now + self._leeway:
            raise _Reject("iat in the future (beyond clock skew)", "token not yet valid")
        if self._issuer is not None:
            iss = claims.get("iss")
            if not isinstance(iss, str) or iss != self._issuer:
                raise _Reject("issuer mismatch")
        if self._audience:
            aud = claims.get("aud")
            values = [aud] if isinstance(aud, str) else aud
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values) \
                    or self._audience.isdisjoint(values):
                raise _Reject("audience mismatch")
        elif "aud" in claims:
            # RFC 7519 §4.1.3: a token meant for named audiences is not for a daemon that
            # cannot identify itself with one of them (PyJWT's decode refuses it too).
            raise _Reject("aud present but no audience is configured (set MIRAGE_JWT_AUDIENCE)")
        if self._authorized_parties:
            azp = claims.get("azp")
            if not isinstance(azp, str) or azp not in self._authorized_parties:
                raise _Reject("azp missing or not an authorized party")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise _Reject("sub missing or not a non-empty string")
        if len(sub) > MAX_SUB_CHARS or _CONTROL.search(sub):
            raise _Reject("sub too long or has control characters")
        return sub
