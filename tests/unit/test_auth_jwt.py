"""JWT mode: the verifier's per-token rules (the attack matrix), pinned configurations for
every asymmetric family, start-up refusals, and one pass through the Sanic app.

Time is injected (``clock=lambda: NOW``) so expiry/skew cases never depend on timing.
"""

from __future__ import annotations

import dataclasses
import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from mirage.auth.build import build_verifier
from mirage.auth.jwt_verifier import JwtVerifier, KeyProblem
from mirage.auth.principal import AuthError, Principal
from mirage.settings import ConfigError, load_settings

NOW = 1_900_000_000
GENERIC_REASONS = {"invalid token", "token expired", "token not yet valid"}


# ---------------------------------------------------------------- keys and token crafting

@pytest.fixture(scope="module")
def keys():
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa_other": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p384": ec.generate_private_key(ec.SECP384R1()),
        "p521": ec.generate_private_key(ec.SECP521R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }


def pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def b64(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**changes):
    base = {"sub": "alice", "exp": NOW + 300, "iat": NOW - 10}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()


def sign(private_key, alg="RS256", payload=None, headers=None) -> str:
    return jwt.encode(claims() if payload is None else payload, private_key, algorithm=alg, headers=headers)


def sign_raw(private_key, alg: str, header: dict, payload_json: str) -> str:
    """Sign arbitrary payload text (lists, duplicates, NaN) with a real key."""
    signing_input = f"{b64(json.dumps(header))}.{b64(payload_json)}".encode()
    algorithm = jwt.algorithms.get_default_algorithms()[alg]
    signature = algorithm.sign(signing_input, algorithm.prepare_key(private_key))
    return f"{signing_input.decode()}.{b64(signature)}"


def unsigned(header: dict | str, payload: dict | str, signature: str = "") -> str:
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    return f"{b64(h)}.{b64(p)}.{signature}"


def verifier_for(private_key, alg="RS256", **options) -> JwtVerifier:
    options.setdefault("clock_skew_seconds", 5)
    return JwtVerifier(private_key.public_key(), alg, clock=lambda: NOW, **options)


@pytest.fixture(scope="module")
def rs256(keys):
    return verifier_for(keys["rsa"])


def refused(verifier, token) -> AuthError:
    if isinstance(token, str):
        token = token.encode("utf-8")
    with pytest.raises(AuthError) as caught:
        verifier.verify(token)
    assert caught.value.reason in GENERIC_REASONS
    return caught.value


@pytest.fixture
def key_work(monkeypatch):
    """Counts signature verifications by any PyJWT algorithm (to prove 'before any key work')."""
    calls = []
    for cls in (jwt.algorithms.RSAAlgorithm, jwt.algorithms.RSAPSSAlgorithm, jwt.algorithms.ECAlgorithm,
                jwt.algorithms.OKPAlgorithm, jwt.algorithms.HMACAlgorithm, jwt.algorithms.NoneAlgorithm):
        real = cls.verify

        def counting(self, msg, key, sig, _real=real):
            calls.append(type(self).__name__)
            return _real(self, msg, key, sig)

        monkeypatch.setattr(cls, "verify", counting)
    return calls


# ---------------------------------------------------------------- the good path

def test_valid_rs256_token_gives_the_sub_as_account(rs256, keys):
    assert rs256.verify(sign(keys["rsa"]).encode()) == Principal("alice", "jwt")


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/jwt", "APPLICATION/JWT"])
def test_typ_jwt_in_any_case_is_accepted(rs256, keys, typ):
    assert rs256.verify(sign(keys["rsa"], headers={"typ": typ}).encode()).account == "alice"


def test_token_without_typ_is_accepted(rs256, keys):
    token = sign_raw(keys["rsa"], "RS256", {"alg": "RS256"}, json.dumps(claims()))
    assert rs256.verify(token.encode()).account == "alice"


def test_far_future_integer_exp_beyond_float_range_is_accepted(rs256, keys):
    assert rs256.verify(sign(keys["rsa"], payload=claims(exp=10**400)).encode()).account == "alice"


