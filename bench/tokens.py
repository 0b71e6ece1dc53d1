"""What an API token costs a request, each a ratio measured in one run on PostgreSQL.

- T1: an API read (``/api/clusters/``) over HTTP from gunicorn with a token (``Bearer``), against the same
  read with a logged-in session (the session and its user in one statement), and with a token whose last
  use is more than a minute old (the one request a minute that also writes it).
- T2: checking a key's secret: SHA-256 (what Fleet stores), against Django's default password hasher
  (PBKDF2-SHA256), the cost a slow hash would add to every request and to every bad key sent.
- T3: the SQL statements a token request runs for its token: one for the token and its user, and one more
  at most once a minute.

Needs FLEET_DATABASE_URL naming a PostgreSQL server (the role creates the database ``fleet_bench_tokens``).
"""

from __future__ import annotations

import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from bench import deployment
from bench.common import report, timings

DATABASE = "fleet_bench_tokens"
HTTP_RUNS = 300
HASH_RUNS = 5
PASSWORD = "bench-user-password"  # a throwaway account in a throwaway database


def _http(url: str) -> None:
    import httpx
    from django.contrib.auth.models import User
    from django.utils import timezone

    from fleet.tokens.issue import issue
    from fleet.tokens.models import ApiToken

    user = User.objects.create_user("bench", password=PASSWORD)
    fresh_key = issue(user, name="bench", scope="read")[1]
    stale_token, stale_key = issue(user, name="bench, stale", scope="read")
    session = deployment.login(url, "bench", PASSWORD)
    fresh = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {fresh_key}"}, timeout=60)
    stale = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {stale_key}"}, timeout=60)
    long_ago = timezone.now() - timedelta(days=1)

    def get(client: httpx.Client) -> None:
        client.get("api/clusters/").raise_for_status()

    for client in (session, fresh, stale):
        get(client)  # warm: connections, first use
    names = ("session", "token (Bearer)", "token whose last use is written")
    rows: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(HTTP_RUNS):  # interleaved, so that noise on this shared machine hits them alike
        ApiToken.objects.filter(pk=stale_token.pk).update(last_used_at=long_ago)  # untimed
        for name, client in zip(names, (session, fresh, stale), strict=True):
            rows[name] += timings(lambda c=client: get(c), 1)
    report(
        f"T1: GET /api/clusters/ over HTTP (gunicorn), {HTTP_RUNS} runs each, interleaved", rows, "session"
    )


def _hashes() -> None:
    from django.contrib.auth.hashers import check_password, make_password

    from fleet.tokens import keys

    key = keys.new_key()
    digest = keys.digest(key.secret)
    slow = make_password(key.secret)
    fast = statistics.median(timings(lambda: keys.matches(key.secret, digest), HASH_RUNS * 1000))
    pbkdf2 = statistics.median(timings(lambda: check_password(key.secret, slow), HASH_RUNS))
    print("\n== T2: checking one key's secret (median)")
    print(f"  SHA-256 (stored by Fleet)                  {1e6 * fast:12.1f} µs  ({HASH_RUNS * 1000} runs)")
    print(f"  PBKDF2-SHA256 (Django's password hasher)   {1e6 * pbkdf2:12.1f} µs  ({HASH_RUNS} runs)")
    print(f"  ratio {pbkdf2 / fast:,.0f}x")


def _statements() -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from fleet.tokens.issue import issue
    from fleet.tokens.models import ApiToken
    from fleet.tokens.verify import verify

    user = User.objects.create_user("bench-statements")
    token, key = issue(user, name="bench", scope="read")
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            verify(key)
        counts.append(len(queries))
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with CaptureQueriesContext(connection) as queries:
        verify(key)
    print("\n== T3: SQL statements for the token, per request")
    print(f"  first use: {counts[0]}, again within the minute: {counts[1]}, a minute later: {len(queries)}")


def main() -> None:
    url = deployment.server_url()
    with deployment.database(url, DATABASE) as bench_url, tempfile.TemporaryDirectory() as tmp:
        deployment.configure(bench_url, Path(tmp))
        with deployment.web_server(Path(tmp) / "web.log") as web:
            _http(web)
        _hashes()
        _statements()


if __name__ == "__main__":
    main()
