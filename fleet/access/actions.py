"""The verbs of the policy (what one asks to do), the answer it gives, and Fleet's named permissions.

These are plain values with no Django in them, so that every face (pages, API, CLI, operations) names an
action the same way and gets the same answer back.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.StrEnum):
    """What a user asks to do to an object. Every action but :attr:`VIEW` is a write."""

    VIEW = "view"
    POWER = "power"  # start, shutdown, reboot
    MIGRATE = "migrate"  # migrate, failover
    REINSTALL = "reinstall"
    DESTROY = "destroy"
    RENAME = "rename"
    MODIFY = "modify"  # boot device, CD image, NIC and disk models, memory, vCPUs
    OWNERS = "owners"  # add or remove co-owners
    CONSOLE = "console"
    LOCK = "lock"  # set or clear the adminlock flag
    ISOLATE = "isolate"  # cut an instance off the network, or reconnect it
    CANCEL_JOB = "cancel_job"
    MANAGE_CLUSTER = "manage_cluster"  # cluster-, node-, group- and network-level jobs
    CREATE = "create"  # create an instance on a cluster (an approved application's)

    @property
    def is_write(self) -> bool:
        return self is not Action.VIEW

    @property
    def verb(self) -> str:
        """The action in a sentence: "You may not {verb} web1."."""
        return _VERBS[self]


_VERBS = {
    Action.VIEW: "see",
    Action.POWER: "start, shut down or reboot",
    Action.MIGRATE: "migrate or fail over",
    Action.REINSTALL: "reinstall",
    Action.DESTROY: "destroy",
    Action.RENAME: "rename",
    Action.MODIFY: "change the configuration of",
    Action.OWNERS: "change the owners of",
    Action.CONSOLE: "open the console of",
    Action.LOCK: "lock or unlock",
    Action.ISOLATE: "isolate or reconnect",
    Action.CANCEL_JOB: "cancel",
    Action.MANAGE_CLUSTER: "manage",
    Action.CREATE: "create instances on",
}


class Permission(enum.StrEnum):
    """Fleet's named permissions (Django permissions of the ``access`` app), as ``user.has_perm`` takes them.

    Grant them to Django groups ("helpdesk", "noc") rather than to single accounts. Superusers hold them all.
    """

    VIEW_ALL = "access.view_all"  # helpdesk: sees every object, read-only
    CONSOLE_ANY = "access.console_any"  # opens the console of any instance it sees
    LOCK_INSTANCE = "access.lock_instance"  # sets and clears adminlock
    ISOLATE_INSTANCE = "access.isolate_instance"
    MIGRATE_INSTANCE = "access.migrate_instance"  # moves instances off a node before its maintenance
    CANCEL_JOB = "access.cancel_job"  # cancels any job (Ganeti cancels the queued and waiting ones)
    REVIEW_APPLICATION = "access.review_application"  # accepts or rejects VM applications
    MAIL_OWNERS = "access.mail_owners"  # mails the owners of instances, nodes or clusters

    @property
    def codename(self) -> str:
        return self.value.partition(".")[2]


@dataclass(frozen=True)
class Decision:
    """The policy's answer to "may this user do this action to this object?".

    ``reason`` says why not, in a sentence fit for the user ("web1 is locked by an administrator.").
    ``visible`` is False when the user may not even see the object: the answer is then a 404, never a 403,
    so that a refusal does not tell which names exist.
    """

    allowed: bool
    reason: str = ""
    visible: bool = True

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)