def test_float_exp_is_accepted(rs256, keys):
    assert rs256.verify(sign(keys["rsa"], payload=claims(exp=NOW + 0.5)).encode()).account == "alice"


# ---------------------------------------------------------------- alg pinning

@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_in_any_case_is_refused(rs256, key_work, alg):
    for signature in ("", b64(b"anything")):
        refused(rs256, unsigned({"alg": alg, "typ": "JWT"}, claims(), signature))
    assert key_work == []


def test_hs256_signed_with_the_public_key_as_secret_is_refused(rs256, keys, key_work):
    public_pem = pem(keys["rsa"]).encode()
    header, payload = b64(json.dumps({"alg": "HS256", "typ": "JWT"})), b64(json.dumps(claims()))
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    error = refused(rs256, f"{header}.{payload}.{b64(mac)}")
    assert error.why == "alg not allowed"
    assert key_work == []


@pytest.mark.parametrize("alg", ["RS512", "RS384", "PS256"])
def test_other_rsa_algs_with_the_right_key_are_refused_against_pinned_rs256(rs256, keys, alg):
    assert refused(rs256, sign(keys["rsa"], alg=alg)).why == "alg not allowed"


def test_es256_token_is_refused_against_pinned_rs256(rs256, keys):
    assert refused(rs256, sign(keys["p256"], alg="ES256")).why == "alg not allowed"


def test_token_signed_by_another_key_is_refused(rs256, keys):
    assert refused(rs256, sign(keys["rsa_other"])).why == "bad signature"


