"""Builders of Ganeti-shaped objects: the cluster info, groups, nodes, networks and instances.

The generator uses them to make a fleet, and the job effects to create objects at runtime, so that an object
made either way has the same fields.
"""

from __future__ import annotations

from typing import Any

from fleet.simulator import defaults
from fleet.simulator.state import Cluster, Network, disk_usage, instance_status, node_role, touch

ENABLED_TEMPLATES = ["drbd", "plain", "ext", "sharedfile", "file", "diskless"]
VNC_BASE_PORT = 5900
CLUSTER_HVPARAMS = {**defaults.KVM_HVPARAMS, "serial_console": False, "vnc_bind_address": "0.0.0.0"}
INSTANCE_BEPARAMS = {**defaults.BEPARAMS}


def make_info(name: str, master: str, cluster_uuid: str, ctime: float, tags: list[str]) -> dict[str, Any]:
    """The `/2/info` dict of a KVM cluster."""
    return {
        "software_version": defaults.SOFTWARE_VERSION,
        "protocol_version": defaults.PROTOCOL_VERSION,
        "config_version": defaults.CONFIG_VERSION,
        "os_api_version": defaults.OS_API_VERSION,
        "export_version": defaults.EXPORT_VERSION,
        "vcs_version": f"(ganeti) version v{defaults.SOFTWARE_VERSION}",
        "architecture": ["64bit", "x86_64"],
        "name": name,
        "master": master,
        "default_hypervisor": "kvm",
        "enabled_hypervisors": ["kvm"],
        "hvparams": {"kvm": CLUSTER_HVPARAMS},
        "os_hvp": {},
        "beparams": {"default": dict(defaults.BEPARAMS)},
        "osparams": {},
        "ipolicy": defaults.IPOLICY,
        "nicparams": {"default": dict(defaults.NICPARAMS)},
        "ndparams": dict(defaults.NDPARAMS),
        "diskparams": defaults.DISKPARAMS,
        "candidate_pool_size": 10,
        "max_running_jobs": 20,
        "max_tracked_jobs": 25,
        "mac_prefix": "aa:00:00",
        "master_netdev": "eth0",
        "master_netmask": 32,
        "use_external_mip_script": False,
        "volume_group_name": "xenvg",
        "drbd_usermode_helper": "/bin/true",
        "file_storage_dir": "/srv/ganeti/file-storage",
        "shared_file_storage_dir": "/srv/ganeti/shared-file-storage",
        "gluster_storage_dir": "/var/run/ganeti/gluster",
        "maintain_node_health": False,
        "ctime": ctime,
        "mtime": ctime,
        "uuid": cluster_uuid,
        "tags": tags,
        "uid_pool": [],
        "default_iallocator": "hail",
        "default_iallocator_params": {},
        "reserved_lvs": [],
        "primary_ip_version": 4,
        "prealloc_wipe_disks": False,
        "hidden_os": [],
        "blacklisted_os": [],
        "enabled_disk_templates": list(ENABLED_TEMPLATES),
        "install_image": "",
        "instance_communication_network": "",
        "zeroing_image": "",
        "compression_tools": ["gzip", "gzip-fast", "gzip-slow"],
        "enabled_user_shutdown": False,
        "enabled_data_collectors": {"cpu-avg-load": True, "diskstats": True, "drbd": True, "lv": True},
        "data_collector_interval": {"cpu-avg-load": 5000000, "diskstats": 5000000, "drbd": 5000000},
        "modify_ssh_setup": True,
        "ssh_key_type": "rsa",
        "ssh_key_bits": 2048,
        "vg_name": "xenvg",
        "drbd_helper": "/bin/true",
    }


def make_group(
    name: str, group_uuid: str, ctime: float, alloc_policy: str = "preferred", tags: list[str] | None = None
) -> dict[str, Any]:
    """A node group with the cluster's default parameters."""
    return {
        "name": name,
        "uuid": group_uuid,
        "alloc_policy": alloc_policy,
        "node_cnt": 0,
        "node_list": [],
        "ipolicy": defaults.IPOLICY,
        "custom_ipolicy": {},
        "diskparams": defaults.DISKPARAMS,
        "custom_diskparams": {},
        "ndparams": defaults.NDPARAMS,
        "custom_ndparams": {},
        "networks": [],
        "ctime": ctime,
        "mtime": ctime,
        "serial_no": 1,
        "tags": tags or [],
    }


