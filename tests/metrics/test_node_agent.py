"""`fleet node-agent` against a run directory laid out as Ganeti's KVM hypervisor lays it out, with real
processes (their pid files) and real interfaces (a veth pair between two network namespaces, the node's end
named as a tap): each instance's CPU time, its vCPU count, each NIC's traffic after a real ping, and the
entries it cannot read (a stale pid file, a pid file that is not one, a NIC whose tap is gone) skipped and
named in a metric. Needs root and iproute2 (as the isolation script's tests do)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleet.simulator.process import free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2 (network namespaces)"
)

FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]
NODE_ADDRESS, VM_ADDRESS = "198.51.100.1", "198.51.100.5"  # documentation addresses, inside our namespaces
PINGS = 3
FRAME = 98  # bytes of a default ping's frame: 56 of payload, ICMP, IPv4 and Ethernet headers


def run(*cmd: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, (cmd, done.stderr)
    return done.stdout


@dataclass
class Node:
    """The network namespaces, the run directory, and the processes standing in for KVM."""

    node_ns: str
    run_dir: Path
    busy: subprocess.Popen[bytes]
    idle: subprocess.Popen[bytes]
    tap: str


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    suffix = secrets.token_hex(3)
    node_ns, vm_ns, tap = f"fleet-node-{suffix}", f"fleet-vm-{suffix}", f"tap{suffix}"
    run("ip", "netns", "add", node_ns)
    run("ip", "netns", "add", vm_ns)
    # a CPU-burning "KVM" that then idles, and a sleeping one
    busy = subprocess.Popen(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec sleep 600"])
    idle = subprocess.Popen(["sleep", "600"])
    gone = subprocess.Popen(["true"])
    gone.wait()
    try:
        run(
            "ip", "link", "add", tap, "netns", node_ns, "type", "veth", "peer", "name", "eth0", "netns", vm_ns
        )
        for ns, link, address in ((node_ns, tap, NODE_ADDRESS), (vm_ns, "eth0", VM_ADDRESS)):
            run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", link)
            run("ip", "-n", ns, "link", "set", link, "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "netns", "exec", vm_ns, "ping", "-c", str(PINGS), "-i", "0.2", "-W", "2", NODE_ADDRESS)
        run_dir = tmp_path_factory.mktemp("kvm-hypervisor")
        for name, pid in (("web1.example.org", busy.pid), ("db1.example.org", idle.pid)):
            (run_dir / "pid").mkdir(exist_ok=True)
            (run_dir / "pid" / name).write_text(f"{pid}\n")
        (run_dir / "pid" / "stopped.example.org").write_text(f"{gone.pid}\n")  # stale: its process is gone
        (run_dir / "pid" / "broken.example.org").write_text("not a pid\n")
        nic = run_dir / "nic" / "web1.example.org"
        nic.mkdir(parents=True)
        (nic / "0").write_text(f"{tap}\n")
        (nic / "1").write_text("tapgone\n")  # the tap of a NIC since removed
        deadline = time.monotonic() + 30
        while Path(f"/proc/{busy.pid}/stat").read_text().split()[2] == "R":  # let it finish burning
            assert time.monotonic() < deadline
            time.sleep(0.1)
        yield Node(node_ns, run_dir, busy, idle, tap)
    finally:
        for process in (busy, idle):
            process.kill()
            process.wait()
        for ns in (node_ns, vm_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture(scope="module")
def scrape(node: Node, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`fleet node-agent` in the node's namespace (its /sys/class/net is that namespace's), scraped once."""
    port = free_port()
    log = tmp_path_factory.mktemp("agent") / "agent.log"
    cmd = ["ip", "netns", "exec", node.node_ns, *FLEET, "node-agent", "--listen", "127.0.0.1",
           "--port", str(port), "--run-dir", str(node.run_dir)]  # fmt: skip
    with open(log, "wb") as out:
        agent = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert agent.poll() is None, log.read_text()
            done = subprocess.run(
                ["ip", "netns", "exec", node.node_ns, "curl", "-sf", f"http://127.0.0.1:{port}/metrics"],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode == 0:
                return done.stdout
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=15)
        assert agent.returncode == 0, log.read_text()
        assert "Stopping." in log.read_text()


def values(text: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_promtool_accepts_the_agents_metrics(scrape: str) -> None:
    done = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_instance_has_its_cpu_time(scrape: str) -> None:
    cpu = values(scrape)["fleet_instance_cpu_seconds_total"]
    assert set(cpu) == {(("instance", "web1.example.org"),), (("instance", "db1.example.org"),)}
    assert cpu[(("instance", "web1.example.org"),)] > 0  # it burnt CPU before it slept
    assert cpu[(("instance", "db1.example.org"),)] < cpu[(("instance", "web1.example.org"),)]
    threads = values(scrape)["fleet_instance_vcpus"]
    assert set(threads.values()) == {0}  # no anon_inode:kvm-vcpu descriptors in a shell or a sleep
    assert values(scrape)["fleet_node_agent_instances"][()] == 2


def test_each_nic_has_its_traffic(node: Node, scrape: str) -> None:
    found = values(scrape)
    labels = (("instance", "web1.example.org"), ("interface", node.tap), ("nic", "0"))
    for direction in ("receive", "transmit"):  # the pings and their replies crossed the pair
        assert found[f"fleet_instance_nic_{direction}_packets_total"][labels] >= PINGS
        assert found[f"fleet_instance_nic_{direction}_bytes_total"][labels] >= PINGS * FRAME
    assert len(found["fleet_instance_nic_receive_bytes_total"]) == 1


def test_what_cannot_be_read_is_skipped_and_named(scrape: str) -> None:
    skipped = {
        dict(labels)["instance"]: (dict(labels)["entry"], dict(labels)["part"])
        for labels in values(scrape)["fleet_node_agent_skipped"]
    }
    assert skipped == {
        "stopped.example.org": ("pid", "process"),
        "broken.example.org": ("pid", "pid"),
        "web1.example.org": ("nic/1", "interface"),
    }


def test_a_missing_run_directory_means_no_instances(tmp_path: Path) -> None:
    from prometheus_client import generate_latest

    from fleet.metrics.agent import Places, registry

    text = generate_latest(registry(Places(run_dir=tmp_path / "absent"))).decode()
    assert values(text)["fleet_node_agent_instances"][()] == 0