@pytest.mark.parametrize("header_extra", [
    {"jku": "http://127.0.0.1:9/jwks.json"}, {"x5u": "http://127.0.0.1:9/cert.pem"}, {"kid": "attacker-key"},
])
def test_key_location_headers_are_never_used(rs256, keys, header_extra, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("verification must be networkless")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # signed by the real key: the header pointing elsewhere changes nothing
    assert rs256.verify(sign(keys["rsa"], headers=header_extra).encode()).account == "alice"
    # signed by another key that the header points to: still refused
    refused(rs256, sign(keys["rsa_other"], headers=header_extra))


def test_embedded_jwk_header_is_not_trusted(rs256, keys):
    attacker = keys["rsa_other"]
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    assert refused(rs256, sign(attacker, headers={"jwk": jwk})).why == "bad signature"


@pytest.mark.parametrize("header", [{"crit": ["exp"]}, {"b64": False, "crit": ["b64"]}, {"cty": "JWT"},
                                    {"enc": "A256GCM"}, {"zip": "DEF"}])
def test_headers_we_do_not_understand_are_refused(rs256, keys, header):
    token = sign_raw(keys["rsa"], "RS256", {"alg": "RS256", "typ": "JWT", **header}, json.dumps(claims()))
    refused(rs256, token)


# ---------------------------------------------------------------- signatures

def test_stripped_signature_is_refused(rs256, keys, key_work):
    head, payload, _ = sign(keys["rsa"]).split(".")
    refused(rs256, f"{head}.{payload}.")
    refused(rs256, f"{head}.{payload}")
    assert key_work == []


def test_tampered_signature_is_refused(rs256, keys):
    head, payload, signature = sign(keys["rsa"]).split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[10] ^= 0x01
    assert refused(rs256, f"{head}.{payload}.{b64(bytes(raw))}").why == "bad signature"


def test_tampered_payload_is_refused(rs256, keys):
    head, _, signature = sign(keys["rsa"]).split(".")
    assert refused(rs256, f"{head}.{b64(json.dumps(claims(sub='root')))}.{signature}").why == "bad signature"


def test_signature_with_non_canonical_base64_is_refused(rs256, keys):
    head, payload, signature = sign(keys["rsa"]).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # a 256-byte RSA signature is 342 characters: the last one carries 4 unused low bits,
    # so flipping its lowest bit decodes to the very same bytes (a malleable variant)
    assert len(signature) == 342
    variant = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(variant + "==") == base64.urlsafe_b64decode(signature + "==")
    assert refused(rs256, f"{head}.{payload}.{variant}").why == "segment is not canonical base64url"


# ---------------------------------------------------------------- time claims

def test_expired_beyond_clock_skew_is_refused(rs256, keys):
    assert refused(rs256, sign(keys["rsa"], payload=claims(exp=NOW - 6))).reason == "token expired"


def test_expired_within_clock_skew_is_accepted(rs256, keys):
    assert rs256.verify(sign(keys["rsa"], payload=claims(exp=NOW - 4)).encode()).account == "alice"


def test_clock_skew_setting_widens_the_window(keys):
    verifier = verifier_for(keys["rsa"], clock_skew_seconds=60)
    assert verifier.verify(sign(keys["rsa"], payload=claims(exp=NOW - 59)).encode()).account == "alice"
    refused(verifier, sign(keys["rsa"], payload=claims(exp=NOW - 61)))


def test_missing_exp_is_refused(rs256, keys):
    refused(rs256, sign(keys["rsa"], payload=claims(exp=DROP)))


@pytest.mark.parametrize("exp", [str(NOW + 300), "soon", True, None, [NOW + 300], {"t": NOW + 300}])
def test_exp_that_is_not_a_json_number_is_refused(rs256, keys, exp):
    refused(rs256, sign(keys["rsa"], payload=claims(exp=exp)))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_exp_that_is_not_finite_is_refused(rs256, keys, literal):
    payload = json.dumps(claims(exp=DROP))[:-1] + f', "exp": {literal}}}'
    refused(rs256, sign_raw(keys["rsa"], "RS256", {"alg": "RS256", "typ": "JWT"}, payload))


def test_nbf_in_the_future_beyond_skew_is_refused(rs256, keys):
    assert refused(rs256, sign(keys["rsa"], payload=claims(nbf=NOW + 60))).reason == "token not yet valid"


def test_nbf_within_skew_is_accepted(rs256, keys):
    assert rs256.verify(sign(keys["rsa"], payload=claims(nbf=NOW + 4)).encode()).account == "alice"


def test_iat_in_the_future_beyond_skew_is_refused(rs256, keys):
    assert refused(rs256, sign(keys["rsa"], payload=claims(iat=NOW + 60))).reason == "token not yet valid"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_nbf_and_iat_must_be_json_numbers(rs256, keys, claim):
    refused(rs256, sign(keys["rsa"], payload=claims(**{claim: str(NOW - 100)})))
    refused(rs256, sign(keys["rsa"], payload=claims(**{claim: False})))


# ---------------------------------------------------------------- typ and shape

@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "JWS", "", 1, None])
def test_typ_other_than_jwt_is_refused(rs256, keys, typ):
    token = sign_raw(keys["rsa"], "RS256", {"alg": "RS256", "typ": typ}, json.dumps(claims()))
    assert refused(rs256, token).why == "typ is not JWT"


@pytest.mark.parametrize("value", [
    "opaque-token-value", "abc.def", "a.b.c.d", "a.b.c.d.e", "..", "a..c", ".b.c",
])
def test_opaque_and_wrongly_segmented_values_are_refused_before_key_work(rs256, key_work, value):
    refused(rs256, value)
    assert key_work == []


def test_five_segment_jwe_shaped_value_is_refused(rs256, keys, key_work):
    head, payload, signature = sign(keys["rsa"]).split(".")
    refused(rs256, f"{head}.{payload}.{signature}.{payload}.{signature}")
    assert key_work == []


def test_one_megabyte_token_is_refused_before_key_work(rs256, keys, key_work):
    head, payload, signature = sign(keys["rsa"]).split(".")
    big = f"{head}.{payload}{'A' * (1 << 20)}.{signature}"
    assert "longer" in refused(rs256, big).why
    assert key_work == []


@pytest.mark.parametrize("suffix", ["==", "=", "%3D%3D", " "])
def test_valid_token_with_padding_appended_is_refused(rs256, keys, key_work, suffix):
    refused(rs256, sign(keys["rsa"]) + suffix)
    assert key_work == []


@pytest.mark.parametrize("value", ["h\u00e9ader.payload.sig", "\u202e.\u202e.\u202e", "\U0001f600.\U0001f600.x",
                                   "\x00.\x00.\x00"])
