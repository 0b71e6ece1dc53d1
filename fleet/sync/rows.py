"""What each RAPI record becomes in the read model: pure functions from query2 records to column values.

Each kind has its columns split in two: the *change markers* (``serial_no``, ``mtime``) and the *live* columns
that Ganeti changes without bumping the serial (an instance's run state, a node's free memory, a network's
free addresses). The snapshot compares only those with the stored row; the other columns are written when a
marker moved. No database access here: references to other rows come in as name→pk maps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from fleet.rapi.fields import SHOWN_HVPARAMS

Record = Mapping[str, Any]
"""One query2 row as ``QueryResult.records()`` gives it: field name to value (None when not normal)."""

MARKERS: Final = ("serial_no", "mtime")

GROUP_LIVE: Final = ("node_count",)
NODE_LIVE: Final = (
    "memory_total",
    "memory_node",
    "memory_free",
    "disk_total",
    "disk_free",
    "spindles_total",
    "spindles_free",
    "cpu_total",
    "cpu_nodes",
    "cpu_sockets",
    "primary_instance_count",
    "secondary_instance_count",
)
NETWORK_LIVE: Final = ("free_count", "reserved_count")
INSTANCE_LIVE: Final = ("status", "oper_state", "oper_ram", "oper_vcpus")


_from_epoch = dt.datetime.fromtimestamp


def timestamp(value: Any) -> dt.datetime | None:
    """Ganeti's float epoch seconds (query2 ``ctime``/``mtime``) as an aware UTC datetime."""
    if value is None:
        return None
    return _from_epoch(float(value), dt.UTC)


def _common(rec: Record) -> dict[str, Any]:
    return {
        "name": rec["name"],
        "uuid": rec.get("uuid"),
        "serial_no": int(rec.get("serial_no") or 0),
        "ctime": timestamp(rec.get("ctime")),
        "mtime": timestamp(rec.get("mtime")),
        "tags": sorted(rec.get("tags") or []),
    }


def group_values(rec: Record) -> dict[str, Any]:
    """A node group's columns."""
    return {
        **_common(rec),
        "alloc_policy": rec.get("alloc_policy") or "preferred",
        "node_count": int(rec.get("node_cnt") or 0),
        "ipolicy": rec.get("ipolicy"),
    }


def node_values(rec: Record, group_pks: Mapping[str, int]) -> dict[str, Any]:
    """A node's columns; ``group_pks`` maps group UUIDs to row ids."""
    return {
        **_common(rec),
        "group_id": group_pks.get(rec.get("group.uuid") or ""),
        "role": rec.get("role") or "R",
        "offline": bool(rec.get("offline")),
        "drained": bool(rec.get("drained")),
        "master_candidate": bool(rec.get("master_candidate")),
        "master_capable": bool(rec.get("master_capable", True)),
        "vm_capable": bool(rec.get("vm_capable", True)),
        "memory_total": rec.get("mtotal"),
        "memory_node": rec.get("mnode"),
        "memory_free": rec.get("mfree"),
        "disk_total": rec.get("dtotal"),
        "disk_free": rec.get("dfree"),
        "spindles_total": rec.get("sptotal"),
        "spindles_free": rec.get("spfree"),
        "cpu_total": rec.get("ctotal"),
        "cpu_nodes": rec.get("cnodes"),
        "cpu_sockets": rec.get("csockets"),
        "primary_ip": rec.get("pip") or None,
        "secondary_ip": rec.get("sip") or None,
        "primary_instance_count": int(rec.get("pinst_cnt") or 0),
        "secondary_instance_count": int(rec.get("sinst_cnt") or 0),
    }


def network_values(rec: Record) -> dict[str, Any]:
    """A network's columns (its group connections are :func:`network_connections`)."""
    return {
        **_common(rec),
        "network": rec.get("network") or "",
        "gateway": rec.get("gateway") or None,
        "network6": rec.get("network6") or "",
        "gateway6": rec.get("gateway6") or None,
        "mac_prefix": rec.get("mac_prefix") or "",
        "free_count": int(rec.get("free_count") or 0),
        "reserved_count": int(rec.get("reserved_count") or 0),
    }


def network_connections(rec: Record, group_pks: Mapping[str, int]) -> list[tuple[int, str, str, str]]:
    """``group_list`` (``[group, mode, link, vlan]`` entries) as (group pk, mode, link, vlan) of known groups;
    ``group_pks`` maps group names to row ids."""
    out = []
    for entry in rec.get("group_list") or []:
        group, mode, link, *rest = [*entry, "", "", ""][:4]
        if group in group_pks:
            out.append((group_pks[group], str(mode or ""), str(link or ""), str(rest[0] or "")))
    return out


