"""Key pairs and long-lived JWTs for the jwt-mode scenarios (RS256, ES256)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

TEN_YEARS = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class JwtMaterial:
    alg: str
    pubkey_file: Path
    token: str


def make_jwt_material(alg: str, folder: Path, subject: str = "bench-user") -> JwtMaterial:
    """A fresh key pair for ``alg``, its public key as a PEM file, and a token valid for years."""
    if alg.startswith(("RS", "PS")):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif alg == "ES384":
        private = ec.generate_private_key(ec.SECP384R1())
    else:
        raise ValueError(f"unsupported bench alg {alg}")
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    folder.mkdir(parents=True, exist_ok=True)
    pubkey_file = folder / f"jwt-{alg.lower()}.pub.pem"
    pubkey_file.write_bytes(pem)
    now = int(time.time())
    token = jwt.encode({"sub": subject, "iat": now, "exp": now + TEN_YEARS}, private,
                       algorithm=alg, headers={"typ": "JWT"})
    return JwtMaterial(alg=alg, pubkey_file=pubkey_file, token=token)