def test_unicode_garbage_is_refused(rs256, value):
    refused(rs256, value)


def test_header_bytes_that_are_not_utf8_are_refused(rs256, keys):
    _, payload, signature = sign(keys["rsa"]).split(".")
    bad_header = b64(b'\xff\xfe{"alg":"RS256"}')
    refused(rs256, f"{bad_header}.{payload}.{signature}")


@pytest.mark.parametrize("header_text", ["not json", "[\"RS256\"]", "\"RS256\"", "null", "{\"alg\": \"RS256\"",
                                         "[" * 5000 + "]" * 5000, "{\"alg\":\"RS256\",\"alg\":\"RS256\"}"])
def test_header_that_is_not_a_json_object_is_refused(rs256, keys, header_text, key_work):
    _, payload, signature = sign(keys["rsa"]).split(".")
    refused(rs256, f"{b64(header_text)}.{payload}.{signature}")
    assert key_work == []


def test_duplicate_alg_in_header_cannot_smuggle_none(rs256, keys):
    _, payload, signature = sign(keys["rsa"]).split(".")
    smuggled = b64('{"alg":"none","alg":"RS256"}')
    refused(rs256, f"{smuggled}.{payload}.{signature}")


@pytest.mark.parametrize("payload_text", ["[1, 2, 3]", "\"alice\"", "42", "null", "not json",
                                          "{\"sub\":\"alice\",\"sub\":\"root\",\"exp\":1900000300}"])
def test_signed_payload_that_is_not_a_clean_json_object_is_refused(rs256, keys, payload_text):
    refused(rs256, sign_raw(keys["rsa"], "RS256", {"alg": "RS256", "typ": "JWT"}, payload_text))


# ---------------------------------------------------------------- iss, aud, azp, sub

def test_issuer_must_match_exactly_when_configured(keys):
    verifier = verifier_for(keys["rsa"], issuer="https://issuer.example")
    assert verifier.verify(sign(keys["rsa"], payload=claims(iss="https://issuer.example")).encode())
    for iss in ("https://issuer.example/", "https://ISSUER.example", "https://evil.example", ["https://issuer.example"]):
        token = sign_raw(keys["rsa"], "RS256", {"alg": "RS256", "typ": "JWT"}, json.dumps(claims(iss=iss)))
        assert refused(verifier, token).why == "issuer mismatch"
    refused(verifier, sign(keys["rsa"]))      # missing iss


def test_audience_must_include_one_of_ours_when_configured(keys):
    verifier = verifier_for(keys["rsa"], audience=("mirage", "mirage-staging"))
    assert verifier.verify(sign(keys["rsa"], payload=claims(aud="mirage")).encode())
    assert verifier.verify(sign(keys["rsa"], payload=claims(aud=["other", "mirage-staging"])).encode())
    for aud in ("other", ["other", "another"], "MIRAGE", [], "", ["mirage", 7], {"mirage": True}, 7):
        refused(verifier, sign(keys["rsa"], payload=claims(aud=aud)))
    refused(verifier, sign(keys["rsa"]))      # missing aud


def test_audience_list_containing_ours_is_accepted(keys):
    verifier = verifier_for(keys["rsa"], audience=("mirage",))
    token = sign(keys["rsa"], payload=claims(aud=["https://api.example", "mirage"]))
    assert verifier.verify(token.encode()).account == "alice"


def test_a_token_naming_an_audience_is_refused_when_none_is_configured(rs256, keys):
    """RFC 7519 §4.1.3: we cannot identify ourselves with any value of its aud."""
    refused(rs256, sign(keys["rsa"], payload=claims(aud="some-other-service")))
    assert rs256.verify(sign(keys["rsa"], payload=claims()).encode()).account == "alice"


def test_azp_must_be_present_and_allowed_when_authorized_parties_are_configured(keys):
    verifier = verifier_for(keys["rsa"], authorized_parties=("cli", "web"))
    assert verifier.verify(sign(keys["rsa"], payload=claims(azp="web")).encode())
    for azp in ("evil", "WEB", ["web"], None):
        refused(verifier, sign(keys["rsa"], payload=claims(azp=azp)))
    refused(verifier, sign(keys["rsa"]))      # missing azp


