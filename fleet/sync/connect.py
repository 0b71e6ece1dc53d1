"""How Fleet reaches one cluster: the connection settings read from its Cluster row, and the RAPI client
built from them (pinned certificate, decrypted credentials, the cluster's own timeouts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.inventory.models import Cluster
from fleet.rapi import AsyncRapiClient, Credentials, Pin, RapiClient, Timeouts

__all__ = ["LONG_POLL_MARGIN", "Connection", "timeouts"]

LONG_POLL_MARGIN = 15.0  # Ganeti holds /2/jobs/N/wait for up to 10 s; the read timeout must outlast it


def timeouts(seconds: float) -> Timeouts:
    """The per-cluster timeouts for a cluster whose timeout is ``seconds``."""
    return Timeouts(connect=seconds, read=seconds, long_poll=seconds + LONG_POLL_MARGIN)


@dataclass(frozen=True)
class Connection:
    """What it takes to talk to one cluster, as a value: two equal Connections make equivalent clients."""

    cluster_id: int
    name: str
    url: str
    fingerprint: str
    username: str
    password: str = field(repr=False)
    timeout: float
    offline: bool

    @classmethod
    def of(cls, cluster: Cluster) -> Connection:
        """Read the row; raises ``CredentialError`` if the stored password cannot be decrypted."""
        return cls(
            cluster_id=cluster.pk,
            name=cluster.name,
            url=cluster.rapi_url,
            fingerprint=cluster.rapi_fingerprint,
            username=cluster.rapi_username,
            password=cluster.rapi_password(),
            timeout=cluster.rapi_timeout,
            offline=cluster.offline,
        )

    @classmethod
    def load(cls, cluster_id: int) -> Connection | None:
        """The connection of a cluster row, or None if the row is gone."""
        cluster = Cluster.objects.filter(pk=cluster_id).first()
        return None if cluster is None else cls.of(cluster)

    @property
    def credentials(self) -> Credentials | None:
        return Credentials(self.username, self.password) if self.username else None

    def _options(self) -> dict[str, Any]:
        return {
            "trust": Pin(self.fingerprint),
            "credentials": self.credentials,
            "timeouts": timeouts(self.timeout),
            "name": self.name,
        }

    def async_client(self) -> AsyncRapiClient:
        """A client for the worker."""
        return AsyncRapiClient.connect(self.url, **self._options())

    def client(self) -> RapiClient:
        """A blocking client (the CLI)."""
        return RapiClient.connect(self.url, **self._options())
