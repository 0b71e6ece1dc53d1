"""Carry the keys of Django REST framework's tokens (one per user, stored in clear) over to Fleet's tokens.

Each keeps working as it is (scripts need no change), now stored as a hash, scoped read and write as it was,
named "carried over", and expiring after the longest lifetime the configuration allows (never, if it allows
tokens that never expire). The old table, which holds the keys in clear, is then dropped with its records.
"""

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"
LEGACY_ID_LENGTH = 12  # fleet.tokens.keys.LEGACY_ID_LENGTH, frozen here as migrations freeze what they use


def carry_over(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("tokens", "ApiToken")
    now = timezone.now()
    expires_at = None if settings.FLEET_API_TOKEN_ALLOW_NO_EXPIRY else now + timedelta(
        days=settings.FLEET_API_TOKEN_MAX_DAYS
    )
    table = schema_editor.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, user_id, created FROM {table}")
        rows = cursor.fetchall()
    taken = set(ApiToken.objects.values_list("token_id", flat=True))
    for key, user_id, created in rows:
        token_id, secret = key[:LEGACY_ID_LENGTH], key[LEGACY_ID_LENGTH:]
        if token_id in taken:  # 48 random bits alike: practically never; that key stops working
            print(f"\n  an API token of user #{user_id} was dropped (its id is another's): make a new one")
            continue
        taken.add(token_id)
        if isinstance(created, str):
            created = parse_datetime(created)
        if created is not None and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)
        ApiToken.objects.create(
            user_id=user_id,
            token_id=token_id,
            secret_digest=hashlib.sha256(secret.encode("ascii")).hexdigest(),
            name="carried over",
            scope="write",
            created_at=created or now,
            expires_at=expires_at,
        )
    schema_editor.execute(f"DROP TABLE {table}")
    recorder = schema_editor.quote_name("django_migrations")
    schema_editor.execute(f"DELETE FROM {recorder} WHERE app = %s", ["authtoken"])
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("tokens", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    # Backwards leaves the tokens as they are: the old keys in clear are gone for good.
    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
