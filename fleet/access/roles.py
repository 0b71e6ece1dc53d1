"""Who is asking: an account's role and the named permissions it holds, read once per user object."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser

from fleet.access.actions import Permission

User = Any  # a user model instance or AnonymousUser

HELPDESK_PERMISSION = Permission.VIEW_ALL
"""The permission that makes an account helpdesk: it sees everything and, by that alone, changes nothing."""


class Role(enum.IntEnum):
    """How far an account reaches, from nothing to everything; compare with ``>=``."""

    ANONYMOUS = 0
    USER = 1
    HELPDESK = 2
    ADMIN = 3


def is_active_account(user: User | None) -> bool:
    return not (
        user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active
    )


def role_of(user: User | None) -> Role:
    """The role of ``user``; ``None`` and inactive accounts are anonymous."""
    if not is_active_account(user):
        return Role.ANONYMOUS
    assert user is not None
    if user.is_superuser:
        return Role.ADMIN
    if user.has_perm(HELPDESK_PERMISSION):
        return Role.HELPDESK
    return Role.USER


@dataclass(frozen=True)
class Subject:
    """An account as the policy sees it: its id, role and permissions, and the account itself (ownership is
    matched by its name)."""

    pk: Any
    role: Role
    permissions: frozenset[Permission]
    user: Any = field(default=None, compare=False, repr=False)

    def holds(self, permission: Permission) -> bool:
        return self.role is Role.ADMIN or permission in self.permissions


ANONYMOUS = Subject(None, Role.ANONYMOUS, frozenset())


def subject_of(user: User | None) -> Subject:
    """The :class:`Subject` for ``user``. Django's backend keeps the account's permissions on the user
    object, so this costs its two queries once per request, for every action and object asked about."""
    role = role_of(user)
    if role is Role.ANONYMOUS:
        return ANONYMOUS
    assert user is not None
    if role is Role.ADMIN:
        held = frozenset(Permission)
    else:
        granted = user.get_all_permissions()
        held = frozenset(p for p in Permission if p.value in granted)
    return Subject(user.pk, role, held, user)