@pytest.mark.parametrize("sub", [DROP, "", "   ", 123, None, ["alice"], {"id": "alice"}, "ali\nce", "ali\x00ce",
                                 "a" * 1025])
def test_sub_must_be_a_sane_non_empty_string(rs256, keys, sub):
    refused(rs256, sign(keys["rsa"], payload=claims(sub=sub)))


def test_non_ascii_sub_is_accepted_as_the_account(rs256, keys):
    assert rs256.verify(sign(keys["rsa"], payload=claims(sub="j\u00fcrgen@example")).encode()).account == \
        "j\u00fcrgen@example"


# ---------------------------------------------------------------- failures are always generic 401s

def test_refusals_never_carry_a_library_message(rs256, keys):
    for token in ("x", sign(keys["rsa_other"]), sign(keys["rsa"], payload=claims(exp="x")),
                  unsigned({"alg": "none"}, claims(), "")):
        error = refused(rs256, token)
        assert str(error) in GENERIC_REASONS


def test_verify_turns_any_unexpected_exception_into_a_generic_refusal(keys, monkeypatch):
    verifier = verifier_for(keys["rsa"])
    monkeypatch.setattr(verifier, "_check_claims", lambda claims: (_ for _ in ()).throw(TypeError("boom details")))
    error = refused(verifier, sign(keys["rsa"]))
    assert error.reason == "invalid token" and "boom" not in error.why


def test_verification_never_reparses_the_key(rs256, keys, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("key parsed during verification")

    monkeypatch.setattr(serialization, "load_pem_public_key", forbidden)
    monkeypatch.setattr(serialization, "load_pem_private_key", forbidden)
    for _ in range(3):
        assert rs256.verify(sign(keys["rsa"]).encode()).account == "alice"


# ---------------------------------------------------------------- every asymmetric family, pinned

@pytest.mark.parametrize("key_name,alg", [
    ("rsa", "RS384"), ("rsa", "RS512"), ("rsa", "PS256"), ("rsa", "PS384"), ("rsa", "PS512"),
    ("p256", "ES256"), ("p384", "ES384"), ("p521", "ES512"), ("ed25519", "EdDSA"), ("ed448", "EdDSA"),
])
def test_pinned_configuration_accepts_its_own_tokens(keys, key_name, alg):
    verifier = verifier_for(keys[key_name], alg)
    assert verifier.verify(sign(keys[key_name], alg=alg).encode()) == Principal("alice", "jwt")
    refused(verifier, sign(keys["rsa"], alg="RS256"))


def test_es256_pinned_refuses_a_token_from_another_p256_key(keys):
    verifier = verifier_for(keys["p256"], "ES256")
    refused(verifier, sign(ec.generate_private_key(ec.SECP256R1()), alg="ES256"))


def test_eddsa_pinned_refuses_a_token_from_another_ed25519_key(keys):
    verifier = verifier_for(keys["ed25519"], "EdDSA")
    refused(verifier, sign(ed25519.Ed25519PrivateKey.generate(), alg="EdDSA"))


# ---------------------------------------------------------------- start-up (build_verifier from settings)

def jwt_settings(tmp_path, **env):
    base = {"HOME": str(tmp_path), "MIRAGE_AUTH_MODE": "jwt"}
    base.update(env)
    return load_settings(env=base, config_path=os.devnull)


def test_build_verifier_from_pem_text_in_MIRAGE_JWT_PUBKEY(tmp_path, keys):
    verifier = build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY=pem(keys["rsa"]),
                                           MIRAGE_JWT_ISSUER="iss", MIRAGE_JWT_AUDIENCE="a,b",
                                           MIRAGE_JWT_AUTHORIZED_PARTIES="cli"))
    good = sign(keys["rsa"], payload=claims(exp=2**40, iat=DROP, iss="iss", aud="b", azp="cli"))
    assert verifier.verify(good.encode()) == Principal("alice", "jwt")
    refused(verifier, sign(keys["rsa"], payload=claims(exp=2**40, iat=DROP, iss="iss", aud="c", azp="cli")))


