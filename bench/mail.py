"""Mail, on PostgreSQL, against a real SMTP server on loopback (aiosmtpd):

- what an action pays for its mail: queueing it (render and INSERT, in the action's transaction) against
  sending it itself over SMTP (a new connection each time, the best case: the server is local and answers
  at once; a server that is down or slow costs a request its whole timeout instead);
- the worker's throughput: a backlog of mails sent in batches over one connection each, against one
  connection per mail;
- a flood of admin notices (a fuzzer's refused requests): what each costs, and how many mails they make.

    FLEET_DATABASE_URL=postgresql://... python -m bench.mail
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench import deployment
from bench.common import report, side_by_side
from tests.notify.smtpd import SmtpServer

BACKLOG = 500
NOTICES = 10_000
RUNS = 200
QUEUE = "queue (render + INSERT)"


def main() -> None:
    url = deployment.server_url()
    deployment.DATABASE = "fleet_bench_mail"
    server = SmtpServer()
    server.start()
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        from django.conf import settings
        from django.core.mail import EmailMessage
        from django.db import transaction

        from fleet.conf.mail import MailConfig
        from fleet.notify import courier, mail, smtp
        from fleet.notify.models import AdminNotice, Mail

        config = MailConfig(
            host="127.0.0.1", port=server.port, tls="none", sender="fleet@example.org",
            admins=("noc@example.org",),
        )  # fmt: skip
        settings.FLEET_MAIL = config
        context = {"requested_by": "bench", "sender": config.sender}

        def queue() -> None:
            mail.send("test", to=["alice@example.org"], context=context)

        def send_now() -> None:
            EmailMessage("Fleet: test mail", "body", config.sender, ["alice@example.org"],
                         connection=smtp.connection(config)).send()  # fmt: skip

        # The action's transaction commits anyway: its mail adds an INSERT to it, not a commit of its own.
        with transaction.atomic():
            rows = side_by_side({QUEUE: queue, "send over SMTP in the request": send_now}, RUNS)
            transaction.set_rollback(True)
        report("What an action pays for one mail, in its open transaction", rows, QUEUE)

        print(f"\n== The worker sending a backlog of {BACKLOG} mails to the local server")
        rates = {}
        for batch in (courier.BATCH, 1):
            Mail.objects.all().delete()
            for _ in range(BACKLOG):
                mail.send("test", to=["alice@example.org"], context=context)
            before = len(server.inbox.arrived)
            started = time.perf_counter()
            while courier.deliver_due(replace(config), batch=batch).sent:
                pass
            elapsed = time.perf_counter() - started
            assert len(server.inbox.arrived) - before == BACKLOG
            rates[batch] = BACKLOG / elapsed
            name = f"batches of {batch}, one connection each" if batch > 1 else "one connection per mail"
            print(f"  {name:44} {rates[batch]:8.0f} mails/s  ({elapsed:.2f} s)")
        print(f"  ratio {rates[courier.BATCH] / rates[1]:.2f}x")

        print(f"\n== {NOTICES} refused requests noted for the admins")
        Mail.objects.all().delete()
        started = time.perf_counter()
        for number in range(NOTICES):
            mail.tell_admins("refused attempts", f"fuzzer from 192.0.2.7: destroy vm{number} (not an owner)")
        noted = time.perf_counter() - started
        before = len(server.inbox.arrived)
        done = courier.deliver_due()
        print(
            f"  each notice (its own transaction): {1e6 * noted / NOTICES:.0f} µs; "
            f"{AdminNotice.objects.count()} left after a pass"
        )
        print(f"  mails: {done.digests} digest queued, {len(server.inbox.arrived) - before} arrived")
    server.stop()


if __name__ == "__main__":
    main()
