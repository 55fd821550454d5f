"""A JSON client over a running test app, with ES256 tokens for two subjects (shared by the
workspace and shell API tests)."""

from __future__ import annotations

import json
import socket
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sanic_testing.reusable import ReusableClient


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def es256_keys(subjects=("alice", "bob")) -> tuple[str, dict[str, str]]:
    """(public key PEM, {subject: a token valid for an hour})."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    tokens = {sub: jwt.encode({"sub": sub, "exp": int(time.time()) + 3600}, key, algorithm="ES256")
              for sub in subjects}
    return pem, tokens


class Api:
    def __init__(self, client: ReusableClient, tokens: dict[str, str]):
        self.client, self.tokens = client, tokens

    def call(self, method: str, path: str, who: str = "alice", body=None, raw: bytes | None = None):
        kwargs = {"headers": {"Authorization": f"Bearer {self.tokens[who]}"}}
        if raw is not None:
            kwargs["content"] = raw
        elif body is not None:
            kwargs["content"] = json.dumps(body).encode()
        _, response = getattr(self.client, method)(path, **kwargs)
        return response.status, response.json

    def vfs(self, ws: str, call: str, who: str = "alice", **args):
        return self.call("post", f"/v1/workspaces/{ws}/vfs/{call}", who, args)

    def shell(self, ws: str, command: str, who: str = "alice", query: str = "", **extra):
        return self.call("post", f"/v1/workspaces/{ws}/shell{query}", who, {"command": command, **extra})
