"""Fleet's named permissions, as Django permissions: grantable to groups, checked with ``user.has_perm``."""

from __future__ import annotations

from django.db import models

from fleet.access.actions import Permission

DESCRIPTIONS = {
    Permission.VIEW_ALL: "Can see every instance, job, cluster, node and network (helpdesk)",
    Permission.CONSOLE_ANY: "Can open the console of any instance it sees",
    Permission.LOCK_INSTANCE: "Can lock and unlock instances (adminlock)",
    Permission.ISOLATE_INSTANCE: "Can isolate instances from the network and reconnect them",
    Permission.MIGRATE_INSTANCE: "Can migrate and fail over instances",
    Permission.CANCEL_JOB: "Can cancel any job",
    Permission.REVIEW_APPLICATION: "Can review VM applications",
    Permission.MAIL_OWNERS: "Can mail the owners of instances",
}


class Rights(models.Model):
    """No table: the model that Fleet's named permissions hang on (a permission needs a content type).

    Unmanaged and without default permissions, so that ``add_rights`` and the like never exist; the
    permissions are :class:`~fleet.access.actions.Permission`, listed in ``Meta.permissions``.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [(permission.codename, DESCRIPTIONS[permission]) for permission in Permission]
