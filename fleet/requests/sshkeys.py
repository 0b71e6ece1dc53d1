"""Reading an OpenSSH public key line: which kinds Fleet accepts, and the SHA256 fingerprint it is shown by.

The key is parsed by the ``cryptography`` library (never by hand), which also checks that the type named on
the line is the type inside the base64 blob. Accepted: ``ssh-ed25519``, ``ecdsa-sha2-nistp{256,384,521}``
and ``ssh-rsa`` of at least 2048 bits. DSA keys (``ssh-dss``: 1024 bits, SHA-1, dropped by OpenSSH 7.0)
are refused by name, as are the security-key kinds (``sk-…``), which an instance's sshd may not accept.
ganetimgr took RSA and DSA only and stored what it was given; Fleet stores the line it parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

MIN_RSA_BITS = 2048
MAX_LINE = 16384  # an RSA key of 16384 bits is under 3,000 characters; anything longer is not a key
COMMENT_MAX = 100
ACCEPTED = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


class InvalidKey(ValueError):
    """The text is not a public key Fleet accepts; the message says why, for the user."""


@dataclass(frozen=True)
class PublicKey:
    """A parsed key: its kind, size, fingerprint, comment, and the line to store and hand to an instance."""

    kind: str
    bits: int
    fingerprint: str  # "SHA256:" and the unpadded base64 of the blob's SHA-256, as ssh-keygen -l prints
    comment: str
    line: str  # "kind base64 [comment]", whitespace normalised


def fingerprint(blob: bytes) -> str:
    """The SHA256 fingerprint of a key blob, as OpenSSH prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def parse(text: str) -> PublicKey:
    """Parse one OpenSSH public key line (``kind base64 [comment]``) or raise :class:`InvalidKey`."""
    line = " ".join(text.split())
    if not line:
        raise InvalidKey("Paste a public key: a line such as 'ssh-ed25519 AAAA… you@host'.")
    if len(line) > MAX_LINE:
        raise InvalidKey("This is too long to be an SSH public key.")
    if "PRIVATE KEY" in line:
        raise InvalidKey("This is a private key: never paste it anywhere. Paste the .pub file's line.")
    parts = line.split(" ", 2)
    kind = parts[0]
    if kind == "ssh-dss":
        raise InvalidKey(
            "DSA keys (ssh-dss) are not accepted: they are weak. Use an ed25519 key (ssh-keygen -t ed25519)."
        )
    if kind.startswith("sk-"):
        raise InvalidKey(f"Security-key keys ({kind}) are not accepted; use ed25519, ecdsa or rsa.")
    if kind not in ACCEPTED:
        raise InvalidKey(f"{kind[:40]!r} is not an OpenSSH public key type; accepted: {', '.join(ACCEPTED)}.")
    if len(parts) < 2:
        raise InvalidKey("The key has a type but no key data after it.")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        key = load_ssh_public_key(f"{kind} {parts[1]}".encode())
    except (binascii.Error, ValueError, UnsupportedAlgorithm):
        raise InvalidKey(f"This is not a valid {kind} key: its data does not decode.") from None
    bits = _bits(key)
    if isinstance(key, rsa.RSAPublicKey) and bits < MIN_RSA_BITS:
        raise InvalidKey(f"This RSA key has {bits} bits; at least {MIN_RSA_BITS} are needed.")
    comment = parts[2][:COMMENT_MAX] if len(parts) > 2 else ""
    stored = f"{kind} {parts[1]}" + (f" {comment}" if comment else "")
    return PublicKey(kind=kind, bits=bits, fingerprint=fingerprint(blob), comment=comment, line=stored)


def _bits(key: object) -> int:
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 256
    raise InvalidKey("This key type is not accepted.")
