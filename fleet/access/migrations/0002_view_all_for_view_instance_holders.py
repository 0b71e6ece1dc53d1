# Written by hand.

from django.conf import settings
from django.db import migrations

# Helpdesk used to be whoever held Django's "inventory.view_instance"; it is now Fleet's own "access.view_all".
# The groups and accounts that held the old one are given the new one, so that an upgrade does not take
# helpdesk away from anyone. The permission rows are made here: Django makes them only after all migrations.


def grant_view_all(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    old = Permission.objects.filter(codename="view_instance", content_type__app_label="inventory").first()
    if old is None:
        return
    content_type, _ = ContentType.objects.get_or_create(app_label="access", model="rights")
    new, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="view_all",
        defaults={"name": "Can see every instance, job, cluster, node and network (helpdesk)"},
    )
    for group in Group.objects.filter(permissions=old):
        group.permissions.add(new)
    for user in User.objects.filter(user_permissions=old):
        user.user_permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inventory", "0005_instance_owners_by_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(grant_view_all, migrations.RunPython.noop)]
