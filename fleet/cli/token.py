"""`fleet token`: API tokens for operators, made for any account, listed and revoked from the shell.

`create` prints the new key once, alone on standard output (so that `KEY=$(fleet token create ...)` keeps
it), and what was made on standard error. The same rules hold as on the web page: a name, a scope, and a
lifetime within the configured maximum.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from fleet.cli.django_app import print_table, with_django


@click.group()
def token() -> None:
    """Make, list and revoke API tokens."""


@token.command()
@click.option("--user", "username", required=True, help="The account the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'backup script on host X'.")
@click.option(
    "--scope",
    type=click.Choice(["read", "write"]),
    default="read",
    show_default=True,
    help="read: GET only; write: read and write.",
)
@click.option(
    "--expires",
    default=None,
    help="Lifetime, e.g. 30d (default: 30 days, at most the configured maximum), or never if allowed.",
)
@with_django
def create(username: str, name: str, scope: str, expires: str | None) -> None:
    """Make a token for USER and print its key (shown only now)."""
    from django.core.exceptions import ValidationError

    from fleet.tokens.issue import issue

    user = _user(username)
    try:
        made, key = issue(user, name=name, scope=scope, lifetime_text=expires)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise click.BadParameter(" ".join(messages), param_hint=f"--{field}") from None
    click.echo(key)
    until = f"until {made.expires_at:%Y-%m-%d %H:%M} UTC" if made.expires_at else "with no expiry"
    click.echo(f"Made {made.shown_id} ({made.get_scope_display()}) for {username}, {until}.", err=True)


@token.command(name="list")
@click.option("--user", "username", help="Only this account's tokens.")
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_django
def list_(username: str | None, show_all: bool, as_json: bool) -> None:
    """The tokens (never their keys): whose, what for, scope, and when made, used and ending."""
    from fleet.tokens.models import ApiToken

    tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at", "-pk")
    if username:
        tokens = tokens.filter(user=_user(username))
    if not show_all:
        tokens = tokens.filter(revoked_at__isnull=True)
    rows = [
        {
            "id": t.token_id,
            "key_starts": t.shown_id,
            "user": t.user.get_username(),
            "name": t.name,
            "scope": t.scope,
            "created_at": t.created_at,
            "expires_at": t.expires_at,
            "last_used_at": t.last_used_at,
            "revoked_at": t.revoked_at,
        }
        for t in tokens
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    print_table(
        ["ID", "USER", "NAME", "SCOPE", "EXPIRES", "LAST USED", "REVOKED"],
        [
            [
                r["id"],
                r["user"],
                r["name"],
                r["scope"],
                _when(r["expires_at"], "never"),
                _when(r["last_used_at"], "never"),
                _when(r["revoked_at"], ""),
            ]
            for r in rows
        ],
    )


@token.command()
@click.argument("token_id")
@with_django
def revoke(token_id: str) -> None:
    """Revoke the token TOKEN_ID (the ID column of `fleet token list`, or the key's start) at once."""
    from fleet.tokens import keys
    from fleet.tokens.issue import revoke as revoke_token
    from fleet.tokens.models import ApiToken

    wanted = token_id.removeprefix(keys.PREFIX)
    row = ApiToken.objects.select_related("user").filter(token_id=wanted).first()
    if row is None:
        raise click.ClickException(f"no token {token_id!r} (fleet token list shows them)")
    if not revoke_token(row):
        raise click.ClickException(f"{row.shown_id} was revoked already, on {row.revoked_at:%Y-%m-%d %H:%M}")
    click.echo(f"Revoked {row.shown_id} ({row.name}) of {row.user.get_username()}.")


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.BadParameter(f"no account named {username!r}", param_hint="--user")
    return user


def _when(value: datetime | None, empty: str) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else empty
