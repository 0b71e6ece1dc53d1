"""API tokens: keys, lifetimes, the authentication class and its scope, the migration, the CLI."""

from __future__ import annotations

from typing import Any

from fleet.tokens.issue import issue


def new_key(user: Any, scope: str = "read", name: str = "tests") -> str:
    """The key of a new token of ``user``, as a script would hold it."""
    return issue(user, name=name, scope=scope)[1]
