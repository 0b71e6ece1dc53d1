"""What an approved application asks Ganeti for: the body of ``POST /2/instances`` (``__version__: 1`` is
added by the RAPI call). Pure: built from the application, its placement and the operator's storage classes,
with no I/O, so that what will be sent can be shown and tested before anything is.

- the owner, application and organisation tags (``fleet.access.tags``), so that the instance's owner is known
  from Ganeti alone and the database can be rebuilt;
- each disk with its storage class's ``vg`` or ``provider`` on the chosen cluster and node group (the OS disk
  first, named ``os``, the data disks ``data1``...);
- one NIC on the chosen network, its address from the network's pool (``ip: pool``);
- memory (``minmem`` = ``maxmem``: no ballooning promised) and vCPUs as beparams, the OS, and the
  cluster's iallocator (hail) choosing the nodes inside the reviewer's node group.
"""

from __future__ import annotations

from typing import Any

from fleet.access.tags import OwnerKind, format_owner_tag, origin_tags
from fleet.conf.storage import StorageConfig
from fleet.requests.models import Application

IALLOCATOR = "hail"


class NotPlaceable(ValueError):
    """The application's placement cannot be turned into a create (a class missing where it was placed)."""


def disk_specs(application: Application, storage: StorageConfig) -> list[dict[str, Any]]:
    """Each disk as Ganeti takes it: size in MiB, a name, and its pool on the placement."""
    assert application.cluster is not None
    disks = []
    for n, disk in enumerate(application.disks):
        storage_class = storage.classes.get(disk["storage_class"])
        site = storage_class.site(application.cluster.name, application.node_group) if storage_class else None
        if site is None:
            where = f"{application.cluster.name}/{application.node_group}"
            raise NotPlaceable(f"storage class {disk['storage_class']} is not on {where}")
        disks.append(
            {
                "size": int(disk["size_gb"]) * 1024,
                "name": "os" if n == 0 else f"data{n}",
                **site.disk_params(),
            }
        )
    return disks


def create_spec(application: Application, *, storage: StorageConfig, prefix: str) -> dict[str, Any]:
    """The create body for ``application``, approved with a placement (cluster, node group, network, disk
    template)."""
    if application.cluster is None or not application.node_group or not application.disk_template:
        raise NotPlaceable("the application has no placement")
    tags = [format_owner_tag(OwnerKind.USER, application.applicant.get_username(), prefix)]
    tags += origin_tags(application.pk, application.organisation, prefix)
    return {
        "mode": "create",
        "instance_name": application.hostname,
        "disk_template": application.disk_template,
        "disks": disk_specs(application, storage),
        "nics": [{"network": application.network, "ip": "pool"}],
        "os_type": application.os,
        "beparams": {
            "maxmem": application.memory_mb,
            "minmem": application.memory_mb,
            "vcpus": application.vcpus,
        },
        "tags": tags,
        "iallocator": IALLOCATOR,
        "group_name": application.node_group,
        # the name is a new VM's: Fleet checked it is free among its instances; DNS is the operator's
        "name_check": False,
        "ip_check": False,
        "start": True,
        "wait_for_sync": False,
    }
