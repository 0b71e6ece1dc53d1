"""Fleet's named permissions are Django permissions of the access app, and an upgrade keeps helpdesk."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User

from fleet.access import policy
from fleet.access.policy import Role

pytestmark = pytest.mark.django_db

UPGRADE = importlib.import_module("fleet.access.migrations.0002_view_all_for_view_instance_holders")


def test_each_named_permission_is_a_django_permission_and_nothing_else_is() -> None:
    made = set(Permission.objects.filter(content_type__app_label="access").values_list("codename", flat=True))
    assert made == {p.codename for p in policy.Permission}
    assert {p.value for p in policy.Permission} == {f"access.{codename}" for codename in made}


def test_django_view_instance_no_longer_makes_helpdesk() -> None:
    user = User.objects.create_user("old", "old@example.org", "pw")
    user.user_permissions.add(
        Permission.objects.get(codename="view_instance", content_type__app_label="inventory")
    )
    assert policy.role_of(User.objects.get(pk=user.pk)) is Role.USER


def test_the_upgrade_gives_view_all_to_the_holders_of_view_instance() -> None:
    Permission.objects.filter(codename="view_all", content_type__app_label="access").delete()
    view_instance = Permission.objects.get(codename="view_instance", content_type__app_label="inventory")
    desk = Group.objects.create(name="helpdesk")
    desk.permissions.add(view_instance)
    member = User.objects.create_user("member", "member@example.org", "pw")
    member.groups.add(desk)
    direct = User.objects.create_user("direct", "direct@example.org", "pw")
    direct.user_permissions.add(view_instance)
    other = User.objects.create_user("other", "other@example.org", "pw")

    UPGRADE.grant_view_all(apps, None)

    for user, role in ((member, Role.HELPDESK), (direct, Role.HELPDESK), (other, Role.USER)):
        assert policy.role_of(User.objects.get(pk=user.pk)) is role, user
    UPGRADE.grant_view_all(apps, None)  # a second run changes nothing
    assert Permission.objects.filter(codename="view_all", content_type__app_label="access").count() == 1
