"""The fleet generator and the users file, in process."""

from __future__ import annotations

import hashlib

from fleet.simulator.auth import REALM, parse_users
from fleet.simulator.generate import generate, profile, summary


def _fingerprint(seed: int, name: str = "tiny") -> list[tuple[str, str, str, list[str]]]:
    return [
        (i["name"], i["uuid"], i["pnode"], i["nic.ips"])
        for c in generate(profile(name, seed), seed)
        for i in c.instances.values()
    ]


def test_same_seed_same_fleet_other_seed_other_fleet() -> None:
    assert _fingerprint(7) == _fingerprint(7)
    assert _fingerprint(7) != _fingerprint(8)


def test_profile_sizes() -> None:
    tiny = summary(generate(profile("tiny", 1), 1))
    assert tiny["clusters"] == 2 and tiny["instances"] == 20
    grnet = generate(profile("grnet", 1), 1)
    counts = summary(grnet)
    assert counts["clusters"] == 14 and counts["instances"] == 1600 and 15 <= counts["groups"] <= 25
    assert {len(c.nodes) for c in grnet} >= {1, 35}
    templates = {i["disk_template"] for c in grnet for i in c.instances.values()}
    assert {"drbd", "plain", "ext", "sharedfile", "file"} <= templates
    statuses = {i["status"] for c in grnet for i in c.instances.values()}
    assert "running" in statuses and any(s.startswith("ERROR") for s in statuses)
    modes = {g[1] for c in grnet for n in c.networks.values() for g in n["group_list"]}
    assert modes == {"bridged", "routed"}


def test_sizes_override_and_memory_accounting() -> None:
    clusters = generate(profile("grnet", 3, clusters=3, instances=90, nodes=4), 3)
    assert summary(clusters)["instances"] == 90 and all(len(c.nodes) == 4 for c in clusters)
    for c in clusters:
        for node in c.nodes.values():
            if node["offline"]:
                assert node["mfree"] is None
                continue
            used = sum(
                c.instances[i]["beparams"]["maxmem"]
                for i in node["pinst_list"]
                if c.instances[i]["oper_state"]
            )
            assert node["mfree"] == node["mtotal"] - node["mnode"] - used


def test_users_file_formats() -> None:
    ha1 = hashlib.md5(f"carol:{REALM}:pw3".encode()).hexdigest()
    users = parse_users(
        "# comment\nalice pw1 write\nbob {cleartext}pw2 read\ncarol {HA1}" + ha1 + " read,write\ndave pw4\n"
    )
    assert users["alice"].check("pw1") and not users["alice"].check("x")
    assert users["bob"].check("pw2") and users["bob"].options == {"read"}
    assert users["carol"].check("pw3") and users["carol"].options == {"read", "write"}
    assert users["dave"].options == frozenset()