def test_build_verifier_accepts_pem_with_escaped_newlines(tmp_path, keys):
    one_line = pem(keys["p256"]).strip().replace("\n", "\\n")
    verifier = build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="ES256", MIRAGE_JWT_PUBKEY=one_line))
    assert verifier.verify(sign(keys["p256"], "ES256", claims(exp=2**40, iat=DROP)).encode()).account == "alice"


def test_build_verifier_from_MIRAGE_JWT_PUBKEY_FILE(tmp_path, keys):
    key_file = tmp_path / "key.pem"
    key_file.write_text(pem(keys["ed25519"]))
    verifier = build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="EdDSA", MIRAGE_JWT_PUBKEY_FILE=str(key_file)))
    assert verifier.verify(sign(keys["ed25519"], "EdDSA", claims(exp=2**40, iat=DROP)).encode()).account == "alice"


def test_rsa_key_under_2048_bits_is_refused_at_start(tmp_path, keys):
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY=pem(keys["rsa1024"])))
    assert caught.value.key == "jwt.pubkey" and caught.value.source == "MIRAGE_JWT_PUBKEY"
    assert "1024" in str(caught.value)


@pytest.mark.parametrize("alg", ["HS256", "HS512", "none", "None", "rs256"])
def test_symmetric_none_or_unknown_alg_is_refused_at_start_naming_MIRAGE_JWT_ALG(tmp_path, keys, alg):
    with pytest.raises(ConfigError) as caught:
        jwt_settings(tmp_path, MIRAGE_JWT_ALG=alg, MIRAGE_JWT_PUBKEY=pem(keys["rsa"]))
    assert "MIRAGE_JWT_ALG" in str(caught.value)


@pytest.mark.parametrize("alg", ["HS256", "none", "ES256K"])
def test_build_verifier_refuses_non_asymmetric_alg_even_if_settings_let_it_through(tmp_path, keys, alg):
    settings = jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY=pem(keys["rsa"]))
    with pytest.raises(ConfigError) as caught:
        build_verifier(dataclasses.replace(settings, jwt_alg=alg))
    assert caught.value.key == "jwt.alg" and "MIRAGE_JWT_ALG" in str(caught.value)


def test_jwt_mode_without_alg_is_refused_naming_MIRAGE_JWT_ALG(tmp_path, keys):
    with pytest.raises(ConfigError) as caught:
        jwt_settings(tmp_path, MIRAGE_JWT_PUBKEY=pem(keys["rsa"]))
    assert "MIRAGE_JWT_ALG" in str(caught.value)


@pytest.mark.parametrize("key_name,alg", [
    ("p256", "RS256"), ("ed25519", "PS256"), ("rsa", "ES256"), ("p384", "ES256"), ("p256", "ES512"),
    ("rsa", "EdDSA"), ("p256", "EdDSA"),
])
def test_key_type_that_does_not_match_the_alg_is_refused_at_start(tmp_path, keys, key_name, alg):
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG=alg, MIRAGE_JWT_PUBKEY=pem(keys[key_name])))
    assert caught.value.source == "MIRAGE_JWT_PUBKEY"
    assert alg in str(caught.value)


def test_missing_key_file_is_refused_naming_MIRAGE_JWT_PUBKEY_FILE_and_the_path(tmp_path):
    path = tmp_path / "absent.pem"
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(path)))
    assert caught.value.key == "jwt.pubkey_file" and caught.value.source == "MIRAGE_JWT_PUBKEY_FILE"
    assert str(path) in str(caught.value) and "does not exist" in str(caught.value)


def test_key_file_that_is_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(tmp_path)))
    assert "directory" in str(caught.value) and caught.value.key == "jwt.pubkey_file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_key_file_is_refused(tmp_path, keys):
    path = tmp_path / "key.pem"
    path.write_text(pem(keys["rsa"]))
    path.chmod(0)
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(path)))
    assert "permission denied" in str(caught.value)


def test_key_file_that_cannot_be_opened_is_refused(tmp_path):
    loop = tmp_path / "loop.pem"
    loop.symlink_to(loop)
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(loop)))
    assert caught.value.key == "jwt.pubkey_file" and "cannot open" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"not a key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                                     b"\xff\xfe\x00binary"])
