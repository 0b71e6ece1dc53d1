"""The one URL → handler table of the simulated RAPI v2, with each method's access rule.

A path that matches no pattern is a 404; a known path with a method it lacks is a 501, as in Ganeti.
Access: PUBLIC needs no account, READ needs `read` or `write`, WRITE needs `write`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fleet.simulator import handlers_cluster as hc
from fleet.simulator import handlers_instances as hi
from fleet.simulator import handlers_jobs as hj
from fleet.simulator import handlers_nodes as hn
from fleet.simulator.base import PUBLIC, READ, WRITE

Handler = Callable[..., Any]
Methods = dict[str, tuple[Handler, tuple[str, ...]]]

NAME = r"([\w._-]+)"
INST = f"/2/instances/{NAME}"
N = f"/2/nodes/{NAME}"
G = f"/2/groups/{NAME}"
NET = f"/2/networks/{NAME}"
TAGS: Methods = {"GET": (hc.get_tags, PUBLIC), "PUT": (hc.put_tags, WRITE), "DELETE": (hc.delete_tags, WRITE)}

ROUTES: list[tuple[str, Methods]] = [
    ("/", {"GET": (hc.root, PUBLIC)}),
    ("/2", {"GET": (hc.root, PUBLIC)}),
    ("/version", {"GET": (hc.version, PUBLIC)}),
    ("/2/info", {"GET": (hc.info, PUBLIC)}),
    ("/2/features", {"GET": (hc.features, PUBLIC)}),
    ("/2/os", {"GET": (hc.os_list, PUBLIC)}),
    ("/2/redistribute-config", {"PUT": (hc.redistribute_config, WRITE)}),
    ("/2/modify", {"PUT": (hc.modify_cluster, WRITE)}),
    ("/2/tags", TAGS),
    # instances
    ("/2/instances", {"GET": (hi.list_instances, PUBLIC), "POST": (hi.create_instance, WRITE)}),
    ("/2/instances-multi-alloc", {"POST": (hi.multi_alloc, WRITE)}),
    (INST, {"GET": (hi.get_instance, PUBLIC), "DELETE": (hi.delete_instance, WRITE)}),
    (f"{INST}/info", {"GET": (hi.instance_info, PUBLIC)}),
    (f"{INST}/reboot", {"POST": (hi.reboot, WRITE)}),
    (f"{INST}/shutdown", {"PUT": (hi.shutdown, WRITE)}),
    (f"{INST}/startup", {"PUT": (hi.startup, WRITE)}),
    (f"{INST}/reinstall", {"POST": (hi.reinstall, WRITE)}),
    (f"{INST}/replace-disks", {"POST": (hi.replace_disks, WRITE)}),
    (f"{INST}/recreate-disks", {"POST": (hi.recreate_disks, WRITE)}),
    (f"{INST}/disk/(\\d+)/grow", {"POST": (hi.grow_disk, WRITE)}),
    (f"{INST}/activate-disks", {"PUT": (hi.activate_disks, WRITE)}),
    (f"{INST}/deactivate-disks", {"PUT": (hi.deactivate_disks, WRITE)}),
    (f"{INST}/prepare-export", {"PUT": (hi.prepare_export, WRITE)}),
    (f"{INST}/export", {"PUT": (hi.export, WRITE)}),
    (f"{INST}/migrate", {"PUT": (hi.migrate, WRITE)}),
    (f"{INST}/failover", {"PUT": (hi.failover, WRITE)}),
    (f"{INST}/rename", {"PUT": (hi.rename, WRITE)}),
    (f"{INST}/modify", {"PUT": (hi.modify, WRITE)}),
    (f"{INST}/console", {"GET": (hi.get_console, READ)}),
    (f"/2/(instances)/{NAME}/tags", TAGS),
    # nodes
    ("/2/nodes", {"GET": (hn.list_nodes, PUBLIC)}),
    (N, {"GET": (hn.get_node, PUBLIC)}),
    (f"{N}/role", {"GET": (hn.get_role, PUBLIC), "PUT": (hn.set_role, WRITE)}),
    (f"{N}/modify", {"POST": (hn.modify_node, WRITE)}),
    (f"{N}/evacuate", {"POST": (hn.evacuate, WRITE)}),
    (f"{N}/migrate", {"POST": (hn.migrate_node, WRITE)}),
    (f"{N}/powercycle", {"POST": (hn.powercycle, WRITE)}),
    (f"{N}/storage", {"GET": (hn.storage, WRITE)}),
    (f"{N}/storage/modify", {"PUT": (hn.modify_storage, WRITE)}),
    (f"{N}/storage/repair", {"PUT": (hn.repair_storage, WRITE)}),
    (f"/2/(nodes)/{NAME}/tags", TAGS),
    # groups
    ("/2/groups", {"GET": (hn.list_groups, PUBLIC), "POST": (hn.create_group, WRITE)}),
    (G, {"GET": (hn.get_group, PUBLIC), "DELETE": (hn.delete_group, WRITE)}),
    (f"{G}/modify", {"PUT": (hn.modify_group, WRITE)}),
    (f"{G}/rename", {"PUT": (hn.rename_group, WRITE)}),
    (f"{G}/assign-nodes", {"PUT": (hn.assign_nodes, WRITE)}),
    (f"/2/(groups)/{NAME}/tags", TAGS),
    # networks
    ("/2/networks", {"GET": (hn.list_networks, PUBLIC), "POST": (hn.create_network, WRITE)}),
    (NET, {"GET": (hn.get_network, PUBLIC), "DELETE": (hn.delete_network, WRITE)}),
    (f"{NET}/modify", {"PUT": (hn.modify_network, WRITE)}),
    (f"{NET}/connect", {"PUT": (hn.connect_network, WRITE)}),
    (f"{NET}/disconnect", {"PUT": (hn.disconnect_network, WRITE)}),
    (f"/2/(networks)/{NAME}/tags", TAGS),
    # jobs
    ("/2/jobs", {"GET": (hj.list_jobs, PUBLIC)}),
    ("/2/jobs/(\\d+)", {"GET": (hj.get_job, PUBLIC), "DELETE": (hj.cancel_job, WRITE)}),
    ("/2/jobs/(\\d+)/wait", {"GET": (hj.wait_job, WRITE)}),
    # query2 and filters
    (f"/2/query/{NAME}", {"GET": (hc.query_get, READ), "PUT": (hc.query_put, READ)}),
    (f"/2/query/{NAME}/fields", {"GET": (hc.query_fields, PUBLIC)}),
    ("/2/filters", {"GET": (hc.list_filters, PUBLIC), "POST": (hc.add_filter, WRITE)}),
    (
        f"/2/filters/{NAME}",
        {
            "GET": (hc.get_filter, PUBLIC),
            "PUT": (hc.replace_filter, WRITE),
            "DELETE": (hc.delete_filter, WRITE),
        },
    ),
]

_COMPILED = [(re.compile(f"^{pattern}$"), methods) for pattern, methods in ROUTES]


def resolve(path: str) -> tuple[Methods, tuple[str, ...]] | None:
    """The methods of the path's resource and the URL items, or None for an unknown path."""
    for rx, methods in _COMPILED:
        m = rx.match(path)
        if m:
            return methods, m.groups()
    return None
