"""What a test needs to reach one RAPI endpoint, be it a simulated cluster or a real Ganeti daemon."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RapiTarget:
    """One cluster's RAPI: where it listens, its certificate, and a write and a read-only account."""

    name: str  # the cluster name as /2/info reports it
    host: str
    port: int
    fingerprint: str  # SHA-256 of the server certificate (DER), lowercase hex without colons
    cert_file: str  # the server certificate in PEM, usable as a CA file for verification
    username: str  # has the `write` option
    password: str
    reader: str  # has only the `read` option
    reader_password: str

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"