def make_node(
    name: str,
    node_uuid: str,
    group_uuid: str,
    pip: str,
    sip: str,
    ctime: float,
    *,
    memory: int,
    disk: int,
    cpus: int,
    master: bool = False,
    candidate: bool = False,
    offline: bool = False,
    drained: bool = False,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """A node; its live figures are kept in `_live` and exposed by `Cluster.refresh_node`."""
    node: dict[str, Any] = {
        "name": name,
        "uuid": node_uuid,
        "group.uuid": group_uuid,
        "master": master,
        "master_candidate": master or candidate,
        "offline": offline,
        "drained": drained,
        "master_capable": True,
        "vm_capable": True,
        "powered": True,
        "pip": pip,
        "sip": sip,
        "ndparams": defaults.NDPARAMS,
        "hv_state": {},
        "disk_state": {},
        "ctime": ctime,
        "mtime": ctime,
        "serial_no": 1,
        "tags": tags or [],
        "_live": {
            "mtotal": memory,
            "mnode": 4096,
            "mfree": memory,
            "dtotal": disk,
            "dfree": disk,
            "sptotal": 0,
            "spfree": 0,
            "ctotal": cpus,
            "cnos": 1,
            "cnodes": 2 if cpus > 16 else 1,
            "csockets": 2 if cpus > 16 else 1,
            "bootid": node_uuid[::-1],
        },
    }
    node["role"] = node_role(node)
    return node


def make_network(
    name: str, net_uuid: str, cidr: str, gateway: str | None, ctime: float, tags: list[str] | None = None
) -> tuple[dict[str, Any], Network]:
    """A network and its IP pool."""
    pool = Network.create(cidr, gateway)
    net: dict[str, Any] = {
        "name": name,
        "uuid": net_uuid,
        "network": cidr,
        "gateway": gateway,
        "network6": None,
        "gateway6": None,
        "mac_prefix": None,
        "group_list": [],
        "inst_list": [],
        "ctime": ctime,
        "mtime": ctime,
        "serial_no": 1,
        "tags": tags or [],
        **pool.fields(),
    }
    return net, pool


def make_instance(
    cluster: Cluster,
    name: str,
    inst_uuid: str,
    *,
    pnode: str,
    snodes: list[str],
    template: str,
    disk_sizes: list[int],
    nics: list[dict[str, Any]],
    vcpus: int,
    memory: int,
    os_name: str,
    tags: list[str],
    admin_state: str,
    running: bool,
    network_port: int,
    ctime: float,
    disk_uuids: list[str],
) -> dict[str, Any]:
    """An instance; `nics` are dicts with mac, ip, mode, link, network (uuid or None), uuid and vlan."""
    custom_be = {"maxmem": memory, "minmem": memory, "vcpus": vcpus}
    beparams = {**INSTANCE_BEPARAMS, **custom_be, "memory": memory}
    net_names = []
    for nic in nics:
        net = cluster.network_by_uuid(nic["network"]) if nic["network"] else None
        net_names.append(net["name"] if net else None)
    inst: dict[str, Any] = {
        "name": name,
        "uuid": inst_uuid,
        "os": os_name,
        "hypervisor": "kvm",
        "pnode": pnode,
        "snodes": snodes,
        "disk_template": template,
        "nic.ips": [n["ip"] for n in nics],
        "nic.macs": [n["mac"] for n in nics],
        "nic.modes": [n["mode"] for n in nics],
        "nic.uuids": [n["uuid"] for n in nics],
        "nic.names": [None for _ in nics],
        "nic.links": [n["link"] for n in nics],
        "nic.vlans": [n.get("vlan", "") for n in nics],
        "nic.networks": [n["network"] for n in nics],
        "nic.networks.names": net_names,
        "nic.bridges": [n["link"] if n["mode"] == "bridged" else None for n in nics],
        "network_port": network_port,
        "disk.sizes": disk_sizes,
        "disk.spindles": [None for _ in disk_sizes],
        "disk_usage": disk_usage(template, disk_sizes),
        "disk.uuids": disk_uuids,
        "disk.names": [None for _ in disk_sizes],
        "beparams": beparams,
        "hvparams": CLUSTER_HVPARAMS,
        "osparams": {},
        "custom_hvparams": {},
        "custom_beparams": custom_be,
        "custom_osparams": {},
        "custom_nicparams": [{"mode": n["mode"], "link": n["link"], "vlan": n.get("vlan", "")} for n in nics],
        "disks_active": running or template == "drbd",
        "forthcoming": False,
        "admin_state_source": "admin",
        "ctime": ctime,
        "mtime": ctime,
        "serial_no": 0,
        "tags": tags,
    }
    inst["admin_state"] = admin_state
    inst["admin_up"] = admin_state == "up"
    inst["oper_state"] = running
    inst["oper_ram"] = memory if running else None
    inst["oper_vcpus"] = vcpus if running else None
    inst["status"] = instance_status(admin_state, running, cluster.nodes.get(pnode))
    touch(inst, ctime)
    return inst


def mac_address(prefix: str, number: int) -> str:
    """A MAC address under the cluster prefix, from a 24-bit number."""
    return f"{prefix}:{(number >> 16) & 0xFF:02x}:{(number >> 8) & 0xFF:02x}:{number & 0xFF:02x}"
