"""The node-side isolation script (deploy/ganeti/kvm-vif-bridge): its rules as a pure function, its reading of
the tags against Fleet's own grammar, and the real script run as Ganeti's kvm-ifup runs it, on a node made of
network namespaces (a bridge, an instance behind a tap, and a network with an allowed and a refused address),
where pings say what passes."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from fleet.access.tags import allow_from_from_tags
from tests.access.test_allow_from import BAD_RANGES

SCRIPT = Path(__file__).parents[2] / "deploy" / "ganeti" / "kvm-vif-bridge"
NET_COMMON = Path("/usr/lib/ganeti/net-common")


def load() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("kvm_vif_bridge", str(SCRIPT))
    spec = importlib.util.spec_from_loader("kvm_vif_bridge", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


script = load()
ISOLATED = ["fleet:user:alice", "fleet:isolate", "fleet:whitelist_ip:198.51.100.10/32",
            "fleet:whitelist_ip:2001:db8:1::10/128"]  # fmt: skip


def test_an_isolated_bridged_nic_gets_its_table_with_the_allowed_ranges() -> None:
    text = script.rules("tap3", "bridged", [*ISOLATED, "fleet:whitelist_ip:10.0.0.0/8"], "fleet")
    assert text.startswith("add table bridge fleet_tap3\ndelete table bridge fleet_tap3\n")
    assert "table bridge fleet_tap3 {" in text
    assert "elements = { 198.51.100.10/32 }" in text and "elements = { 2001:db8:1::10/128 }" in text
    assert "10.0.0.0/8" not in text  # wider than Fleet allows: never opened
    assert 'iifname "tap3" jump from_instance' in text and 'oifname "tap3" jump to_instance' in text
    assert text.count("counter drop") == 2 and text.count("ether type arp accept") == 2
    routed = script.rules("tap3", "routed", ISOLATED, "fleet")
    assert "table inet fleet_tap3 {" in routed and "ether type arp" not in routed


def test_a_nic_not_isolated_has_its_table_removed_and_nothing_else() -> None:
    assert script.rules("tap3", "bridged", ["fleet:user:alice", "other:isolate"], "fleet") == (
        "add table bridge fleet_tap3\ndelete table bridge fleet_tap3\n"
        "add table inet fleet_tap3\ndelete table inet fleet_tap3\n"
    )


def test_what_cannot_be_isolated_is_refused() -> None:
    with pytest.raises(ValueError, match="openvswitch mode"):
        script.rules("tap3", "openvswitch", ISOLATED, "fleet")
    with pytest.raises(ValueError, match="cannot name a table"):
        script.rules('tap"; flush ruleset', "bridged", ISOLATED, "fleet")
    assert "fleet_tap3" in script.rules("tap3", "openvswitch", ["fleet:user:a"], "fleet")  # nothing to do


@pytest.mark.parametrize(("text", "_"), BAD_RANGES)
def test_the_script_sets_aside_every_range_fleet_refuses(text: str, _: str) -> None:
    tag = f"fleet:whitelist_ip:{text}"
    assert allow_from_from_tags([tag], "fleet").networks == ()
    if " " in text.strip() or not text.strip():
        return  # not a single tag: Ganeti's TAGS variable splits it, and an empty range names no tag
    assert script.allowed_ranges([tag], "fleet") == ([], [tag])


# The real script on a node of namespaces --------------------------------------------------------------------


@dataclass
class Node:
    node: str  # the node: its bridge, the instance's tap
    vm: str  # the instance, behind the tap
    net: str  # the network, behind the bridge's uplink

    def run(self, namespace: str, *command: str, env: dict[str, str] | None = None) -> int:
        done = subprocess.run(
            ["ip", "netns", "exec", namespace, *command], env=env, capture_output=True, text=True, timeout=30
        )
        return done.returncode

    def up(self, tags: list[str]) -> subprocess.CompletedProcess[str]:
        """Run the script as Ganeti's kvm-ifup would for the instance's NIC."""
        env = {
            "PATH": os.environ["PATH"],
            "INSTANCE": "vm1.example.org",
            "MAC": "aa:00:00:11:22:33",
            "MODE": "bridged",
            "LINK": "br0",
            "BRIDGE": "br0",
            "INTERFACE": "tap9",
            "INTERFACE_INDEX": "0",
            "IP": "198.51.100.5",
            "TAGS": " ".join(tags),
        }
        return subprocess.run(
            ["ip", "netns", "exec", self.node, "python3", str(SCRIPT)],
            env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def reaches(self, source: str, destination: str) -> bool:
        """Whether ``source`` (an address in the network's namespace) pings the instance's ``destination``."""
        return self.run(self.net, "ping", "-c", "1", "-W", "1", "-I", source, destination) == 0

    def goes_out(self, destination: str) -> bool:
        """Whether the instance pings ``destination`` in the network."""
        return self.run(self.vm, "ping", "-c", "1", "-W", "1", destination) == 0


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=30)


@pytest.fixture
def node() -> Iterator[Node]:
    missing = [tool for tool in ("ip", "nft", "ping") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing or not NET_COMMON.exists():
        pytest.skip(f"needs root, {NET_COMMON} (ganeti) and {missing or 'ip, nft, ping'} (scripts/bootstrap)")
    tag = secrets.token_hex(3)
    made = Node(f"fleet-node-{tag}", f"fleet-vm-{tag}", f"fleet-net-{tag}")
    for namespace in (made.node, made.vm, made.net):
        sh("ip", "netns", "add", namespace)
    try:
        n = ["ip", "netns", "exec", made.node]
        sh(*n, "ip", "link", "add", "br0", "type", "bridge")
        sh(*n, "ip", "link", "set", "br0", "up")
        sh(*n, "ip", "link", "add", "tap9", "type", "veth", "peer", "name", "vm0")  # tap9 stands for the tap
        sh(*n, "ip", "link", "set", "vm0", "netns", made.vm)
        sh(*n, "ip", "link", "add", "up0", "type", "veth", "peer", "name", "net0")
        sh(*n, "ip", "link", "set", "net0", "netns", made.net)
        sh(*n, "ip", "link", "set", "up0", "master", "br0", "up")
        for namespace, device, addresses in (
            (made.vm, "vm0", ["198.51.100.5/24", "2001:db8:1::5/64"]),
            (made.net, "net0", ["198.51.100.10/24", "198.51.100.20/24", "2001:db8:1::10/64",
                                "2001:db8:1::20/64"]),
        ):  # fmt: skip
            e = ["ip", "netns", "exec", namespace]
            for address in addresses:
                sh(*e, "ip", "addr", "add", address, "dev", device, *(["nodad"] if ":" in address else []))
            sh(*e, "ip", "link", "set", device, "up")
            sh(*e, "ip", "link", "set", "lo", "up")
        yield made
    finally:
        for namespace in (made.node, made.vm, made.net):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=30)


def test_an_isolated_instance_reaches_and_is_reached_by_its_allowed_ranges_only(node: Node) -> None:
    done = node.up(ISOLATED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert node.reaches("198.51.100.10", "198.51.100.5")  # allowed, ARP included
    assert not node.reaches("198.51.100.20", "198.51.100.5")
    assert node.reaches("2001:db8:1::10", "2001:db8:1::5")  # allowed, neighbour discovery included
    assert not node.reaches("2001:db8:1::20", "2001:db8:1::5")
    assert node.goes_out("198.51.100.10") and not node.goes_out("198.51.100.20")

    # De-isolated: the NIC's next start (or a migration) finds no isolate tag, and removes the table.
    done = node.up(["fleet:user:alice"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert node.reaches("198.51.100.20", "198.51.100.5") and node.goes_out("198.51.100.20")
    assert node.run(node.node, "nft", "list", "table", "bridge", "fleet_tap9") != 0


def test_an_isolated_openvswitch_nic_fails_its_start_with_the_reason(node: Node) -> None:
    env = {"PATH": os.environ["PATH"], "INTERFACE": "tap9", "MODE": "openvswitch", "LINK": "br0",
           "INSTANCE": "vm1.example.org", "TAGS": " ".join(ISOLATED)}  # fmt: skip
    done = subprocess.run(
        ["ip", "netns", "exec", node.node, "python3", str(SCRIPT)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and "cannot isolate a NIC in openvswitch mode" in done.stderr