def test_key_file_without_a_pem_public_key_is_refused(tmp_path, content):
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(path)))
    assert caught.value.key == "jwt.pubkey_file" and str(path) in str(caught.value)


def test_private_key_given_as_the_key_is_refused_without_echoing_it(tmp_path, keys):
    private_pem = keys["rsa"].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode()
    with pytest.raises(ConfigError) as caught:
        build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY=private_pem))
    assert "private key" in str(caught.value)
    assert private_pem.splitlines()[1] not in str(caught.value)


def test_jwt_verifier_constructor_refuses_mismatched_key_directly(keys):
    with pytest.raises(KeyProblem):
        JwtVerifier(keys["p256"].public_key(), "RS256")
    with pytest.raises(KeyProblem):
        JwtVerifier(keys["rsa1024"].public_key(), "PS256")


# ---------------------------------------------------------------- through the app

def test_jwt_mode_app_gives_the_sub_as_the_request_account(tmp_path, keys):
    from sanic import json as sanic_json

    from mirage.server.app import create_app

    app = create_app(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY=pem(keys["rsa"])))

    @app.get("/v1/test/whoami")
    async def whoami(request):
        return sanic_json({"account": request.ctx.principal.account, "mode": request.ctx.principal.mode})

    good = jwt.encode({"sub": "bob", "exp": 2**40}, keys["rsa"], algorithm="RS256")
    none = unsigned({"alg": "none", "typ": "JWT"}, {"sub": "bob", "exp": 2**40})

    async def go():
        client = app.asgi_client
        _, ok = await client.get("/v1/test/whoami", headers={"host": "localhost", "authorization": f"Bearer {good}"})
        _, bad = await client.get("/v1/test/whoami", headers={"host": "localhost", "authorization": f"Bearer {none}"})
        return ok, bad

    ok, bad = asyncio.run(go())
    assert ok.status == 200 and ok.json == {"account": "bob", "mode": "jwt"}
    assert bad.status == 401
    assert bad.headers["www-authenticate"] == 'Bearer realm="mirage", error="invalid_token"'
    assert bad.json == {"error": "unauthorized", "detail": "invalid token", "auth_mode": "jwt"}


def test_key_problem_from_the_config_file_names_the_file_and_line(tmp_path, keys):
    config = tmp_path / "mirage.yaml"
    weak = pem(keys["rsa1024"]).replace("\n", "\\n")
    config.write_text(f'auth:\n  mode: jwt\njwt:\n  alg: RS256\n  pubkey: "{weak}"\n')
    with pytest.raises(ConfigError) as caught:
        build_verifier(load_settings(env={"HOME": str(tmp_path)}, config_path=config))
    assert caught.value.key == "jwt.pubkey"
    assert caught.value.source == f"{config}:5"
    assert "1024" in str(caught.value) and f"jwt.alg RS256 from {config}:4" in str(caught.value)


def test_certificate_pem_gives_its_public_key(tmp_path, keys):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(keys["rsa"].public_key()).serial_number(1)
                   .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=1))
                   .sign(keys["rsa"], hashes.SHA256()))
    key_file = tmp_path / "cert.pem"
    key_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    verifier = build_verifier(jwt_settings(tmp_path, MIRAGE_JWT_ALG="RS256", MIRAGE_JWT_PUBKEY_FILE=str(key_file)))
    assert verifier.verify(sign(keys["rsa"], payload=claims(exp=2**40, iat=DROP)).encode()).account == "alice"
    assert refused(verifier, sign(keys["rsa_other"], payload=claims(exp=2**40, iat=DROP))).why == "bad signature"


def test_the_algorithms_settings_accept_are_exactly_those_the_verifier_can_pin():
    """settings.JWT_ALGS (what config accepts) and the verifier's families must not drift."""
    from mirage.auth.jwt_verifier import ASYMMETRIC_ALGS
    from mirage.settings import JWT_ALGS

    assert set(JWT_ALGS) == set(ASYMMETRIC_ALGS)
