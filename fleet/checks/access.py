"""The credentials file of the RAPI checks: where a cluster's RAPI listens, its pinned certificate, and the
read-only account the checks use. Kept in a file (mode 0600, owned by the Icinga user), never on the command
line, where `ps` would show the password to every local user.

    [DEFAULT]
    user = icinga
    password = s3cret

    [cluster1.example.org]
    fingerprint = 3b1f...e9          ; SHA-256 of the RAPI certificate (`fleet rapi fingerprint HOST`)
    port = 5080                      ; optional, 5080 by default

    [cluster2.example.org]
    ca_file = /etc/icinga2/ganeti/cluster2-rapi.pem   ; instead of a fingerprint
    user = icinga-c2                 ; a section's keys override DEFAULT's

The section is chosen by the host given with `-H`; keys in `[DEFAULT]` apply to every section. A host
without a section still gets `[DEFAULT]`'s keys (one account and one certificate for every cluster).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass

from fleet.rapi import CaFile, Credentials, Pin, RapiClient, Timeouts, Trust

DEFAULT_PORT = 5080
"""Ganeti's RAPI port (`constants.DEFAULT_RAPI_PORT`)."""


class AccessError(Exception):
    """The credentials file is missing, unreadable or incomplete; the message names the file and the key."""


@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one cluster's RAPI: address, trust and account."""

    host: str
    port: int
    trust: Trust
    credentials: Credentials | None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def client(self, timeout: float) -> RapiClient:
        """A client whose every connect and read gives up after `timeout` seconds."""
        timeouts = Timeouts(connect=timeout, read=timeout, long_poll=timeout)
        return RapiClient.connect(self.url, trust=self.trust, credentials=self.credentials, timeouts=timeouts)


def load(path: str, host: str, port: int | None = None) -> ClusterAccess:
    """Read `path` and return how to reach `host` (the `-H` value); `port` (from `-P`) wins over the file."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as exc:
        raise AccessError(f"cannot read the credentials file {path}: {exc.strerror}") from exc
    except configparser.Error as exc:
        raise AccessError(f"credentials file {path} is not an INI file: {exc.message}") from exc
    section = parser[host] if parser.has_section(host) else parser[parser.default_section]
    where = f"{path} [{host if parser.has_section(host) else parser.default_section}]"
    return ClusterAccess(
        host, _port(section, port, where), _trust(section, where), _credentials(section, where)
    )


def _port(section: configparser.SectionProxy, port: int | None, where: str) -> int:
    if port is not None:
        return port
    try:
        value = section.getint("port", DEFAULT_PORT)
    except ValueError as exc:
        raise AccessError(f"{where}: port is not a number") from exc
    if not 0 < value < 65536:
        raise AccessError(f"{where}: port {value} is out of range")
    return value


def _trust(section: configparser.SectionProxy, where: str) -> Trust:
    fingerprint, ca_file = section.get("fingerprint"), section.get("ca_file")
    if fingerprint and ca_file:
        raise AccessError(f"{where}: give fingerprint or ca_file, not both")
    if ca_file:
        return CaFile(ca_file)
    if not fingerprint:
        raise AccessError(f"{where}: no fingerprint (or ca_file) to verify the cluster's certificate with")
    try:
        return Pin(fingerprint)
    except ValueError as exc:
        raise AccessError(f"{where}: fingerprint: {exc}") from exc


def _credentials(section: configparser.SectionProxy, where: str) -> Credentials | None:
    user = section.get("user")
    if not user:
        return None
    password = section.get("password")
    if password is None:
        raise AccessError(f"{where}: user {user} has no password")
    return Credentials(user, password)
