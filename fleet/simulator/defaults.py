"""Ganeti 3.0.2 default parameters (hypervisor, backend, node, disk, NIC, instance policy).

Generated from Ganeti's `constants` module; data only.
"""

from __future__ import annotations

from typing import Any

KVM_HVPARAMS: dict[str, Any] = {
    "acpi": True,
    "boot_order": "disk",
    "cdrom2_image_path": "",
    "cdrom_disk_type": "",
    "cdrom_image_path": "",
    "cpu_cores": 0,
    "cpu_mask": "all",
    "cpu_sockets": 0,
    "cpu_threads": 0,
    "cpu_type": "",
    "disk_aio": "threads",
    "disk_cache": "default",
    "disk_discard": "default",
    "disk_type": "paravirtual",
    "floppy_image_path": "",
    "initrd_path": "",
    "kernel_args": "ro",
    "kernel_path": "/boot/vmlinuz-3-kvmU",
    "keymap": "",
    "kvm_extra": "",
    "kvm_flag": "",
    "kvm_path": "/usr/bin/kvm",
    "kvm_pci_reservations": 12,
    "machine_version": "",
    "mem_path": "",
    "migration_bandwidth": 32,
    "migration_caps": "",
    "migration_downtime": 30,
    "migration_mode": "live",
    "migration_port": 8102,
    "nic_type": "paravirtual",
    "reboot_behavior": "reboot",
    "root_path": "/dev/vda1",
    "scsi_controller_type": "lsi",
    "security_domain": "",
    "security_model": "none",
    "serial_console": True,
    "serial_speed": 38400,
    "soundhw": "",
    "spice_bind": "",
    "spice_image_compression": "",
    "spice_ip_version": 0,
    "spice_jpeg_wan_compression": "",
    "spice_password_file": "",
    "spice_playback_compression": True,
    "spice_streaming_video": "",
    "spice_tls_ciphers": "HIGH:-DES:-3DES:-EXPORT:-DH",
    "spice_use_tls": False,
    "spice_use_vdagent": True,
    "spice_zlib_glz_wan_compression": "",
    "usb_devices": "",
    "usb_mouse": "",
    "use_chroot": False,
    "use_guest_agent": False,
    "use_localtime": False,
    "user_shutdown": False,
    "vga": "",
    "vhost_net": False,
    "virtio_net_queues": 1,
    "vnc_bind_address": "",
    "vnc_password_file": "",
    "vnc_tls": False,
    "vnc_x509_path": "",
    "vnc_x509_verify": False,
    "vnet_hdr": True,
}

BEPARAMS: dict[str, Any] = {
    "always_failover": False,
    "auto_balance": True,
    "maxmem": 128,
    "minmem": 128,
    "spindle_use": 1,
    "vcpus": 1,
}

NDPARAMS: dict[str, Any] = {
    "cpu_speed": 1.0,
    "exclusive_storage": False,
    "oob_program": "",
    "ovs": False,
    "ovs_link": "",
    "ovs_name": "switch1",
    "spindle_count": 1,
    "ssh_port": 22,
}

NICPARAMS: dict[str, Any] = {"link": "xen-br0", "mode": "bridged", "vlan": ""}

DISKPARAMS: dict[str, Any] = {
    "blockdev": {},
    "diskless": {},
    "drbd": {
        "c-delay-target": 1,
        "c-fill-target": 0,
        "c-max-rate": 61440,
        "c-min-rate": 4096,
        "c-plan-ahead": 20,
        "data-stripes": 1,
        "disk-barriers": "n",
        "disk-custom": "",
        "dynamic-resync": False,
        "meta-barriers": False,
        "meta-stripes": 1,
        "metavg": "xenvg",
        "net-custom": "",
        "protocol": "C",
        "resync-rate": 61440,
    },
    "ext": {"access": "kernelspace"},
    "file": {},
    "gluster": {"access": "kernelspace", "host": "127.0.0.1", "port": 24007, "volume": "gv0"},
    "plain": {"stripes": 1},
    "rbd": {"access": "kernelspace", "pool": "rbd"},
    "sharedfile": {},
}

IPOLICY: dict[str, Any] = {
    "disk-templates": [
        "blockdev",
        "diskless",
        "drbd",
        "ext",
        "file",
        "gluster",
        "plain",
        "rbd",
        "sharedfile",
    ],
    "minmax": [
        {
            "max": {
                "cpu-count": 8,
                "disk-count": 16,
                "disk-size": 1048576,
                "memory-size": 32768,
                "nic-count": 8,
                "spindle-use": 12,
            },
            "min": {
                "cpu-count": 1,
                "disk-count": 1,
                "disk-size": 1024,
                "memory-size": 128,
                "nic-count": 1,
                "spindle-use": 1,
            },
        }
    ],
    "spindle-ratio": 32.0,
    "std": {
        "cpu-count": 1,
        "disk-count": 1,
        "disk-size": 1024,
        "memory-size": 128,
        "nic-count": 1,
        "spindle-use": 1,
    },
    "vcpu-ratio": 4.0,
}

# Ganeti's default bounds with the minimums lowered (no disk or NIC needed, 4 MiB of memory) and generous
# ratios, as `gnt-cluster init --ipolicy-bounds-specs=min:... --ipolicy-vcpu-ratio=256` sets them
RELAXED_IPOLICY: dict[str, Any] = {
    **IPOLICY,
    "minmax": [
        {
            "max": dict(IPOLICY["minmax"][0]["max"]),
            "min": {
                "cpu-count": 1,
                "disk-count": 0,
                "disk-size": 0,
                "memory-size": 4,
                "nic-count": 0,
                "spindle-use": 0,
            },
        }
    ],
    "spindle-ratio": 1024.0,
    "vcpu-ratio": 256.0,
}

SOFTWARE_VERSION = "3.0.2"
PROTOCOL_VERSION = 3000000
CONFIG_VERSION = 3000000
OS_API_VERSION = 20
EXPORT_VERSION = 0