def instance_live_values(rec: Record) -> list[Any]:
    """The :data:`INSTANCE_LIVE` columns of an instance record, in that order."""
    get = rec.get
    return [get("status") or "ADMIN_down", get("oper_state"), get("oper_ram"), get("oper_vcpus")]


def instance_marker_values(rec: Record, node_pks: Mapping[str, int]) -> dict[str, Any]:
    """The columns of an instance that its marker record (``fetch.INSTANCE_MARKER_FIELDS``) gives: identity,
    change markers and the compared live columns, as :func:`instance_values` would give them."""
    mtime = rec.get("mtime")
    return {
        "name": rec["name"],
        "uuid": rec.get("uuid"),
        "serial_no": int(rec.get("serial_no") or 0),
        "mtime": None if mtime is None else _from_epoch(float(mtime), dt.UTC),
        "primary_node_id": node_pks.get(rec.get("pnode") or ""),
        **dict(zip(INSTANCE_LIVE, instance_live_values(rec), strict=True)),
    }


def instance_values(rec: Record, node_pks: Mapping[str, int]) -> dict[str, Any]:
    """An instance's columns; ``node_pks`` maps node names to row ids (secondaries are separate).

    Written as one dict literal: it runs for every instance of a first sync (tens of thousands)."""
    get = rec.get
    sizes = [int(s) for s in get("disk.sizes") or () if s is not None]
    ctime, mtime = get("ctime"), get("mtime")
    return {
        "name": rec["name"],
        "uuid": get("uuid"),
        "serial_no": int(get("serial_no") or 0),
        "ctime": None if ctime is None else _from_epoch(float(ctime), dt.UTC),
        "mtime": None if mtime is None else _from_epoch(float(mtime), dt.UTC),
        "tags": sorted(get("tags") or ()),
        "primary_node_id": node_pks.get(get("pnode") or ""),
        "status": get("status") or "ADMIN_down",
        "oper_state": get("oper_state"),
        "oper_ram": get("oper_ram"),
        "oper_vcpus": get("oper_vcpus"),
        "admin_state": get("admin_state") or "down",
        "memory": int(get("be/maxmem") or 0),
        "min_memory": int(get("be/minmem") or 0),
        "vcpus": int(get("vcpus") or 0),
        "disk_template": get("disk_template") or "",
        "disk_sizes": sizes,
        "disk_total": sum(sizes),
        "disk_usage": int(get("disk_usage") or 0),
        "os": get("os") or "",
        "hypervisor": get("hypervisor") or "",
        "osparams": dict(get("custom_osparams") or {}),
        "hvparams": {name: value for name in SHOWN_HVPARAMS if (value := get(f"hv/{name}")) is not None},
        "network_port": get("network_port"),
    }


def secondary_nodes(rec: Record, node_pks: Mapping[str, int]) -> list[int]:
    """The row ids of the instance's secondary nodes that are known."""
    return [node_pks[name] for name in rec.get("snodes") or () if name in node_pks]


_NIC_FIELDS: Final = (
    "nic.names",
    "nic.uuids",
    "nic.ips",
    "nic.modes",
    "nic.links",
    "nic.networks",
    "nic.networks.names",
)


def nic_values(rec: Record, network_pks: Mapping[str, int]) -> list[dict[str, Any]]:
    """The instance's NICs in order; ``network_pks`` maps network UUIDs to row ids."""
    macs = rec.get("nic.macs") or ()
    count = len(macs)
    if not count:
        return []
    columns = []
    for name in _NIC_FIELDS:
        column = rec.get(name) or ()
        if len(column) != count:  # Ganeti sends them as long as nic.macs; a short one must not shift NICs
            column = [*column[:count], *[None] * (count - len(column))]
        columns.append(column)
    names, uuids, ips, modes, links, networks, network_names = columns
    return [
        {
            "index": i,
            "name": names[i] or "",
            "uuid": uuids[i],
            "ip": ips[i] or None,
            "mac": macs[i] or "",
            "mode": modes[i] or "",
            "link": links[i] or "",
            "network_id": network_pks.get(networks[i] or ""),
            "network_name": network_names[i] or "",
        }
        for i in range(count)
    ]


def cluster_values(info: Mapping[str, Any]) -> dict[str, Any]:
    """The Cluster columns that ``/2/info`` fills."""
    return {
        "uuid": info.get("uuid"),
        "software_version": str(info.get("software_version") or ""),
        "master_node": str(info.get("master") or ""),
        "default_hypervisor": str(info.get("default_hypervisor") or ""),
        "enabled_hypervisors": list(info.get("enabled_hypervisors") or []),
        "enabled_disk_templates": list(info.get("enabled_disk_templates") or []),
        "ipolicy": info.get("ipolicy"),
        "tags": sorted(info.get("tags") or []),
        "ctime": timestamp(info.get("ctime")),
        "mtime": timestamp(info.get("mtime")),
    }
