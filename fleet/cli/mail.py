"""`fleet mail`: the outbox and the archive as an operator sees them, and a test mail.

`list` shows the newest mails (queued, sent or failed) with their attempts and last error; `show` prints
one as it was queued; `test ADDRESS` queues the test mail and, with `--now`, sends what is due at once and
says what came of it, so that a new `[mail]` configuration is checked in one command. The worker sends
everything else.
"""

from __future__ import annotations

import click

from fleet.cli.django_app import print_table, with_django

STATUSES = ("queued", "sent", "failed")


@click.group()
def mail() -> None:
    """Look at the mail outbox and archive; send a test mail."""


@mail.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only mails in this state.")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=20, show_default=True)
@with_django
def list_mails(status: str | None, limit: int) -> None:
    """The newest mails first."""
    from django.utils import timezone

    from fleet.notify.models import Mail

    mails = Mail.objects.all()
    if status:
        mails = mails.filter(status=status)
    rows = [
        (
            item.pk,
            item.status,
            timezone.localtime(item.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            item.attempts,
            ", ".join(item.to),
            _cut(item.subject, 50),
            _cut(item.last_error, 60),
        )
        for item in mails[:limit]
    ]
    print_table(["ID", "STATUS", "QUEUED", "ATTEMPTS", "TO", "SUBJECT", "LAST ERROR"], rows)


@mail.command()
@click.argument("mail_id", type=click.IntRange(min=1), metavar="ID")
@with_django
def show(mail_id: int) -> None:
    """One mail: its state, headers and text."""
    from fleet.notify.models import Mail

    item = Mail.objects.filter(pk=mail_id).first()
    if item is None:
        raise click.ClickException(f"no mail {mail_id} (`fleet mail list` shows them)")
    click.echo(f"Status: {item.status} after {item.attempts} attempts")
    click.echo(f"Queued: {item.created_at.isoformat()} from template {item.template}")
    if item.sent_at:
        click.echo(f"Sent: {item.sent_at.isoformat()}")
    elif item.status == "queued":
        click.echo(f"Next attempt: {item.next_attempt_at.isoformat()}")
    if item.last_error:
        click.echo(f"Last error: {item.last_error}")
    click.echo(f"To: {', '.join(item.to)}")
    click.echo(f"Subject: {item.subject}")
    if item.html:
        click.echo(f"HTML alternative: {len(item.html)} characters")
    click.echo("")
    click.echo(item.body, nl=False)


@mail.command()
@click.argument("address")
@click.option("--now", "at_once", is_flag=True, help="Send what is due at once and say how it went.")
@with_django
def test(address: str, at_once: bool) -> None:
    """Queue a test mail to ADDRESS."""
    import getpass

    from django.conf import settings
    from django.utils import timezone

    from fleet.notify import courier
    from fleet.notify.mail import send

    config = settings.FLEET_MAIL
    context = {"requested_by": getpass.getuser(), "queued_at": timezone.now(), "sender": config.sender}
    try:
        queued = send("test", to=[address], context=context)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ADDRESS") from exc
    click.echo(f"queued mail {queued.pk} to {address}")
    if not config.enabled:
        click.echo("no mail server is configured ([mail] host): it stays in the outbox")
        return
    if not at_once:
        return
    courier.deliver_due()
    queued.refresh_from_db()
    if queued.status != "sent":
        raise click.ClickException(
            f"not sent ({queued.status}) through {config.host}:{config.port}: {queued.last_error}"
        )
    click.echo(f"sent through {config.host}:{config.port}")


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
