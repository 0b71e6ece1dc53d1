"""RAPI passwords are encrypted at rest, readable with the configured key, and rotatable."""

from __future__ import annotations

import base64

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from fleet.inventory.credentials import CredentialError, rotate
from fleet.inventory.models import Cluster
from tests.inventory import factories

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _raw_rows() -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Cluster._meta.db_table}")
        return cursor.fetchall()


def test_the_password_is_not_in_the_database_in_clear() -> None:
    cluster = factories.cluster(rapi_username="fleet")
    cluster.set_rapi_password(PASSWORD)
    cluster.save()

    rows = _raw_rows()
    stored = " ".join(str(value) for row in rows for value in row)
    assert PASSWORD not in stored
    assert base64.b64encode(PASSWORD.encode()).decode() not in stored
    assert Cluster.objects.get().rapi_password() == PASSWORD


def test_each_encryption_gives_a_different_token() -> None:
    cluster = factories.cluster()
    cluster.set_rapi_password(PASSWORD)
    first = cluster.rapi_password_encrypted
    cluster.set_rapi_password(PASSWORD)
    assert cluster.rapi_password_encrypted != first


def test_an_empty_password_is_stored_as_empty() -> None:
    cluster = factories.cluster()
    cluster.set_rapi_password("")
    cluster.save()
    assert Cluster.objects.get().rapi_password_encrypted == ""
    assert Cluster.objects.get().rapi_password() == ""


def test_a_new_key_first_still_reads_old_tokens_and_rotation_moves_them() -> None:
    cluster = factories.cluster()
    cluster.set_rapi_password(PASSWORD)
    cluster.save()
    old_token = Cluster.objects.get().rapi_password_encrypted

    new_key = Fernet.generate_key().decode()
    with override_settings(FLEET_CREDENTIALS_KEYS=(new_key, *_current_keys())):
        assert Cluster.objects.get().rapi_password() == PASSWORD
        new_token = rotate(old_token)
    with override_settings(FLEET_CREDENTIALS_KEYS=(new_key,)):
        cluster.rapi_password_encrypted = new_token
        assert cluster.rapi_password() == PASSWORD


def test_a_lost_key_is_a_clear_error_not_garbage() -> None:
    cluster = factories.cluster()
    cluster.set_rapi_password(PASSWORD)
    cluster.save()
    with (
        override_settings(FLEET_CREDENTIALS_KEYS=(Fernet.generate_key().decode(),)),
        pytest.raises(CredentialError, match="FLEET_CREDENTIALS_KEY"),
    ):
        Cluster.objects.get().rapi_password()


def test_repr_and_str_show_no_secret() -> None:
    cluster = factories.cluster(name="c1.example.org", rapi_username="fleet")
    cluster.set_rapi_password(PASSWORD)
    assert PASSWORD not in repr(cluster) + str(cluster)
    assert cluster.rapi_password_encrypted not in repr(cluster)


def _current_keys() -> tuple[str, ...]:
    from django.conf import settings

    return tuple(settings.FLEET_CREDENTIALS_KEYS)
