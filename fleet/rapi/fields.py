"""The query2 fields Fleet asks for when it syncs a cluster (reference §3 and §4.9).

Each tuple is what the sync worker passes to `query.run(resource, FIELDS)`; the read model's columns are built
from these names. Only fields that Ganeti 3.0.2 serves are listed, so real clusters and the simulator answer
every one with a normal status.
"""

from __future__ import annotations

from typing import Final

SHOWN_HVPARAMS: Final = (
    "boot_order", "cdrom_image_path", "cdrom_disk_type", "disk_type", "nic_type", "use_localtime",
)  # fmt: skip
"""The hypervisor parameters Fleet shows and lets owners change (ganetimgr's instance settings); one of
another hypervisor's is unavailable (None)."""

INSTANCE_FIELDS: Final = (
    "name",
    "uuid",
    "serial_no",
    "ctime",
    "mtime",
    "status",
    "admin_state",
    "oper_state",
    "oper_ram",
    "oper_vcpus",
    "vcpus",
    "os",
    "custom_osparams",
    "hypervisor",
    "pnode",
    "snodes",
    "pnode.group",
    "pnode.group.uuid",
    "disk_template",
    "disk.count",
    "disk.sizes",
    "disk.spindles",
    "disk.names",
    "disk.uuids",
    "disk_usage",
    "disks_active",
    "nic.count",
    "nic.ips",
    "nic.macs",
    "nic.modes",
    "nic.links",
    "nic.networks",
    "nic.networks.names",
    "nic.names",
    "nic.uuids",
    "nic.vlans",
    "network_port",
    "be/maxmem",
    "be/minmem",
    *(f"hv/{name}" for name in SHOWN_HVPARAMS),
    "tags",
)
"""Per instance: identity and change markers, state, placement, disks, NICs, the parameters Fleet shows, and
tags. Parameters are asked for one by one: the whole ``hvparams`` dict, some 70 values per instance, would
be over half of every answer."""

NODE_FIELDS: Final = (
    "name",
    "uuid",
    "serial_no",
    "ctime",
    "mtime",
    "role",
    "master",
    "master_candidate",
    "drained",
    "offline",
    "master_capable",
    "vm_capable",
    "powered",
    "group",
    "group.uuid",
    "pip",
    "sip",
    "mtotal",
    "mnode",
    "mfree",
    "dtotal",
    "dfree",
    "sptotal",
    "spfree",
    "ctotal",
    "cnos",
    "cnodes",
    "csockets",
    "pinst_cnt",
    "pinst_list",
    "sinst_cnt",
    "sinst_list",
    "ndparams",
    "tags",
)
"""Per node: identity, role and flags, group, addresses, live capacity (null when offline) and instances."""

GROUP_FIELDS: Final = (
    "name",
    "uuid",
    "serial_no",
    "ctime",
    "mtime",
    "alloc_policy",
    "node_cnt",
    "node_list",
    "pinst_cnt",
    "pinst_list",
    "ipolicy",
    "custom_ipolicy",
    "ndparams",
    "custom_ndparams",
    "diskparams",
    "custom_diskparams",
    "tags",
)
"""Per node group: identity, allocation policy, members, policies and parameters, tags."""

NETWORK_FIELDS: Final = (
    "name",
    "uuid",
    "serial_no",
    "ctime",
    "mtime",
    "network",
    "gateway",
    "network6",
    "gateway6",
    "mac_prefix",
    "free_count",
    "reserved_count",
    "map",
    "group_list",
    "inst_list",
    "external_reservations",
    "tags",
)
"""Per network: identity, addressing, pool usage (`map`: one character per address), groups and instances."""

JOB_FIELDS: Final = (
    "id",
    "status",
    "priority",
    "summary",
    "ops",
    "opstatus",
    "opresult",
    "oplog",
    "received_ts",
    "start_ts",
    "end_ts",
)
"""Per job: what the worker records of each job it sees on the queue, its log included (the poll asks only for
new jobs and unfinished ones, so each log crosses the wire a few times at most)."""

JOB_WAIT_FIELDS: Final = ("status",)
"""What the job waiter watches through `/2/jobs/N/wait`."""
