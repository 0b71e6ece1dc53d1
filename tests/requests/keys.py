"""OpenSSH public key lines of every kind, made fresh by the cryptography library (no key is checked in)."""

from __future__ import annotations

import functools
import warnings

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa


def _line(private: object, comment: str) -> str:
    public = private.public_key()  # type: ignore[attr-defined]
    with warnings.catch_warnings():  # writing a DSA key warns: it is made here only to be refused
        warnings.simplefilter("ignore")
        text = public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode()
    return f"{text} {comment}"


@functools.cache
def line(kind: str, comment: str = "me@laptop") -> str:
    """A public key line of ``kind``: ed25519, ecdsa256, ecdsa521, rsa2048, rsa1024 or dsa."""
    makers = {
        "ed25519": ed25519.Ed25519PrivateKey.generate,
        "ecdsa256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "ecdsa521": lambda: ec.generate_private_key(ec.SECP521R1()),
        "rsa2048": lambda: rsa.generate_private_key(65537, 2048),
        "rsa1024": lambda: rsa.generate_private_key(65537, 1024),
        "dsa": lambda: dsa.generate_private_key(1024),
    }
    return _line(makers[kind](), comment)
