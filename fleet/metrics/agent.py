"""The node agent: each instance's CPU time and each NIC's traffic on one Ganeti node, as Prometheus metrics.

It reads what vima-grapher's collectd plugin reads, the way Ganeti's KVM hypervisor lays it out:

- ``<run dir>/pid/<instance>``: the KVM process's pid (Ganeti writes it when it starts the instance);
  ``/proc/<pid>/stat`` gives its CPU time (utime + stime, in clock ticks) and ``/proc/<pid>/fd`` its vCPU
  threads' ``anon_inode:kvm-vcpu`` descriptors;
- ``<run dir>/nic/<instance>/<index>``: the name of the tap interface of the instance's NIC ``index``;
  ``/sys/class/net/<tap>/statistics`` gives its byte and packet counters.

Everything is read at scrape time; nothing is kept. An entry that cannot be read (a pid file left by a
stopped instance, a tap that is gone, a file without permission) is skipped and named in
``fleet_node_agent_skipped``, never a crash. The agent imports no Django and needs no configuration: it runs
on the nodes, apart from Fleet's database. Counters are from the instance's side as the host sees its tap:
what the host's tap receives is what the instance sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

RUN_DIR = Path("/var/run/ganeti/kvm-hypervisor")
PROC = Path("/proc")
NET = Path("/sys/class/net")
VCPU_FD = "anon_inode:kvm-vcpu"
NIC_COUNTERS = (
    ("rx_bytes", "receive_bytes"),
    ("tx_bytes", "transmit_bytes"),
    ("rx_packets", "receive_packets"),
    ("tx_packets", "transmit_packets"),
)


@dataclass(frozen=True)
class Places:
    """Where the agent reads: Ganeti's KVM run directory, procfs and the network class directory."""

    run_dir: Path = RUN_DIR
    proc: Path = PROC
    net: Path = NET


class Unreadable(Exception):
    """An entry the agent skips; the message says which part could not be read."""


def cpu_seconds(proc: Path, pid: int) -> float:
    """The CPU time (user + system) of process ``pid``, in seconds, from its stat file."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError as exc:
        raise Unreadable("process") from exc
    # the command name, in parentheses, may hold spaces: the fields after it are counted from its end
    fields = text.rsplit(")", 1)[-1].split()
    try:
        utime, stime = int(fields[11]), int(fields[12])
    except (IndexError, ValueError) as exc:
        raise Unreadable("process") from exc
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def vcpus(proc: Path, pid: int) -> int | None:
    """How many vCPU threads KVM runs for the instance (None when its descriptors are not readable)."""
    try:
        entries = list((proc / str(pid) / "fd").iterdir())
    except OSError:
        return None
    count = 0
    for entry in entries:
        try:
            if os.readlink(entry).startswith(VCPU_FD):
                count += 1
        except OSError:
            continue  # a descriptor closed while we looked
    return count


def _pid(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError) as exc:
        raise Unreadable("pid") from exc


def _nic_counters(net: Path, tap: str) -> dict[str, int]:
    if not tap or "/" in tap or tap in (".", ".."):
        raise Unreadable("nic")
    statistics = net / tap / "statistics"
    try:
        return {name: int((statistics / name).read_text()) for name, _ in NIC_COUNTERS}
    except (OSError, ValueError) as exc:
        raise Unreadable("interface") from exc


class AgentCollector(Collector):
    """The node's instances, read from Ganeti's run directory at each scrape."""

    def __init__(self, places: Places | None = None) -> None:
        self.places = places or Places()

    def collect(self) -> Iterator[Metric]:
        places = self.places
        cpu = CounterMetricFamily(
            "fleet_instance_cpu_seconds", "CPU time of the instance's KVM process.", labels=["instance"]
        )
        threads = GaugeMetricFamily(
            "fleet_instance_vcpus", "vCPU threads of the instance's KVM process.", labels=["instance"]
        )
        nics = {
            name: CounterMetricFamily(
                f"fleet_instance_nic_{metric}",
                f"The instance's NIC traffic, as the host's tap counts it ({name}).",
                labels=["instance", "nic", "interface"],
            )
            for name, metric in NIC_COUNTERS
        }
        skipped = GaugeMetricFamily(
            "fleet_node_agent_skipped",
            "1 for each entry of Ganeti's run directory the agent could not read, and which part.",
            labels=["instance", "entry", "part"],
        )
        running = 0
        for path in _entries(places.run_dir / "pid"):
            instance = path.name
            try:
                pid = _pid(path)
                seconds = cpu_seconds(places.proc, pid)
            except Unreadable as exc:
                skipped.add_metric([instance, "pid", str(exc)], 1)
                continue
            running += 1
            cpu.add_metric([instance], seconds)
            count = vcpus(places.proc, pid)
            if count is not None:
                threads.add_metric([instance], count)
        for directory in _entries(places.run_dir / "nic"):
            for path in _entries(directory):
                instance, index = directory.name, path.name
                try:
                    try:
                        tap = path.read_text().strip()
                    except OSError as exc:
                        raise Unreadable("nic") from exc
                    counters = _nic_counters(places.net, tap)
                except Unreadable as exc:
                    skipped.add_metric([instance, f"nic/{index}", str(exc)], 1)
                    continue
                for name, _ in NIC_COUNTERS:
                    nics[name].add_metric([instance, index, tap], counters[name])
        yield cpu
        yield threads
        yield from nics.values()
        yield GaugeMetricFamily(
            "fleet_node_agent_instances", "Instances whose KVM process the agent read.", value=running
        )
        yield skipped


def _entries(directory: Path) -> list[Path]:
    """The entries of ``directory``, sorted; none when it is missing or unreadable (no instance runs)."""
    try:
        return sorted(directory.iterdir())
    except OSError:
        return []


def registry(places: Places | None = None) -> CollectorRegistry:
    """A registry holding the agent's collector alone."""
    out = CollectorRegistry(auto_describe=False)
    out.register(AgentCollector(places))
    return out
