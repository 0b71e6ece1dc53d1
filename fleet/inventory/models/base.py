"""What every synced Ganeti object has: its Ganeti identity, its version, its tags, and when Fleet saw it."""

from __future__ import annotations

from django.db import models


class GanetiObject(models.Model):
    """Abstract base of the rows that mirror one Ganeti object of one cluster.

    ``serial_no`` and ``mtime`` are Ganeti's own and let the sync skip unchanged objects; ``raw`` keeps the
    last RAPI reply for debugging only: nothing reads it to make a decision. The sync fills it for groups,
    nodes and networks, not for instances: tens of thousands of copies of RAPI's reply would cost more to
    write than everything else a sync does; the cluster itself has the live record.
    """

    uuid = models.UUIDField(null=True, blank=True, help_text="Ganeti's UUID of the object.")
    serial_no = models.PositiveBigIntegerField(default=0, help_text="Ganeti's version counter of the object.")
    ctime = models.DateTimeField(null=True, blank=True, help_text="When Ganeti created the object.")
    mtime = models.DateTimeField(null=True, blank=True, help_text="When Ganeti last changed the object.")
    tags = models.JSONField(default=list, blank=True, help_text="The object's Ganeti tags, as a list.")
    raw = models.JSONField(
        null=True, blank=True, help_text="The last RAPI reply for the object (debugging only)."
    )
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When Fleet last wrote this row from RAPI."
    )

    class Meta:
        abstract = True
